"""Small public functions that belong to no single concept: stats() and flush()."""

from __future__ import annotations

from typing import TYPE_CHECKING

from claude_logging import _config, _guard, _lifecycle
from claude_logging._writer import WORKER

if TYPE_CHECKING:
    from claude_logging._guard import Stats


_lifecycle.install()


def stats() -> Stats:
    """Counters of this process: events emitted, dropped (by reason), internal errors, queued lines."""
    return _guard.snapshot(queued=WORKER.queued())


def flush(timeout: float | None = None) -> bool:
    """Finish dropped streams and write every queued event; False if stdout did not take them in time.

    Useful before a process is frozen or forked (serverless, pre-fork servers); at exit it runs by
    itself. `timeout` defaults to `configure(flush_timeout_s=...)`.
    """
    limit = _config.current().flush_timeout_s if timeout is None else timeout
    done = WORKER.flush(limit)
    _guard.raise_pending()
    return done
