"""Measure issue 10's delivery table: each deployment's calls, events written, lost and counted.

Runs `tests/test_delivery.py` and `tests/test_delivery_celery.py` `--runs` times (each test a real
application in a subprocess), has each test record its figures, and prints one Markdown row per
test with the range over the runs:

    python benchmarks/delivery_table.py --runs 3
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def spread(values: list[int]) -> str:
    """`a` when all runs agree, else `a-b`."""
    low, high = min(values), max(values)
    return f"{low:,}" if low == high else f"{low:,}-{high:,}"


def main() -> None:
    """Run the delivery tests and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="record the figures in this file (JSON lines)")
    parser.add_argument("--print", type=Path, dest="recorded", help="only print a recorded file")
    args = parser.parse_args()
    if args.recorded:
        print_table(args.recorded)
        return
    with tempfile.TemporaryDirectory() as directory:
        table = args.keep or Path(directory) / "table.jsonl"
        for _ in range(args.runs):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "tests/test_delivery.py",
                    "tests/test_delivery_celery.py",
                ],
                cwd=ROOT,
                env={**os.environ, "CLAUDE_LOGGING_DELIVERY_TABLE": str(table)},
                check=False,
            )
        print(f"Python {sys.version.split()[0]}, {args.runs} runs\n")
        print_table(table)


def print_table(table: Path) -> None:
    """One Markdown row per test, with the range over the recorded runs."""
    rows: dict[str, list[dict[str, int]]] = collections.defaultdict(list)
    for line in table.read_text().splitlines():
        row = json.loads(line)
        rows[row["test"]].append(row)
    print("| test | calls | events | lost | counted |")
    print("|---|---|---|---|---|")
    for test, runs in rows.items():
        calls = [r["calls"] for r in runs]
        events = [r["events"] for r in runs]
        dropped = [r["dropped"] for r in runs]
        lost = [max(0, r["calls"] - r["events"]) for r in runs]
        print(f"| `{test}` | {spread(calls)} | {spread(events)} | {spread(lost)} | {spread(dropped)} |")


if __name__ == "__main__":
    main()
