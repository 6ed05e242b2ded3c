"""Read pytest's junit XML and list the tests that pass plain but not in a mode, grouped by cause."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

OUTCOME_ORDER = ("error", "failed", "skipped", "passed")


@dataclass(frozen=True)
class Result:
    """One test's outcome and, when it did not pass, the first line of why."""

    outcome: str
    message: str
    detail: str


def read(path: Path) -> dict[str, Result]:
    """`{test id: Result}` from one junit XML file; a test reported twice keeps its worst outcome."""
    results: dict[str, Result] = {}
    for case in ET.parse(path).getroot().iter("testcase"):  # noqa: S314 - our own file
        test_id = f"{case.get('classname', '')}::{case.get('name', '')}"
        result = Result("passed", "", "")
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = "failed" if child.tag == "failure" else child.tag
                result = Result(outcome, child.get("message") or "", (child.text or "").strip())
                break
        previous = results.get(test_id)
        if previous is None or OUTCOME_ORDER.index(result.outcome) < OUTCOME_ORDER.index(previous.outcome):
            results[test_id] = result
    return results


def counts(results: dict[str, Result]) -> dict[str, int]:
    """How many tests had each outcome."""
    tally = dict.fromkeys(OUTCOME_ORDER, 0)
    for result in results.values():
        tally[result.outcome] += 1
    return tally


def regressions(plain: dict[str, Result], mode: dict[str, Result]) -> dict[str, Result]:
    """Every test that passed plain and did not pass in the mode (missing counts as not passing)."""
    missing = Result("missing", "not run in this mode (collection error or crash)", "")
    return {
        test_id: mode.get(test_id, missing)
        for test_id, result in plain.items()
        if result.outcome == "passed" and mode.get(test_id, missing).outcome != "passed"
    }


def cause_of(result: Result) -> str:
    """The failure's first line with addresses, numbers and long reprs blurred, for grouping."""
    line = (
        (result.message or result.detail or result.outcome).splitlines()[0]
        if (result.message or result.detail)
        else result.outcome
    )
    line = re.sub(r"0x[0-9a-fA-F]+", "0x…", line)
    line = re.sub(r"\b\d+(\.\d+)?\b", "N", line)
    return line[:160]


def grouped(failures: dict[str, Result]) -> list[tuple[str, list[str]]]:
    """`[(cause, [test ids])]`, the largest group first."""
    groups: dict[str, list[str]] = {}
    for test_id, result in sorted(failures.items()):
        groups.setdefault(cause_of(result), []).append(test_id)
    return sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))


def module_of(test_id: str) -> str:
    """`tests/test_client.py` for `tests.test_client.TestAnthropic::test_x`."""
    dotted = test_id.split("::", 1)[0]
    parts = [part for part in dotted.split(".") if not part[:1].isupper()]
    return "/".join(parts) + ".py"
