"""Interleaved timing: every variant runs one batch per round, so machine drift hits all alike.

A variant is one way of making a logged Claude call. Each batch times every call on its own
(`perf_counter_ns`, the latency the caller sees) and the whole batch in process CPU time, which
counts every thread of the process: the background stdout writer's work is included because the
batch ends with the variant's `drain` (e.g. `claude_logging.flush()`) inside the timed region.
While measuring, `stdout_to_devnull()` sends the events nowhere.
"""

from __future__ import annotations

import gc
import io
import os
import random
import statistics
import sys
import time
from array import array
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence


def _nothing() -> None:
    """The default setup, teardown and drain: none."""


@dataclass
class Variant:
    """One way of making a (logged) call; `status` says why it cannot run, if it cannot."""

    name: str
    group: str
    call: Callable[[], object] = _nothing
    enter: Callable[[], None] = _nothing
    leave: Callable[[], None] = _nothing
    drain: Callable[[], None] = _nothing
    status: str = "ok"
    note: str = ""
    latencies: array[int] = field(default_factory=lambda: array("q"))
    round_medians: list[float] = field(default_factory=list)
    round_cpu: list[float] = field(default_factory=list)

    @property
    def runs(self) -> bool:
        """Whether the variant can be measured here."""
        return self.status == "ok"


def run_batch(variant: Variant, calls: int, warmup: int) -> None:
    """Time `calls` calls of `variant` one by one, and the batch in CPU time, drain included."""
    variant.enter()
    try:
        call = variant.call
        for _ in range(warmup):
            call()
        variant.drain()
        gc.collect()
        clock = time.perf_counter_ns
        latencies = array("q", bytes(8 * calls))
        cpu_start = time.process_time_ns()
        for index in range(calls):
            start = clock()
            call()
            latencies[index] = clock() - start
        variant.drain()
        cpu = time.process_time_ns() - cpu_start
    finally:
        variant.leave()
    variant.latencies.extend(latencies)
    variant.round_medians.append(statistics.median(latencies) / 1000)
    variant.round_cpu.append(cpu / calls / 1000)


@contextmanager
def stdout_to_devnull() -> Iterator[int]:
    """Point fd 1 (and a line-buffered `sys.stdout` on it) at /dev/null; yields a /dev/null fd."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved_fd, saved_stream = os.dup(1), sys.stdout
    sys.stdout.flush()
    os.dup2(devnull, 1)
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True)
    try:
        yield devnull
    finally:
        sys.stdout.flush()
        sys.stdout = saved_stream
        os.dup2(saved_fd, 1)
        os.close(saved_fd)


def interleave(variants: Sequence[Variant], rounds: int, calls: int, warmup: int, seed: int = 5) -> None:
    """Run `rounds` rounds; each round runs one batch of every runnable variant, in a fresh order."""
    runnable = [variant for variant in variants if variant.runs]
    order = random.Random(seed)
    for _ in range(rounds):
        order.shuffle(runnable)
        for variant in runnable:
            run_batch(variant, calls, warmup)


def quantile(values: Sequence[float] | array[int], q: float) -> float:
    """The `q` quantile (0..1) of `values`, nearest rank."""
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))])


@dataclass(frozen=True)
class Added:
    """What a variant adds to a reference variant, in microseconds per call."""

    median_us: float
    p99_us: float
    cpu_us: float
    spread_us: float
    """Half the interquartile range of the per-round estimates: how much to trust `median_us`."""
    cpu_spread_us: float
    """The same for `cpu_us`."""


def added(variant: Variant, reference: Variant) -> Added:
    """Per-round paired differences (medians, CPU) and the pooled p99 difference."""
    pairs = list(zip(variant.round_medians, reference.round_medians, strict=True))
    per_round = [mine - theirs for mine, theirs in pairs]
    cpu = [mine - theirs for mine, theirs in zip(variant.round_cpu, reference.round_cpu, strict=True)]
    p99 = (quantile(variant.latencies, 0.99) - quantile(reference.latencies, 0.99)) / 1000
    return Added(
        statistics.median(per_round), p99, statistics.median(cpu), _half_iqr(per_round), _half_iqr(cpu)
    )


def _half_iqr(values: list[float]) -> float:
    return (quantile(values, 0.75) - quantile(values, 0.25)) / 2 if len(values) > 1 else 0.0


def own(variant: Variant) -> Added:
    """A variant's own cost per call (for work measured without an SDK call)."""
    median = statistics.median(variant.round_medians)
    p99 = quantile(variant.latencies, 0.99) / 1000
    cpu = variant.round_cpu
    return Added(median, p99, statistics.median(cpu), _half_iqr(variant.round_medians), _half_iqr(cpu))
