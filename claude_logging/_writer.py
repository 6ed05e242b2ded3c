"""The background worker: writes stdout lines from a bounded buffer and finishes dropped streams.

The caller only appends a finished line to a bounded deque (G4: never blocks beyond a lock held
for an append). One daemon thread writes whole lines to file descriptor 1 with `os.write`, so a
stalled or closed pipe can only stall or fail this thread: past the buffer's capacity the oldest
lines are dropped and counted, the count is reported once on stderr and as `dropped_events` in the
next line written. Writing to the descriptor (not through `sys.stdout`'s buffer) keeps the
interpreter's own stdout lock free, so a stalled pipe cannot hang the application's shutdown.

The same thread runs finalisers handed over from `__del__` (abandoned streams), which must not
take locks in the garbage collector's context. The thread starts on first use, survives any
error, is re-created in a forked child, and is drained at exit within `flush_timeout_s`.
"""

from __future__ import annotations

import atexit
import collections
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Final

from claude_logging import _guard

if TYPE_CHECKING:
    from collections.abc import Callable

_IDLE_WAIT_S: Final = 0.25
_GATHER_S: Final = 0.02
"""Once woken, the writer waits this long for more lines (unless flushed or a batch is full): one
wake-up and one write per batch instead of per event, where each wake-up costs the application
a GIL hand-over. Lines reach stdout at most this much later."""
_BATCH_LINES: Final = 512


class Worker:
    """One per process: a bounded line buffer, a queue of deferred finalisers, one thread."""

    def __init__(self) -> None:
        """Create an idle worker; its thread starts on first use."""
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._lines: collections.deque[str] = collections.deque()
        self._tasks: collections.deque[Callable[[], None]] = collections.deque()
        self._thread: threading.Thread | None = None
        self._idle = True
        self._busy = False
        self._unreported_drops = 0
        self.capacity = 10_000
        self.blocking = False

    # -- called from application threads ------------------------------------------------------

    def write(self, line: str) -> None:
        """Queue one line (without its newline) for stdout; drop the oldest when full."""
        if self.blocking:
            self._write_now(line)
            return
        with self._lock:
            lines = self._lines
            if len(lines) >= self.capacity:
                lines.popleft()
                self._unreported_drops += 1
                _guard.count_drop("queue_full")
                _guard.warn_once(
                    "queue_full",
                    "claude_logging: stdout is not keeping up; the oldest buffered events are being "
                    "dropped (buffer_size=%d). The count appears as dropped_events in the next line.",
                    self.capacity,
                )
            lines.append(line)
            full = len(lines) >= _BATCH_LINES
        self._ensure_thread()
        if self._idle or full:
            self._wake.set()

    def defer(self, task: Callable[[], None]) -> None:
        """Run `task` on the worker thread soon. Safe from `__del__`: takes no lock."""
        self._tasks.append(task)
        # No wake-up here: setting the event takes a lock. The worker polls while tasks wait.

    def queued(self) -> int:
        """Lines waiting to be written."""
        return len(self._lines)

    def flush(self, timeout: float) -> bool:
        """Run deferred tasks and write every queued line; False if `timeout` ran out first."""
        self._run_tasks()
        if self.blocking:
            return True
        deadline = time.monotonic() + timeout
        self._ensure_thread()
        while self._lines or self._busy:
            self._wake.set()
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.001)
        return True

    # -- the worker thread ----------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="claude_logging-writer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                self._idle = True
                if not self._lines:
                    self._wake.wait(_IDLE_WAIT_S)
                self._wake.clear()
                self._idle = False
                if self._lines and self._wake.wait(_GATHER_S):
                    self._wake.clear()  # flushed, or a full batch: write now
                self._run_tasks()
                self._drain()
            except BaseException as exc:
                self._busy = False
                if isinstance(exc, SystemExit):
                    return
                try:
                    _guard.internal_error("writer", exc, raise_in_strict=False)
                except BaseException:
                    pass
                time.sleep(0.01)

    def _run_tasks(self) -> None:
        tasks = self._tasks
        while tasks:
            try:
                task = tasks.popleft()
            except IndexError:
                return
            try:
                task()
            except Exception as exc:
                _guard.internal_error("finaliser", exc, raise_in_strict=False)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._lines:
                    return
                self._busy = True
                batch = [self._lines.popleft() for _ in range(min(len(self._lines), _BATCH_LINES))]
                drops, self._unreported_drops = self._unreported_drops, 0
            try:
                if drops:
                    batch[0] = _with_drop_count(batch[0], drops)
                self._emit_batch(batch)
            except Exception as exc:
                # Whatever broke, these lines are gone: count them, and keep the worker alive.
                _guard.count_drop("sink_error", len(batch))
                with self._lock:
                    self._unreported_drops += len(batch)
                _guard.internal_error("writer.sink", exc, raise_in_strict=False)
            finally:
                self._busy = False

    def _emit_batch(self, batch: list[str]) -> None:
        data = ("\n".join(batch) + "\n").encode("utf-8", "replace")
        try:
            _write_stdout(data)
        except (OSError, ValueError, AttributeError) as exc:
            _guard.count_drop("sink_error", len(batch))
            with self._lock:
                self._unreported_drops += len(batch)
            _guard.warn_once(
                "sink_error",
                "claude_logging: cannot write to stdout (%s); events are counted as dropped "
                "(claude_logging.stats()) and the application is unaffected.",
                type(exc).__name__,
            )
            return
        _guard.count("emitted", len(batch))

    def _write_now(self, line: str) -> None:
        """Blocking mode: write in the caller's thread, waiting for the pipe (back-pressure)."""
        with self._lock:
            self._run_tasks()
            drops, self._unreported_drops = self._unreported_drops, 0
            self._emit_batch([_with_drop_count(line, drops) if drops else line])

    def after_fork_in_child(self) -> None:
        """Forget the parent's queue and thread; re-create the locks (another thread may hold them)."""
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._lines = collections.deque()
        self._tasks = collections.deque()
        self._thread = None
        self._idle = True
        self._busy = False
        self._unreported_drops = 0


def _with_drop_count(line: str, drops: int) -> str:
    if line.endswith("}"):
        return f'{line[:-1]},"dropped_events":{drops}}}'
    return line


def _write_stdout(data: bytes) -> None:
    """Write all of `data` to the process's current stdout; raise OSError/ValueError on failure."""
    stream = sys.stdout
    if stream is None:
        raise ValueError("sys.stdout is None")
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        # Not backed by a file descriptor (io.StringIO, a test's capture): write through the object.
        stream.write(data.decode("utf-8"))
        stream.flush()
        return
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


WORKER: Final = Worker()


def _at_exit() -> None:
    # Registered after `logging` is imported, so it runs before logging.shutdown().
    from claude_logging import _config  # noqa: PLC0415 - avoid an import cycle at module load

    try:
        timeout = _config.current().flush_timeout_s
        if not WORKER.flush(timeout):
            left = WORKER.queued()
            _guard.count_drop("shutdown", left)
            _guard.warn_once(
                "shutdown",
                "claude_logging: stdout did not accept %d queued events within %.1fs at exit; dropped.",
                left,
                timeout,
            )
    except Exception:
        pass


atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=WORKER.after_fork_in_child)
