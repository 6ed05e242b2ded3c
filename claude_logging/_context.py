"""context(): fields bound for every event inside it, on contextvars.

The bound fields live in one `ContextVar` holding an immutable snapshot, so they are right in
threads and asyncio tasks alike; nested contexts merge and the inner value wins. A call reads the
snapshot once, when it starts, so a stream finished in another task still carries its tenant.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from types import MappingProxyType, TracebackType
from typing import Any, Final, TypeVar, cast

from claude_logging._fields import check_extra_fields, check_identity

F = TypeVar("F", bound=Callable[..., Any])

EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})

bound: Final[ContextVar[Mapping[str, Any]]] = ContextVar("claude_logging.context", default=EMPTY)


class context:  # noqa: N801 - lower-case like contextlib's helpers, since it is used as one
    """Bind `tenant_id`, `user_id`, `conversation_id` and extra fields to every event inside this block.

    Usable as `with context(tenant_id="acme"):`, `async with`, or as a decorator. Bad field
    names raise `ValueError` here, at the call, not when an event is written.
    """

    __slots__ = ("_fields", "_tokens")

    def __init__(
        self,
        *,
        tenant_id: str | int | None = None,
        user_id: str | int | None = None,
        conversation_id: str | int | None = None,
        **fields: Any,
    ) -> None:
        """Validate the fields to bind; nothing is bound until the block is entered."""
        merged = check_extra_fields(fields, "context()")
        tenant = check_identity("tenant_id", tenant_id)
        user = check_identity("user_id", user_id)
        conversation = check_identity("conversation_id", conversation_id)
        if tenant is not None:
            merged["tenant_id"] = tenant
        if user is not None:
            merged["user_id"] = user
        if conversation is not None:
            merged["conversation_id"] = conversation
        self._fields: Mapping[str, Any] = MappingProxyType(merged)
        self._tokens: list[Token[Mapping[str, Any]]] = []

    def __enter__(self) -> Mapping[str, Any]:
        """Bind the fields; returns the merged snapshot now in force."""
        outer = bound.get()
        merged = MappingProxyType({**outer, **self._fields}) if outer else self._fields
        self._tokens.append(bound.set(merged))
        return merged

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Restore the fields that were bound before this block."""
        bound.reset(self._tokens.pop())

    async def __aenter__(self) -> Mapping[str, Any]:
        """Same as `__enter__`, for `async with`."""
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Same as `__exit__`, for `async with`."""
        self.__exit__(exc_type, exc, tb)

    def __call__(self, func: F) -> F:
        """Decorate `func` so that each call runs inside a fresh copy of this context."""
        fields = self._fields
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                token = bound.set(MappingProxyType({**bound.get(), **fields}))
                try:
                    return await func(*args, **kwargs)
                finally:
                    bound.reset(token)

            return cast("F", async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = bound.set(MappingProxyType({**bound.get(), **fields}))
            try:
                return func(*args, **kwargs)
            finally:
                bound.reset(token)

        return cast("F", wrapper)
