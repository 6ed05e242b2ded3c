"""The API's error wording, with anything that may quote the request withheld.

The Messages API's error messages are fixed sentences with field paths and numbers
("Overloaded", "max_tokens: must be less than or equal to 64000", "prompt is too long: 215000
tokens > 200000 maximum"). A few can echo what the request held: a value in quotes, the JSON of
a request part, a long body sent back. Written by default (`capture_error_message="api"`), such a
message could carry a prompt, so `api_wording()` keeps the sentence and drops the rest:

- a quoted part ("...", '...', `...`, “...”) becomes `"…"`, an unclosed quote ends the message;
- then what follows the colon of a content field's path (`messages.0.content.0.text: …`,
  `system: …`) is elided;
- a message with JSON in it (`{`, `}`, or `[` not opening an index like `[0]`), more than one
  line, or more than `MAX_WORDING` characters is replaced whole by `WITHHELD`.

Runs on at most `MAX_WORDING` characters, so a huge message costs no more than a short one.
"""

from __future__ import annotations

import re
from typing import Final

MAX_WORDING: Final = 500
"""The API's longest fixed message is about 400 characters; anything longer is an echo."""

WITHHELD: Final = "<withheld: the API's message may quote the request>"

_STRUCTURE: Final = re.compile(r"[{}\n\r\x0b\x0c\x85\u2028\u2029]|\[(?!\d{1,6}\])")
_QUOTED: Final = re.compile(
    # A quoted part, or an unclosed quote and everything after it (a quoted value cut short).
    r"\"[^\"]*(?:\"|$)|`[^`]*(?:`|$)|\u201c[^\u201d]*(?:\u201d|$)|\u2018[^\u2019]*(?:\u2019|$)"
    r"|(?<![A-Za-z0-9])'[^']*(?:'(?![A-Za-z0-9])|$)"
)
_CONTENT_PATH: Final = re.compile(r"\b(?:messages\.\d+\.content|system)(?:\.\w+)*\s*:\s*")
"""A message about a content field: what follows its colon may be that content."""
_CLOSING: Final = {'"': '"', "`": "`", "'": "'", "\u201c": "\u201d", "\u2018": "\u2019"}
_ELIDED: Final = "\u2026"


def api_wording(message: str) -> str:
    """`message` (the API's `error.message`) with quoted parts elided, or `WITHHELD` when it may echo."""
    if len(message) > MAX_WORDING or _STRUCTURE.search(message):
        return WITHHELD
    kept = _QUOTED.sub(_elide, message)
    about_content = _CONTENT_PATH.search(kept)  # after the quotes, so a path inside a quote is gone
    if about_content is not None:
        kept = f"{kept[: about_content.end()].rstrip()} {_ELIDED}"  # spacing after the colon is content too
    return kept


def _elide(match: re.Match[str]) -> str:
    quoted = match.group(0)
    opening = quoted[0]
    closed = len(quoted) > 1 and quoted[-1] == _CLOSING[opening]
    return opening + _ELIDED + (quoted[-1] if closed else "")
