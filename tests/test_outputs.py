"""Outputs: stdout lines (checked in a real subprocess), stdlib logging, structlog."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest
import structlog
from conftest import ask

import claude_logging
from claude_logging import _config, _render, testing

SCRIPT_HEADER = """
import claude_logging
from claude_logging.testing import FakeAnthropicAPI, error, message, stream
api = FakeAnthropicAPI()
client = claude_logging.instrument(api.client(max_retries=0))
request = dict(model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": "hi"}])
"""


def run_script(
    body: str, *, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    """Run a Python script in a fresh interpreter; stdout and stderr as bytes."""
    code = SCRIPT_HEADER + textwrap.dedent(body)
    environment = {**os.environ, "CLAUDE_LOGGING_STRICT": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=timeout, env=environment, check=False
    )


def test_stdout_holds_exactly_one_json_line_per_call_and_nothing_else():
    """A real process: stdout is exactly the expected JSON lines, in the flat schema."""
    result = run_script(
        """
        client.messages.create(**request)
        try:
            api.enqueue(error(429))
            client.messages.create(**request)
        except Exception:
            pass
        api.enqueue(stream("a b c"))
        for _ in client.messages.create(stream=True, **request):
            pass
        """
    )

    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode("utf-8")
    lines = text.split("\n")
    assert lines[-1] == ""
    events = [json.loads(line) for line in lines[:-1]]
    assert [(e["outcome"], e["status_code"]) for e in events] == [
        ("success", 200),
        ("error", 429),
        ("success", 200),
    ]
    assert events[2]["stream"] is True
    assert all(e["event"] == "claude.call" for e in events)
    assert result.stderr == b""


def test_eight_threads_times_a_hundred_calls_give_eight_hundred_whole_lines():
    """800 concurrent calls through real stdout: 800 parseable lines, 800 distinct call ids."""
    result = run_script(
        """
        from concurrent.futures import ThreadPoolExecutor
        def work(index):
            with claude_logging.context(tenant_id=f"t{index % 8}"):
                client.messages.create(**request)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(work, range(800)))
        """
    )

    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.decode().splitlines()
    events = [json.loads(line) for line in lines]
    assert len(events) == 800
    assert len({e["call_id"] for e in events}) == 800
    assert {e["tenant_id"] for e in events} == {f"t{i}" for i in range(8)}


def test_eight_threads_times_a_hundred_calls_in_process(client, events):
    """The same load captured in process: exactly 800 events."""
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: ask(client), range(800)))

    assert len(events) == 800
    assert claude_logging.stats().internal_errors == 0


def test_logging_output_uses_the_claude_logging_logger_with_fields_as_attributes(client):
    """output="logging": a LogRecord on `claude_logging` with every field as an attribute."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("claude_logging")
    handler = Keep()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        claude_logging.configure(output="logging")
        with claude_logging.context(tenant_id="acme", name="extra-name"):
            ask(client)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)

    (record,) = records
    assert record.name == "claude_logging"
    assert record.levelno == logging.INFO
    assert record.tenant_id == "acme"
    assert record.outcome == "success"
    assert record.input_tokens > 0
    assert record.claude_name == "extra-name"  # a LogRecord attribute name is prefixed, not overwritten
    assert record.exc_info is None


def test_json_formatter_writes_the_same_line_as_the_stdout_output(client):
    """JsonFormatter on your own handler renders our events exactly as stdout would."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(claude_logging.JsonFormatter())
    logger = logging.getLogger("claude_logging")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        claude_logging.configure(output="logging")
        with testing.capture_events(passthrough=True) as events:
            ask(client)
        logging.getLogger("app").addHandler(handler)
        logging.getLogger("app").warning("an application record")
    finally:
        logger.removeHandler(handler)
        logging.getLogger("app").removeHandler(handler)
        logger.setLevel(logging.NOTSET)

    ours, theirs = stream.getvalue().splitlines()
    assert json.loads(ours) == events[0]
    assert json.loads(theirs)["message"] == "an application record"


def test_logging_output_respects_the_logger_level(client):
    """A disabled level drops our record (counted), never raises."""
    logger = logging.getLogger("claude_logging")
    logger.setLevel(logging.ERROR)
    try:
        claude_logging.configure(output="logging")
        ask(client)
    finally:
        logger.setLevel(logging.NOTSET)

    assert claude_logging.stats().dropped_by_reason == {"level_disabled": 1}


def test_structlog_output_goes_through_the_apps_processors(client):
    """output="structlog": the app's own processors see our event with its fields."""
    seen: list[dict[str, object]] = []

    def keep(logger: object, method: str, event_dict: dict[str, object]) -> dict[str, object]:
        seen.append({"method": method, **event_dict})
        raise structlog.DropEvent

    structlog.configure(processors=[keep])
    try:
        claude_logging.configure(output="structlog")
        with claude_logging.context(tenant_id="s"):
            ask(client)
    finally:
        structlog.reset_defaults()

    (entry,) = seen
    assert (entry["method"], entry["event"], entry["tenant_id"], entry["outcome"]) == (
        "info",
        "claude.call",
        "s",
        "success",
    )


def test_blocking_mode_writes_in_the_callers_thread(capfd, client):
    """configure(blocking=True): the line is on stdout when the call returns."""
    claude_logging.configure(blocking=True)

    ask(client)

    line = capfd.readouterr().out
    assert json.loads(line)["outcome"] == "success"


def test_lines_are_bounded_ascii_and_single(events):
    """Hostile values: the line stays one ASCII line under the cap."""
    cap = _config.current().max_line_bytes
    with claude_logging.log_call(tenant_id="a\nb\u2028c\ud800", note="x" * 100_000, blob=b"\xff" * 10):
        pass

    line = _render.encode_line(events[0], cap)
    assert line.isascii()
    assert "\n" not in line
    assert len(line) <= cap
    assert events[0]["tenant_id"] == "a\ufffdb\ufffdc\ufffd"
    assert "note" in events[0]["truncated"] or "note" not in events[0]


@pytest.mark.parametrize("schema", ["flat"])
def test_events_in_every_schema_parse_back_to_flat(schema, client, events):
    """to_flat(render(x)) gives the flat event back (the report reads any schema)."""
    from claude_logging import _schemas

    ask(client)

    assert _schemas.to_flat(events[0]) == events[0]
