"""The results: one JSON document for tracking, and the table printed at the end of a run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

MEMORY_LIMIT_KIB = 1024
"""Growth under this is allocator noise, not a leak (the counts are 1e5 calls / 1e4 streams)."""


def _cell(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def lines(results: dict[str, Any]) -> Iterator[str]:
    """The printed table, section by section."""
    meta, floor = results["meta"], results["floor"]
    versions = meta["versions"]
    yield f"claude_logging benchmark ({meta['mode']}): {meta['rounds']} rounds x {meta['calls']} calls"
    yield f"python {versions['python']}, anthropic {versions['anthropic']}, {meta['cpus']} CPUs"
    yield ""
    yield "Floor (us per call)                            median      p99"
    sdk = f"{floor['sdk_median_us']:>7.1f}  {floor['sdk_p99_us']:>7.1f}"
    yield f"  bare SDK call (canned in-process transport)  {sdk}"
    yield (
        f"  minimum logging work (20-field dict, json.dumps, write /dev/null)  "
        f"{floor['minimum_logging_us']:.2f} (p99 {floor['minimum_logging_p99_us']:.2f})"
    )
    yield ""
    yield from _per_call(results["per_call"])
    yield ""
    yield from _alone(results["logging_work_alone"])
    yield ""
    yield from _streams(results["streaming"])
    yield ""
    yield from _load(results.get("concurrency"), results.get("memory"))
    yield ""
    yield "Targets"
    for target in results["targets"]:
        yield f"  [{'met' if target['met'] else 'MISSED'}] {target['target']}: {target['measured']}"


def _per_call(rows: list[dict[str, Any]]) -> Iterator[str]:
    yield (
        "Added per call, over the bare SDK call (us)      median    p99  CPU incl. writer (+-)  x min.log"
        "  N x default"
    )
    for row in rows:
        name = row["name"][:48]
        if row["status"] != "ok":
            yield f"  {name:<48} {row['status']}"
            continue
        yield (
            f"  {name:<48}{_cell(row['median_us']):>6} {_cell(row['p99_us']):>6} {_cell(row['cpu_us']):>17}"
            f" {'(' + _cell(row['cpu_spread_us']) + ')':>7} {_ratio(row['x_floor']):>8}"
            f"  {_ratio(row.get('peer_over_default')):>8}"
        )


def _alone(rows: list[dict[str, Any]]) -> Iterator[str]:
    yield "Logging work alone, no SDK call (us per event)                        median    p99   CPU  x floor"
    for row in rows:
        yield (
            f"  {row['name'][:68]:<68}{_cell(row['median_us'], 2):>7} {_cell(row['p99_us'], 2):>6}"
            f" {_cell(row['cpu_us'], 2):>5} {_ratio(row['x_floor']):>8}"
        )


def _streams(rows: list[dict[str, Any]]) -> Iterator[str]:
    yield "Streaming (500 and 10 events), added CPU us    per event  per stream  500-event stream (+-)"
    for row in rows:
        name = row["name"][:48]
        if row["status"] != "ok":
            yield f"  {name:<48} {row['status']}"
            continue
        yield (
            f"  {name:<48}{_cell(row['per_event_us'], 2):>7} {_cell(row['per_stream_us']):>11}"
            f" {_cell(row['long_stream_us']):>17} ({_cell(row['long_stream_cpu_spread_us'])})"
        )


def _load(concurrency: dict[str, Any] | None, memory: dict[str, Any] | None) -> Iterator[str]:
    if concurrency:
        threads, tasks = concurrency["threads_calls_per_s"], concurrency["tasks_calls_per_s"]
        lag = concurrency["loop_lag_ms"]
        yield "Concurrency                     bare SDK   claude_logging   added us/call"
        yield (
            f"  {concurrency['threads']} threads, calls/s        {threads['bare SDK call']:>8}"
            f" {threads['claude_logging']:>16}"
            f" {concurrency['threads_added_us_per_call']:>15}"
        )
        yield (
            f"  {concurrency['tasks']} asyncio tasks, calls/s {tasks['bare SDK call']:>8}"
            f" {tasks['claude_logging']:>16}"
            f" {concurrency['tasks_added_us_per_call']:>15}"
        )
        bare, ours = lag["bare SDK call"], lag["claude_logging"]
        lag_line = f"  event-loop lag p99 / max, ms {bare['p99']:>5} / {bare['max']:<6}"
        yield f"{lag_line} {ours['p99']:>7} / {ours['max']}"
    if memory:
        yield (
            f"Memory: RSS growth {memory['rss_growth_after_calls_kib']} KiB after {memory['calls']} calls"
            f" ({memory['rss_growth_second_half_of_calls_kib']} KiB in the second half),"
        )
        yield (
            f"  {memory['rss_growth_after_abandoned_streams_kib']} KiB after {memory['abandoned_streams']}"
            f" abandoned streams ({memory['rss_growth_second_half_of_streams_kib']} KiB in the second half);"
            f" calls in flight after: {memory['calls_in_flight_after']}"
        )
