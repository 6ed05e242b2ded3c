"""The one place where our own failures are caught, counted and reported.

Telemetry must never raise into the application at run time (OpenTelemetry's error-handling
principle). Every step of ours (capture, render, write) calls `internal_error()` on failure and
falls back to doing less. Each distinct failure is reported once on stderr through the stdlib
logger `claude_logging.internal`; after that it is only counted. In strict mode
(`CLAUDE_LOGGING_STRICT=1` or `configure(strict=True)`) the error is raised instead, so our own
tests fail on our own bugs.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Final

from claude_logging import _config

_log: Final = logging.getLogger("claude_logging.internal")

_lock = threading.Lock()
_counts: dict[str, int] = {
    "emitted": 0,
    "dropped": 0,
    "internal_errors": 0,
    "truncated_fields": 0,
}
_reported: set[str] = set()
_pending_strict: list[BaseException] = []


@dataclass(frozen=True, slots=True)
class Stats:
    """What the library has done in this process, for self-diagnostics.

    `emitted + dropped` equals the number of events finished; drops are counted by reason.
    """

    emitted: int
    dropped: int
    internal_errors: int
    truncated_fields: int
    dropped_by_reason: dict[str, int]
    queued: int


_drops_by_reason: dict[str, int] = {}


def count(name: str, n: int = 1) -> None:
    """Add `n` to the counter `name`."""
    with _lock:
        _counts[name] += n


def count_drop(reason: str, n: int = 1) -> None:
    """Count `n` events that will never be written, and why (`queue_full`, `sink_error`, ...)."""
    with _lock:
        _counts["dropped"] += n
        _drops_by_reason[reason] = _drops_by_reason.get(reason, 0) + n


def snapshot(queued: int = 0) -> Stats:
    """The counters as they are now."""
    with _lock:
        return Stats(
            emitted=_counts["emitted"],
            dropped=_counts["dropped"],
            internal_errors=_counts["internal_errors"],
            truncated_fields=_counts["truncated_fields"],
            dropped_by_reason=dict(_drops_by_reason),
            queued=queued,
        )


def warn_once(key: str, message: str, *args: object) -> None:
    """Log `message` at WARNING once per process for `key`; later calls are silent."""
    with _lock:
        if key in _reported:
            return
        _reported.add(key)
    try:
        _log.warning(message, *args)
    except Exception:
        pass


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
    with _lock:
        for key in _counts:
            _counts[key] = 0
        _drops_by_reason.clear()
        _reported.clear()
        _pending_strict.clear()


def after_fork_in_child() -> None:
    """Re-create the lock, which another thread may have held when the process forked."""
    global _lock  # noqa: PLW0603 - the lock must be replaced, not reset, in a forked child
    _lock = threading.Lock()
