"""instrument(client): every Messages API call of one client becomes one event.

Three seams of the SDK, all per client instance (no class is patched, so other clients and
Bedrock/Vertex classes that copy `create` at import are unaffected, and `messages.parse()` is
covered like every other method):

1. The client's `request()` method, the one door every resource method goes through: it
   bounds the logical call (all retries, and the stream it returns) and sees exceptions raised
   anywhere, including client-side validation, cancellation and retry sleeps.
2. The SDK's `middleware=` hook, once per HTTP attempt inside the retry loop: the retry count,
   each attempt's status, `request-id` and rate-limit headers, also of a successful response.
3. The stream observer on the response body (`_streams.py`), for the reading of a stream.

`instrument()` is idempotent, `uninstrument()` reverses it, and a client derived with
`with_options()` / `copy()` is instrumented too.
"""

from __future__ import annotations

import inspect
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final, TypeVar

from claude_logging import _config, _guard, _responses
from claude_logging._calls import Call, current_scope, new_event, stamp_trace
from claude_logging._capture import get, record_headers, request_fields, request_prompt
from claude_logging._context import bound

if TYPE_CHECKING:
    from collections.abc import Callable

ClientT = TypeVar("ClientT")

_MARK: Final = "_claude_logging_original_request"
_COPY_METHODS: Final = ("copy", "with_options")

current_api_call: Final[ContextVar[Call | None]] = ContextVar("claude_logging.api_call", default=None)
"""The instrumented call in progress in this thread or task: the middleware records into it."""


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


def start_call(options: object) -> Call | None:
    """Open the call for a request, or None when it is not ours to log (or already logged)."""
    if current_api_call.get() is not None:
        return None  # a second instrumentation of the same request: the outer one logs it
    operation = operation_of(options)
    if operation is None:
        return None
    event = new_event()
    event.operation = operation
    event.api_calls = 1
    body = get(options, "json_data")
    request_fields(event, body)
    parent = current_scope.get()
    if parent is None:
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


def _open(options: object) -> Call | None:
    try:
        return start_call(options)
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


def _options_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> object:
    return args[1] if len(args) > 1 else kwargs.get("options")


def _sync_request(original: Callable[..., Any]) -> Callable[..., Any]:
    def request(*args: Any, **kwargs: Any) -> Any:
        call = _open(_options_of(args, kwargs))
        if call is None:
            return original(*args, **kwargs)
        token = current_api_call.set(call)
        try:
            result = original(*args, **kwargs)
        except BaseException as exc:
            current_api_call.reset(token)
            _failed(call, exc)
            raise
        current_api_call.reset(token)
        _returned(call, result)
        return result

    return request


def _async_request(original: Callable[..., Any]) -> Callable[..., Any]:
    async def request(*args: Any, **kwargs: Any) -> Any:
        call = _open(_options_of(args, kwargs))
        if call is None:
            return await original(*args, **kwargs)
        token = current_api_call.set(call)
        try:
            result = await original(*args, **kwargs)
        except BaseException as exc:
            current_api_call.reset(token)
            _failed(call, exc)
            raise
        current_api_call.reset(token)
        _returned(call, result)
        return result

    return request


# -- per-attempt middleware -------------------------------------------------------------------------


def _attempt_started(request: object) -> Call | None:
    call = current_api_call.get()
    if call is not None:
        retries = get(request, "retries_taken")
        if type(retries) is int:
            call.event.retries = retries
    return call


def _attempt_ended(call: Call, response: object) -> None:
    try:
        event = call.event
        status = get(response, "status_code")
        if type(status) is int:
            event.status_code = status
        record_headers(event, get(response, "headers"))
    except Exception as exc:
        _guard.internal_error("middleware", exc)


class AttemptRecorder:
    """SDK middleware: notes each HTTP attempt's retry number, status and headers on the call.

    The SDK's `Middleware` base class is mixed in when a client is instrumented (`_recorder()`),
    so importing this library never imports the SDK.
    """

    def handle(self, request: Any, call_next: Callable[[Any], Any]) -> Any:
        """Sync clients: observe one attempt, change nothing."""
        call = _attempt_started(request)
        response = call_next(request)
        if call is not None:
            _attempt_ended(call, response)
        return response

    async def handle_async(self, request: Any, call_next: Callable[[Any], Any]) -> Any:
        """Async clients: observe one attempt, change nothing."""
        call = _attempt_started(request)
        response = await call_next(request)
        if call is not None:
            _attempt_ended(call, response)
        return response


_recorder_class: list[type[AttemptRecorder]] = []


def _recorder() -> AttemptRecorder:
    """An `AttemptRecorder` that is also the SDK's `Middleware` (when the SDK has that class)."""
    if not _recorder_class:
        try:
            from anthropic import Middleware  # noqa: PLC0415 - the SDK is loaded once a client exists
        except ImportError:
            _recorder_class.append(AttemptRecorder)
        else:
            _recorder_class.append(type("AttemptRecorder", (AttemptRecorder, Middleware), {}))
    return _recorder_class[0]()


def _has_recorder(client: object) -> bool:
    return any(isinstance(entry, AttemptRecorder) for entry in getattr(client, "_middleware", ()))


def _add_middleware(client: Any) -> None:
    if (
        _has_recorder(client)
        or not hasattr(client, "_middleware")
        or not hasattr(client, "_build_middleware_chain")
    ):
        return
    client._middleware = (*client._middleware, _recorder())
    client._middleware_chain = client._build_middleware_chain()


def _remove_middleware(client: Any) -> None:
    if not _has_recorder(client):
        return
    client._middleware = tuple(
        entry for entry in client._middleware if not isinstance(entry, AttemptRecorder)
    )
    client._middleware_chain = client._build_middleware_chain()


# -- public ----------------------------------------------------------------------------------------------


def instrument(client: ClientT) -> ClientT:
    """Log every Messages API call made through `client`; returns the same client.

    Works for `Anthropic`, `AsyncAnthropic` and the Bedrock and Vertex clients: `messages.create`
    (with and without `stream=True`), `messages.stream()`, `messages.parse()`,
    `messages.count_tokens()` and `beta.messages.*`, raw and streaming responses included.
    Calling it twice changes nothing. Raises `TypeError` for an object that is not an SDK client.
    """
    request = getattr(client, "request", None)
    if request is None or not callable(request) or not hasattr(client, "base_url"):
        raise TypeError(
            f"instrument() takes an anthropic client (Anthropic, AsyncAnthropic, ...), not {client!r}"
        )
    if _MARK in vars(client):
        return client
    try:
        _add_middleware(client)
    except Exception as exc:
        # Without the middleware we still log every call, with fewer per-attempt details.
        _guard.warn_once(
            "middleware", "claude_logging: SDK middleware unavailable (%r); logging without it", exc
        )
    wrapper = _async_request(request) if inspect.iscoroutinefunction(request) else _sync_request(request)
    vars(client)[_MARK] = request
    vars(client)["request"] = wrapper
    for name in _COPY_METHODS:
        original_copy = getattr(client, name, None)
        if callable(original_copy):
            vars(client)[name] = _instrumenting_copy(original_copy)
    return client


def _instrumenting_copy(original: Callable[..., Any]) -> Callable[..., Any]:
    def copy(*args: Any, **kwargs: Any) -> Any:
        derived = original(*args, **kwargs)
        try:
            instrument(derived)
        except Exception as exc:
            _guard.internal_error("instrument.copy", exc)
        return derived

    return copy


def uninstrument(client: ClientT) -> ClientT:
    """Undo `instrument(client)`; returns the same client."""
    attributes = vars(client)
    if _MARK not in attributes:
        return client
    del attributes[_MARK]
    for name in ("request", *_COPY_METHODS):
        attributes.pop(name, None)
    _remove_middleware(client)
    return client
