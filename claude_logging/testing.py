"""Helpers for your own tests: capture events, and a fake Anthropic Messages API.

    from claude_logging.testing import FakeAnthropicAPI, capture_events, error

    api = FakeAnthropicAPI([error(429, retry_after=0.001)])
    client = claude_logging.instrument(api.client())
    with capture_events() as events:
        client.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=[...])
    assert events[0]["retries"] == 1

The fake speaks the real wire format, so the real SDK runs unchanged against it: point a client at
`api.client()` (in process) or at `api.url` inside `with FakeAnthropicAPI() as api:` (HTTP).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from claude_logging import _calls, _config, _guard, _outputs, _render, _targets
from claude_logging._fake_api import (
    DEFAULT_MODEL,
    ERROR_TYPES,
    FakeAnthropicAPI,
    ReceivedRequest,
    Reply,
    disconnect,
    error,
    message,
    raw,
    sse_events,
    stall,
    stream,
)
from claude_logging._writer import WORKER

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "DEFAULT_MODEL",
    "ERROR_TYPES",
    "FakeAnthropicAPI",
    "ReceivedRequest",
    "Reply",
    "capture_events",
    "disconnect",
    "error",
    "message",
    "raw",
    "reset",
    "sse_events",
    "stall",
    "stream",
]


@contextmanager
def capture_events(*, passthrough: bool = False) -> Iterator[list[dict[str, Any]]]:
    """Collect every event emitted inside the block as the dict its JSON line parses to.

    Events are rendered exactly as they would be written (schema, caps, sanitising). With
    `passthrough=True` they are also written to the configured output. Streams dropped inside
    the block are finished before it ends.
    """
    events: list[dict[str, Any]] = []

    def sink(record: dict[str, Any]) -> bool:
        line = _render.encode_line(record, _config.current().max_line_bytes)
        events.append(json.loads(line))
        return not passthrough

    _outputs.sinks.append(sink)
    try:
        yield events
    finally:
        WORKER.flush(_config.current().flush_timeout_s)
        _outputs.sinks.remove(sink)


def reset() -> None:
    """Back to a fresh process's state: settings from the environment, counters zeroed.

    Calls still in flight are forgotten without being written, and `instrument()` is undone.
    """
    WORKER.flush(1.0)
    _targets.reset()
    _calls._open.clear()
    _config.reset()
    _guard.reset()
