"""Fault matrix, group E: load, concurrency, fork, interpreter exit, clocks and memory."""

from __future__ import annotations

import asyncio
import gc
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import anthropic
import pytest
from conftest import MESSAGES, MODEL, ask
from hypothesis import given, settings
from hypothesis import strategies as st

import claude_logging
from claude_logging import _calls
from claude_logging._writer import WORKER
from claude_logging.testing import error, message, stream

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")

CHILD_HEADER = """
import json, os, sys, time
import claude_logging
from claude_logging.testing import FakeAnthropicAPI, error, message, stream
api = FakeAnthropicAPI()
client = claude_logging.instrument(api.client(max_retries=0))
request = dict(model="claude-sonnet-4-6", max_tokens=16, messages=[{"role": "user", "content": "hi"}])
"""


def run_child(body: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a script in a fresh interpreter and return what it wrote."""
    return subprocess.run(
        [sys.executable, "-c", CHILD_HEADER + textwrap.dedent(body)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "CLAUDE_LOGGING_STRICT": "1"},
        check=False,
    )


def test_a_thousand_threads_one_call_each_give_a_thousand_whole_events(api, events):
    """Row E1: 1,000 concurrent threads, mixed outcomes: 1,000 events, each with its own thread's tenant."""
    client = claude_logging.instrument(api.client(max_retries=0))
    barrier = threading.Barrier(50)

    def work(index: int) -> None:
        with claude_logging.context(tenant_id=f"tenant-{index}", index=index):
            barrier.wait()
            try:
                ask(
                    client, max_tokens=1 + index % 7, metadata={"user_id": "fail" if index % 5 == 0 else "ok"}
                )
            except anthropic.APIStatusError:
                pass

    def route(request):  # every fifth call fails, whatever the thread interleaving
        return error(500) if request.body["metadata"]["user_id"] == "fail" else None

    api._router = route
    with ThreadPoolExecutor(50) as pool:
        list(pool.map(work, range(1000)))

    assert len(events) == 1000
    assert len({e["call_id"] for e in events}) == 1000
    assert all(e["tenant_id"] == f"tenant-{e['index']}" for e in events)
    assert sum(e["outcome"] == "error" for e in events) == 200


def test_a_thousand_threads_through_real_stdout_give_a_thousand_parseable_lines():
    """Row E1 via a real process: every line strictly parseable, no interleaving."""
    result = run_child(
        """
        import threading
        def work(index):
            with claude_logging.context(tenant_id=f"t{index}"):
                client.messages.create(**request)
        threads = [threading.Thread(target=work, args=(i,)) for i in range(1000)]
        for thread in threads: thread.start()
        for thread in threads: thread.join()
        """
    )

    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(events) == 1000
    assert {e["tenant_id"] for e in events} == {f"t{i}" for i in range(1000)}


async def test_ten_thousand_tasks_keep_their_context_and_the_loop_responsive(api, events, monkeypatch):
    """Row E2: 10,000 asyncio tasks: 10,000 events, no bleeding, and our emit never stalls the loop.

    The loop's lag is dominated by the SDK's own work per call, so the bound is on the time spent
    inside our emit path (which never awaits): the longest single emit.
    """
    client = claude_logging.instrument(api.async_client(max_retries=0))
    emit_times: list[float] = []
    real_emit = _calls._outputs.emit

    def timed_emit(event: object) -> None:
        started = time.perf_counter()
        real_emit(event)  # type: ignore[arg-type]
        emit_times.append(time.perf_counter() - started)

    monkeypatch.setattr(_calls._outputs, "emit", timed_emit)
    lags: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        loop = asyncio.get_running_loop()
        while not done.is_set():
            before = loop.time()
            await asyncio.sleep(0.005)
            lags.append(loop.time() - before - 0.005)

    async def work(index: int) -> None:
        with claude_logging.context(tenant_id=f"t{index}", index=index):
            await client.messages.create(model=MODEL, max_tokens=8, messages=MESSAGES)

    prober = asyncio.create_task(probe())
    semaphore = asyncio.Semaphore(200)

    async def bounded(index: int) -> None:
        async with semaphore:
            await work(index)

    await asyncio.gather(*(bounded(i) for i in range(10_000)))
    done.set()
    await prober

    assert len(events) == 10_000
    assert all(e["tenant_id"] == f"t{e['index']}" for e in events)
    assert len(emit_times) == 10_000
    ordered = sorted(emit_times)
    # Never awaiting, an emit holds the loop only for its CPU time (a GC pause may land in any code).
    assert ordered[len(ordered) // 2] < 0.001
    assert ordered[int(len(ordered) * 0.999)] < 0.02, (
        f"p99.9 emit {ordered[int(len(ordered) * 0.999)] * 1e3:.1f} ms"
    )
    assert lags


@needs_fork
def test_fork_while_another_thread_holds_the_writer_lock_does_not_deadlock_the_child(client, capfd):
    """Row E3: fork while our writer's lock is held elsewhere; the child emits and exits in time."""
    ask(client)
    claude_logging.flush()
    capfd.readouterr()
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with WORKER._lock:
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    pid = os.fork()
    if pid == 0:  # the child: must emit its own event and not hang on the inherited lock
        signal.alarm(5)
        try:
            with claude_logging.log_call(tenant_id="child"):
                pass
            ok = claude_logging.flush(3)
        finally:
            os._exit(0 if ok else 3)
    release.set()
    holder.join()
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    out = capfd.readouterr().out.splitlines()
    assert [json.loads(line)["tenant_id"] for line in out] == ["child"]


@needs_fork
def test_a_forked_child_does_not_repeat_the_parents_queued_events(client, capfd, monkeypatch):
    """Row E3: lines queued in the parent at fork time are written once, by the parent."""
    gate = threading.Event()
    from claude_logging import _writer

    real = _writer._write_stdout

    def slow(where, data: bytes) -> None:
        gate.wait(5)
        real(where, data)

    monkeypatch.setattr(_writer, "_write_stdout", slow)
    # stdout "cannot take a line at once": callers queue, and the writer thread is stuck on the first.
    monkeypatch.setattr(_writer._stdout, "writable", lambda _where, timeout_s, _size=0: timeout_s > 0)
    for _ in range(5):
        ask(client)  # the writer is stuck on the first batch; the rest wait in the queue
    pid = os.fork()
    if pid == 0:
        signal.alarm(5)
        gate.set()
        with claude_logging.log_call(tenant_id="child"):
            pass
        os._exit(0 if claude_logging.flush(3) else 3)
    _, status = os.waitpid(pid, 0)
    gate.set()
    claude_logging.flush()

    assert os.waitstatus_to_exitcode(status) == 0
    tenants = [json.loads(line)["tenant_id"] for line in capfd.readouterr().out.splitlines()]
    assert sorted(tenants, key=str) == sorted([None] * 5 + ["child"], key=str)


def _child_work(queue: multiprocessing.Queue[int]) -> None:
    with claude_logging.log_call(tenant_id="mp-child"):
        pass
    queue.put(int(claude_logging.flush(3)))


@needs_fork
def test_multiprocessing_with_fork_start_method_emits_in_the_child(capfd, client):
    """Row E3: multiprocessing `fork` children (gunicorn-style preload: the parent logged first)."""
    ask(client)
    claude_logging.flush()
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[int] = context.Queue()
    workers = [context.Process(target=_child_work, args=(queue,)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(10)

    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    assert sorted(queue.get(timeout=5) for _ in workers) == [1, 1, 1]
    tenants = [json.loads(line)["tenant_id"] for line in capfd.readouterr().out.splitlines()]
    assert tenants.count("mp-child") == 3
    assert tenants.count(None) == 1


def test_exit_right_after_calls_writes_every_queued_event_and_keeps_the_exit_code():
    """Row E4: a script that exits right after 500 calls: 500 lines, exit code unchanged, no noise."""
    result = run_child(
        """
        for _ in range(500):
            client.messages.create(**request)
        sys.exit(3)
        """
    )

    assert result.returncode == 3
    assert len(result.stdout.splitlines()) == 500
    assert result.stderr == ""


def test_calls_in_flight_at_exit_are_written_as_incomplete():
    """Row E4: a stream still referenced from a global at exit: one `incomplete` event."""
    result = run_child(
        """
        api.enqueue(stream("a b c d"))
        KEPT = client.messages.create(stream=True, **request)
        next(iter(KEPT))
        client.messages.create(**request)
        """
    )

    assert result.returncode == 0, result.stderr
    outcomes = sorted(json.loads(line)["outcome"] for line in result.stdout.splitlines())
    assert outcomes == ["incomplete", "success"]
    assert "Traceback" not in result.stderr


@settings(max_examples=40, deadline=None)
@given(jump_s=st.floats(min_value=-86_400 * 365, max_value=86_400 * 365), work=st.integers(0, 3))
def test_latency_is_monotonic_whatever_the_wall_clock_does(jump_s, work):
    """Property P9 (row E5): the wall clock stepping by ±1 year never makes latency negative or wrong."""
    base = time.time_ns()
    stepped = iter([base, base + int(jump_s * 1e9)])
    original = _calls.wall
    _calls.wall = lambda: next(stepped, base)
    try:
        with claude_logging.testing.capture_events() as captured:
            started = time.perf_counter()
            with claude_logging.log_call():
                time.sleep(work / 1000)
            elapsed_ms = (time.perf_counter() - started) * 1000
    finally:
        _calls.wall = original

    (event,) = captured
    assert 0 <= event["latency_ms"] <= elapsed_ms + 1
    assert event["latency_ms"] >= work * 0.9
    assert event["timestamp"] == claude_logging._render.timestamp(base)


def test_memory_is_flat_after_many_abandoned_streams_and_failed_calls(api):
    """Row E6: thousands of abandoned streams and failed calls: nothing stays in flight or in memory."""
    client = claude_logging.instrument(api.client(max_retries=0))

    def churn(rounds: int) -> None:
        with claude_logging.testing.capture_events():
            for index in range(rounds):
                if index % 2:
                    api.enqueue(stream("a b c"))
                    chunks = client.messages.create(model=MODEL, max_tokens=8, messages=MESSAGES, stream=True)
                    next(iter(chunks))
                    del chunks
                else:
                    api.enqueue(error(500))
                    try:
                        client.messages.create(model=MODEL, max_tokens=8, messages=MESSAGES)
                    except anthropic.InternalServerError:
                        pass
            gc.collect()
        claude_logging.flush()
        api.requests.clear()

    churn(200)  # warm up caches (SDK, pydantic, ours)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    churn(1200)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()

    growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert _calls.in_flight() == 0
    assert growth < 512 * 1024, f"grew by {growth} bytes"


def test_many_successful_calls_leave_nothing_in_flight(client, events):
    """Every finished call leaves the in-flight registry (no leak on the common path)."""
    for _ in range(200):
        ask(client)
    api_message = message()
    assert api_message.kind == "message"
    assert _calls.in_flight() == 0
    assert len(events) == 200
