"""What a value returned by the SDK tells us, whichever of its many shapes it has.

`observe(call, result)` ends (or starts watching) an instrumented call from what `request()`
returned; `record(scope, value)` does the same for a value a `log_call` scope received by hand or
as a return value. Shapes: a Message (stable, beta, parsed), a token count, a `Stream` /
`AsyncStream`, a `messages.stream()` helper (`MessageStream`) or its unentered manager, and the
raw `APIResponse` of `with_raw_response` / `with_streaming_response`. Anything else is ignored.
Types are recognised by shape, not imported, so an SDK without one of them cannot break us.
"""

from __future__ import annotations

import inspect
import json
import sys
import weakref
from typing import TYPE_CHECKING, Any, cast

from claude_logging import _config, _guard, _pricing
from claude_logging._batches import record_batch, results_batch_id, watch_results
from claude_logging._calls import Call, current_scope, merge
from claude_logging._capture import (
    completion_text,
    get,
    is_message,
    record_headers,
    record_message,
    record_token_count,
)
from claude_logging._event import ABANDONED, SUCCESS, Event
from claude_logging._streams import observer_of, watch
from claude_logging._writer import WORKER

if TYPE_CHECKING:
    import httpx2


def _http_response(value: object) -> httpx2.Response | None:
    """The `httpx2.Response` behind a Stream (`.response`) or an APIResponse (`.http_response`).

    Only a real `httpx2.Response` (the SDK's transport type) counts: any value a decorated
    function returns passes through here, and a look-alike (a mock, a proxy object answering
    every attribute) must not be watched as a stream the scope would then wait for.
    """
    http = sys.modules.get("httpx2")  # not loaded: no httpx2.Response can exist
    if http is None:
        return None
    for name in ("http_response", "response"):
        candidate = get(value, name)
        if isinstance(candidate, http.Response):
            return cast("httpx2.Response", candidate)
    return None


def _content_cap() -> int | None:
    settings = _config.current()
    return settings.max_content_chars if settings.capture_content else None


def _is_token_count(value: object) -> bool:
    return type(value).__name__.endswith("MessageTokensCount")


def _json_body(response: httpx2.Response) -> object:
    try:
        return json.loads(response.content)
    except Exception:
        return None


def observe(call: Call, result: object) -> None:
    """End `call` from what an instrumented `request()` returned, or watch its stream."""
    event = call.event
    if event.operation == "batches":
        record_batch(event, result)
    if is_message(result):
        record_message(event, result)
        if _config.current().capture_content:
            event.completion = completion_text(result)
        call.finish(SUCCESS)
        return
    if _is_token_count(result):
        record_token_count(event, result)
        call.finish(SUCCESS)
        return
    response = _http_response(result)
    if response is None:
        call.finish(SUCCESS)
        return
    if event.request_id is None:  # each attempt's headers were read already
        record_headers(event, response.headers)
    if observer_of(response) is not None:
        call.finish(SUCCESS)  # someone already watches this body; do not count it twice
    elif not response.is_closed:
        _watch_unread(call, response)
    else:
        _read_closed(call, result, response)


def _watch_unread(call: Call, response: httpx2.Response) -> None:
    batch_id = results_batch_id(str(response.request.url)) if call.event.operation == "batches" else None
    if batch_id is not None:
        watch_results(call, response, batch_id)
    else:
        watch(call, response, _content_cap())


def _read_closed(call: Call, result: object, response: httpx2.Response) -> None:
    event = call.event
    body = _json_body(response)
    if event.operation == "batches":
        record_batch(event, body)
    if is_message(body):
        record_message(event, body)
    elif _is_token_count(result) or (get(body, "input_tokens") is not None and get(body, "type") is None):
        record_token_count(event, body)
    call.finish(SUCCESS)


def record(scope: Call, value: object) -> None:
    """Fold what `value` tells into `scope`; a stream keeps the scope open until it ends."""
    if is_message(value):
        _fold_message(scope, value)
        return
    if _is_token_count(value):
        part = _part(scope)
        record_token_count(part, value)
        part.api_calls = 1
        _fold(scope, part)
        return
    raw_stream = get(value, "_raw_stream")
    if raw_stream is not None:
        value = raw_stream
    elif _manager_request_attribute(value) is not None:
        _adopt_manager(scope, value)
        return
    response = _http_response(value)
    if response is None:
        return
    if observer_of(response) is not None:
        return  # an instrumented client watches it, and folds it into the right scope
    if not response.is_closed:
        child = Call(_part(scope), scope)
        child.event.api_calls = 1
        try:
            record_headers(child.event, response.headers)
            watch(child, response, _content_cap())
        except Exception:
            child.detach()  # never leave the scope waiting for a stream nobody watches
            raise
        return
    body = _json_body(response)
    if is_message(body):
        _fold_message(scope, body, headers=response.headers)


def _part(scope: Call) -> Event:
    """A record for one response inside `scope`, on the scope's clock."""
    return Event.started(scope.event.start_wall_ns, scope.event.start_mono_ns)


def _fold_message(scope: Call, message: object, headers: object = None) -> None:
    part = _part(scope)
    record_headers(part, headers)
    record_message(part, message)
    part.api_calls = 1
    part.status_code = 200
    if _config.current().capture_content:
        part.completion = completion_text(message)
    _fold(scope, part)


def _fold(scope: Call, part: Event) -> None:
    try:
        _pricing.price(part)  # each API-level part at its own model's prices
    except Exception as exc:
        part.internal_error = True
        _guard.internal_error("price", exc)
    with scope._lock:
        merge(scope.event, part, late=scope.exited)


# -- messages.stream() managers returned before they are entered -----------------------------------


def _manager_request_attribute(value: object) -> str | None:
    if not type(value).__name__.endswith("StreamManager"):
        return None
    for name in getattr(value, "__dict__", {}):
        if isinstance(name, str) and name.endswith("__api_request"):
            return name
    return None


def _adopt_manager(scope: Call, manager: object) -> None:
    """Make the request that entering `manager` sends belong to `scope`, which waits for it."""
    attribute = _manager_request_attribute(manager)
    if attribute is None:
        return
    original = manager.__dict__[attribute]
    pending = Call(_part(scope), scope)

    def bind(stream: object) -> None:
        response = _http_response(stream)
        if response is None or observer_of(response) is not None:
            pending.detach()  # the instrumented client's own call already folds into the scope
        else:
            pending.event.api_calls = 1
            watch(pending, response, _content_cap())

    if inspect.isawaitable(original):

        async def adopted_async() -> Any:
            token = current_scope.set(scope)
            try:
                stream = await original
            except BaseException as exc:
                pending.fail(exc)
                raise
            finally:
                current_scope.reset(token)
            bind(stream)
            return stream

        manager.__dict__[attribute] = adopted_async()
    else:

        def adopted() -> Any:
            token = current_scope.set(scope)
            try:
                stream = original()
            except BaseException as exc:
                pending.fail(exc)
                raise
            finally:
                current_scope.reset(token)
            bind(stream)
            return stream

        manager.__dict__[attribute] = adopted

    def abandon() -> None:
        pending.finish(ABANDONED)

    # Only on collection: at exit the sweep writes a call still pending as `incomplete`.
    weakref.finalize(manager, WORKER.defer, abandon).atexit = False
