"""Streams: what each variant adds per server-sent event and per stream.

Every variant reads whole streams of two lengths (500 and 10 events, one network chunk per
event) with `messages.create(stream=True)`. The added cost is linear in the events read,
`a + b * events`: the difference between the two lengths gives `b` (per event), and the short
stream what is left, `a` (per stream).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import _canned
import _ours
from _timing import Added, Variant, added

import claude_logging

if TYPE_CHECKING:
    from collections.abc import Callable

    from _peers import Peer

LENGTHS = (_canned.STREAM_EVENTS, _canned.SHORT_STREAM_EVENTS)


def _reader(client: Any) -> Callable[[], object]:
    request = {**_canned.REQUEST, "stream": True}

    def read() -> object:
        last = None
        for event in client.messages.create(**request):
            last = event
        return last

    return read


@dataclass
class StreamRow:
    """One variant's two stream lengths, measured."""

    name: str
    group: str
    long: Variant
    short: Variant


def rows(peers: list[Peer]) -> list[StreamRow]:
    """The bare SDK, our default setup, and every peer that runs, at both lengths."""
    enter, leave, drain = _ours._configured("stdout", "flat")

    def ours(events: int) -> Variant:
        client = claude_logging.instrument(_canned.client(events))
        return Variant(_ours.DEFAULT, "claude_logging", _reader(client), enter, leave, drain)

    built = [
        StreamRow(
            "bare SDK call",
            "floor",
            *(Variant("bare SDK call", "floor", _reader(_canned.client(n))) for n in LENGTHS),
        ),
        StreamRow(_ours.DEFAULT, "claude_logging", *(ours(n) for n in LENGTHS)),
    ]
    for peer in peers:
        if peer.status == "ok":
            variants = [peer.variant(_reader(peer.make_client(n))) for n in LENGTHS]
        else:
            variants = [peer.variant(), peer.variant()]
        built.append(StreamRow(peer.name, "peer", *variants))
    return built


@dataclass(frozen=True)
class StreamCost:
    """Added microseconds per server-sent event and per stream (beyond its events)."""

    per_event_us: float
    per_stream_us: float
    long_stream: Added


def cost(row: StreamRow, floor: StreamRow) -> StreamCost:
    """Solve `a + b * events` from the added CPU time (every thread) at the two lengths.

    CPU time, not wall time: a shared machine's preemption lands in wall time, and a whole 500-event
    stream is long enough to be preempted; CPU time also counts the writer thread's work.
    """
    long_added, short_added = added(row.long, floor.long), added(row.short, floor.short)
    long_events, short_events = LENGTHS
    per_event = (long_added.cpu_us - short_added.cpu_us) / (long_events - short_events)
    per_stream = short_added.cpu_us - per_event * short_events
    return StreamCost(per_event, per_stream, long_added)


def first_event_delay(rounds: int, streams: int) -> dict[str, float]:
    """What we add between a stream's response opening and its first event reaching the caller (us).

    Time to first token, as the caller sees it, is the request's time plus this: the request-side
    work is in the per-call rows, so this isolates the reading of the first server-sent event. Bare
    and instrumented streams alternate round by round; each round's median is taken, then the
    median of the rounds' differences.
    """
    enter, leave, drain = _ours._configured("stdout", "flat")
    bare = _canned.client(_canned.SHORT_STREAM_EVENTS)
    ours = claude_logging.instrument(_canned.client(_canned.SHORT_STREAM_EVENTS))
    request = {**_canned.REQUEST, "stream": True}

    def delays(client: Any) -> float:
        samples = []
        for _ in range(streams):
            stream = client.messages.create(**request)
            started = time.perf_counter_ns()
            next(iter(stream))
            samples.append(time.perf_counter_ns() - started)
            for _event in stream:
                pass
        return statistics.median(samples) / 1000

    enter()
    try:
        differences, bare_medians = [], []
        for _ in range(rounds):
            bare_median = delays(bare)
            differences.append(delays(ours) - bare_median)
            bare_medians.append(bare_median)
        drain()
    finally:
        leave()
    return {
        "bare_us": round(statistics.median(bare_medians), 2),
        "added_us": round(statistics.median(differences), 2),
    }
