"""The parts of a response that explain a bill beyond the token counts: usage details and Message details.

`record_usage_details` reads the newer `usage` fields (thinking tokens, the server tools' request
counts, where inference ran); `record_message_details` reads what a Message says about itself
besides usage (a refusal's category, why the prompt cache missed, the tools it asked to run).
Both take the `fields()` of an SDK model or a JSON dict, which the caller has already read for
the core fields, and treat anything unexpected as absent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from claude_logging._readers import count, get, text

if TYPE_CHECKING:
    from claude_logging._event import Event
    from claude_logging._readers import Fields

MAX_TOOL_NAMES: Final = 8
"""At most this many `tool_use` names are kept per event (the count is always complete)."""
MAX_TOOL_NAME_CHARS: Final = 64
_NAMED_SERVER_TOOLS: Final = {
    "web_search_requests": "web_search_requests",
    "web_fetch_requests": "web_fetch_requests",
}


def record_usage_details(event: Event, values: Fields) -> None:
    """Thinking tokens, server-tool requests and inference geo from a usage's fields; absent ones unchanged.

    A `message_delta`'s usage is cumulative, so each value replaces the one before.
    """
    details = values.get("output_tokens_details")
    if details is not None:
        thinking = count(get(details, "thinking_tokens"))
        if thinking is not None:
            event.thinking_output_tokens = thinking
    geo = text(values.get("inference_geo"))
    if geo is not None:
        event.inference_geo = geo
    server_tools = values.get("server_tool_use")
    if server_tools is not None:
        _record_server_tools(event, server_tools)


def _record_server_tools(event: Event, server_tools: object) -> None:
    """Each `*_requests` count: the named ones into their fields, all of them into the total."""
    counts = _request_counts(server_tools)
    if not counts:
        return
    for key, attribute in _NAMED_SERVER_TOOLS.items():
        value = counts.get(key)
        if value is not None:
            setattr(event, attribute, value)
    event.server_tool_requests = sum(counts.values())
    event.unpriced_server_tools = any(
        value > 0 for key, value in counts.items() if key not in _NAMED_SERVER_TOOLS
    )


def _request_counts(server_tools: object) -> dict[str, int]:
    """`{"web_search_requests": 2, ...}` of a `ServerToolUsage` model (extra fields too) or a dict."""
    if isinstance(server_tools, dict):
        items = server_tools.items()
    else:
        try:
            fields = dict(server_tools)  # type: ignore[call-overload]  # pydantic models iterate as pairs
        except Exception:
            return {}
        items = fields.items()
    found: dict[str, int] = {}
    for key, value in items:
        amount = count(value)
        if isinstance(key, str) and key.endswith("_requests") and amount is not None:
            found[key] = amount
    return found


def record_message_details(event: Event, values: Fields) -> None:
    """The refusal category, cache-miss reason and `tool_use` blocks from a complete Message's fields."""
    record_stop_details(event, values.get("stop_details"))
    diagnostics = values.get("diagnostics")
    if diagnostics is not None:
        reason = text(get(get(diagnostics, "cache_miss_reason"), "type"))
        if reason is not None:
            event.cache_miss_reason = reason
    blocks = values.get("content")
    if isinstance(blocks, list):
        names = [get(block, "name") for block in blocks if get(block, "type") == "tool_use"]
        if names:
            event.tool_use_count = len(names)
            event.tool_use_names = _capped_names(names)


def record_stop_details(event: Event, details: object) -> None:
    """`stop_details` of a Message or of a stream's `message_delta`: a refusal's policy category."""
    if details is None or text(get(details, "type")) != "refusal":
        return
    category = text(get(details, "category"))
    event.refusal_category = category if category is not None else "uncategorized"


def record_content_block(event: Event, block: object) -> None:
    """A stream's `content_block_start` block: counts a `tool_use` (and its name) as it arrives."""
    if get(block, "type") != "tool_use":
        return
    event.tool_use_count = (event.tool_use_count or 0) + 1
    names = event.tool_use_names or []
    if len(names) < MAX_TOOL_NAMES:
        event.tool_use_names = [*names, *_capped_names([get(block, "name")])]


def _capped_names(names: list[object]) -> list[str]:
    return [name[:MAX_TOOL_NAME_CHARS] if isinstance(name, str) else "?" for name in names[:MAX_TOOL_NAMES]]
