"""SDK objects -> fields of the event record. Read field by field; nothing here trusts a shape.

Every reader takes a pydantic model from the SDK or the plain dict of a JSON body alike, keeps
only sane values (non-negative ints below 2**53, strings), treats missing as absent (never zero)
and ignores unknown fields, so a new SDK or API field cannot break capture. The exception readers
take only an allow-list of attributes: never `request`, headers, `body` beyond `error.type` and
`error.message`, nor the exception object itself.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, Final, TypeGuard

from claude_logging._capture_request import (
    record_endpoint,
    record_extra_body,
    record_request_headers,
    record_settings,
)
from claude_logging._capture_response import record_message_details, record_usage_details
from claude_logging._event import CANCELLED, ERROR, INTERRUPTED, Event, Outcome
from claude_logging._readers import MAX_COUNT, count, fields, get, is_mapping, text
from claude_logging._readers import private as _private

_USAGE_FIELDS: Final = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)
_RATELIMIT_HEADERS: Final = (
    ("anthropic-ratelimit-requests-remaining", "ratelimit_requests_remaining"),
    ("anthropic-ratelimit-input-tokens-remaining", "ratelimit_input_tokens_remaining"),
    ("anthropic-ratelimit-output-tokens-remaining", "ratelimit_output_tokens_remaining"),
)
_HEADER_NAMES: Final = frozenset(
    {
        b"request-id",
        b"retry-after-ms",
        b"retry-after",
        b"anthropic-workspace-id",
        *(header.encode() for header, _ in _RATELIMIT_HEADERS),
    }
)
_public_names: dict[type, str] = {}
_MAX_CHAIN: Final = 32
_ABSENT: Final = object()


def record_usage(event: Event, usage: object) -> None:
    """Copy usage counts onto `event`; a field absent or null in `usage` leaves the event's value.

    The SDK accumulates stream usage the same way: `message_delta` usage replaces what
    `message_start` said (it is cumulative), and null fields do not overwrite.
    """
    if usage is None:
        return
    values = fields(usage)
    for name in _USAGE_FIELDS:
        value = count(values.get(name))
        if value is not None:
            setattr(event, name, value)
    breakdown = values.get("cache_creation")
    if breakdown is not None:
        cache = fields(breakdown)
        five = count(cache.get("ephemeral_5m_input_tokens"))
        hour = count(cache.get("ephemeral_1h_input_tokens"))
        if five is not None:
            event.cache_creation_5m_input_tokens = five
        if hour is not None:
            event.cache_creation_1h_input_tokens = hour
    tier = text(values.get("service_tier"))
    if tier is not None:
        event.service_tier = tier
    speed = text(values.get("speed"))
    if speed is not None:
        event.speed = speed
    record_usage_details(event, values)


def record_delta_usage(event: Event, usage: object) -> None:
    """The counts of a `message_delta`: cumulative, so they replace what came before, as the SDK does.

    The SDK's snapshot takes `output_tokens` unconditionally and the other counts when they are
    not null. So a null output count makes the count unknown (the `message_start` placeholder
    must not survive as if it were the final count), and a count that is there but not sane
    (`-5`, `1.5`) makes it unknown too, rather than leaving the previous value in place.
    """
    if usage is None:
        return
    for name in _USAGE_FIELDS:
        if type(usage) is dict:
            value = usage.get(name, _ABSENT)
        else:
            try:
                value = getattr(usage, name, _ABSENT)
            except Exception:  # noqa: S112 - an unreadable count is skipped, like a missing one
                continue
        if value is _ABSENT or (value is None and name != "output_tokens"):
            continue
        setattr(event, name, count(value))


def is_message(obj: object) -> bool:
    """Whether `obj` looks like a Messages API response (stable, beta or parsed).

    Usage may be missing or null (a response the SDK did not validate): model, ids and stop
    reason are still worth logging, so the role tells a Message apart instead.
    """
    values = fields(obj)
    return text(values.get("type")) == "message" and (
        values.get("usage") is not None or text(values.get("role")) == "assistant"
    )


def record_message(event: Event, message: object) -> None:
    """Model, id, stop reason, usage and request id of a complete Message."""
    values = fields(message)
    model = text(values.get("model"))
    if model is not None:
        event.response_model = model
    message_id = text(values.get("id"))
    if message_id is not None:
        event.message_id = message_id
    stop = text(values.get("stop_reason"))
    if stop is not None:
        event.stop_reason = stop
    record_usage(event, values.get("usage"))
    record_message_details(event, values)
    request_id = text(_private(message, "_request_id"))
    if request_id is not None:
        event.request_id = request_id


def record_token_count(event: Event, result: object) -> None:
    """The result of `messages.count_tokens`: a count, not tokens spent."""
    counted = count(get(result, "input_tokens"))
    if counted is not None:
        event.counted_input_tokens = counted


def record_headers(event: Event, headers: object) -> None:
    """Request id, retry-after and rate-limit headroom from response headers."""
    if headers is None:
        return
    if hasattr(type(headers), "raw") and hasattr(type(headers), "encoding"):
        lookup = _wanted_headers(headers).get
    elif isinstance(headers, Mapping) or hasattr(headers, "get"):
        lookup = headers.get
    else:
        return
    request_id = text(lookup("request-id"))
    if request_id is not None:
        event.request_id = request_id
    for header, attribute in _RATELIMIT_HEADERS:
        value = _header_int(lookup(header))
        if value is not None:
            setattr(event, attribute, value)
    workspace = text(lookup("anthropic-workspace-id"))
    if workspace:
        event.workspace_id = workspace[:256]
    retry_after = _retry_after(lookup("retry-after-ms"), lookup("retry-after"))
    if retry_after is not None:
        event.retry_after_s = retry_after


def _wanted_headers(headers: Any) -> dict[str, str]:
    """The headers we read, from httpx2 `Headers`, exactly as its `get()` returns them.

    `get()` scans all headers (a real response has about twenty) once per name and raises inside
    for a missing one. One pass costs a tenth of that: over `Headers._list`, whose entries hold
    each name already lowercased (the httpx layout, checked on its first entry), else over `raw`.
    Values are decoded as `get()` does, with `Headers.encoding`; but that property, on a fresh
    response, first tries to decode every header, so an ASCII value (every value the API sends)
    is decoded here as ASCII, the same text under each encoding httpx chooses from.
    """
    found: dict[str, str] = {}
    known = getattr(headers, "_encoding", None)
    encoding = known if type(known) is str else None  # None: not worked out yet, ASCII so far
    items = getattr(headers, "_list", None)
    if _httpx_layout(items):
        by_name = {name: value for _, name, value in items}
        if len(by_name) == len(items):  # no name repeated (else the loop below joins the values)
            for name in _HEADER_NAMES:
                value = by_name.get(name)
                if value is not None:
                    if encoding is None and not value.isascii():
                        encoding = headers.encoding
                    found[name.decode("ascii")] = value.decode(encoding or "ascii")
            return found
    for raw_name, value in headers.raw:
        name = raw_name.lower()
        if name in _HEADER_NAMES:
            if encoding is None and not value.isascii():
                encoding = headers.encoding
            header, text = name.decode("ascii"), value.decode(encoding or "ascii")
            found[header] = f"{found[header]}, {text}" if header in found else text
    return found


def _httpx_layout(items: object) -> TypeGuard[list[tuple[bytes, bytes, bytes]]]:
    """Whether `items` is a list of `(name, lowercased name, value)` byte triples (judged by its first)."""
    if type(items) is not list:
        return False
    if not items:
        return True
    first = items[0]
    return (
        type(first) is tuple
        and len(first) == 3
        and type(first[0]) is bytes
        and type(first[1]) is bytes
        and type(first[2]) is bytes
        and first[1] == first[0].lower()
    )


def _header_int(value: object) -> int | None:
    if not isinstance(value, str) or not value.isdigit() or len(value) > 15:
        return None
    return int(value)


def _retry_after(milliseconds: object, seconds: object) -> float | None:
    for value, scale in ((milliseconds, 1000.0), (seconds, 1.0)):
        if isinstance(value, str) and len(value) < 32:
            try:
                number = float(value) / scale
            except ValueError:
                continue
            if 0 <= number < 1e7:
                return round(number, 3)
    return None


def _is_cancellation(exc: BaseException) -> bool:
    """`asyncio.CancelledError`, without importing asyncio: if it is not loaded, nothing was cancelled."""
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and isinstance(exc, asyncio.CancelledError)


def outcome_of(exc: BaseException) -> Outcome:
    """The outcome an exception stands for: cancelled, interrupted or error."""
    if _is_cancellation(exc):
        return CANCELLED
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return INTERRUPTED
    return ERROR


def api_error_of(exc: BaseException) -> BaseException | None:
    """The SDK's `APIError` that `exc` is or wraps (along `__cause__` / `__context__`), if any.

    Found by what it is, not by the module of its class: a framework's subclass of
    `anthropic.RateLimitError` is one, and a wrapper raised `from` one leads to it. An app's own
    `anthropic.AnthropicError(...)` is not an API error: it did not come from the API or the SDK.
    """
    sdk = sys.modules.get("anthropic")
    base = getattr(sdk, "APIError", None)
    if not isinstance(base, type):
        return None
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending and len(seen) < _MAX_CHAIN:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, base):
            return current
        pending.extend(linked for linked in (current.__cause__, current.__context__) if linked is not None)
    return None


def sdk_class_name(cls: type) -> str | None:
    """The public name of the first class in `cls`'s MRO that the anthropic SDK defines."""
    for klass in cls.__mro__:
        module = klass.__module__ or ""
        if module == "anthropic" or module.startswith("anthropic."):
            return public_name(klass)
    return None


def record_exception(event: Event, exc: BaseException, *, app_text: bool = False) -> None:
    """Error class, and the API's status, error type, request id, headers and message of `exc`.

    `error_type` is the class raised. When that is not the SDK's own class (a framework's subclass
    or wrapper), `api_error_class` names the SDK class of the API error found in or under it. The
    text of an exception that is not an API error is read only when `app_text` asks for it (it is
    written only then), so its `__str__` never runs for nothing on the caller's thread.
    """
    event.error_type = public_name(type(exc))
    if event.api_error_class == event.error_type:
        event.api_error_class = None  # the scope's own exception is the API error a call inside it saw
    api = api_error_of(exc)
    if api is None:
        if (
            app_text
            and event.error_message is None
            and not isinstance(exc, (KeyboardInterrupt, SystemExit))
            and not _is_cancellation(exc)
        ):
            event.error_message = _exception_text(exc)
            event.error_message_source = "app"
        return
    api_class = sdk_class_name(type(api))
    if api_class is not None and api_class != event.error_type:
        event.api_error_class = api_class
    status = get(api, "status_code")
    response = get(api, "response")
    if type(status) is int and response is not None:
        event.status_code = status
        record_headers(event, get(response, "headers"))
    api_type = text(get(api, "type"))
    if api_type is not None:
        event.api_error_type = api_type
    request_id = text(get(api, "request_id"))
    if request_id is not None:
        event.request_id = request_id
    if type(status) is int and response is not None:
        # The API's own `error.message`; never the raw body of a non-JSON answer (a proxy's page).
        message = text(get(api, "api_message")) or _api_message(get(api, "body"))
    else:
        message = _exception_text(api)  # the SDK's own wording ("Connection error.", ...)
    if message is not None:
        event.error_message = message
        event.error_message_source = "api"


def _api_message(body: object) -> str | None:
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            return text(error.get("message"))
    return None


def _exception_text(exc: BaseException) -> str | None:
    try:
        args = exc.args
        if not args:
            return None
        first = args[0]
        return first[:4096] if isinstance(first, str) else str(first)[:4096]
    except Exception:
        return None


def public_name(cls: type) -> str:
    """The shortest public dotted name of an exception class.

    `anthropic._exceptions.RateLimitError` -> `anthropic.RateLimitError`; builtins stay bare
    (`ValueError`); others are `package.module.Class` at the first module that exports them.
    """
    name = _public_names.get(cls)
    if name is not None:
        return name
    module = cls.__module__ or ""
    qualname = cls.__qualname__
    if module == "builtins":
        name = qualname
    else:
        name = f"{module}.{qualname}"
        parts = module.split(".")
        for end in range(1, len(parts) + 1):
            candidate = ".".join(parts[:end])
            loaded = sys.modules.get(candidate)
            if loaded is not None and "." not in qualname and getattr(loaded, qualname, None) is cls:
                name = f"{candidate}.{qualname}"
                break
    if len(_public_names) < 4096:
        _public_names[cls] = name
    return name


def request_fields(
    event: Event,
    body: object,
    *,
    client: object = None,
    headers: object = None,
    extra_body: object = None,
) -> None:
    """Model, max_tokens, stream flag, `metadata.user_id` and the bill-shaping settings of a request.

    `body` is the request's JSON (`options.json_data`); the SDK keeps some settings elsewhere:
    `client` gives platform, host and region, `headers` (`options.headers`) the workspace and
    user-profile ids, `extra_body` (`options.extra_json`) sampling parameters.
    """
    if client is not None:
        record_endpoint(event, client)
    record_request_headers(event, headers)
    record_extra_body(event, extra_body)
    if not is_mapping(body):
        return
    model = body.get("model")
    if isinstance(model, str):
        event.request_model = model
    max_tokens = count(body.get("max_tokens"))
    if max_tokens is not None:
        event.max_tokens = max_tokens
    if body.get("stream") is True:
        event.stream = True
    metadata = body.get("metadata")
    if is_mapping(metadata):
        user = metadata.get("user_id")
        if isinstance(user, str):
            event.request_user_id = user
    record_settings(event, body)


def request_prompt(body: object) -> str | None:
    """The system prompt and messages of a request as compact JSON (content capture only)."""
    if not isinstance(body, Mapping):
        return None
    import json  # noqa: PLC0415 - only when content capture is on

    # Unset parameters arrive as the SDK's `Omit`/`NotGiven` markers: keep only real values.
    prompt = {key: body[key] for key in ("system", "messages") if isinstance(body.get(key), (str, list))}
    try:
        return json.dumps(prompt, ensure_ascii=False, default=str)[:1_000_000]
    except Exception:
        return None


def completion_text(message: object) -> str | None:
    """The text blocks of a Message joined (content capture only)."""
    blocks = get(message, "content")
    if not isinstance(blocks, list):
        return None
    parts = [text(get(block, "text")) for block in blocks if get(block, "type") == "text"]
    joined = "".join(part for part in parts if part)
    return joined or None


__all__ = [  # the readers are re-exported: capture modules and tests import them from here
    "MAX_COUNT",
    "completion_text",
    "count",
    "get",
    "is_message",
    "outcome_of",
    "public_name",
    "record_delta_usage",
    "record_exception",
    "record_headers",
    "record_message",
    "record_token_count",
    "record_usage",
    "request_fields",
    "request_prompt",
    "text",
]
