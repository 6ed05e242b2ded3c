"""Make any value safe to write: JSON-typed, finite, valid Unicode, bounded. Never raises.

Runs before the JSON encoder, so the encoder never meets a cycle, a NaN, a lone surrogate, a
non-string key or an unbounded string (each of which loses or corrupts the event in the stock
tools). Fallbacks go str -> repr -> a marker naming the type.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

MAX_DEPTH: Final = 6
MAX_ITEMS: Final = 64
MAX_INT: Final = 2**53
ELLIPSIS: Final = "\u2026"
_REPLACEMENT: Final = "\ufffd"

_CREDENTIAL: Final = r"[A-Za-z0-9._~+/=\-]{8,}"
_SECRET: Final = re.compile(
    # Keys and tokens recognised by their own shape: Anthropic, AWS (Bedrock), Google (Vertex), JWTs.
    r"sk-ant-[A-Za-z0-9_\-]{4,}|sk-[A-Za-z0-9_\-]{16,}|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"
    r"|AIza[0-9A-Za-z_\-]{30,}|\bya29\.[0-9A-Za-z_\-.]{10,}"
    r"|\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"
    # An auth scheme and its credential (`Bearer <token>`, `Basic <base64>`): the scheme word is kept.
    rf"|(?P<scheme>\b(?i:bearer|basic)\s+){_CREDENTIAL}"
    # A key named before it: `x-api-key: ...`, `"authorization": "Bearer ..."`, `Invalid API key: ...`,
    # or with only a space between when the value looks like a key (a digit, `_` or `-` in it).
    r"|(?P<name>\b(?i:x-api-key|x-goog-api-key|api[\s_-]?key|api[\s_-]?token|(?:proxy-)?authorization"
    r"|access[\s_-]?key(?:[\s_-]?id)?|secret[\s_-]?(?:access[\s_-]?)?key|client[\s_-]?secret"
    r"|(?:access|auth|refresh|session|bearer)[\s_-]?token|password|passwd|credentials?|token)\b"
    r"(?:[\"']?\s*[:=]\s*[\"']?(?:(?i:bearer|basic)\s+)?|\s+(?=[^\s\"',;}]*[0-9_\-])))[^\s\"',;}]{4,}"
)


def fix_unicode(text: str) -> str:
    """Replace lone surrogates by U+FFFD so the text encodes as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def clean_text(text: str, cap: int) -> tuple[str, bool]:
    """`text` bounded to `cap` characters (marked with an ellipsis) and valid Unicode.

    Returns the text and whether it was truncated. Slices before any other work, so a 10 MB
    value costs O(cap).
    """
    truncated = len(text) > cap
    if truncated:
        text = text[: cap - 1] + ELLIPSIS
    if not text.isascii():
        text = fix_unicode(text)
    return text, truncated


def clean_label(text: str, cap: int) -> tuple[str, bool]:
    """Like `clean_text`, and control or format characters (newline, ESC, U+2028, U+202E) replaced.

    For identifiers (tenant, user, model) that a plain-text formatter may print raw.
    """
    text, truncated = clean_text(text, cap)
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else _REPLACEMENT for ch in text)
    return text, truncated


def label(text: str, cap: int) -> str:
    """`clean_label(text, cap)`'s text; an identifier already clean (the usual case) is returned as it is."""
    if len(text) <= cap and text.isascii() and text.isprintable():
        return text
    return clean_label(text, cap)[0]


def show_controls(text: str) -> str:
    r"""`text` with every control or format character shown as `repr` shows it (`\x1b`, `\n`, `\u202e`).

    For text printed to a terminal or a document (the report, the CLI's messages): a log field
    holding an escape sequence or a line break cannot drive the terminal or break a table.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def mask_secrets(text: str) -> str:
    """Mask anything that looks like an API key, a token or a credential; the words naming it stay.

    `Authorization: Bearer abc...` -> `Authorization: Bearer ***`; `sk-ant-api03-...` ->
    `sk-ant-***`; `Invalid API key: abcd1234efgh5678` -> `Invalid API key: ***`.
    """
    return _SECRET.sub(_mask, text)


def _mask(match: re.Match[str]) -> str:
    found = match.group(0)
    if found.startswith("sk-ant-"):
        return "sk-ant-***"
    if found.startswith("sk-"):
        return "sk-***"
    head = match.group("scheme") or match.group("name")
    if head is None:
        return "***"
    # The name and what separates it from the value (`: "Bearer `), without the value.
    rest = found[len(head) :]
    kept = re.match(r"[\"']?\s*[:=]\s*[\"']?(?:(?i:bearer|basic)\s+)?|\s+", rest)
    return head + (kept.group(0) if kept else "") + "***"


def clean_value(value: Any, cap: int, depth: int = 0) -> Any:  # noqa: C901, PLR0911, PLR0912 - one type switch
    """A JSON-safe copy of any value: depth, items and strings capped, cycles cut by the depth cap."""
    kind = type(value)
    if value is None or kind is bool:
        return value
    if kind is str:
        return clean_text(value, cap)[0]
    if kind is int:
        # str() of an int past 4,300 digits raises (CVE-2020-10735 limit): _as_text falls back.
        return value if -MAX_INT <= value <= MAX_INT else _as_text(value, cap)
    if kind is float:
        return value if math.isfinite(value) else None
    if depth >= MAX_DEPTH:
        return "<max depth>"
    try:
        if isinstance(value, Mapping):
            return _clean_mapping(value, cap, depth)
        if isinstance(value, (list, tuple, set, frozenset)):
            items = list(value)[:MAX_ITEMS] if not isinstance(value, (list, tuple)) else value[:MAX_ITEMS]
            return [clean_value(item, cap, depth + 1) for item in items]
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, enum.Enum):
            return clean_value(value.value, cap, depth + 1)
        if isinstance(value, int):
            return clean_value(int(value), cap, depth)
        if isinstance(value, float):
            return clean_value(float(value), cap, depth)
        if isinstance(value, str):
            return clean_text(str.__str__(value), cap)[0]
        if isinstance(value, (bytes, bytearray, memoryview)):
            return clean_text(bytes(value[: cap * 4]).decode("utf-8", "replace"), cap)[0]
        if isinstance(value, Decimal):
            if not value.is_finite():
                return None
            number = float(value)
            return number if math.isfinite(number) else clean_text(str(value), cap)[0]
        if isinstance(value, (dt.datetime, dt.date, dt.time)):
            return value.isoformat()
        if isinstance(value, uuid.UUID):
            return str(value)
    except Exception:
        return _marker(value)
    return _as_text(value, cap)


def _clean_mapping(value: Mapping[Any, Any], cap: int, depth: int) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for index, (key, item) in enumerate(value.items()):
        if index >= MAX_ITEMS:
            cleaned["<more>"] = len(value) - MAX_ITEMS
            break
        name = key if type(key) is str else _as_text(key, 64)
        cleaned[clean_text(name, 128)[0]] = clean_value(item, cap, depth + 1)
    return cleaned


def _as_text(value: object, cap: int) -> str:
    for convert in (str, repr):
        try:
            text = convert(value)
        except Exception:  # noqa: S112 - a value whose str() raises falls back to repr()
            continue
        if isinstance(text, str):
            return clean_text(text, cap)[0]
    return _marker(value)


def _marker(value: object) -> str:
    try:
        name = type(value).__qualname__
    except Exception:
        name = "object"
    return f"<unrepresentable {name}>"
