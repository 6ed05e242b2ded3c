"""Datadog trace correlation: dd.trace_id/dd.span_id come from ddtrace's own log injection context."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from claude_logging import _schemas

APP = """
import json, sys
from ddtrace.trace import tracer
import claude_logging
from claude_logging.testing import FakeAnthropicAPI, message

claude_logging.configure(schema="datadog", service="llm-gateway")
api = FakeAnthropicAPI([message("hi", input_tokens=5, output_tokens=2)] * 2)
client = claude_logging.instrument(api.client())
request = dict(model="claude-sonnet-4-6", max_tokens=9, messages=[{"role": "user", "content": "x"}])
with tracer.trace("web.request"):
    ids = tracer.get_log_correlation_context()
    client.messages.create(**request)
client.messages.create(**request)
claude_logging.flush()
print("IDS " + json.dumps(ids), file=sys.stderr)
"""


def test_datadog_events_carry_ddtrace_ids_inside_a_span_and_none_outside():
    """With ddtrace active, the event in a span has ddtrace's dd.trace_id/dd.span_id, last; outside, none."""
    env = {
        **os.environ,
        # ddtrace is real and enabled; its agent is a closed loopback port, so nothing leaves the host.
        "DD_TRACE_AGENT_URL": "http://127.0.0.1:9",
        "DD_INSTRUMENTATION_TELEMETRY_ENABLED": "false",
        "DD_REMOTE_CONFIGURATION_ENABLED": "false",
    }
    env.pop("CLAUDE_LOGGING_STRICT", None)
    result = subprocess.run(
        [sys.executable, "-c", APP], capture_output=True, text=True, env=env, timeout=120, check=True
    )

    ids = json.loads(next(line[4:] for line in result.stderr.splitlines() if line.startswith("IDS ")))
    inside, outside = (json.loads(line) for line in result.stdout.splitlines())
    assert ids["dd.trace_id"] != "0"
    assert (inside["dd.trace_id"], inside["dd.span_id"]) == (ids["dd.trace_id"], ids["dd.span_id"])
    assert list(inside)[-2:] == ["dd.trace_id", "dd.span_id"]
    assert "dd.trace_id" not in outside
    assert _schemas.to_flat(inside)["input_tokens"] == 5
    assert "dd.trace_id" not in _schemas.to_flat(inside)
