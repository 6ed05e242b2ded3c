"""Concurrency and memory: throughput with 8 threads and 1,000 asyncio tasks, event-loop lag, RSS.

Each concurrency measurement alternates the bare SDK and our default setup round by round.
Memory is the resident set (`/proc/self/statm`) after a warm-up and after the measured calls,
both read after `flush()` and a full garbage collection.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import threading
import time
from typing import Any

import _canned

import claude_logging
from claude_logging import _calls

THREADS = 8
TASKS = 1_000


def _threads_once(client: Any, calls_per_thread: int) -> float:
    """Seconds for THREADS threads to make `calls_per_thread` calls each on one shared client."""
    request = _canned.REQUEST
    start_line = threading.Barrier(THREADS + 1)

    def worker() -> None:
        create = client.messages.create
        start_line.wait()
        for _ in range(calls_per_thread):
            create(**request)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    start_line.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    claude_logging.flush()
    return time.perf_counter() - start


async def _tasks_once(client: Any) -> tuple[float, list[float]]:
    """Seconds for TASKS concurrent calls, and the event loop's lateness (ms) meanwhile."""
    request = _canned.REQUEST
    lags: list[float] = []
    done = asyncio.Event()

    async def watch_loop() -> None:
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(max(time.perf_counter() - before - 0.001, 0.0) * 1000)

    watcher = asyncio.create_task(watch_loop())
    await asyncio.sleep(0)
    start = time.perf_counter()
    await asyncio.gather(*(client.messages.create(**request) for _ in range(TASKS)))
    elapsed = time.perf_counter() - start
    done.set()
    await watcher
    claude_logging.flush()
    return elapsed, lags


def concurrency(rounds: int, calls_per_thread: int) -> dict[str, Any]:
    """Calls per second with threads and with tasks, and loop lag, bare SDK vs our default setup."""
    sync = {"bare SDK call": _canned.client(), "claude_logging": claude_logging.instrument(_canned.client())}
    threaded: dict[str, list[float]] = {name: [] for name in sync}
    tasked: dict[str, list[float]] = {name: [] for name in sync}
    lags: dict[str, list[float]] = {name: [] for name in sync}

    async def run_tasks() -> None:
        clients = {
            "bare SDK call": _canned.async_client(),
            "claude_logging": claude_logging.instrument(_canned.async_client()),
        }
        for client in clients.values():
            await _tasks_once(client)  # warm-up
        for _ in range(rounds):
            for name, client in clients.items():
                seconds, lag = await _tasks_once(client)
                tasked[name].append(TASKS / seconds)
                lags[name].extend(lag)

    for client in sync.values():
        _threads_once(client, max(calls_per_thread // 10, 1))  # warm-up
    for _ in range(rounds):
        for name, client in sync.items():
            threaded[name].append(THREADS * calls_per_thread / _threads_once(client, calls_per_thread))
    asyncio.run(run_tasks())
    return {
        "threads": THREADS,
        "tasks": TASKS,
        "threads_calls_per_s": {name: round(statistics.median(v)) for name, v in threaded.items()},
        "tasks_calls_per_s": {name: round(statistics.median(v)) for name, v in tasked.items()},
        "threads_added_us_per_call": _added_us(threaded),
        "tasks_added_us_per_call": _added_us(tasked),
        "loop_lag_ms": {name: _lag_summary(v) for name, v in lags.items()},
    }


def _added_us(rates: dict[str, list[float]]) -> float:
    ours, bare = statistics.median(rates["claude_logging"]), statistics.median(rates["bare SDK call"])
    return round((1 / ours - 1 / bare) * 1e6, 2)


def _lag_summary(lags: list[float]) -> dict[str, float]:
    if not lags:
        return {"median": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(lags)
    return {
        "median": round(statistics.median(ordered), 3),
        "p99": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))], 3),
        "max": round(ordered[-1], 3),
    }


# -- memory ---------------------------------------------------------------------------------------


def rss_bytes() -> int:
    """Resident set size of this process now."""
    with open("/proc/self/statm", encoding="ascii") as statm:  # noqa: PTH123 - a procfs read
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _settled_rss() -> int:
    gc.collect()  # dropped streams are found here; their finalisers run in the flush
    claude_logging.flush()
    gc.collect()
    return rss_bytes()


def memory(calls: int, streams: int) -> dict[str, Any]:
    """RSS growth over `calls` instrumented calls and over `streams` streams abandoned unread."""
    claude_logging.configure(output="stdout", schema="flat")
    client = claude_logging.instrument(_canned.client(_canned.SHORT_STREAM_EVENTS))
    create, request = client.messages.create, _canned.REQUEST
    stream_request = {**request, "stream": True}
    for _ in range(max(calls // 10, 100)):
        create(**request)
    calls_rss = _readings(lambda: create(**request), calls)
    for _ in range(max(streams // 10, 100)):
        _abandon(create, stream_request)
    streams_rss = _readings(lambda: _abandon(create, stream_request), streams)
    return {
        "calls": calls,
        "rss_growth_after_calls_kib": (calls_rss[2] - calls_rss[0]) // 1024,
        "rss_growth_second_half_of_calls_kib": (calls_rss[2] - calls_rss[1]) // 1024,
        "abandoned_streams": streams,
        "rss_growth_after_abandoned_streams_kib": (streams_rss[2] - streams_rss[0]) // 1024,
        "rss_growth_second_half_of_streams_kib": (streams_rss[2] - streams_rss[1]) // 1024,
        "calls_in_flight_after": _calls.in_flight(),
        "rss_mib": round(streams_rss[2] / 2**20, 1),
    }


def _readings(step: Any, count: int) -> tuple[int, int, int]:
    """RSS before `count` steps, half-way and after: a leak grows in both halves, a warm-up in the first."""
    before = _settled_rss()
    for _ in range(count // 2):
        step()
    middle = _settled_rss()
    for _ in range(count - count // 2):
        step()
    return before, middle, _settled_rss()


def _abandon(create: Any, request: dict[str, Any]) -> None:
    """Open a stream, read one event, and drop it without closing it."""
    stream = create(**request)
    next(iter(stream))
    del stream
