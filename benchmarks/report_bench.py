"""Time `claude-logging report` on files of N events written by the library itself.

Events are realistic records (a mix of models, tenants, streams, errors and cache use) rendered
by the library's own pipeline (`_pricing.price`, `_render.facts`, `encode_line`), so the lines
are exactly what production writes. The report runs as the command a user types, in a
subprocess, and the wall time is the best of `--repeat` runs.

    python benchmarks/report_bench.py                 # 1e5 and 1e6 events
    python benchmarks/report_bench.py --events 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
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


def time_report(path: Path, repeat: int) -> float:
    """Best wall time of `claude-logging report FILE` over `repeat` runs."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "claude_logging", "report", str(path)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, action="append", help="event counts (default: 1e5 and 1e6)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    print("| events | file size | generate (s) | report (s) | events/s | MB/s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for count in args.events or [100_000, 1_000_000]:
        path = args.dir / f"events-{count}.ndjson"
        generated = generate(path, count)
        size_mb = path.stat().st_size / 1e6
        seconds = time_report(path, args.repeat)
        print(
            f"| {count:,} | {size_mb:,.0f} MB | {generated:.1f} | {seconds:.2f} | "
            f"{count / seconds:,.0f} | {size_mb / seconds:,.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
