"""Fault matrix, group D: the output fails, the application does not notice."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
import time

import pytest
import structlog
from conftest import ask

import claude_logging

CHILD_HEADER = """
import json, sys, time
import claude_logging
from claude_logging.testing import FakeAnthropicAPI
api = FakeAnthropicAPI()
client = claude_logging.instrument(api.client(max_retries=0))
request = dict(model="claude-sonnet-4-6", max_tokens=16, messages=[{"role": "user", "content": "hi"}])
"""


def start_child(body: str) -> subprocess.Popen[bytes]:
    """A Python child whose stdout, stderr and stdin are pipes we control."""
    code = CHILD_HEADER + textwrap.dedent(body)
    return subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "CLAUDE_LOGGING_STRICT": "1"},
    )


def finish(child: subprocess.Popen[bytes]) -> str:
    """Wait for the child, close its pipes, return its stderr."""
    child.wait(timeout=60)
    stderr = child.stderr.read().decode() if child.stderr else ""
    for pipe in (child.stdin, child.stdout, child.stderr):
        if pipe is not None and not pipe.closed:
            pipe.close()
    return stderr


def result_lines(text: str) -> list[dict[str, object]]:
    """The child's `RESULT {...}` lines (stderr also carries our one-time warnings)."""
    return [json.loads(line[7:]) for line in text.splitlines() if line.startswith("RESULT ")]


def test_closed_stdout_is_one_warning_and_every_call_still_returns():
    """Row D1: the reader closes stdout after one line; later events are counted, warned once."""
    child = start_child(
        """
        client.messages.create(**request)
        claude_logging.flush()
        sys.stdin.readline()                      # wait until the parent has closed our stdout
        results = [client.messages.create(**request) for _ in range(300)]
        claude_logging.flush()
        stats = claude_logging.stats()
        print(json.dumps({"returned": len(results), "dropped": stats.dropped,
                          "reasons": stats.dropped_by_reason}), file=sys.stderr)
        """
    )
    assert child.stdout is not None
    assert child.stdin is not None
    first = child.stdout.readline()
    child.stdout.close()
    child.stdin.write(b"go\n")
    child.stdin.close()
    stderr = finish(child)

    assert json.loads(first)["outcome"] == "success"
    assert child.returncode == 0, stderr
    summary = json.loads(stderr.strip().splitlines()[-1])
    assert summary["returned"] == 300
    assert summary["dropped"] == 300
    assert summary["reasons"] == {"sink_error": 300}
    assert stderr.count("cannot write to stdout") == 1
    assert "Traceback" not in stderr


def test_stalled_stdout_never_blocks_calls_and_reports_drops_when_it_resumes():
    """Row D2: nobody reads stdout; calls stay fast, the oldest events drop, the count appears later."""
    child = start_child(
        """
        import threading
        claude_logging.configure(buffer_size=200)
        slowest = 0.0
        def burst(n):
            global slowest
            for _ in range(n):
                started = time.perf_counter()
                client.messages.create(**request)
                slowest = max(slowest, time.perf_counter() - started)
        other = threading.Thread(target=burst, args=(1000,))
        other.start()
        burst(4000)
        other.join()
        report = {"slowest_s": slowest, "stats": claude_logging.stats().dropped}
        print("RESULT " + json.dumps(report), file=sys.stderr, flush=True)
        sys.stdin.readline()                      # the parent starts reading now
        claude_logging.flush(20)
        stats = claude_logging.stats()
        report = {"emitted": stats.emitted, "dropped": stats.dropped}
        print("RESULT " + json.dumps(report), file=sys.stderr, flush=True)
        """
    )
    assert child.stderr is not None
    assert child.stdin is not None
    assert child.stdout is not None
    while not (line := child.stderr.readline().decode()).startswith("RESULT "):
        assert line, "the child ended before reporting"
    during = result_lines(line)[0]
    child.stdin.write(b"go\n")
    child.stdin.close()
    lines = child.stdout.read().decode().splitlines()
    after = result_lines(finish(child))[0]

    assert child.returncode == 0
    assert during["slowest_s"] < 0.5  # a stalled pipe never holds a call up
    assert during["stats"] > 0
    events = [json.loads(line) for line in lines]
    assert after["emitted"] == len(events)
    assert after["emitted"] + after["dropped"] == 5000
    assert sum(e.get("dropped_events", 0) for e in events) == after["dropped"]


def test_stdout_none_closed_or_replaced_is_counted_and_calls_are_unaffected(client, monkeypatch):
    """Row D3: sys.stdout None, closed, or replaced mid-run: drops counted, calls return."""
    monkeypatch.setattr(sys, "stdout", None)
    ask(client)
    claude_logging.flush()

    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stdout", closed)
    ask(client)
    claude_logging.flush()

    replacement = io.StringIO()
    monkeypatch.setattr(sys, "stdout", replacement)
    ask(client)
    claude_logging.flush()

    assert claude_logging.stats().dropped_by_reason == {"sink_error": 2}
    assert json.loads(replacement.getvalue())["outcome"] == "success"


class Explodes(logging.Handler):
    """A user's handler whose filter raises (stdlib lets that propagate into the logging call)."""

    def filter(self, record: logging.LogRecord) -> bool:
        raise RuntimeError("broken filter")

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - never reached
        pass


def test_a_raising_handler_filter_drops_our_event_only(client):
    """Row D4: a user's handler filter that raises: the event is counted as dropped, the call returns."""
    logger = logging.getLogger("claude_logging")
    handler = Explodes()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        claude_logging.configure(output="logging")
        result = ask(client)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)

    assert result.type == "message"
    assert claude_logging.stats().dropped_by_reason == {"output_error": 1}


def test_a_raising_structlog_processor_drops_our_event_only(client):
    """Row D5: a structlog processor that raises: counted, the call returns normally."""

    def broken(logger: object, method: str, event_dict: dict[str, object]) -> dict[str, object]:
        raise KeyError("misconfigured")

    structlog.configure(processors=[broken])
    try:
        claude_logging.configure(output="structlog")
        result = ask(client)
    finally:
        structlog.reset_defaults()

    assert result.type == "message"
    assert claude_logging.stats().dropped_by_reason == {"output_error": 1}


@pytest.mark.parametrize("setup", ["no_handler", "disabled", "level"])
def test_logging_output_without_a_taker_counts_and_never_raises(setup, client):
    """Row D6: no handler, a disabled logger, a level above INFO: counted drops, no exception."""
    logger = logging.getLogger("claude_logging")
    root_handlers = logging.root.handlers[:]
    logging.root.handlers.clear()
    keep = logging.NullHandler()
    logger.setLevel(logging.INFO)
    if setup != "no_handler":
        logger.addHandler(keep)
    if setup == "disabled":
        logger.disabled = True
    if setup == "level":
        logger.setLevel(logging.ERROR)
    try:
        claude_logging.configure(output="logging")
        ask(client)
    finally:
        logging.root.handlers[:] = root_handlers
        logger.removeHandler(keep)
        logger.disabled = False
        logger.setLevel(logging.NOTSET)

    expected = "no_handler" if setup == "no_handler" else "level_disabled"
    assert claude_logging.stats().dropped_by_reason == {expected: 1}


def test_a_failing_sink_is_counted_and_the_writer_keeps_going(client, monkeypatch, capfd):
    """Row E7: the sink raises an unexpected error; the batch is counted and later lines still go out."""
    from claude_logging import _writer

    real = _writer._write_stdout
    calls = []

    def flaky(where, data: bytes) -> None:
        calls.append(data)
        if len(calls) == 1:
            raise RuntimeError("injected sink failure")
        real(where, data)

    monkeypatch.setattr(_writer, "_write_stdout", flaky)
    claude_logging.configure(strict=False)
    ask(client)
    claude_logging.flush()
    ask(client)
    claude_logging.flush()

    lines = capfd.readouterr().out.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["dropped_events"] == 1
    stats = claude_logging.stats()
    assert (stats.emitted, stats.dropped, stats.internal_errors) == (1, 1, 1)


def test_the_writer_thread_is_restarted_if_it_is_gone(client, capfd):
    """Row E7: a dead worker thread is replaced on the next write."""
    from claude_logging._writer import WORKER

    ask(client)
    claude_logging.flush()
    thread = WORKER._thread
    assert thread is not None
    WORKER._thread = None  # as after a crash or a fork: no live worker
    started = time.perf_counter()
    ask(client)
    assert claude_logging.flush(5)

    assert WORKER._thread is not thread
    assert len(capfd.readouterr().out.splitlines()) == 2
    assert time.perf_counter() - started < 5
