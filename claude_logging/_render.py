"""Event record -> the flat field dict (the canonical view) -> one bounded, always-valid JSON line.

`facts()` is the single place that turns raw captures into named, unit-bearing, sanitised
values; the flat schema is exactly this dict, and every other schema maps it (`_schemas.py`).
`encode_line()` guarantees one RFC 8259 line of ASCII under the byte cap, shrinking the event
when it must rather than losing it.
"""

from __future__ import annotations

import operator
import random
from typing import TYPE_CHECKING, Any, Final

from claude_logging import _guard, _schemas
from claude_logging._errortext import api_wording
from claude_logging._event import (
    ABANDONED,
    EVENT_NAME,
    EVENT_NAMES,
    INCOMPLETE,
    RUN_EVENT_NAME,
    SUCCESS,
    Event,
)
from claude_logging._line import encode as _encode
from claude_logging._line import shrink, timestamp
from claude_logging._sanitize import clean_label, clean_text, clean_value, label, mask_secrets

if TYPE_CHECKING:
    from claude_logging._config import Settings

LEVELS: Final[dict[str | None, str]] = {SUCCESS: "info", ABANDONED: "warning", INCOMPLETE: "warning"}
"""Level by outcome: an exception observed (error, cancelled, interrupted) is "error"."""

_random_bits = random.getrandbits
__all__ = ["LEVELS", "encode_line", "facts", "fallback", "timestamp"]

_LABELLED: Final = ("model", "tenant_id", "user_id", "error_type")
"""Core fields that are labels: cleaned, and named in `truncated` when cut."""
_IDS: Final = ("request_id", "message_id", "stop_reason")


def facts(event: Event, settings: Settings) -> dict[str, Any]:  # noqa: C901, PLR0912, PLR0915 - one field list
    """The flat view of `event`: keys in schema order, sanitised, absent optional fields omitted."""
    cap = settings.max_field_chars
    truncated: list[str] | None = None
    outcome = event.outcome or INCOMPLETE
    user_id = event.user_id if event.user_id is not None else event.request_user_id
    end = event.end_mono_ns
    out: dict[str, Any] = {
        "timestamp": timestamp(event.start_wall_ns),
        "level": LEVELS.get(outcome, "error"),
        "event": RUN_EVENT_NAME if event.rollup else EVENT_NAME,
        "outcome": outcome,
        "model": event.response_model or event.request_model,
        "input_tokens": event.input_tokens,
        "output_tokens": event.output_tokens,
        "cache_read_input_tokens": event.cache_read_input_tokens,
        "cache_creation_input_tokens": event.cache_creation_input_tokens,
        "max_tokens": event.max_tokens,
        "latency_ms": None if end is None else round(max(end - event.start_mono_ns, 0) / 1e6, 3),
        "status_code": event.status_code,
        "error_type": event.error_type,
        "tenant_id": event.tenant_id,
        "user_id": user_id,
        "call_id": f"{_random_bits(64):016x}",
    }
    for key in _LABELLED:
        value = out[key]
        if value is not None and not (len(value) <= cap and value.isascii() and value.isprintable()):
            out[key], cut = clean_label(value, cap)
            if cut:
                truncated = [*(truncated or ()), key]
    if event.operation is not None:
        out["operation"] = event.operation
    if out["model"] is not None:
        request_model = event.request_model
        out["request_model"] = (
            out["model"]
            if request_model is None or request_model == event.response_model
            else label(request_model, cap)
        )
    _details(out, event, _WHERE, cap)
    for key in _IDS:
        value = getattr(event, key)
        if value is None:
            continue
        if len(value) <= cap and value.isascii() and value.isprintable():
            out[key] = value
        else:
            out[key], cut = clean_label(value, cap)
            if cut:
                truncated = [*(truncated or ()), key]
    _details(out, event, _ANSWER, cap)
    if event.stream is not None:
        out["stream"] = event.stream
        if event.stream_completed is not None:
            out["stream_completed"] = event.stream_completed
    if event.first_token_mono_ns is not None:
        out["time_to_first_token_ms"] = round(
            max(event.first_token_mono_ns - event.start_mono_ns, 0) / 1e6, 3
        )
    if event.retries is not None:
        out["retries"] = event.retries
    if event.api_error_type is not None:
        out["api_error_type"] = label(event.api_error_type, cap)
    if event.api_error_class is not None:
        out["api_error_class"] = label(event.api_error_class, cap)
    if event.retry_after_s is not None:
        out["retry_after_s"] = event.retry_after_s
    if event.ratelimit_requests_remaining is not None:
        out["ratelimit_requests_remaining"] = event.ratelimit_requests_remaining
    if event.ratelimit_input_tokens_remaining is not None:
        out["ratelimit_input_tokens_remaining"] = event.ratelimit_input_tokens_remaining
    if event.ratelimit_output_tokens_remaining is not None:
        out["ratelimit_output_tokens_remaining"] = event.ratelimit_output_tokens_remaining
    if event.error_message is not None and _error_text_allowed(event, settings.capture_error_message):
        out["error_message"], cut = _error_text(event, settings)
        if cut:
            truncated = [*(truncated or ()), "error_message"]
    if event.api_calls > 1 or event.rollup:
        out["api_calls"] = event.api_calls
    if event.run_id is not None:
        out["run_id"] = event.run_id
    if event.batch_id is not None:
        out["batch_id"] = label(event.batch_id, cap)
    if event.batch_requests is not None:
        out["batch_requests"] = event.batch_requests
    if event.batch_custom_id is not None:
        out["batch_custom_id"] = label(event.batch_custom_id, cap)
    if event.batch_result_type is not None:
        out["batch_result_type"] = label(event.batch_result_type, cap)
    if event.cost_usd is not None and not event.cost_unknown:
        out["cost_usd"] = round(event.cost_usd, 8)
    if event.cost_incomplete or ("cost_usd" not in out and (event.input_tokens or event.output_tokens)):
        out["cost_incomplete"] = True
    _details(out, event, _BILL, cap)
    if event.counted_input_tokens is not None:
        out["counted_input_tokens"] = event.counted_input_tokens
    if event.function is not None:
        out["function"] = label(event.function, cap)
    conversation = event.conversation_id
    if conversation is None and event.fields:
        conversation = event.fields.get("conversation_id")
    if isinstance(conversation, str):
        out["conversation_id"] = label(conversation, cap)
    if settings.service is not None:
        out["service"] = settings.service
    if settings.env is not None:
        out["env"] = settings.env
    if settings.version is not None:
        out["version"] = settings.version
    if event.prompt is not None or event.completion is not None:
        truncated = _content(out, event, settings, truncated)
    if event.internal_error:
        out["internal_error"] = True
    if event.fields:
        for key, value in event.fields.items():
            if key in out:
                continue
            if type(value) is str:
                out[key], cut = clean_text(value, cap)
                if cut:
                    truncated = [*(truncated or ()), key]
            else:
                out[key] = clean_value(value, cap)
    if truncated:
        out["truncated"] = truncated
        _guard.count("truncated_fields", len(truncated))
    if event.trace_id is not None:
        out["trace_id"] = event.trace_id
        if event.span_id is not None:
            out["span_id"] = event.span_id
    return out


class _Group:
    """Optional fields written together: names, kinds, and one C-level getter of all their values."""

    __slots__ = ("fields", "get", "size")

    def __init__(self, fields: tuple[tuple[str, type], ...]) -> None:
        self.fields = fields
        self.get = operator.attrgetter(*(name for name, _ in fields))
        self.size = len(fields)


_WHERE: Final = _Group(
    (("canonical_model", str), ("platform", str), ("server_address", str), ("cloud_region", str))
)
"""Where the call went; written after `request_model`."""
_ANSWER: Final = _Group(
    (
        ("refusal_category", str),
        ("tool_use_count", int),
        ("tool_use_names", list),
        ("cache_miss_reason", str),
    )
)
"""What the response said beyond its stop reason; written after `stop_reason`."""
_BILL: Final = _Group(
    (
        ("cache_creation_5m_input_tokens", int),
        ("cache_creation_1h_input_tokens", int),
        ("thinking_output_tokens", int),
        ("service_tier", str),
        ("speed", str),
        ("inference_geo", str),
        ("web_search_requests", int),
        ("web_fetch_requests", int),
        ("server_tool_requests", int),
        ("thinking_type", str),
        ("thinking_budget_tokens", int),
        ("effort", str),
        ("structured_output", bool),
        ("stop_sequence_count", int),
        ("tool_count", int),
        ("tool_choice", str),
        ("temperature", float),
        ("top_p", float),
        ("top_k", int),
        ("workspace_id", str),
        ("user_profile_id", str),
    )
)
"""The facts that explain a bill: usage details, then the request's settings; written after `cost_usd`."""


def _details(out: dict[str, Any], event: Event, group: _Group, cap: int) -> None:
    """Write the known ones of `group` in order; strings cleaned and capped, lists of names too."""
    values: tuple[Any, ...] = group.get(event)
    if values.count(None) == group.size:
        return  # the usual case for most groups: nothing to write
    for (name, kind), value in zip(group.fields, values, strict=True):
        if value is None:
            continue
        if kind is str:
            out[name] = label(value, cap)
        elif kind is list:
            out[name] = [label(item, 64) for item in value]
        else:
            out[name] = value


def _error_text_allowed(event: Event, policy: str) -> bool:
    """`api` (default) keeps the API's and the SDK's own wording; an app exception's text may hold data."""
    return policy == "all" or (policy == "api" and event.error_message_source == "api")


def _error_text(event: Event, settings: Settings) -> tuple[str, bool]:
    """The error text to write: secrets masked, capped; the API's wording with request content withheld.

    With `capture_error_message="all"` the text is written as it is (the user opted in).
    """
    message = event.error_message or ""
    if event.error_message_source == "api" and settings.capture_error_message == "api":
        message = api_wording(message)
    return clean_text(mask_secrets(message[: settings.max_error_chars * 2]), settings.max_error_chars)


def _content(
    out: dict[str, Any], event: Event, settings: Settings, truncated: list[str] | None
) -> list[str] | None:
    """Add opted-in prompt and completion text, capped and passed through the user's redactor."""
    for key in ("prompt", "completion"):
        value = getattr(event, key)
        if value is None:
            continue
        text, cut = clean_text(value, settings.max_content_chars)
        if settings.redact is not None:
            try:
                redacted: object = settings.redact(key, text)
            except Exception as exc:
                # A redactor that fails drops its field, never the event (and never leaks the text).
                # Its type only: the exception's text may quote the very content it was redacting.
                _guard.warn_once(
                    f"redact:{type(exc).__name__}",
                    "claude_logging: redact hook raised %s; %s dropped",
                    type(exc).__name__,
                    key,
                )
                continue
            if not isinstance(redacted, str):  # a user's hook may return anything
                continue
            text, cut2 = clean_text(redacted, settings.max_content_chars)
            cut = cut or cut2
        out[key] = text
        if cut:
            truncated = [*(truncated or ()), key]
    return truncated


def encode_line(record: dict[str, Any], max_bytes: int) -> str:
    """One line of JSON (ASCII, no newline) of at most `max_bytes`, shrinking `record` if needed."""
    line = _encode(record)
    if len(line) <= max_bytes:
        return line
    if record.get("event") not in EVENT_NAMES:
        # Another schema's names: _schemas shrinks it in flat names and renders it again.
        return _schemas.encode_bounded(record, max_bytes)
    return shrink(record, max_bytes)


def fallback(event: Event) -> dict[str, Any]:
    """The smallest event we can still write when rendering failed; marked `internal_error`."""
    out: dict[str, Any] = {"event": EVENT_NAME, "outcome": "incomplete", "internal_error": True}
    try:
        out["timestamp"] = timestamp(event.start_wall_ns)
        out["outcome"] = event.outcome or INCOMPLETE
        out["level"] = LEVELS.get(out["outcome"], "error")
        if event.end_mono_ns is not None:
            out["latency_ms"] = round(max(event.end_mono_ns - event.start_mono_ns, 0) / 1e6, 3)
        model = event.response_model or event.request_model
        if isinstance(model, str):
            out["model"] = clean_label(model, 128)[0]
        if isinstance(event.error_type, str):
            out["error_type"] = clean_label(event.error_type, 128)[0]
    except Exception:
        pass
    return out
