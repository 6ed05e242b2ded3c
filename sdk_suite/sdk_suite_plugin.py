"""pytest plugin: run the anthropic SDK's own test suite with claude_logging active.

Loaded with `-p sdk_suite_plugin --claude-logging-mode MODE` (the runner, `sdk_suite/run.py`,
puts this folder on PYTHONPATH). Modes:

- `plain`: nothing; claude_logging is not even imported. The reference run.
- `client`: every SDK client is passed to `claude_logging.instrument(client)` right after its
  construction (the `__init__` of every client class the SDK ships is wrapped, so clients built
  by fixtures, by `copy()` and inside the SDK are all covered).
- `client-noop`: the same `__init__` wrapping with nothing called: proves the wrapping alone
  changes no test result (a check of this referee, not of the library).
- `global`: `claude_logging.instrument()` with no argument, once, at session start.
- `scope`: `global`, and every test function runs inside `claude_logging.log_call` (its
  decorator form, so `async def` tests get the async wrapper).

Events go through `configure(output="logging")` to a file (one per process, in
`--claude-logging-events DIR`), never to stdout: the default stdout writer writes file
descriptor 1 from a background thread, which `capsys`/`capfd` tests would see at random, and the
`claude_logging` logger is detached from the root logger so `caplog` tests do not see our records
either. The file also shows that instrumentation was active: the runner counts its lines.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Generator

MODES = ("plain", "client", "client-noop", "global", "scope")
LOGGER_NAME = "claude_logging"

_construction = threading.local()


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--claude-logging-mode` and `--claude-logging-events`."""
    group = parser.getgroup("claude-logging", "claude_logging active during the SDK's own tests")
    group.addoption("--claude-logging-mode", choices=MODES, default="plain", help="what is instrumented")
    group.addoption("--claude-logging-events", default=None, help="directory for events and stats files")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Activate the mode before any test module (and any client) is imported."""
    mode = config.getoption("--claude-logging-mode")
    if mode == "plain":
        return
    if mode == "client-noop":
        _wrap_client_inits(lambda _client: None)
        return
    import claude_logging

    _route_events(claude_logging, config.getoption("--claude-logging-events"))
    if mode == "client":
        _wrap_client_inits(claude_logging.instrument)
        return
    _instrument_every_client(claude_logging)
    if mode == "scope":
        config.pluginmanager.register(ScopePerTest(claude_logging.log_call), "claude-logging-scope")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Flush what is queued and leave this process's counters beside its events."""
    directory = config.getoption("--claude-logging-events")
    if config.getoption("--claude-logging-mode") in ("plain", "client-noop") or not directory:
        return
    import claude_logging

    claude_logging.flush(5.0)
    stats = claude_logging.stats()
    record = {
        "emitted": stats.emitted,
        "dropped": stats.dropped,
        "internal_errors": stats.internal_errors,
        "dropped_by_reason": stats.dropped_by_reason,
        "claude_logging": str(Path(claude_logging.__file__).parent),
    }
    path = Path(directory) / f"stats-{os.getpid()}.json"
    path.write_text(json.dumps(record), encoding="utf-8")


def _route_events(claude_logging: Any, directory: str | None) -> None:
    """Events (and our own warnings) to a file, away from stdout, stderr and `caplog`."""
    claude_logging.configure(output="logging")
    logger = logging.getLogger(LOGGER_NAME)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    if directory is None:
        logger.addHandler(logging.NullHandler())
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(Path(directory) / f"events-{os.getpid()}.ndjson", encoding="utf-8")
    handler.setFormatter(claude_logging.JsonFormatter())
    logger.addHandler(handler)


def _instrument_every_client(claude_logging: Any) -> None:
    try:
        claude_logging.instrument()
    except TypeError as exc:
        raise pytest.UsageError(
            "claude-logging mode 'global' (and 'scope') needs claude_logging.instrument() with no "
            f"argument (every client in the process); the claude_logging at "
            f"{Path(claude_logging.__file__).parent} does not have it: TypeError: {exc}"
        ) from exc


def client_classes() -> list[type]:
    """Every client class the installed SDK ships: Anthropic, AsyncAnthropic and each platform's."""
    import importlib

    from anthropic._base_client import AsyncAPIClient, SyncAPIClient

    for name in ("bedrock", "vertex", "foundry", "aws", "google_cloud"):
        try:
            importlib.import_module(f"anthropic.lib.{name}")
        except ImportError:
            pass
    found: list[type] = []
    pending: list[type] = [SyncAPIClient, AsyncAPIClient]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub not in found and sub.__module__.startswith("anthropic"):
                found.append(sub)
                pending.append(sub)
    return [cls for cls in found if "__init__" in vars(cls)]


def _wrap_client_inits(on_client: Callable[[Any], object]) -> None:
    """Call `on_client(client)` once per client, when its outermost `__init__` returns."""
    for cls in client_classes():
        cls.__init__ = _constructing(cls.__init__, on_client)  # type: ignore[misc]


def _constructing(original: Callable[..., None], on_client: Callable[[Any], object]) -> Callable[..., None]:
    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807 - it replaces __init__
        depth = getattr(_construction, "depth", 0)
        _construction.depth = depth + 1
        try:
            original(self, *args, **kwargs)
        finally:
            _construction.depth = depth
        if depth == 0:  # a subclass's __init__ calling super().__init__ is one construction
            on_client(self)

    return __init__


class ScopePerTest:
    """Runs every test function inside `log_call`, as a user's decorated function would run."""

    def __init__(self, log_call: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
        """Keep the decorator to apply."""
        self._log_call = log_call

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        """Swap the test function for its decorated form for the duration of the call."""
        if not isinstance(item, pytest.Function):
            yield
            return
        original = item.obj
        item.obj = self._log_call(original)
        try:
            yield
        finally:
            item.obj = original
