"""Delivery: no event lost in the ways Python applications are deployed (issue 10's table).

Each test runs a real application in a subprocess, bounded in time, and checks the guarantee on
what it wrote: every line on stdout is one strict JSON object (never half a line), and lines
written plus drops counted (`stats()`, reported at the very end by each process) equal the calls
finished. While stdout takes every write, nothing at all may be dropped. Calls whose lines are
longer than one atomic pipe write (`BIG`, captured content) always go through the writer's queue,
so they test the exit paths themselves rather than the write made in the caller's thread.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from delivery import (
    child_env,
    parse,
    read_in_background,
    record,
    run_script,
    run_script_read_slowly,
    start_script,
    stats_lines,
    write_script,
)

from claude_logging.testing import FakeAnthropicAPI, message

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="deployments of POSIX servers")

PROCESSES = """
import multiprocessing, multiprocessing.util
from concurrent.futures import ProcessPoolExecutor


def work(url, calls):
    report_at_child_exit(multiprocessing.util)
    client = make_client(url)
    for index in range(calls):
        call(client, big=index % 2 == 1)


def task(url, big=False):
    report_at_child_exit(multiprocessing.util)
    call(make_client(url), big=big)
    return os.getpid()


def get_context(method):
    # The start method's context; a forkserver preloads the heavy imports, as servers do.
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["anthropic", "claude_logging"])
    return context


def start_worker(blocking):
    if blocking:
        claude_logging.configure(blocking=True)
    report_at_child_exit(multiprocessing.util)
"""


def assert_every_call_written(run, calls: int) -> None:
    """The guarantee with a stdout that takes every write: all lines there, nothing dropped."""
    record(calls, len(run.events), run.dropped)
    assert run.dropped == 0, run.stderr
    assert len(run.events) == calls, run.stderr[-3000:]


# -- multiprocessing ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_process_children_leaving_by_os_exit_write_every_event(tmp_path: Path, method: str) -> None:
    """Rows 1-2: `Process` targets (fork, forkserver), half their lines queued: all 101 written.

    Each child also counts only its own twenty events (`stats()` after fork starts from zero).
    """
    run = run_script(
        tmp_path,
        PROCESSES
        + """
if __name__ == "__main__":
    context = get_context(os.environ["METHOD"])
    with FakeAnthropicAPI() as api:
        call(make_client(api.url))
        children = [context.Process(target=work, args=(api.url, 20)) for _ in range(5)]
        for child in children:
            child.start()
        for child in children:
            child.join(40)
        assert [child.exitcode for child in children] == [0] * 5
""",
        METHOD=method,
    )

    assert run.returncode == 0, run.stderr
    assert_every_call_written(run, 101)
    assert sorted(s["emitted"] for s in run.stats) == [1] + [20] * 5


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_with_pool_terminating_its_workers_loses_no_event(tmp_path: Path, method: str) -> None:
    """Row 3: `with Pool():` terminates (SIGTERMs) its workers on exit; 100 tasks + 1: all written."""
    run = run_script(
        tmp_path,
        PROCESSES
        + """
if __name__ == "__main__":
    context = get_context(os.environ["METHOD"])
    with FakeAnthropicAPI() as api:
        call(make_client(api.url))
        with context.Pool(4) as pool:
            pool.map(task, [api.url] * 100, chunksize=1)
""",
        METHOD=method,
    )

    record(101, len(run.events), run.dropped)
    assert run.returncode == 0, run.stderr
    assert len(run.events) == 101, run.stderr[-3000:]
    assert run.dropped == 0


def test_with_pool_and_blocking_workers_writes_long_lines_before_terminate(tmp_path: Path) -> None:
    """Row 3, lines over 4 KiB: `blocking=True` in the workers writes them before terminate's SIGTERM.

    stdout is read slowly, so lines wait. With `blocking=True` each is on stdout before its task
    returns its result, so nothing is queued when `with Pool():` terminates the workers.

    Not `handle_sigterm=True`: a Python SIGTERM handler in a Pool worker can stay pending for good.
    The worker waits for the task queue's lock, which `Pool.terminate()` takes and keeps; a signal
    that lands while the C library retries that wait is never handed to Python, so the worker never
    dies and `terminate()` joins it forever (CPython issue 82408; a plain handler without this
    library hangs `with Pool():` too, within 30 runs on 3.10, 3.12 and 3.13).
    """
    run = run_script_read_slowly(
        tmp_path,
        PROCESSES
        + """
if __name__ == "__main__":
    context = get_context("forkserver")
    with FakeAnthropicAPI() as api:
        call(make_client(api.url))
        with context.Pool(4, initializer=start_worker, initargs=(True,)) as pool:
            pool.starmap(task, [(api.url, True)] * 40, chunksize=1)
""",
        pause_s=0.2,  # slower than the workers write: without blocking=True, 13 to 16 lines are lost
    )

    record(41, len(run.events), run.dropped)
    assert run.returncode == 0, run.stderr
    assert len(run.events) + run.dropped == 41, run.stderr[-3000:]
    assert len(run.events) == 41


@pytest.mark.parametrize(
    ("method", "pool"),
    [("fork", "Pool"), ("forkserver", "Pool"), ("fork", "Executor"), ("forkserver", "Executor")],
)
def test_pool_close_join_and_process_pool_executor_write_every_event(
    tmp_path: Path, method: str, pool: str
) -> None:
    """Row 4: `Pool` close + join and `ProcessPoolExecutor`, half the lines queued: all written."""
    run = run_script(
        tmp_path,
        PROCESSES
        + """
if __name__ == "__main__":
    context = get_context(os.environ["METHOD"])
    with FakeAnthropicAPI() as api:
        call(make_client(api.url))
        jobs = [(api.url, index % 2 == 1) for index in range(100)]
        if os.environ["POOL"] == "Pool":
            pool = context.Pool(4, initializer=start_worker, initargs=(False,))
            pool.starmap(task, jobs, chunksize=1)
            pool.close()
            pool.join()
        else:
            with ProcessPoolExecutor(4, mp_context=context, initializer=start_worker,
                                     initargs=(False,)) as executor:
                list(executor.map(task, *zip(*jobs)))
""",
        METHOD=method,
        POOL=pool,
    )

    assert run.returncode == 0, run.stderr
    assert_every_call_written(run, 101)
    assert sum(s["emitted"] for s in run.stats) == 101  # each worker counted only its own


BILLIARD = """
import signal

import billiard.util
from billiard.pool import Pool


def task(url, big=False):
    # `with Pool():` SIGTERMs its workers; one that lands inside at_worker_exit ends it by
    # SystemExit, and billiard then runs its finalisers (the library's drain first): report there.
    report_at_child_exit(billiard.util)
    call(make_client(url), big=big)
    return os.getpid()


def at_worker_exit(pid, exitcode):
    # billiard's pool workers leave by os._exit from inside their loop, skipping every finaliser:
    # the documented recipe, `on_process_exit` calling flush().
    if os.environ["ENDING"] == "terminated-in-exit-hook":
        os.kill(os.getpid(), signal.SIGTERM)  # where `with Pool():`'s terminate() can land
    claude_logging.flush()
    _report_stats()
"""


@pytest.mark.parametrize("ending", ["close-join", "with-terminate", "terminated-in-exit-hook"])
def test_billiard_pool_with_the_documented_exit_hook_writes_every_event(tmp_path: Path, ending: str) -> None:
    """A plain billiard `Pool` (Celery's process package, without Celery), half the lines queued.

    `terminated-in-exit-hook`: each worker gets SIGTERM inside its exit hook, before `flush()`, as
    `with Pool():` can deliver it. billiard's handler raises SystemExit there and its bootstrap then
    runs its finalisers, the library's drain among them: still every line written.
    """
    pytest.importorskip("billiard")
    run = run_script(
        tmp_path,
        BILLIARD
        + """
if __name__ == "__main__":
    with FakeAnthropicAPI() as api:
        call(make_client(api.url))
        jobs = [(api.url, index % 2 == 1) for index in range(100)]
        if os.environ["ENDING"] != "with-terminate":
            pool = Pool(4, on_process_exit=at_worker_exit)
            pool.starmap(task, jobs, chunksize=1)
            pool.close()
            pool.join()
        else:
            with Pool(4, on_process_exit=at_worker_exit) as pool:
                pool.starmap(task, jobs, chunksize=1)
""",
        ENDING=ending,
    )

    assert run.returncode == 0, run.stderr
    assert_every_call_written(run, 101)
    assert sum(s["emitted"] for s in run.stats) == 101, run.stderr  # each worker counted only its own


# -- signals and abrupt exits ------------------------------------------------------------------

SIGNALLED = """
import time
client = claude_logging.instrument(FakeAnthropicAPI().client(max_retries=0))
big = os.environ.get("BIG") == "1"
if os.environ.get("HANDLE") == "1":
    claude_logging.configure(handle_sigterm=True)
for index in range(100):
    call(client, big=big)
os.write(2, b"READY\\n")
time.sleep(30)
"""


def run_until_signalled(directory: Path, body: str, sig: int, **env: str) -> tuple[int, bytes, str]:
    """Start the script, send `sig` once it prints READY on stderr; its exit code, stdout, stderr."""
    with start_script(directory, body, **env) as child:
        assert child.stderr is not None
        assert child.stdout is not None
        stdout = read_in_background(child.stdout)
        try:
            line = child.stderr.readline()
            assert line == b"READY\n", line + child.stderr.read()
            child.send_signal(sig)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(10)
            written = stdout()
        stderr = child.stderr.read().decode()
    return child.returncode, written, stderr


def test_sigterm_with_the_default_handler_right_after_calls_loses_nothing(tmp_path: Path) -> None:
    """Row 5: SIGTERM (default action) right after 100 calls: 100 lines, killed by the signal."""
    code, stdout, stderr = run_until_signalled(tmp_path, SIGNALLED, signal.SIGTERM)
    record(100, len(parse(stdout)), 0)  # killed by the signal: nothing can count, nothing may drop

    assert code == -signal.SIGTERM, stderr
    assert len(parse(stdout)) == 100


def test_handle_sigterm_writes_queued_lines_then_dies_of_the_signal(tmp_path: Path) -> None:
    """Row 5, queued lines: `handle_sigterm=True` drains, then the default action still ends it."""
    code, stdout, stderr = run_until_signalled(tmp_path, SIGNALLED, signal.SIGTERM, BIG="1", HANDLE="1")
    record(100, len(parse(stdout)), 0)

    assert code == -signal.SIGTERM, stderr
    assert len(parse(stdout)) == 100


def test_handle_sigterm_chains_to_the_applications_own_handler(tmp_path: Path) -> None:
    """`handle_sigterm=True` after the application's handler: ours drains, then theirs runs."""
    body = (
        """
import signal
def graceful(signum, frame):
    os.write(2, b"APP HANDLER\\n")
    sys.exit(7)
signal.signal(signal.SIGTERM, graceful)
"""
        + SIGNALLED
    )
    code, stdout, stderr = run_until_signalled(tmp_path, body, signal.SIGTERM, BIG="1", HANDLE="1")
    record(100, len(parse(stdout)), sum(s["dropped"] for s in stats_lines(stderr)))

    assert code == 7, stderr
    assert "APP HANDLER" in stderr
    assert len(parse(stdout)) == 100
    assert stats_lines(stderr)[0]["dropped"] == 0


def test_os_exit_right_after_calls_loses_nothing(tmp_path: Path) -> None:
    """Row 10: `os._exit` right after 100 calls (no atexit at all): 100 lines."""
    run = run_script(
        tmp_path,
        """
client = claude_logging.instrument(FakeAnthropicAPI().client(max_retries=0))
for _ in range(100):
    call(client)
os._exit(0)
""",
    )

    record(100, len(run.events), 0)
    assert run.returncode == 0, run.stderr
    assert len(run.events) == 100


def test_os_exit_after_flush_writes_queued_lines(tmp_path: Path) -> None:
    """Row 10, queued lines: what the user must do before `os._exit` is `flush()`."""
    run = run_script(
        tmp_path,
        """
client = claude_logging.instrument(FakeAnthropicAPI().client(max_retries=0))
for _ in range(50):
    call(client, big=True)
claude_logging.flush()
os._exit(0)
""",
    )

    record(50, len(run.events), 0)
    assert run.returncode == 0, run.stderr
    assert len(run.events) == 50


HELD_BY_THE_WRITER_THREAD = """
import socket, threading, time
from claude_logging._writer import WORKER


def stdout_a_socket():
    # stdout a socket with the kernel's minimum send buffer (a few KiB) and no reader yet: a long
    # line blocks mid-write. Returns the real stdout and the socket's reading end.
    out = os.dup(1)
    ours, theirs = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1)
    os.dup2(ours.fileno(), 1)
    ours.close()
    return out, theirs


def relay(theirs, out):
    while chunk := theirs.recv(65536):
        os.write(out, chunk)


def call_until_the_writer_thread_holds_its_line(client):
    call(client, big=True)  # longer than an atomic write: queued, then taken by the thread
    deadline = time.monotonic() + 30
    while WORKER.queued() and time.monotonic() < deadline:
        time.sleep(0.01)
"""


def test_flush_returns_true_only_once_the_line_the_writer_thread_holds_is_out(tmp_path: Path) -> None:
    """`flush()` waits for the chunk the writer thread took and is still writing, not just the queue.

    stdout is a socket with a small send buffer and, at first, no reader: the thread takes the long
    line and blocks mid-write. A `flush()` that answered True there would let `os._exit` (billiard's
    exit hook, the recipe of row 10) lose that line uncounted, and `stats()` would not count it yet.
    """
    run = run_script(
        tmp_path,
        HELD_BY_THE_WRITER_THREAD
        + """
out, theirs = stdout_a_socket()
client = claude_logging.instrument(FakeAnthropicAPI().client(max_retries=0))
call_until_the_writer_thread_holds_its_line(client)
held = claude_logging.flush(timeout=0.5)
before = claude_logging.stats().emitted

reader = threading.Thread(target=relay, args=(theirs, out))
reader.start()
done = claude_logging.flush(timeout=30)
after = claude_logging.stats().emitted
os.dup2(out, 1)  # the socket's last writer closes: the relay reads to its end
reader.join(30)
print(json.dumps({"held": held, "before": before, "done": done, "after": after}), file=sys.stderr)
""",
    )

    assert run.returncode == 0, run.stderr
    assert len(run.events) == 1, run.stderr
    assert '{"held": false, "before": 0, "done": true, "after": 1}' in run.stderr


def test_handle_sigterm_waits_for_the_line_the_writer_thread_is_writing(tmp_path: Path) -> None:
    """`handle_sigterm=True`: the drain waits for the thread's write before the default action.

    The queue is empty but the thread is mid-way through a long line on a socket nobody reads yet;
    a relay process starts reading just after the signal. Answering at once would have the default
    action cut that line in half.
    """
    run = run_script(
        tmp_path,
        HELD_BY_THE_WRITER_THREAD
        + """
import signal
claude_logging.configure(handle_sigterm=True)
out, theirs = stdout_a_socket()
go_read, going = os.pipe()
if os.fork() == 0:  # the relay: reads once the signal is sent, until the app's end closes it
    os.close(1)
    os.read(go_read, 1)
    time.sleep(0.2)
    relay(theirs, out)
    os._exit(0)
theirs.close()
client = claude_logging.instrument(FakeAnthropicAPI().client(max_retries=0))
call_until_the_writer_thread_holds_its_line(client)
os.write(going, b"x")
os.kill(os.getpid(), signal.SIGTERM)
time.sleep(30)
""",
    )

    assert run.returncode == -signal.SIGTERM, run.stderr
    assert len(run.events) == 1, run.stderr


# -- threads at interpreter exit ---------------------------------------------------------------


def test_non_daemon_threads_making_their_first_calls_at_exit_are_written(tmp_path: Path) -> None:
    """Row 8: 200 non-daemon threads call as the main thread returns (3.12+ refuses new threads)."""
    run = run_script(
        tmp_path,
        """
import threading
client = claude_logging.instrument(FakeAnthropicAPI().client(max_retries=0))
gate = threading.Event()
def late(index):
    gate.wait()
    time.sleep(0.05)  # the main thread has returned: the interpreter is shutting down
    call(client, big=index % 4 == 0)
import time
threads = [threading.Thread(target=late, args=(index,)) for index in range(200)]
for thread in threads:
    thread.start()
gate.set()
""",
    )

    assert run.returncode == 0, run.stderr
    assert_every_call_written(run, 200)


def test_calls_made_at_exit_by_atexit_handlers_are_still_observed(tmp_path: Path) -> None:
    """Calls made by `atexit` handlers after `weakref`'s own exit hook are logged, as are daemon threads'.

    The client stays instrumented through the interpreter's exit. The handler is registered before
    `instrument()`, whose client bookkeeping `weakref`'s exit hook would otherwise forget first: it
    runs between that hook and the library's drain.
    """
    run = run_script(
        tmp_path,
        """
import atexit
def last_calls():
    for _ in range(3):
        call(client)
atexit.register(last_calls)
client = claude_logging.instrument(FakeAnthropicAPI().client(max_retries=0))
call(client)
""",
    )
    assert_every_call_written(run, 4)


def test_daemon_threads_still_calling_at_exit_lose_no_finished_call(tmp_path: Path) -> None:
    """Row 9: 8 daemon threads calling in a loop at exit: every call that returned has its line.

    A call returning writes one byte to a marker file right after; a call cut by the exit has no
    byte (at most one per thread), and may have an `incomplete` line from the exit sweep. Calls
    keep returning while `atexit` handlers run, after `weakref`'s exit hook: the client must stay
    instrumented through all of it (it did not, and 10 to 67 calls a run went unlogged under load).
    """
    marker = tmp_path / "finished"
    run = run_script(
        tmp_path,
        """
import threading, time
client = claude_logging.instrument(FakeAnthropicAPI().client(max_retries=0))
marker = os.open(os.environ["MARKER"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
def loop(index):
    count = 0
    while True:
        call(client, big=count % 5 == index % 5)
        os.write(marker, b".")
        count += 1
for index in range(8):
    threading.Thread(target=loop, args=(index,), daemon=True).start()
time.sleep(0.5)
""",
        MARKER=str(marker),
    )

    finished = len(marker.read_bytes())
    record(finished, len(run.events), run.dropped)
    assert run.returncode == 0, run.stderr
    assert finished > 0
    assert run.dropped == 0
    # Every returned call has its line (a drop after the last `stats()` would show as a shortfall);
    # at most one call per thread cut by the exit adds an `incomplete` line.
    assert finished <= len(run.events) <= finished + 8


# -- a slow reader -----------------------------------------------------------------------------


def test_a_slow_reader_at_exit_gets_whole_lines_and_the_rest_is_counted(tmp_path: Path) -> None:
    """Row 11: stdout a pipe read at 5 ms a line; at exit the writer gives up after its timeout.

    Lines written plus drops counted equal the calls, and no line is ever cut.
    """
    path = write_script(
        tmp_path,
        """
claude_logging.configure(flush_timeout_s=0.5)
client = claude_logging.instrument(FakeAnthropicAPI().client(max_retries=0))
for index in range(1500):
    call(client, big=index % 10 == 0)
os.write(2, b"DONE\\n")
""",
    )
    with subprocess.Popen(
        [sys.executable, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env()
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        assert child.stderr.readline() == b"DONE\n"  # stdout is full by now: the reader starts
        received = bytearray()
        deadline = time.monotonic() + 60
        while line := child.stdout.readline():
            received += line
            time.sleep(0.005)
            assert time.monotonic() < deadline
        child.wait(timeout=30)
        stderr = child.stderr.read().decode()

    assert child.returncode == 0, stderr
    events = parse(bytes(received))
    (stats,) = stats_lines(stderr)
    record(1500, len(events), stats["dropped"])
    assert stats["dropped"] > 0  # the reader really was too slow
    assert len(events) + stats["dropped"] == 1500
    assert sum(e.get("dropped_events", 0) for e in events) == 0  # dropped at exit: no later line
    assert stderr.count("did not accept") == 1


# -- servers -----------------------------------------------------------------------------------

SERVER_APP = """
marker = os.open(os.environ["MARKER"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
url = os.environ["FAKE_API"]


def started():
    os.write(marker, b"s")  # one byte per call started, written at once


def ended():
    os.write(marker, b"e")  # the call returned or raised: its line was emitted before this byte
"""

WSGI_APP = """
client = make_client(url)


def wsgi(environ, start_response):
    started()
    call(client)
    start_response("200 OK", [("content-type", "text/plain")])
    return [b"ok"]
"""

ASGI_APP = """
from fastapi import FastAPI
aclient = claude_logging.instrument(anthropic.AsyncAnthropic(api_key="k", base_url=url, max_retries=0))
api = FastAPI()


@api.get("/")
async def root():
    started()
    try:
        await aclient.messages.create(
            model="claude-sonnet-4-6", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
        )
    finally:
        ended()
    return {"ok": True}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    """What a signalled server wrote, and how many calls its app started and saw end."""

    returncode: int
    events: list[dict[str, object]]
    stderr: str
    started: int
    ended: int


def _serve_and_signal(
    directory: Path, app: str, command: list[str], port: int, *, requests: int, sig: int
) -> Served:
    """Start the server, send `requests` concurrent requests, signal it while they are in flight."""
    write_script(directory, SERVER_APP + app)
    errors = directory / "stderr"
    marker = directory / "calls"
    with FakeAnthropicAPI(router=lambda _request: message(delay_s=0.4)) as fake, errors.open("wb") as err:
        server = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=err,
            cwd=directory,
            env=child_env(FAKE_API=fake.url, PYTHONPATH=str(directory), MARKER=str(marker)),
        )
        # Read stdout all along, as a log agent does: a full pipe would hold lines in the queue.
        output: list[bytes] = []
        reader = threading.Thread(target=lambda: output.append(server.stdout.read()))  # type: ignore[union-attr]
        reader.start()
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, errors.read_text()
                    time.sleep(0.1)

            def get() -> None:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=20).read()
                except OSError:
                    pass

            deadline = time.monotonic() + 30  # from the moment the server answers
            clients = [threading.Thread(target=get, daemon=True) for _ in range(requests)]
            for client in clients:
                client.start()
            while len(fake.requests) < min(requests, 8) and time.monotonic() < deadline:
                time.sleep(0.01)
            server.send_signal(sig)
            server.wait(timeout=40)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait(10)
            reader.join(30)
            if server.stdout is not None:
                server.stdout.close()
    stderr = errors.read_text()
    marks = marker.read_bytes() if marker.exists() else b""
    events = parse(output[0] if output else b"")
    return Served(server.returncode, events, stderr, marks.count(b"s"), marks.count(b"e"))


def test_uvicorn_fastapi_stopped_by_sigterm_with_a_short_graceful_timeout(tmp_path: Path) -> None:
    """Row 6: uvicorn + FastAPI, 150 requests, SIGTERM with `--timeout-graceful-shutdown 1`.

    uvicorn cancels what is still running after a second, then re-raises SIGTERM with its default
    action: no `atexit` runs. Every call that ended (success, error, cancelled) has its line.

    A call uvicorn cancelled may never end: uvicorn does not wait for the tasks it cancels, and
    one cancelled while connecting unwinds through anyio's task group over several turns of the
    event loop, so the re-raised SIGTERM can kill the process first (seen on 3.10 and 3.12: 3 to
    57 of 150 calls, in one run in four). Such a call neither returns nor raises in the process,
    so nothing can write its line; the guarantee counts the calls that ended.
    """
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "app:api", "--port", str(port), "--log-level", "critical"]
    command += ["--timeout-graceful-shutdown", "1"]
    served = _serve_and_signal(tmp_path, ASGI_APP, command, port, requests=150, sig=signal.SIGTERM)

    record(served.ended, len(served.events), 0)  # uvicorn re-raises SIGTERM: no atexit, no stats
    assert served.returncode in {0, -signal.SIGTERM}, served.stderr
    assert served.ended > 0, served.stderr
    assert len(served.events) == served.ended, served.stderr[-3000:]


def test_gunicorn_gthread_stopped_by_sigint_while_the_first_calls_are_in_flight(tmp_path: Path) -> None:
    """Row 7: gunicorn gthread workers quit (SIGINT) while their first calls are in flight."""
    port = _free_port()
    command = [
        sys.executable, "-m", "gunicorn", "app:wsgi", "-k", "gthread", "--threads", "4",
        "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
    ]  # fmt: skip
    served = _serve_and_signal(tmp_path, WSGI_APP, command, port, requests=16, sig=signal.SIGINT)

    dropped = sum(int(stats["dropped"]) for stats in stats_lines(served.stderr))
    record(served.started, len(served.events), dropped)
    assert served.returncode == 0, served.stderr
    assert served.started > 0, served.stderr
    assert len(served.events) + dropped == served.started, served.stderr
    assert dropped == 0


# -- stdout a regular file; a forked child's counters ------------------------------------------


@pytest.mark.parametrize(("mode", "warned"), [("wb", True), ("ab", False)])
def test_stdout_a_file_opened_without_append_is_warned_once(tmp_path: Path, mode: str, warned: bool) -> None:
    """`> file` (no O_APPEND) cuts badly under copytruncate: one warning; `>> file` none."""
    path = write_script(
        tmp_path,
        """
client = claude_logging.instrument(FakeAnthropicAPI().client(max_retries=0))
for _ in range(3):
    call(client)
""",
    )
    log = tmp_path / "events.log"
    with log.open(mode) as stdout:
        result = subprocess.run(
            [sys.executable, str(path)],
            stdout=stdout,
            stderr=subprocess.PIPE,
            env=child_env(),
            timeout=120,
            check=False,
        )
    stderr = result.stderr.decode()

    assert result.returncode == 0, stderr
    assert len(parse(log.read_bytes())) == 3
    assert stderr.count("without O_APPEND") == (1 if warned else 0)


def test_a_forked_child_counts_only_its_own_events(client, capfd) -> None:
    """`stats()` in a forked child starts from zero: the parent's events are the parent's."""
    from conftest import ask

    import claude_logging

    ask(client)
    ask(client)
    assert claude_logging.stats().emitted == 2
    pid = os.fork()
    if pid == 0:
        signal.alarm(5)
        before = claude_logging.stats().emitted
        ask(client)
        after = claude_logging.stats().emitted
        os._exit(0 if (before, after) == (0, 1) else 3)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert claude_logging.stats().emitted == 2
    assert len(capfd.readouterr().out.splitlines()) == 3
