"""Self-diagnostics: the counters behind `stats()`, and warnings shown once per process.

Kept apart from `_guard` (which reads the settings to decide on strict mode) so that every module,
the settings module included, can count and warn without importing the settings.

The lock is re-entrant: a signal handler (`_lifecycle`'s SIGTERM drain) runs in the main thread
between two bytecodes and may count while the code it interrupted is inside a counter update; a
plain lock would deadlock there, a re-entrant one lets the handler through.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Final

_log: Final = logging.getLogger("claude_logging.internal")

_lock = threading.RLock()
_counts: dict[str, int] = {
    "emitted": 0,
    "dropped": 0,
    "internal_errors": 0,
    "truncated_fields": 0,
}
_drops_by_reason: dict[str, int] = {}
_reported: set[str] = set()


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


def reset() -> None:
    """Zero the counters and forget what was reported (tests; a forked child starts from here)."""
    with _lock:
        for key in _counts:
            _counts[key] = 0
        _drops_by_reason.clear()
        _reported.clear()


def after_fork_in_child() -> None:
    """A forked child counts only its own events, and warns on its own.

    The lock is replaced, not reset: another thread may have held the parent's at the fork.
    """
    global _lock  # noqa: PLW0603 - the lock must be replaced, not reset, in a forked child
    _lock = threading.RLock()
    reset()
