"""Shared fixtures: strict mode, a fresh library state per test, and the fake Messages API."""

from __future__ import annotations

import gc
import os

# Our own tests run in strict mode: an internal error of the library fails the test.
os.environ["CLAUDE_LOGGING_STRICT"] = "1"

from typing import TYPE_CHECKING, Any

import pytest
from harness import Output
from hypothesis import HealthCheck, settings

import claude_logging
from claude_logging import testing

if TYPE_CHECKING:
    from collections.abc import Iterator

MODEL = "claude-sonnet-4-6"
MESSAGES = [{"role": "user", "content": "Hello, Claude"}]


def ask(client: Any, **overrides: Any) -> Any:
    """A typical `messages.create` call; keyword arguments override the request."""
    request: dict[str, Any] = {"model": MODEL, "max_tokens": 256, "messages": MESSAGES}
    request.update(overrides)
    return client.messages.create(**request)


@pytest.fixture(autouse=True)
def _fresh_library() -> Iterator[None]:
    """Every test starts from a fresh process's settings and counters."""
    testing.reset()
    yield
    claude_logging.flush(2.0)
    testing.reset()


@pytest.fixture
def api() -> testing.FakeAnthropicAPI:
    """The fake Messages API, used in process (no sockets)."""
    return testing.FakeAnthropicAPI()


@pytest.fixture
def server() -> Iterator[testing.FakeAnthropicAPI]:
    """The fake Messages API served over HTTP on 127.0.0.1."""
    with testing.FakeAnthropicAPI() as fake:
        yield fake


@pytest.fixture
def client(api: testing.FakeAnthropicAPI) -> Any:
    """An instrumented sync client on the in-process fake."""
    return claude_logging.instrument(api.client(max_retries=2))


@pytest.fixture
def async_client(api: testing.FakeAnthropicAPI) -> Any:
    """An instrumented async client on the in-process fake."""
    return claude_logging.instrument(api.async_client(max_retries=2))


@pytest.fixture(params=["instrument", "log_call"])
def way(request: pytest.FixtureRequest) -> Iterator[str]:
    """How a framework test turns logging on without touching the framework's client.

    `instrument`: `claude_logging.instrument()` for the whole process (undone after the test);
    `log_call`: nothing here, the test wraps the framework call in a scope (`frameworks_kit.logged`).
    """
    if request.param == "instrument":
        claude_logging.instrument()
        try:
            yield request.param
        finally:
            claude_logging.uninstrument()
    else:
        yield request.param


@pytest.fixture
def events() -> Iterator[list[dict[str, Any]]]:
    """The events emitted during the test, as parsed JSON lines."""
    with testing.capture_events() as captured:
        yield captured


# -- the fault matrix and the properties ----------------------------------------------------------

settings.register_profile(
    "ci",
    # Bounded for a 2-core CI machine; the whole suite must stay within its time limit.
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", max_examples=2_000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session", autouse=True)
def _frozen_import_heap() -> Iterator[None]:
    """Move what imports allocated out of the collector's way, once per session.

    Fault tests call `gc.collect()` to finish dropped streams; a full pass over the SDK's and
    pydantic's import-time objects costs about 0.25 s, over what the tests themselves made ~1 ms.
    """
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture
def out(capfd: pytest.CaptureFixture[str]) -> Iterator[Output]:
    """Events of the test, also written to the real stdout, to check stdout and stderr with."""
    with testing.capture_events(passthrough=True) as captured:
        yield Output(capfd, captured)
