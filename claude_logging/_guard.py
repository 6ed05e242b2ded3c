"""The one place where our own failures are caught, counted and reported.

Telemetry must never raise into the application at run time (OpenTelemetry's error-handling
principle). Every step of ours (capture, render, write) calls `internal_error()` on failure and
falls back to doing less. Each distinct failure is reported once on stderr through the stdlib
logger `claude_logging.internal`; after that it is only counted. In strict mode
(`CLAUDE_LOGGING_STRICT=1` or `configure(strict=True)`) the error is raised instead, so our own
tests fail on our own bugs.
"""

from __future__ import annotations

import threading

from claude_logging import _config, _stats
from claude_logging._stats import Stats, count, count_drop, snapshot, warn_once

__all__ = [
    "Stats",
    "after_fork_in_child",
    "count",
    "count_drop",
    "internal_error",
    "raise_pending",
    "reset",
    "snapshot",
    "warn_once",
]

_lock = threading.Lock()
_pending_strict: list[BaseException] = []


def internal_error(where: str, exc: BaseException, *, raise_in_strict: bool = True) -> None:
    """Record a failure of our own code at `where`; re-raise it in strict mode.

    Called from inside an `except` block. With `raise_in_strict=False` (background threads and
    finalisers, where raising would reach nobody) the error is kept and `flush()` raises it.
    """
    count("internal_errors")
    if _config.current().strict:
        if raise_in_strict:
            raise exc
        with _lock:
            _pending_strict.append(exc)
        return
    warn_once(
        f"internal:{where}:{type(exc).__name__}",
        "claude_logging: internal error in %s (%s: %.200s); the application is unaffected, "
        "the event is written with what could be captured. Further errors of this kind are only "
        "counted (claude_logging.stats()).",
        where,
        type(exc).__name__,
        str(exc),
    )


def raise_pending() -> None:
    """Raise the first error that a background step recorded in strict mode, if any."""
    with _lock:
        if not _pending_strict:
            return
        exc = _pending_strict[0]
        _pending_strict.clear()
    raise exc


def reset() -> None:
    """Zero the counters and forget what was reported (for tests)."""
    _stats.reset()
    with _lock:
        _pending_strict.clear()


def after_fork_in_child() -> None:
    """A forked child: new locks (another thread may have held them), and only its own counts."""
    global _lock  # noqa: PLW0603 - the lock must be replaced, not reset, in a forked child
    _lock = threading.Lock()
    _pending_strict.clear()
    _stats.after_fork_in_child()
