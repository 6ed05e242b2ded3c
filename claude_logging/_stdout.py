"""File descriptor 1: where the stdout output's lines land, written so that none is ever cut.

Lines go out in writes of whole lines of at most `PIPE_BUF` bytes (4,096 on Linux), each written
only once `poll()` says the descriptor can take it: POSIX makes such a write to a pipe atomic, so
a process that dies, is killed or leaves by `os._exit` at any instant has written each line
entirely or not at all, and no write of ours waits on a stalled reader. A line longer than
`PIPE_BUF` is written on its own. Writing to the descriptor, not through `sys.stdout`'s buffer,
keeps the interpreter's own stdout lock out of our way.
"""

from __future__ import annotations

import array
import os
import select
import stat
import sys
import time
from typing import IO, Final

from claude_logging import _stats

PIPE_BUF: Final = getattr(select, "PIPE_BUF", 512)
"""The largest write a pipe takes atomically (POSIX guarantees at least 512)."""

_poll_flags: Final = getattr(select, "POLLOUT", 0)
_appending_checked = False


def target() -> int | IO[str]:
    """The descriptor behind `sys.stdout`, or the object itself when it has none (a test's capture).

    A Celery worker replaces `sys.stdout` with a proxy that turns each write into a WARNING log
    record (`worker_redirect_stdouts`): our lines would come out prefixed, or filtered out by the
    log level. There the process's own stdout is used, where the log agent reads JSON lines.
    Raises `ValueError` when there is no stdout (`sys.stdout` is None or closed).
    """
    stream = sys.stdout
    if stream is None:
        raise ValueError("sys.stdout is None")
    try:
        return stream.fileno()
    except (OSError, ValueError, AttributeError):
        if getattr(stream, "closed", False):
            raise ValueError("sys.stdout is closed") from None
        if _reroutes_to_logging(stream) and sys.__stdout__ is not None:
            return sys.__stdout__.fileno()
        return stream


def _reroutes_to_logging(stream: object) -> bool:
    """Whether `stream` is Celery's `LoggingProxy` (stdout redirected into the worker's log)."""
    kind = type(stream)
    return kind.__name__ == "LoggingProxy" and kind.__module__.startswith("celery.")


def writable(where: int | IO[str], timeout_s: float, size: int = 0) -> bool:
    """Whether writing `size` bytes to `where` would not wait, waiting up to `timeout_s` to see.

    Up to `PIPE_BUF` bytes, `poll()` answers. A longer line is written only into a pipe with room
    for all of it, so that it is never left half written (where the room is known: Linux).
    An error condition (a closed reader) counts as writable: the write then fails and is counted.
    """
    if not isinstance(where, int) or not _poll_flags:
        return True
    poller = select.poll()
    poller.register(where, _poll_flags)
    try:
        if not poller.poll(max(0, int(timeout_s * 1000))):
            return False
    except InterruptedError:
        return False
    if size <= PIPE_BUF:
        return True
    room = _pipe_room(where)
    # Room for the line plus slack for the pipe's partly filled pages; a line the pipe cannot
    # hold at all waits for an empty pipe.
    if room is None or room[0] >= min(size + 2 * PIPE_BUF, room[1]):
        return True
    time.sleep(min(timeout_s, 0.005))
    return False


def _pipe_room(fd: int) -> tuple[int, int] | None:
    """(free bytes, capacity) of the pipe behind `fd`, or None when not a pipe or not known."""
    try:
        import fcntl  # noqa: PLC0415 - POSIX only
        import termios  # noqa: PLC0415

        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return None
        unread = array.array("i", [0])
        fcntl.ioctl(fd, termios.FIONREAD, unread, True)  # noqa: FBT003 - the stdlib's signature
        capacity = int(fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ))
    except (OSError, ImportError, AttributeError, ValueError):
        return None
    return capacity - unread[0], capacity


def write(where: int | IO[str], data: bytes) -> None:
    """Write all of `data`; raise `OSError` or `ValueError` when stdout refuses it."""
    if not isinstance(where, int):
        where.write(data.decode("utf-8"))
        where.flush()
        return
    _warn_if_not_appending(where)
    view = memoryview(data)
    while view:
        written = os.write(where, view)
        view = view[written:]


def _warn_if_not_appending(fd: int) -> None:
    """Once per process: a regular file opened without O_APPEND (`>`, not `>>`) is cut badly.

    Truncating such a file in place (logrotate's `copytruncate`) leaves the writer at its old
    offset, so the file fills with NUL bytes up to there: true of any writer, worth a warning.
    """
    global _appending_checked  # noqa: PLW0603 - checked once per process
    if _appending_checked:
        return
    _appending_checked = True
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        import fcntl  # noqa: PLC0415 - POSIX only, and only needed once

        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND:
            return
    except (OSError, ImportError, ValueError):
        return
    _stats.warn_once(
        "stdout_not_append",
        "claude_logging: stdout is a regular file opened without O_APPEND (redirected with '>' "
        "rather than '>>'); if it is truncated in place (logrotate copytruncate) it fills with NUL "
        "bytes. Redirect with '>>' or rotate by renaming.",
    )
