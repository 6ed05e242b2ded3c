"""log_call: one event per scope, as a decorator or a context manager, sync or async.

The decorator is the context manager applied: each call of the decorated function opens a
`Scope`, runs the function outside every error boundary of ours, and closes the scope with the
return value or the exception, which then propagates unchanged (same object, same traceback).
Sync, async, generator and async-generator functions are told apart once, at decoration time.

A returned stream keeps the scope open until the stream is read, closed or dropped. Instrumented
client calls inside a scope, and scopes nested in it, fold into its one event.
"""

from __future__ import annotations

import functools
import inspect
import random
import weakref
from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from claude_logging import _guard, _responses, _seams, _targets
from claude_logging._calls import Call, current_scope, new_event, stamp_trace
from claude_logging._capture import outcome_of
from claude_logging._context import bound
from claude_logging._event import ABANDONED, SUCCESS, Event
from claude_logging._fields import (
    check_extra_fields,
    check_identity,
    check_max_tokens,
    check_model,
    identity_at_runtime,
    safe_extra_fields,
)

if TYPE_CHECKING:
    from types import TracebackType

F = TypeVar("F", bound=Callable[..., Any])


class Scope(Call):
    """One `log_call` in progress: `record()` responses, `set()` fields; ends once."""

    __slots__ = ("_results", "_token")

    def __init__(self, event: Event, parent: Call | None) -> None:
        """Open a scope (prefer `log_call`); it is not active until `_activate()`."""
        super().__init__(event, parent)
        self._results: list[Callable[[], object]] = []
        self._token: Any = None

    def _seen(self, response: object) -> bool:
        return any(seen() is response for seen in self._results)

    def record(self, response: object) -> None:
        """Record a Message, a stream (the event then waits for its end), or a raw API response.

        Recording the same object twice, or one an instrumented client already logged, is a no-op.
        """
        try:
            if self.completed or self._seen(response):
                return
            self.remember(response)
            _responses.record(self, response)
        except Exception as exc:
            self.event.internal_error = True
            _guard.internal_error("record", exc)

    def remember(self, response: object) -> None:
        """Note a response that is already folded into this scope, without keeping it alive.

        A weak reference: a stream the application drops must be finalised when it is dropped,
        not when the scope ends. (An object that takes no weak reference is remembered strongly.)
        """
        try:
            self._results.append(weakref.ref(response))
        except TypeError:
            self._results.append(lambda: response)

    def set(self, **fields: Any) -> None:
        """Add fields now: `tenant_id`, `user_id`, `model`, `max_tokens` or extra fields.

        Never raises: values are converted, bad names dropped; fields of the event itself (other
        than those four) cannot be overwritten.
        """
        try:
            event = self.event
            for name in ("tenant_id", "user_id"):
                if name in fields:
                    setattr(event, name, identity_at_runtime(fields.pop(name)))
            if "model" in fields:
                model = fields.pop("model")
                event.request_model = model if isinstance(model, str) else identity_at_runtime(model)
            if "max_tokens" in fields:
                max_tokens = fields.pop("max_tokens")
                event.max_tokens = max_tokens if type(max_tokens) is int and max_tokens > 0 else None
            extra = safe_extra_fields(fields)
            if extra:
                event.fields = {**(event.fields or {}), **extra}
        except Exception as exc:
            self.event.internal_error = True
            _guard.internal_error("set", exc)

    # -- opening and closing -----------------------------------------------------------------------

    def _activate(self) -> None:
        _targets.scope_opened()
        self._token = current_scope.set(self)

    def _deactivate(self) -> None:
        token, self._token = self._token, None
        if token is not None:
            current_scope.reset(token)

    def _close(self, result: object) -> None:
        self._deactivate()
        if result is not None:
            self.record(result)
        self.finish(SUCCESS)
        self._hand_over_results()

    def _close_error(self, exc: BaseException) -> None:
        self._deactivate()
        self.finish(outcome_of(exc), exc)
        self._hand_over_results()

    def _hand_over_results(self) -> None:
        """Drop our references to responses (a stream must stay collectable), telling the parent.

        What this scope has seen is folded into the parent scope, which must not record it again.
        """
        parent = self.parent
        if isinstance(parent, Scope) and not parent.completed:
            parent._results.extend(self._results)
        self._results.clear()

    def _complete(self) -> None:
        self._hand_over_results()
        super()._complete()


class LogCall:
    """What `log_call(...)` returns: a decorator and a (sync or async) context manager."""

    __slots__ = (
        "_conversation_id",
        "_fields",
        "_max_tokens",
        "_model",
        "_per_call",
        "_tenant_id",
        "_user_id",
    )

    def __init__(
        self,
        model: str | None,
        max_tokens: int | None,
        tenant_id: str | int | None,
        user_id: str | int | None,
        fields: dict[str, Any],
        *,
        conversation_id: str | int | None = None,
        per_call: bool = False,
    ) -> None:
        """Validate the scope's fields now, at configuration time."""
        if not isinstance(per_call, bool):
            raise TypeError(f"log_call(per_call=...) takes True or False, not {per_call!r}")
        self._per_call = per_call
        self._conversation_id = check_identity("conversation_id", conversation_id)
        self._model = check_model(model)
        self._max_tokens = check_max_tokens(max_tokens)
        self._tenant_id = check_identity("tenant_id", tenant_id)
        self._user_id = check_identity("user_id", user_id)
        self._fields = check_extra_fields(fields, "log_call()")

    def _open(self, function: str | None) -> Scope | None:
        """A new scope with this spec's fields over the context's; None if that failed."""
        try:
            if not _seams.installed():
                _seams.install()  # from now on, every SDK call inside a scope is seen
            event = new_event()
            bound_fields = bound.get()
            event.request_model = self._model
            event.max_tokens = self._max_tokens
            event.tenant_id = (
                self._tenant_id if self._tenant_id is not None else bound_fields.get("tenant_id")
            )
            event.user_id = self._user_id if self._user_id is not None else bound_fields.get("user_id")
            event.function = function
            event.conversation_id = self._conversation_id
            if (
                len(bound_fields) > ("tenant_id" in bound_fields) + ("user_id" in bound_fields)
                or self._fields
            ):
                extra = {k: v for k, v in bound_fields.items() if k not in ("tenant_id", "user_id")}
                extra.update(self._fields)
                event.fields = extra or None
            stamp_trace(event)
            if self._per_call:
                event.rollup = True
                event.run_id = f"{random.getrandbits(64):016x}"
            return Scope(event, current_scope.get())
        except Exception as exc:
            _guard.internal_error("log_call.open", exc)
            return None

    # -- context manager ---------------------------------------------------------------------------

    def __enter__(self) -> Scope:
        """Open a scope; `record()` and `set()` on what this returns."""
        scope = self._open(None)
        if scope is None:
            scope = _detached_scope()
        scope._activate()
        return scope

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the scope opened by the matching `__enter__`; the exception, if any, propagates."""
        scope = current_scope.get()
        if not isinstance(scope, Scope):
            return
        try:
            if exc is None:
                scope._close(None)
            else:
                scope._close_error(exc)
        except Exception as error:
            _guard.internal_error("log_call.exit", error)

    async def __aenter__(self) -> Scope:
        """Same as `__enter__`, for `async with`."""
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Same as `__exit__`, for `async with`."""
        self.__exit__(exc_type, exc, tb)

    # -- decorator -----------------------------------------------------------------------------------

    def __call__(self, func: F) -> F:
        """Decorate `func` (function, method, `async def`, generator or async generator)."""
        if not callable(func):
            raise TypeError(f"log_call can decorate a callable, not {type(func).__name__}: {func!r}")
        name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)
        if inspect.isasyncgenfunction(func):
            return cast("F", _async_generator_wrapper(self, func, name))
        if inspect.iscoroutinefunction(func):
            return cast("F", _coroutine_wrapper(self, func, name))
        if inspect.isgeneratorfunction(func):
            return cast("F", _generator_wrapper(self, func, name))
        return cast("F", _function_wrapper(self, func, name))


def _detached_scope() -> Scope:
    """A scope to hand out when opening failed: usable, never emitted."""
    scope = Scope.__new__(Scope)
    Call.__init__(scope, new_event(), None)
    scope._results = []
    scope._token = None
    scope.completed = True
    return scope


def _close(scope: Scope | None, result: object) -> None:
    if scope is not None:
        try:
            scope._close(result)
        except Exception as exc:
            _guard.internal_error("log_call.close", exc)


def _close_error(scope: Scope | None, exc: BaseException) -> None:
    if scope is not None:
        try:
            scope._close_error(exc)
        except Exception as error:
            _guard.internal_error("log_call.close", error)


def _activate(scope: Scope | None) -> None:
    if scope is not None:
        scope._activate()


def _function_wrapper(spec: LogCall, func: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scope = spec._open(name)
        _activate(scope)
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            _close_error(scope, exc)
            raise
        _close(scope, result)
        return result

    return wrapper


def _coroutine_wrapper(spec: LogCall, func: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        scope = spec._open(name)
        _activate(scope)
        try:
            result = await func(*args, **kwargs)
        except BaseException as exc:
            _close_error(scope, exc)
            raise
        _close(scope, result)
        return result

    return wrapper


def _generator_wrapper(spec: LogCall, func: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        scope = spec._open(name)
        inner = func(*args, **kwargs)
        return (yield from _drive(scope, inner))

    return wrapper


def _drive(scope: Scope | None, inner: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
    """Run `inner` with the scope active only while inner code runs, never while the caller's does."""
    sent: Any = None
    thrown: BaseException | None = None
    while True:
        _activate(scope)
        try:
            value = inner.throw(thrown) if thrown is not None else inner.send(sent)
        except StopIteration as stop:
            _close(scope, None)
            return stop.value
        except BaseException as exc:
            _close_error(scope, exc)
            raise
        finally:
            if scope is not None:
                scope._deactivate()
        thrown = None
        try:
            sent = yield value
        except GeneratorExit:
            try:
                inner.close()
            finally:
                if scope is not None:
                    scope.finish(ABANDONED)
            raise
        except BaseException as exc:
            thrown = exc


def _async_generator_wrapper(spec: LogCall, func: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        scope = spec._open(name)
        inner = func(*args, **kwargs)
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            _activate(scope)
            try:
                value = await (inner.athrow(thrown) if thrown is not None else inner.asend(sent))
            except StopAsyncIteration:
                _close(scope, None)
                return
            except BaseException as exc:
                _close_error(scope, exc)
                raise
            finally:
                if scope is not None:
                    scope._deactivate()
            thrown = None
            try:
                sent = yield value
            except GeneratorExit:
                try:
                    await inner.aclose()
                finally:
                    if scope is not None:
                        scope.finish(ABANDONED)
                raise
            except BaseException as exc:
                thrown = exc

    return wrapper


@overload
def log_call(func: F, /) -> F: ...


@overload
def log_call(
    func: None = None,
    /,
    *,
    model: str | None = None,
    max_tokens: int | None = None,
    tenant_id: str | int | None = None,
    user_id: str | int | None = None,
    conversation_id: str | int | None = None,
    per_call: bool = False,
    **fields: Any,
) -> LogCall: ...


def log_call(
    func: Callable[..., Any] | None = None,
    /,
    *,
    model: str | None = None,
    max_tokens: int | None = None,
    tenant_id: str | int | None = None,
    user_id: str | int | None = None,
    conversation_id: str | int | None = None,
    per_call: bool = False,
    **fields: Any,
) -> Any:
    """Write one event per call of the decorated function, or per `with` block.

    `@log_call`, `@log_call(tenant_id="acme", max_tokens=1000)`,
    `with log_call(model=..., max_tokens=...) as call:` and `async with` all work. A returned
    Message (or stream) gives model, usage, stop reason and ids; `call.record(message)` and
    `call.set(**fields)` do the same by hand. `conversation_id` names the conversation (session,
    thread) the calls belong to. Extra keyword fields are copied into the event.
    Bad arguments raise `TypeError`/`ValueError` here, never when the function runs.

    `per_call=True` makes the scope an agent run: every API call inside it is also written as its
    own `claude.call` event carrying the run's `run_id` (and the scope's tenant, user and fields),
    and the scope's sum is written as one `claude.run` event with the same `run_id`. Dashboards that
    count `claude.call` events or sum their tokens and cost count each call once.
    """
    spec = LogCall(
        model, max_tokens, tenant_id, user_id, fields, conversation_id=conversation_id, per_call=per_call
    )
    if func is None:
        return spec
    return spec(func)


__all__ = ["LogCall", "Scope", "log_call"]
