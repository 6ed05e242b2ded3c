"""Real events for backend tests: `claude-logging demo` output, produced once per schema and cached.

The demo makes real SDK calls against the fake API (successes, streams, retries, 429s, 529s,
timeouts, mid-stream errors, abandoned streams), so the events are the library's own, not
hand-written fixtures.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from typing import Any

DEMO_CALLS = 150


@functools.cache
def demo_lines(schema: str = "flat", calls: int = DEMO_CALLS, **env: str) -> tuple[str, ...]:
    """The stdout lines of `claude-logging demo` run with `CLAUDE_LOGGING_SCHEMA=schema`."""
    environment = {**os.environ, "CLAUDE_LOGGING_SCHEMA": schema, **env}
    environment.pop("CLAUDE_LOGGING_STRICT", None)  # the demo runs as a user's process would
    result = subprocess.run(
        [sys.executable, "-m", "claude_logging", "demo", "--calls", str(calls), "--seed", "7"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=True,
    )
    return tuple(result.stdout.splitlines())


def demo_events(schema: str = "flat", calls: int = DEMO_CALLS) -> list[dict[str, Any]]:
    """The demo's events, parsed."""
    return [json.loads(line) for line in demo_lines(schema, calls)]
