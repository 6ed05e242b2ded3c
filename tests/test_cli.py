"""The command line: `claude-logging demo` runs offline and prints only events on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m claude_logging ...` in a fresh interpreter (what the console script runs)."""
    env = {**os.environ, "CLAUDE_LOGGING_STRICT": "1"}
    return subprocess.run(
        [sys.executable, "-m", "claude_logging", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def test_demo_prints_one_event_per_call_with_every_outcome():
    """The default tour: 12 calls over HTTP, every line an event, all the outcomes shown."""
    result = run_cli("demo", "--seed", "7")

    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(events) == 12
    outcomes = Counter(e["outcome"] for e in events)
    assert outcomes["success"] >= 6
    assert outcomes["error"] == 5
    assert outcomes["abandoned"] == 1
    error_types = {e["error_type"] for e in events if e["error_type"]}
    assert {
        "anthropic.RateLimitError",
        "anthropic.OverloadedError",
        "anthropic.APITimeoutError",
    } - error_types == {
        "anthropic.RateLimitError"  # the 429 is retried and succeeds: it shows as retries=1
    }
    assert any(e.get("retries") == 1 and e["outcome"] == "success" for e in events)
    assert {e["tenant_id"] for e in events} == {"acme", "globex", "initech"}
    assert "12 calls" in result.stderr


def test_demo_with_many_calls_and_rates():
    """--calls, --error-rate, --stream-share and --tenants shape the traffic."""
    result = run_cli(
        "demo", "--calls", "60", "--error-rate", "0", "--stream-share", "1", "--tenants", "2", "--seed", "1"
    )

    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(events) == 60
    assert all(e.get("stream") for e in events)
    assert {e["tenant_id"] for e in events} <= {"tenant-01", "tenant-02"}
    assert all(e["outcome"] in ("success", "abandoned") for e in events)


def test_bad_options_are_rejected_with_a_message():
    """argparse errors name the bad value and exit 2."""
    result = run_cli("demo", "--error-rate", "2")

    assert result.returncode == 2
    assert "between 0 and 1" in result.stderr
