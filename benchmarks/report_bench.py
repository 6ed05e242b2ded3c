"""Time `claude-logging report` on files of N events written by the library itself.

Events are realistic records (a mix of models, tenants, streams, errors and cache use) rendered
by the library's own pipeline (`_pricing.price`, `_render.facts`, `encode_line`), so the lines
are exactly what production writes (a file already generated is reused). The report runs as the
command a user types, in a subprocess; each run's wall time and CPU time (user + sys, its worker
processes included) are printed, best and worst of `--repeat` runs. The machine's load average
is printed too: on a shared machine, wall time depends on it and CPU time much less.

With `--exact`, the same file is also reported with every line parsed in Python (the way taken
when DuckDB may not read the lines itself), and the two JSON reports are compared: counts equal,
floats equal to 1e-12 (DuckDB sums floats in parallel, in no fixed order).

`--variants` also times the same events from stdin, gzip-compressed, and with application log
lines between them (30% text, 10% JSON; the events/s column counts the events only).

    python benchmarks/report_bench.py                            # 1e5 and 1e6 events
    python benchmarks/report_bench.py --events 1750000 --exact   # about 1 GB
    python benchmarks/report_bench.py --events 1000000 --variants
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

from claude_logging import _config, _pricing, _render, _schemas
from claude_logging._event import Event

MODELS = ("claude-sonnet-4-6", "claude-haiku-4-5-20251001", "claude-opus-4-6", "claude-sonnet-5-5")
ERRORS = (
    (429, "anthropic.RateLimitError"),
    (529, "anthropic.OverloadedError"),
    (500, "anthropic.InternalServerError"),
)


def make_event(rng: random.Random, start_ns: int) -> Event:
    model = rng.choice(MODELS)
    event = Event(start_wall_ns=start_ns, start_mono_ns=0, request_model=model, response_model=model)
    event.operation = "chat"
    event.max_tokens = 1024
    event.tenant_id = f"tenant-{min(int(rng.paretovariate(1.2)), 200):03d}"
    event.user_id = f"user-{rng.randint(1, 5000)}"
    event.request_id = f"req_{rng.getrandbits(96):024x}"
    event.end_mono_ns = int(rng.lognormvariate(6.5, 0.6) * 1e6)
    event.retries = 0
    if rng.random() < 0.06:
        event.outcome = "error"
        event.status_code, event.error_type = rng.choice(ERRORS)
        event.api_error_type = "overloaded_error" if event.status_code == 529 else "rate_limit_error"
        event.error_message = "Overloaded"
        return event
    event.outcome = "success"
    event.status_code = 200
    event.message_id = f"msg_{rng.getrandbits(96):024x}"
    event.stop_reason = "end_turn"
    event.input_tokens = rng.randint(50, 4000)
    event.output_tokens = rng.randint(10, 1200)
    event.cache_read_input_tokens = rng.choice((0, 0, rng.randint(1000, 30000)))
    event.cache_creation_input_tokens = rng.choice((0, 0, 0, rng.randint(500, 5000)))
    if rng.random() < 0.4:
        event.stream = True
        event.stream_completed = True
        event.first_token_mono_ns = int(event.end_mono_ns * rng.uniform(0.1, 0.5))
    event.api_calls = 1
    _pricing.price(event)
    return event


def generate(path: Path, count: int, seed: int = 1) -> float:
    """Write `count` event lines to `path` over a simulated week; returns seconds taken."""
    rng = random.Random(seed)
    settings = _config.current()
    started = time.perf_counter()
    week_ns = 7 * 86400 * 10**9
    origin = time.time_ns() - week_ns
    with path.open("w", encoding="ascii") as out:
        for index in range(count):
            event = make_event(rng, origin + week_ns * index // count)
            record = _schemas.render(_render.facts(event, settings), settings)
            out.write(_render.encode_line(record, settings.max_line_bytes) + "\n")
    return time.perf_counter() - started


EXACT = (
    "import sys; from claude_logging._report._run import build; "
    "from claude_logging._report._engine import Options; from claude_logging._report._text import RENDERERS; "
    "sys.stdout.write(RENDERERS['json'](build(sys.argv[1:], Options(), fast=False)))"
)
APP_LINES = (
    b"2026-11-24 12:00:00,123 INFO worker.tasks: processed job %d in 12 ms\n",
    b'{"level":"info","logger":"app","msg":"GET /health 200","request":%d}\n',
)


def mixed(path: Path) -> Path:
    """The events with application log lines between them: 30% text lines, 10% JSON lines."""
    target = path.with_name(path.stem + "-mixed.log")
    if not target.exists():
        rng = random.Random(3)
        with path.open("rb") as events, target.open("wb") as out:
            for index, line in enumerate(events):
                out.write(line)
                draw = rng.random()
                if draw < 0.4:
                    out.write(APP_LINES[draw < 0.1] % index)
    return target


def packed(path: Path) -> Path:
    """The file gzip-compressed (level 1, as log rotation often does)."""
    target = path.with_name(path.name + ".gz")
    if not target.exists():
        with path.open("rb") as source, gzip.open(target, "wb", compresslevel=1) as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
    return target


def run_report(path: Path, way: str) -> tuple[float, float, str]:
    """(wall s, CPU s, JSON report) of one `report` run in a subprocess, workers included."""
    report = [sys.executable, "-m", "claude_logging", "report", "--format", "json"]
    command = {
        "exact (Python)": [sys.executable, "-c", EXACT, str(path)],
        "stdin": [*report, "-"],
    }.get(way, [*report, str(path)])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with path.open("rb") if way == "stdin" else nullcontext(None) as stdin:
        result = subprocess.run(command, check=True, stdin=stdin, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, result.stdout


def same_figures(left: object, right: object) -> bool:
    """Equal reports: every count and text equal, floats to 1e-12 (parallel sums' last digits)."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same_figures(left[key], right[key]) for key in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(same_figures, left, right))
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-12)
    return left == right and type(left) is type(right)


def span(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f} to {high:.2f}"


def measure(path: Path, count: int, repeat: int, way: str) -> tuple[str, object]:
    """The table row of `repeat` runs, and the last run's report."""
    runs = [run_report(path, way) for _ in range(repeat)]
    walls = [wall for wall, _, _ in runs]
    cpus = [cpu for _, cpu, _ in runs]
    size_mb = path.stat().st_size / 1e6
    row = (
        f"| {count:,} | {size_mb:,.0f} MB | {way} | {span(walls)} | {span(cpus)} | "
        f"{count / min(walls):,.0f} | {size_mb / min(walls):,.0f} | {os.getloadavg()[0]:.1f} |"
    )
    return row, json.loads(runs[-1][2])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, action="append", help="event counts (default: 1e5 and 1e6)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--exact", action="store_true", help="also time the exact way and compare")
    parser.add_argument(
        "--variants", action="store_true", help="also time the file as stdin, gzip and mixed with app logs"
    )
    parser.add_argument("--dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    print("| events | file size | way | wall (s) | CPU (s) | events/s | MB/s | load |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for count in args.events or [100_000, 1_000_000]:
        path = args.dir / f"events-{count}.ndjson"
        if not path.exists():
            generate(path, count)
        row, fast = measure(path, count, args.repeat, "report")
        print(row, flush=True)
        if args.exact:
            row, slow = measure(path, count, args.repeat, "exact (Python)")
            print(row, flush=True)
            print(f"same figures both ways: {same_figures(fast, slow)}", flush=True)
        if args.variants:
            for way, variant in (("stdin", path), ("gzip", packed(path)), ("mixed", mixed(path))):
                print(measure(variant, count, args.repeat, way)[0], flush=True)


if __name__ == "__main__":
    main()
