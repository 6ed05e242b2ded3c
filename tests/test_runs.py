"""Agent loops: `log_call(per_call=True)` writes each API call and the run's sum, never counted twice."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import anthropic
import pytest
from conftest import ask

import claude_logging
from claude_logging.testing import FakeAnthropicAPI, capture_events, error, message

if TYPE_CHECKING:
    from pathlib import Path


def agent_loop(client: object, turns: int) -> None:
    """A tool loop as an agent framework runs it: one API call per turn."""
    for _ in range(turns):
        ask(client)


def test_each_call_of_a_run_is_its_own_event_and_the_run_is_one_rollup() -> None:
    """Three calls: three `claude.call` events with the run's id and fields, one `claude.run` summing them."""
    api = FakeAnthropicAPI([message(input_tokens=10 * n, output_tokens=n) for n in (1, 2, 3)])
    client = api.client(max_retries=0)

    with (
        capture_events() as events,
        claude_logging.context(conversation="c-1"),
        claude_logging.log_call(per_call=True, tenant_id="acme", feature="triage"),
    ):
        agent_loop(client, 3)

    calls = [event for event in events if event["event"] == "claude.call"]
    (run,) = [event for event in events if event["event"] == "claude.run"]
    assert [(c["input_tokens"], c["output_tokens"]) for c in calls] == [(10, 1), (20, 2), (30, 3)]
    assert {c["run_id"] for c in calls} == {run["run_id"]}
    assert {(c["tenant_id"], c["feature"], c["conversation"]) for c in calls} == {("acme", "triage", "c-1")}
    assert (run["api_calls"], run["input_tokens"], run["output_tokens"]) == (3, 60, 6)
    assert run["cost_usd"] == pytest.approx(sum(c["cost_usd"] for c in calls))
    assert all("api_calls" not in c for c in calls)


def test_a_failed_call_of_a_run_is_its_own_error_event() -> None:
    """A 429 inside the run: its own error event; the run, which went on, succeeds with one call counted."""
    api = FakeAnthropicAPI([error(429), message()])
    client = api.client(max_retries=0)

    with capture_events() as events, claude_logging.log_call(per_call=True):
        with pytest.raises(anthropic.RateLimitError):
            ask(client)
        ask(client)

    outcomes = [(event["event"], event["outcome"], event["status_code"]) for event in events]
    assert outcomes == [
        ("claude.call", "error", 429),
        ("claude.call", "success", 200),
        ("claude.run", "success", 200),
    ]
    assert events[2]["api_calls"] == 2


def test_the_default_scope_still_writes_one_event() -> None:
    """Without `per_call`, a scope is one `claude.call` event with no run id."""
    api = FakeAnthropicAPI()
    client = api.client()
    with capture_events() as events, claude_logging.log_call():
        agent_loop(client, 2)
    assert [(event["event"], event["api_calls"]) for event in events] == [("claude.call", 2)]
    assert "run_id" not in events[0]


def test_per_call_must_be_a_bool() -> None:
    """A bad value is refused when the decorator is built."""
    with pytest.raises(TypeError, match="per_call"):
        claude_logging.log_call(per_call="yes")  # type: ignore[arg-type]


def test_the_report_counts_each_call_of_a_run_once_and_groups_by_run(tmp_path: Path) -> None:
    """End to end through stdout and `claude-logging report`: totals equal the calls', per run too."""
    script = """
import anthropic, claude_logging
from claude_logging.testing import FakeAnthropicAPI, message
api = FakeAnthropicAPI([message(input_tokens=100, output_tokens=10) for _ in range(5)])
client = api.client(max_retries=0)
for turns in (2, 3):
    with claude_logging.log_call(per_call=True):
        for _ in range(turns):
            client.messages.create(
                model="claude-sonnet-4-6", max_tokens=50, messages=[{"role": "user", "content": "x"}]
            )
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    log = tmp_path / "app.log"
    log.write_text(done.stdout)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["event"] for line in lines].count("claude.run") == 2
    report = subprocess.run(
        [
            sys.executable,
            "-m",
            "claude_logging",
            "report",
            str(log),
            "--by",
            "run_id",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures = json.loads(report.stdout)
    assert (figures["summary"]["calls"], figures["summary"]["input_tokens"]) == (5, 500)
    assert figures["lines"]["runs"] == 2
    runs = {line["run_id"]: line["api_calls"] for line in lines if line["event"] == "claude.run"}
    assert {row["key"]: row["calls"] for row in figures["groups"]["rows"]} == runs
