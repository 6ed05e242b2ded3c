"""One SDK API call observed: opened from the request, told each HTTP attempt, ended by the result.

The seams (`_seams.py`) call `run_sync` / `run_async` around the SDK's `request()`, the one door
every resource method goes through, so a call spans all its retries and the stream it returns,
and sees exceptions raised anywhere (validation, retry sleeps, cancellation). `attempt_sync` /
`attempt_async` run around each HTTP attempt inside it: the retry count, each attempt's status,
and the request id and rate-limit headers of the response, success or not.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final

from claude_logging import _config, _guard, _responses
from claude_logging._batches import record_request
from claude_logging._calls import Call, current_scope, new_event, stamp_trace
from claude_logging._capture import get, record_headers, request_fields, request_prompt
from claude_logging._context import bound

if TYPE_CHECKING:
    from collections.abc import Callable

    from claude_logging._event import Event

current_api_call: Final[ContextVar[tuple[int, Call] | None]] = ContextVar(
    "claude_logging.api_call", default=None
)
"""The observed call in progress in this thread or task, with the `id()` of its client."""


def operation_of(options: object) -> str | None:
    """`chat`, `count_tokens` or `batches` for a Messages API request; None for other endpoints."""
    url = get(options, "url")
    if not isinstance(url, str):
        return None
    path = url.split("?", 1)[0].rstrip("/")
    if path.endswith("/v1/messages"):
        return "chat"
    if path.endswith("/v1/messages/count_tokens"):
        return "count_tokens"
    if "/v1/messages/batches" in path:
        return "batches"
    return None


def start_call(options: object, client: object = None) -> Call | None:
    """Open the call for a request of `client`, or None when it is not one we log (another endpoint)."""
    operation = operation_of(options)
    if operation is None:
        return None
    event = new_event()
    event.operation = operation
    event.api_calls = 1
    body = get(options, "json_data")
    request_fields(
        event, body, client=client, headers=get(options, "headers"), extra_body=get(options, "extra_json")
    )
    if operation == "batches":
        record_request(event, body)
    parent = current_scope.get()
    run = run_of(parent)
    if run is not None:
        join_run(event, run.event)
    elif parent is None:
        fields = bound.get()
        if fields:
            event.tenant_id = fields.get("tenant_id")
            event.user_id = fields.get("user_id")
            extra = {key: value for key, value in fields.items() if key not in ("tenant_id", "user_id")}
            event.fields = extra or None
        stamp_trace(event)
    if _config.current().capture_content:
        event.prompt = request_prompt(body)
    return Call(event, parent)


def run_of(scope: Call | None) -> Call | None:
    """The innermost `log_call(per_call=True)` scope at or above `scope`, if any."""
    depth = 0
    while scope is not None and depth < 100:
        if scope.event.rollup:
            return scope
        scope, depth = scope.parent, depth + 1
    return None


def join_run(event: Event, run: Event) -> None:
    """Make an API call's own event carry its run's id and identity (tenant, user, fields, trace)."""
    event.run_id = run.run_id
    event.tenant_id = run.tenant_id
    event.user_id = run.user_id
    event.fields = dict(run.fields) if run.fields else None
    event.function = run.function
    event.trace_id, event.span_id = run.trace_id, run.span_id


def _open(client: object, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call | None:
    current = current_api_call.get()
    if current is not None and current[0] == id(client):
        return None  # the same client's request() re-entered: the outer call logs it
    try:
        return start_call(args[1] if len(args) > 1 else kwargs.get("options"), client)
    except Exception as exc:
        _guard.internal_error("instrument.start", exc)
        return None


def _failed(call: Call, exc: BaseException) -> None:
    try:
        call.fail(exc)
    except Exception as error:
        _guard.internal_error("instrument.error", error)


def _returned(call: Call, result: object) -> None:
    try:
        parent = call.parent
        if parent is not None and hasattr(parent, "remember"):
            parent.remember(result)
        _responses.observe(call, result)
    except Exception as exc:
        call.event.internal_error = True
        _guard.internal_error("instrument.result", exc)
        call.finish("success")


def run_sync(
    original: Callable[..., Any], client: object, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """`original(client, *args, **kwargs)` (the SDK's `request()`), observed as one call."""
    call = _open(client, args, kwargs)
    if call is None:
        return original(client, *args, **kwargs)
    token = current_api_call.set((id(client), call))
    try:
        result = original(client, *args, **kwargs)
    except BaseException as exc:
        current_api_call.reset(token)
        _failed(call, exc)
        raise
    current_api_call.reset(token)
    _returned(call, result)
    return result


async def run_async(
    original: Callable[..., Any], client: object, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """`await original(client, *args, **kwargs)` (the async SDK's `request()`), observed as one call."""
    call = _open(client, args, kwargs)
    if call is None:
        return await original(client, *args, **kwargs)
    token = current_api_call.set((id(client), call))
    try:
        result = await original(client, *args, **kwargs)
    except BaseException as exc:
        current_api_call.reset(token)
        _failed(call, exc)
        raise
    current_api_call.reset(token)
    _returned(call, result)
    return result


# -- each HTTP attempt --------------------------------------------------------------------------------


def attempt_of(client: object, kwargs: dict[str, Any], current: tuple[int, Call]) -> Call | None:
    """The call an HTTP attempt of `client` belongs to (None: not observed), with its retry count noted.

    `current` is `current_api_call`'s value, already read by the seam (None there needs no call).
    """
    if current[0] != id(client):
        return None
    call = current[1]
    retries = kwargs.get("retries_taken")
    if type(retries) is int:
        call.event.retries = retries
    return call


def attempt_ended(call: Call, result: object) -> None:
    """Status and headers of the response an attempt returned (`(response, options)`)."""
    try:
        response = result[0] if isinstance(result, tuple) and result else None
        status = get(response, "status_code")
        if type(status) is int:
            call.event.status_code = status
        record_headers(call.event, get(response, "headers"))
    except Exception as exc:
        _guard.internal_error("attempt", exc)
