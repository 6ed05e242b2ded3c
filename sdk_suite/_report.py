"""The comparison as Markdown: what was tested, each mode's counts, and every lost test by cause."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import _junit

EXAMPLES_PER_CAUSE = 5
FAILURE_LINES = 12


@dataclass
class Run:
    """One pytest run of the selection in one mode."""

    mode: str
    status: int
    tail: str
    seconds: float
    results: dict[str, _junit.Result] | None
    out: Path

    def activity(self) -> str:
        """Events written and internal errors counted by claude_logging in this run."""
        directory = self.out / f"events-{self.mode}"
        if self.mode in ("plain", "client-noop") or not directory.is_dir():
            return "-"
        events = sum(
            len(path.read_text(encoding="utf-8").splitlines()) for path in directory.glob("*.ndjson")
        )
        errors = 0
        for path in directory.glob("stats-*.json"):
            errors += json.loads(path.read_text(encoding="utf-8")).get("internal_errors", 0)
        return f"{events} events, {errors} internal errors"


def describe(python: str, tree: Path, selection: str) -> str:
    """Which claude_logging, SDK and Python were tested: the lines a reader needs to reproduce it."""
    code = (
        "import sys, anthropic, importlib.util as u\n"
        "spec = u.find_spec('claude_logging')\n"
        "print(sys.version.split()[0], anthropic.__version__, spec.origin if spec else 'not installed')\n"
    )
    version, sdk, origin = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    commit = "?"
    if origin != "not installed":
        found = subprocess.run(
            ["git", "-C", str(Path(origin).parent), "log", "-1", "--format=%h %s"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        commit = found.stdout.strip()[:90] or "not a git checkout"
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"- when: {now}\n- tests: {tree / 'tests'} ({selection})\n- python: {python} ({version}), "
        f"anthropic {sdk}\n- claude_logging: {origin} (commit {commit})\n"
    )


def render(runs: dict[str, Run], header: str) -> str:
    """The whole comparison."""
    plain = runs["plain"]
    lines = [
        "# SDK suite: plain against claude_logging modes",
        "",
        header,
        "| mode | passed | failed | error | skipped | lost vs plain | seconds | claude_logging |",
        "|---|---|---|---|---|---|---|---|",
    ]
    sections = []
    for run in runs.values():
        if run.results is None:
            lines.append(f"| {run.mode} | did not run (exit {run.status}) | | | | | {run.seconds:.0f} | |")
            sections += [f"## {run.mode}: did not run (exit {run.status})", "", "```", run.tail, "```", ""]
            continue
        tally = _junit.counts(run.results)
        lost: dict[str, _junit.Result] = {}
        if run is not plain and plain.results is not None:
            lost = _junit.regressions(plain.results, run.results)
        lines.append(
            f"| {run.mode} | {tally['passed']} | {tally['failed']} | {tally['error']} | {tally['skipped']} | "
            f"{'-' if run is plain else len(lost)} | {run.seconds:.0f} | {run.activity()} |"
        )
        if lost:
            sections += _lost_section(run.mode, lost)
    return "\n".join([*lines, "", *sections])


def _lost_section(mode: str, lost: dict[str, _junit.Result]) -> list[str]:
    lines = [f"## {mode}: {len(lost)} tests pass plain but not in this mode", ""]
    by_module: dict[str, int] = {}
    for test_id in lost:
        by_module[_junit.module_of(test_id)] = by_module.get(_junit.module_of(test_id), 0) + 1
    lines += ["By file: " + ", ".join(f"{name} {n}" for name, n in sorted(by_module.items())), ""]
    for cause, test_ids in _junit.grouped(lost):
        lines += [f"### {len(test_ids)} × `{cause}`", ""]
        lines += [f"- {test_id}" for test_id in test_ids[:EXAMPLES_PER_CAUSE]]
        if len(test_ids) > EXAMPLES_PER_CAUSE:
            lines.append(f"- ... and {len(test_ids) - EXAMPLES_PER_CAUSE} more")
        detail = lost[test_ids[0]].detail.splitlines()[-FAILURE_LINES:]
        lines += ["", "```", *detail, "```", ""]
    return lines


def write_lost_lists(runs: dict[str, Run]) -> None:
    """`lost-<mode>.txt` beside each run's XML: every lost test, its outcome and its cause."""
    plain = runs["plain"]
    for run in runs.values():
        if run is plain or run.results is None or plain.results is None:
            continue
        lost = _junit.regressions(plain.results, run.results)
        lines = [
            f"{test_id}\t{result.outcome}\t{_junit.cause_of(result)}" for test_id, result in lost.items()
        ]
        (run.out / f"lost-{run.mode}.txt").write_text("".join(f"{line}\n" for line in sorted(lines)), "utf-8")


def exit_status(runs: dict[str, Run]) -> int:
    """0: no mode lost a test; 1: some did; 2: a run could not be compared (usage error, crash)."""
    plain = runs["plain"]
    if plain.results is None or any(run.results is None for run in runs.values()):
        return 2
    lost = any(
        _junit.regressions(plain.results, run.results or {}) for run in runs.values() if run is not plain
    )
    return 1 if lost else 0
