"""Which SDK calls are observed: every client, the clients passed to `instrument()`, or any in a scope.

The SDK seams (`_seams.py`) read this on every call (everything? this client chosen? a scope
open?), so it must cost next to nothing when the answer is no. Nothing is stored on the clients
themselves: chosen clients are kept here by `id()`, each forgotten when its client is collected.
"""

from __future__ import annotations

import weakref
from typing import Final

watching: list[bool] = [False]
"""`[True]` once anything may be observed (`instrument()`, a chosen client, a `log_call` scope opened):
until then the seams' check is this one read. Set back only by `reset()`."""

everything: list[bool] = [False]
"""`[True]` after `instrument()` with no client: every client of every SDK class is observed."""

chosen: Final[set[int]] = set()
"""`id()` of each client passed to `instrument(client)` (or derived from one), while it lives."""

_finalizers: dict[int, weakref.finalize[..., object]] = {}


def choose(client: object) -> None:
    """Observe every call of `client` (idempotent), until `forget(client)` or its collection."""
    key = id(client)
    if key in chosen:
        return
    chosen.add(key)
    watching[0] = True
    finalizer = weakref.finalize(client, _forget_id, key)
    # Not at exit: `weakref` runs live finalizers from its own `atexit` hook, which would stop
    # observing the client while daemon threads and later `atexit` handlers still call it.
    finalizer.atexit = False
    _finalizers[key] = finalizer


def forget(client: object) -> None:
    """Stop observing `client` for its own sake (a scope or `instrument()` may still observe it)."""
    finalizer = _finalizers.pop(id(client), None)
    if finalizer is not None:
        finalizer.detach()
    chosen.discard(id(client))


def is_chosen(client: object) -> bool:
    """Whether `client` was passed to `instrument(client)` (or derived from one)."""
    return id(client) in chosen


def observe_everything(on: bool) -> None:
    """Observe every client of the process (`instrument()`), or stop (`uninstrument()`)."""
    everything[0] = on
    if on:
        watching[0] = True


def scope_opened() -> None:
    """A `log_call` scope opened: the seams must look for scopes from now on."""
    watching[0] = True


def _forget_id(key: int) -> None:
    chosen.discard(key)
    _finalizers.pop(key, None)


def reset() -> None:
    """Observe nothing outside scopes again (tests: a fresh process's state)."""
    everything[0] = False
    watching[0] = False
    for finalizer in _finalizers.values():
        finalizer.detach()
    _finalizers.clear()
    chosen.clear()
