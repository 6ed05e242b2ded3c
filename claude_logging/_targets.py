"""Which SDK calls are observed: every client, the clients passed to `instrument()`, or any in a scope.

The SDK seams (`_seams.py`) ask `observed(client)` on every call; it must cost next to nothing
when the answer is no. Nothing is stored on the clients themselves: chosen clients are kept here
by `id()`, each forgotten when its client is collected.
"""

from __future__ import annotations

import weakref
from typing import Final

from claude_logging._calls import current_scope

everything: list[bool] = [False]
"""`[True]` after `instrument()` with no client: every client of every SDK class is observed."""

chosen: Final[set[int]] = set()
"""`id()` of each client passed to `instrument(client)` (or derived from one), while it lives."""

_finalizers: dict[int, weakref.finalize[..., object]] = {}


def observed(client: object) -> bool:
    """Whether a call made through `client` now is to be logged."""
    return everything[0] or id(client) in chosen or current_scope.get() is not None


def choose(client: object) -> None:
    """Observe every call of `client` (idempotent), until `forget(client)` or its collection."""
    key = id(client)
    if key in chosen:
        return
    chosen.add(key)
    _finalizers[key] = weakref.finalize(client, _forget_id, key)


def forget(client: object) -> None:
    """Stop observing `client` for its own sake (a scope or `instrument()` may still observe it)."""
    finalizer = _finalizers.pop(id(client), None)
    if finalizer is not None:
        finalizer.detach()
    chosen.discard(id(client))


def is_chosen(client: object) -> bool:
    """Whether `client` was passed to `instrument(client)` (or derived from one)."""
    return id(client) in chosen


def _forget_id(key: int) -> None:
    chosen.discard(key)
    _finalizers.pop(key, None)


def reset() -> None:
    """Observe nothing outside scopes again (tests: a fresh process's state)."""
    everything[0] = False
    for finalizer in _finalizers.values():
        finalizer.detach()
    _finalizers.clear()
    chosen.clear()
