"""The SDK seams: installed once per process, on the SDK's two base client classes.

`SyncAPIClient.request` / `AsyncAPIClient.request` (the one door of every resource method, for
every client class: Anthropic, AsyncAnthropic, Bedrock, Vertex, Foundry, Mantle, and framework-
private clients) and their `_attempt_request` (one HTTP attempt inside the retry loop) are
wrapped at the class, so no client carries any state of ours: `vars(client)`, its middleware,
`copy()` and its signature are exactly the SDK's. Each wrapper first asks whether the call is
observed (`_targets`, or an open scope): in a process that observes nothing that is one list
read; otherwise a set look-up and a context-variable read.

`copy()` / `with_options()` of client classes are wrapped (on first `instrument(client)`) so that
a client derived from a chosen one is chosen too.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any, Final

from claude_logging import _targets
from claude_logging._api_calls import attempt_ended, attempt_of, current_api_call, run_async, run_sync
from claude_logging._calls import current_scope

if TYPE_CHECKING:
    from collections.abc import Callable

_MARK: Final = "__claude_logging_seam__"
_lock = threading.Lock()
_installed: list[tuple[type, str, Any]] = []
_copy_wrapped: set[type] = set()
_COPY_METHODS: Final = ("copy", "with_options")
_watching, _everything, _chosen = _targets.watching, _targets.everything, _targets.chosen


def install() -> bool:
    """Install the seams (once); False when the SDK cannot be imported."""
    if _installed:
        return True
    try:
        from anthropic import _base_client  # noqa: PLC0415 - the SDK is loaded when first needed
    except Exception:
        return False
    with _lock:
        if _installed:
            return True
        sync_base, async_base = _base_client.SyncAPIClient, _base_client.AsyncAPIClient
        _patch(sync_base, "request", _sync_request)
        _patch(sync_base, "_attempt_request", _sync_attempt)
        _patch(async_base, "request", _async_request)
        _patch(async_base, "_attempt_request", _async_attempt)
    return True


def installed() -> bool:
    """Whether the seams are in place."""
    return bool(_installed)


def is_sdk_client(client: object) -> bool:
    """Whether `client` is an instance of one of the SDK's client classes."""
    if not install():
        return False
    from anthropic import _base_client  # noqa: PLC0415 - loaded by install()

    return isinstance(client, (_base_client.SyncAPIClient, _base_client.AsyncAPIClient))


def wrap_copies(cls: type) -> None:
    """Make `copy()` / `with_options()` of `cls` (and its bases) pass a chosen client's choice on."""
    with _lock:
        for klass in cls.__mro__:
            if klass in _copy_wrapped:
                continue
            _copy_wrapped.add(klass)
            for name in _COPY_METHODS:
                if callable(vars(klass).get(name)):
                    _patch(klass, name, _copy)


def _patch(cls: type, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = vars(cls)[name]
    if getattr(original, _MARK, False):
        return
    wrapper = functools.wraps(original)(make(original))
    setattr(wrapper, _MARK, True)
    setattr(cls, name, wrapper)
    _installed.append((cls, name, original))


# -- the wrappers -------------------------------------------------------------------------------------


def _sync_request(original: Callable[..., Any]) -> Callable[..., Any]:
    def request(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not (_watching[0] and (_everything[0] or id(self) in _chosen or current_scope.get() is not None)):
            return original(self, *args, **kwargs)
        return run_sync(original, self, args, kwargs)

    return request


def _async_request(original: Callable[..., Any]) -> Callable[..., Any]:
    async def request(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not (_watching[0] and (_everything[0] or id(self) in _chosen or current_scope.get() is not None)):
            return await original(self, *args, **kwargs)
        return await run_async(original, self, args, kwargs)

    return request


def _sync_attempt(original: Callable[..., Any]) -> Callable[..., Any]:
    def _attempt_request(self: Any, *args: Any, **kwargs: Any) -> Any:
        current = current_api_call.get()
        if current is None:
            return original(self, *args, **kwargs)
        call = attempt_of(self, kwargs, current)
        if call is None:
            return original(self, *args, **kwargs)
        result = original(self, *args, **kwargs)
        attempt_ended(call, result)
        return result

    return _attempt_request


def _async_attempt(original: Callable[..., Any]) -> Callable[..., Any]:
    async def _attempt_request(self: Any, *args: Any, **kwargs: Any) -> Any:
        current = current_api_call.get()
        if current is None:
            return await original(self, *args, **kwargs)
        call = attempt_of(self, kwargs, current)
        if call is None:
            return await original(self, *args, **kwargs)
        result = await original(self, *args, **kwargs)
        attempt_ended(call, result)
        return result

    return _attempt_request


def _copy(original: Callable[..., Any]) -> Callable[..., Any]:
    def copy(self: Any, *args: Any, **kwargs: Any) -> Any:
        derived = original(self, *args, **kwargs)
        if _targets.is_chosen(self) and derived is not self:
            _targets.choose(derived)
        return derived

    return copy
