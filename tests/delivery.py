"""Tools of the delivery tests: run an application in a real subprocess and read what it wrote.

Every child starts with `PRELUDE`, which registers a reporter with `atexit` before importing
claude_logging: `atexit` runs handlers last-in first-out, so the reporter runs after the library's
exit drain and prints the final `stats()` as a `STATS {...}` line on stderr. The guarantee checked
everywhere: every line on stdout is one strict JSON object (never half a line), and lines written
plus drops counted equal the calls finished.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

PRELUDE = """
import atexit, json, os, sys

def _report_stats():
    import claude_logging
    stats = claude_logging.stats()
    line = {"pid": os.getpid(), "emitted": stats.emitted, "dropped": stats.dropped,
            "reasons": stats.dropped_by_reason}
    os.write(2, ("STATS " + json.dumps(line) + "\\n").encode())

atexit.register(_report_stats)  # registered before claude_logging's drain, so it runs after it

_reporting = []


def report_at_child_exit(util):
    # In a multiprocessing or billiard child (`util` its package's util), once: the final counts
    # from a finaliser that runs after claude_logging's own (priority -1000).
    if os.getpid() not in _reporting:
        _reporting.append(os.getpid())
        util.Finalize(None, _report_stats, exitpriority=-10**6)


import anthropic
import claude_logging
from claude_logging.testing import FakeAnthropicAPI

BIG = "x" * 5_000
\"\"\"A prompt that, captured, makes a line longer than one atomic pipe write: such lines always
go through the queue and the writer thread, so they test the exit paths.\"\"\"


def make_client(url):
    return claude_logging.instrument(anthropic.Anthropic(api_key="k", base_url=url, max_retries=0))


def call(client, big=False):
    if big:
        claude_logging.configure(capture_content=True, max_content_chars=6_000)
    client.messages.create(
        model="claude-sonnet-4-6", max_tokens=16,
        messages=[{"role": "user", "content": BIG if big else "hi"}],
    )
"""


@dataclass
class Run:
    """What a child wrote: its stdout lines parsed strictly, its stderr, its exit code."""

    returncode: int
    events: list[dict[str, Any]]
    stderr: str
    stats: list[dict[str, Any]] = field(default_factory=list)

    @property
    def dropped(self) -> int:
        """Drops counted by every process that reported."""
        return sum(int(s["dropped"]) for s in self.stats)


def record(calls: int, events: int, dropped: int) -> None:
    """Add the current test's figures to `$CLAUDE_LOGGING_DELIVERY_TABLE`, when it is set.

    That is how `python benchmarks/delivery_table.py` measures the table in docs/guarantees.md.
    """
    path = os.environ.get("CLAUDE_LOGGING_DELIVERY_TABLE")
    if path:
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").split("::")[-1].split(" ")[0]
        row = {"test": test, "calls": calls, "events": events, "dropped": dropped}
        with Path(path).open("a", encoding="utf-8") as table:
            table.write(json.dumps(row) + "\n")


def _no_constant(name: str) -> object:
    raise ValueError(f"not strict JSON: {name}")


def parse(stdout: bytes) -> list[dict[str, Any]]:
    """Every line of `stdout` as one strict JSON object; fails on a half or foreign line."""
    text = stdout.decode("utf-8")
    assert text == "" or text.endswith("\n"), f"stdout ends with half a line: {text[-200:]!r}"
    events = []
    for line in text.splitlines():
        event = json.loads(line, parse_constant=_no_constant)
        assert isinstance(event, dict)
        events.append(event)
    return events


def stats_lines(stderr: str) -> list[dict[str, Any]]:
    """The last `STATS {...}` line of each process.

    A child may report more than once: on 3.13 a forkserver child also runs the `atexit` handlers
    that re-importing the main module registered.
    """
    last: dict[int, dict[str, Any]] = {}
    for line in stderr.splitlines():
        if line.startswith("STATS "):
            stats = json.loads(line[6:])
            last[stats["pid"]] = stats
    return list(last.values())


def write_script(directory: Path, body: str, name: str = "app.py") -> Path:
    """`PRELUDE` plus `body` as a file (multiprocessing's spawn and forkserver re-import it)."""
    path = directory / name
    path.write_text(PRELUDE + textwrap.dedent(body))
    return path


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child: strict mode, and this interpreter's import path."""
    env = {**os.environ, "CLAUDE_LOGGING_STRICT": "1", **extra}
    env.pop("PYTHONWARNINGS", None)
    return env


def run_script(directory: Path, body: str, *, timeout: float = 120, **env: str) -> Run:
    """Run `PRELUDE + body` to its end (bounded by `timeout`) and parse what it wrote."""
    path = write_script(directory, body)
    result = subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        timeout=timeout,
        cwd=directory,
        env=child_env(**env),
        check=False,
    )
    stderr = result.stderr.decode("utf-8", "replace")
    return Run(result.returncode, parse(result.stdout), stderr, stats_lines(stderr))


def start_script(directory: Path, body: str, **env: str) -> subprocess.Popen[bytes]:
    """Start `PRELUDE + body` in its own session, stdout and stderr piped (use it in `with`).

    Its own session, so that a test can kill the child and every worker it started at once.
    """
    path = write_script(directory, body)
    return subprocess.Popen(
        [sys.executable, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=directory,
        env=child_env(**env),
        start_new_session=True,
    )


def read_in_background(stream: IO[bytes]) -> Callable[[], bytes]:
    """Read `stream` to its end on a thread; the returned function waits (30 s at most) for it."""
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(stream.read()))
    reader.start()

    def result() -> bytes:
        reader.join(30)
        return b"".join(chunks)

    return result


def run_script_read_slowly(
    directory: Path, body: str, *, pause_s: float, timeout: float = 120, **env: str
) -> Run:
    """As `run_script`, but stdout is read a line at a time with a pause: the pipe fills up.

    On `timeout` the child's whole session is killed (no worker of it is left behind) and the test
    fails with what it wrote.
    """
    with start_script(directory, body, **env) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        errors = read_in_background(child.stderr)
        timer = threading.Timer(timeout, os.killpg, (child.pid, signal.SIGKILL))
        timer.start()
        received = bytearray()
        try:
            while line := child.stdout.readline():
                received += line
                time.sleep(pause_s)
            child.wait()
        finally:
            timer.cancel()
            stderr = errors().decode("utf-8", "replace")
    assert child.returncode != -signal.SIGKILL, f"still running after {timeout}s: {stderr[-3000:]}"
    return Run(child.returncode, parse(bytes(received)), stderr, stats_lines(stderr))
