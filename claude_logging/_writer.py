"""The stdout writer: each line written at once when stdout takes it, else queued for a thread.

The caller writes its own line when nothing is queued and stdout can take it without waiting
(`_stdout.writable`): the event is on stdout before the call returns, so an exit of any kind
(`os._exit`, a signal's default action, a forked child's end) loses nothing while stdout keeps
up. Otherwise the line goes to a bounded deque (G4: never blocks beyond a lock held for an
append) and one daemon thread writes it as soon as stdout accepts it: past the buffer's capacity
the oldest lines are dropped and counted, the count is reported once on stderr and as
`dropped_events` in the next line written.

Whoever holds `_write_lock` writes the head of the queue, so the thread, `flush()`, the exit drain
and a signal drain share one path (`_drain`), each within its own deadline; the last three also
wait out a chunk another holder is still writing (`_settle`) before they answer. The exit drain runs
in the exiting thread; after it, lines are written synchronously or counted. The same thread
runs finalisers handed over from `__del__` (abandoned streams), which must not take locks in the
garbage collector's context. The thread starts on first use and is re-created in a forked child.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import TYPE_CHECKING, Any, Final

from claude_logging import _guard, _render, _stdout

if TYPE_CHECKING:
    from collections.abc import Callable

    from claude_logging._config import Settings

_IDLE_WAIT_S: Final = 0.25
"""How often an idle thread looks for finalisers handed over without a wake-up."""
_POLL_S: Final = 0.25
_LOCK_WAIT_S: Final = 0.005
"""How long a caller waits for another thread's write (one atomic write) before queueing."""
_LATE_WAIT_S: Final = 0.1
"""After the exit drain: how long a late event may wait for stdout before it is counted."""


class Worker:
    """One per process: a bounded line buffer, a queue of deferred finalisers, one thread."""

    def __init__(self) -> None:
        """Create an idle worker; its thread starts on first use."""
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._writer_ident: int | None = None
        self._wake = threading.Event()
        self._lines: collections.deque[str] = collections.deque()
        self._tasks: collections.deque[Callable[[], None]] = collections.deque()
        self._thread: threading.Thread | None = None
        self._unreported_drops = 0
        self._running_tasks = 0
        self._closed = False
        self._stalled_at_exit = False
        self.capacity = 10_000
        self.blocking = False

    # -- called from application threads ------------------------------------------------------

    def write(self, line: str) -> None:
        """Write one line (without its newline) now if stdout takes it, else queue it."""
        if not self._lines and not self.blocking and self._write_now(line):
            self._ensure_thread()
            return
        self._enqueue(line)
        if self.blocking:
            self._drain(None)
        elif self._closed:
            # After the exit drain nothing else will write: do it here, or count it.
            if self._stalled_at_exit or not self._drain(time.monotonic() + _LATE_WAIT_S):
                self._drop_queued("shutdown")
        elif self._ensure_thread():
            self._wake.set()
        else:
            # No thread can start (interpreter shutdown): write in the caller's thread.
            self._drain(time.monotonic() + _LATE_WAIT_S)

    def defer(self, task: Callable[[], None]) -> None:
        """Run `task` on the worker thread soon. Safe from `__del__`: takes no lock."""
        self._tasks.append(task)
        # No wake-up here: setting the event takes a lock. The worker polls while tasks wait.

    def queued(self) -> int:
        """Lines waiting to be written."""
        return len(self._lines)

    def flush(self, timeout: float) -> bool:
        """Run deferred tasks and write every queued line here; False if `timeout` ran out first."""
        self._run_tasks()
        deadline = time.monotonic() + timeout
        while self._running_tasks and time.monotonic() < deadline:
            time.sleep(0.001)  # a finaliser the thread is running emits its event: wait for it
        return self._settle(deadline)

    def close(self, timeout: float) -> bool:
        """The exit drain, in the exiting thread: write what is queued within `timeout`, count the rest.

        Afterwards every line is written in its caller's thread or counted (`shutdown`).
        """
        self._closed = True
        self._run_tasks()
        deadline = time.monotonic() + timeout
        if self._settle(deadline):
            return True
        self._stalled_at_exit = True
        left = self._drop_queued("shutdown")
        _guard.warn_once(
            "shutdown",
            "claude_logging: stdout did not accept %d queued events within %.1fs at exit; dropped.",
            left,
            timeout,
        )
        return False

    def _settle(self, deadline: float) -> bool:
        """Write the queued lines, then wait for a chunk another thread is writing; True when all are out.

        The queue can be empty while the writer thread still holds the lines it took: a `flush()`
        that answered then would let `os._exit` lose them uncounted, and at exit the interpreter
        would stop that daemon thread before it writes them. Called from a signal handler that
        interrupted this thread's own write, it cannot wait for that write: False at once.
        """
        if self._writer_ident == threading.get_ident():
            return False
        while self._write_lock.acquire(timeout=max(deadline - time.monotonic(), 0.0)):
            self._write_lock.release()
            if not self._lines:
                return True
            if not self._drain(deadline):
                return False
        return False

    def drain_in_signal_handler(self, timeout: float) -> int:
        """Write what is queued within `timeout` from a signal handler; return how many lines are left.

        Waits too for a chunk the writer thread is writing, which the signal's default action would
        cut. The interrupted code may hold the write lock: then nothing is written here.
        """
        self._settle(time.monotonic() + timeout)
        return len(self._lines)

    def drop_queued(self, reason: str) -> int:
        """Count every queued line as dropped for `reason` and forget it; return how many."""
        return self._drop_queued(reason)

    # -- writing --------------------------------------------------------------------------------

    def _write_now(self, line: str) -> bool:
        """Write `line` in the caller's thread if stdout takes it without waiting; True if handled."""
        if not (self._write_lock.acquire(blocking=False) or self._write_lock.acquire(timeout=_LOCK_WAIT_S)):
            return False
        self._writer_ident = threading.get_ident()
        try:
            if self._lines:
                return False  # queued lines go first
            try:
                where = _stdout.target()
            except ValueError as exc:
                self._sink_failed(1, exc)
                return True
            data = (line + "\n").encode("utf-8", "replace")
            if len(data) > _stdout.PIPE_BUF or not _stdout.writable(where, 0):
                return False  # the thread writes it once stdout takes it
            if self._unreported_drops:
                with self._lock:
                    drops, self._unreported_drops = self._unreported_drops, 0
                data = (_with_drop_count(line, drops) + "\n").encode("utf-8", "replace")
            self._emit(where, data, 1)
            return True
        finally:
            self._writer_ident = None
            self._write_lock.release()

    def _enqueue(self, line: str) -> None:
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

    def _drain(self, deadline: float | None) -> bool:
        """Write queued lines until none is left (True) or `deadline` (monotonic) passes (False)."""
        while self._lines:
            wait = _POLL_S if deadline is None else min(_POLL_S, deadline - time.monotonic())
            if wait < 0:
                return False
            try:
                where = _stdout.target()
            except ValueError as exc:
                taken = self._take_chunk()
                if taken is not None:
                    self._sink_failed(taken[1], exc)
                continue
            if not _stdout.writable(where, wait, _next_size(self._lines)):
                continue
            if not self._write_lock.acquire(timeout=max(wait, 0.0)):
                continue
            self._writer_ident = threading.get_ident()
            try:
                taken = self._take_chunk()
                if taken is not None:
                    self._emit(where, *taken)
            finally:
                self._writer_ident = None
                self._write_lock.release()
        return True

    def _take_chunk(self) -> tuple[bytes, int] | None:
        """Take the longest run of whole queued lines that fits one atomic write: (bytes, lines)."""
        with self._lock:
            lines = self._lines
            if not lines:
                return None
            drops, self._unreported_drops = self._unreported_drops, 0
            first = lines.popleft()
            chunk = [(_with_drop_count(first, drops) if drops else first).encode("utf-8", "replace")]
            size = len(chunk[0]) + 1
            while lines:
                data = lines[0].encode("utf-8", "replace")
                if size + len(data) + 1 > _stdout.PIPE_BUF:
                    break
                lines.popleft()
                chunk.append(data)
                size += len(data) + 1
        return b"\n".join(chunk) + b"\n", len(chunk)

    def _emit(self, where: Any, data: bytes, n: int) -> None:
        try:
            _write_stdout(where, data)
        except (OSError, ValueError, AttributeError) as exc:
            self._sink_failed(n, exc)
            return
        except Exception as exc:
            # Whatever broke, these lines are gone: count them, and keep the writer alive.
            self._sink_failed(n, exc, warn=False)
            _guard.internal_error("writer.sink", exc, raise_in_strict=False)
            return
        _guard.count("emitted", n)

    def _sink_failed(self, n: int, exc: BaseException, *, warn: bool = True) -> None:
        _guard.count_drop("sink_error", n)
        with self._lock:
            self._unreported_drops += n
        if warn:
            _guard.warn_once(
                "sink_error",
                "claude_logging: cannot write to stdout (%s); events are counted as dropped "
                "(claude_logging.stats()) and the application is unaffected.",
                type(exc).__name__,
            )

    def _drop_queued(self, reason: str) -> int:
        with self._lock:
            left = len(self._lines)
            self._lines.clear()
        if left:
            _guard.count_drop(reason, left)
        return left

    # -- the worker thread ----------------------------------------------------------------------

    def _ensure_thread(self) -> bool:
        """Start the thread unless it runs; False when no thread can be started (shutdown)."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            return True
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return True
            thread = threading.Thread(target=self._run, name="claude_logging-writer", daemon=True)
            try:
                thread.start()
            except RuntimeError:
                return False
            self._thread = thread
        return True

    def _run(self) -> None:
        while True:
            try:
                if not self._lines and not self._tasks:
                    self._wake.wait(_IDLE_WAIT_S)
                self._wake.clear()
                self._run_tasks()
                self._drain(None)
            except BaseException as exc:
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
            with self._lock:
                self._running_tasks += 1
            try:
                task()
            except Exception as exc:
                _guard.internal_error("finaliser", exc, raise_in_strict=False)
            finally:
                with self._lock:
                    self._running_tasks -= 1

    def after_fork_in_child(self) -> None:
        """Forget the parent's queue and thread; re-create the locks (another thread may hold them)."""
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._writer_ident = None
        self._wake = threading.Event()
        self._lines = collections.deque()
        self._tasks = collections.deque()
        self._thread = None
        self._unreported_drops = 0
        self._running_tasks = 0
        self._closed = False
        self._stalled_at_exit = False


def _next_size(lines: collections.deque[str]) -> int:
    """The size of the next write if it is one line longer than an atomic write (lines are ASCII)."""
    try:
        return len(lines[0]) + 1
    except IndexError:
        return 0


def _with_drop_count(line: str, drops: int) -> str:
    if line.endswith("}"):
        return f'{line[:-1]},"dropped_events":{drops}}}'
    return line


def _write_stdout(where: Any, data: bytes) -> None:
    """The sink: one write of whole lines (a seam for tests that make stdout fail)."""
    _stdout.write(where, data)


WORKER: Final = Worker()


class StdoutOutput:
    """One JSON line per event on stdout (the default output)."""

    def __init__(self, settings: Settings) -> None:
        """Size the shared writer's buffer and choose blocking or dropping from `settings`."""
        self._max_bytes = settings.max_line_bytes
        WORKER.capacity = settings.buffer_size
        WORKER.blocking = settings.blocking

    def write(self, record: dict[str, Any]) -> None:
        """Write the line now, or queue it when stdout cannot take it at once."""
        WORKER.write(_render.encode_line(record, self._max_bytes))
