"""The benchmark script keeps working: quick mode on a tiny count, in a subprocess. No speed asserts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from claude_logging import _schemas

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = ("stdout", "logging", "structlog")
ENTRY_POINTS = ("instrument(client)", "@log_call", "with log_call()")
PEERS = (
    "OpenLLMetry opentelemetry-instrumentation-anthropic",
    "Pydantic Logfire instrument_anthropic",
    "anthropic SDK's own OpenTelemetry tracing",
    "ddtrace Anthropic integration",
)


def run_benchmark(script: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run `benchmarks/<script>` with `args` in a subprocess; it must succeed."""
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One quick run of `benchmarks/run.py` with three calls per batch, read back from its JSON."""
    path = tmp_path_factory.mktemp("bench") / "results.json"
    run = run_benchmark(
        "run.py", "--quick", "--calls", "3", "--rounds", "1", "--json", str(path), timeout=600.0
    )
    assert "Targets" in run.stdout
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_quick_run_has_a_row_for_every_entry_point_output_and_schema(results):
    """Every entry point x output x registered schema is measured (new schemas are picked up)."""
    expected = {
        f"{entry} / {output} / {schema}"
        for schema in _schemas.SCHEMAS
        for output in OUTPUTS
        for entry in ENTRY_POINTS
    }
    ours = {row["name"] for row in results["per_call"] if row["group"] == "claude_logging"}
    assert expected == ours
    assert all(
        row["status"] == "ok" and "median_us" in row
        for row in results["per_call"]
        if row["group"] == "claude_logging"
    )


@pytest.mark.slow
def test_every_peer_keeps_its_row_measured_or_with_the_reason(results):
    """A peer is measured, or says it is not installed (plain `.[test]` installs), or why it cannot run."""
    rows = {row["name"]: row for row in results["per_call"] if row["group"] == "peer"}
    assert set(PEERS) | {"hand-written try/except + time + print"} == set(rows)
    for name in PEERS:
        status = rows[name]["status"]
        assert status == "ok" or status.startswith(("not installed", "n/a: ")), status
        assert ("median_us" in rows[name]) == (status == "ok")
    assert rows["hand-written try/except + time + print"]["status"] == "ok"


@pytest.mark.slow
def test_quick_run_reports_floor_streams_concurrency_memory_and_targets(results):
    """The JSON has every section the table prints."""
    assert {"sdk_median_us", "minimum_logging_us"} <= set(results["floor"])
    assert results["streaming"][0]["name"] == "instrument(client) / stdout / flat"
    assert "per_event_us" in results["streaming"][0]
    assert {"threads_calls_per_s", "tasks_calls_per_s", "loop_lag_ms"} <= set(results["concurrency"])
    assert results["memory"]["calls_in_flight_after"] == 0
    assert len(results["targets"]) == 9
    assert "added_us" in results["first_event"]


def test_in_situ_profile_prints_a_row_for_each_part_and_no_event():
    """`benchmarks/in_situ.py` on a tiny count: a row per part; the events go to /dev/null."""
    run = run_benchmark("in_situ.py", "--rounds", "1", "--calls", "20", timeout=300)
    rows = [line.strip() for line in run.stdout.splitlines()[1:]]
    assert len(rows) == 10, run.stdout
    assert all(row.split("  ")[-1].startswith("(rounds") for row in rows), run.stdout
    assert not any(line.startswith("{") for line in run.stdout.splitlines())
