"""Shared tools of the fault matrix and the property tests: sentinels, spies, SSE scripts, checks.

Every matrix row checks three things: exactly one event with the right outcome; the caller sees
what an uninstrumented client would show (the very same object or exception); and stdout plus
stderr hold no key or prompt sentinel and no line over the cap. `Output` checks the third on the
real stdout path (the background writer writing to file descriptor 1, captured by `capfd`).
"""

from __future__ import annotations

import gc
import inspect
import json
import re
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import claude_logging
from claude_logging import _calls, _config, _outputs, _render
from claude_logging._event import OUTCOMES
from claude_logging._writer import WORKER

if TYPE_CHECKING:
    from collections.abc import Iterator

    from claude_logging.testing import FakeAnthropicAPI

KEY = "KEY-SENTINEL-5b1e9c0d"
"""The API key of every fault test: never collected, so it must never appear (it is not masked: it
does not look like a key, so masking cannot hide a leak)."""
PROMPT = "PROMPT-SENTINEL-a7c3f1"
"""Placed in `system` and `messages`: content capture is off, so it must never appear."""
SENTINELS = (KEY, PROMPT)

MODEL = "claude-sonnet-4-6"
MESSAGES = [{"role": "user", "content": f"Summarise this: {PROMPT}"}]


def request(**overrides: Any) -> dict[str, Any]:
    """The keyword arguments of a typical `messages.create` carrying the prompt sentinel."""
    kwargs: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 256,
        "system": f"You are terse. {PROMPT}",
        "messages": MESSAGES,
    }
    kwargs.update(overrides)
    return kwargs


def clients(api: FakeAnthropicAPI, *, asynchronous: bool = False, **options: Any) -> tuple[Any, Any]:
    """A plain and an instrumented client on the same fake, both with the key sentinel."""
    options.setdefault("max_retries", 0)
    make = api.async_client if asynchronous else api.client
    plain = make(api_key=KEY, **options)
    instrumented = claude_logging.instrument(make(api_key=KEY, **options))
    return plain, instrumented


class Spy:
    """What the SDK's own `request()` returned or raised, seen from under our instrumentation.

    Installed on the client before `instrument()`, so our wrapper calls the spy, which calls the
    SDK: the object the spy saw is the object the SDK produced, and the caller must get that one.
    """

    def __init__(self, client: Any) -> None:
        """Spy on `client.request` (sync or async); instrument the client afterwards."""
        self.returned: list[object] = []
        self.raised: list[BaseException] = []
        original = client.request
        if inspect.iscoroutinefunction(original):

            async def spy_async(*args: Any, **kwargs: Any) -> Any:
                try:
                    result = await original(*args, **kwargs)
                except BaseException as exc:
                    self.raised.append(exc)
                    raise
                self.returned.append(result)
                return result

            vars(client)["request"] = spy_async
        else:

            def spy(*args: Any, **kwargs: Any) -> Any:
                try:
                    result = original(*args, **kwargs)
                except BaseException as exc:
                    self.raised.append(exc)
                    raise
                self.returned.append(result)
                return result

            vars(client)["request"] = spy


def spied(api: FakeAnthropicAPI, *, asynchronous: bool = False, **options: Any) -> tuple[Any, Spy]:
    """An instrumented client whose SDK `request()` is spied on, with the key sentinel."""
    options.setdefault("max_retries", 0)
    make = api.async_client if asynchronous else api.client
    client = make(api_key=KEY, **options)
    spy = Spy(client)
    return claude_logging.instrument(client), spy


def status_errors_made(client: Any) -> list[BaseException]:
    """Record every status error the SDK builds for `client` (including mid-stream `error` events)."""
    made: list[BaseException] = []
    original = client._make_status_error

    def make(*args: Any, **kwargs: Any) -> Any:
        exc = original(*args, **kwargs)
        made.append(exc)
        return exc

    vars(client)["_make_status_error"] = make
    return made


def tail(traceback: Any) -> list[tuple[str, str]]:
    """The innermost frames of a pytest traceback, up to (excluding) the first of ours or a spy's."""
    frames: list[tuple[str, str]] = []
    for entry in reversed(list(traceback)):
        path = Path(str(entry.path))
        if "claude_logging" in path.parts or path.name == "harness.py":
            break
        frames.append((path.name, entry.name))
    return frames


def shape(exc: BaseException) -> tuple[object, ...]:
    """What a caller can observe of an exception, minus the per-request ids."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        body = {key: value for key, value in body.items() if key != "request_id"}
    return (
        type(exc),
        getattr(exc, "status_code", None),
        getattr(exc, "type", None),
        body,
        type(exc.__cause__),
        type(exc.__context__),
        exc.__suppress_context__,
    )


# -- server-sent event scripts ----------------------------------------------------------------------


def sse(events: list[dict[str, Any]]) -> bytes:
    """The wire bytes of `events`, each as `event: <type>` and one `data:` line."""
    return b"".join(
        f"event: {event.get('type', 'unknown')}\ndata: {json.dumps(event)}\n\n".encode() for event in events
    )


def start_event(
    input_tokens: int | None = 10,
    output_tokens: int | None = 1,
    *,
    model: str = "claude-sonnet-4-6-20260101",
    **usage: Any,
) -> dict[str, Any]:
    """A `message_start` with the usage given."""
    return {
        "type": "message_start",
        "message": {
            "id": "msg_fault",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens, **usage},
        },
    }


def text_block(index: int, words: list[str]) -> list[dict[str, Any]]:
    """A text content block: start, one delta per word, stop."""
    return [
        {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
        *(
            {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": word}}
            for word in words
        ),
        {"type": "content_block_stop", "index": index},
    ]


def delta_event(stop_reason: str | None = "end_turn", **usage: Any) -> dict[str, Any]:
    """A `message_delta` with a stop reason and the (cumulative) usage given."""
    return {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": usage,
    }


STOP: dict[str, Any] = {"type": "message_stop"}
PING: dict[str, Any] = {"type": "ping"}


SSE_HEADERS = {"content-type": "text/event-stream"}
JSON_HEADERS = {"content-type": "application/json"}


# -- what reached stdout and stderr ---------------------------------------------------------------


def _no_constants(name: str) -> object:
    raise ValueError(f"not RFC 8259 JSON: {name}")


def strict_json(line: str) -> Any:
    """Parse `line` as RFC 8259 JSON: NaN and Infinity are errors."""
    return json.loads(line, parse_constant=_no_constants)


class Output:
    """The events of a test, checked against what reached the real stdout and stderr."""

    def __init__(self, capfd: Any, events: list[dict[str, Any]]) -> None:
        """Watch `capfd` (file descriptors 1 and 2) and the events captured with passthrough."""
        self._capfd = capfd
        self.events = events
        self.stdout = ""
        self.stderr = ""

    def settle(self) -> list[dict[str, Any]]:
        """Finish dropped streams, flush, and check stdout and stderr; the events so far."""
        gc.collect()
        claude_logging.flush()
        captured = self._capfd.readouterr()
        self.stdout += captured.out
        self.stderr += captured.err
        cap = _config.current().max_line_bytes
        lines = self.stdout.splitlines()
        for line in lines:
            assert len(line.encode("utf-8")) <= cap, f"line of {len(line)} bytes over the cap {cap}"
        assert [strict_json(line) for line in lines] == self.events
        for sentinel in SENTINELS:
            assert sentinel not in self.stdout, f"{sentinel} leaked to stdout"
            assert sentinel not in self.stderr, f"{sentinel} leaked to stderr"
        return list(self.events)

    def one(self, outcome: str | None = None) -> dict[str, Any]:
        """The one event of the test (checked as `settle` does), with `outcome` if given."""
        events = self.settle()
        assert len(events) == 1, f"expected exactly one event, got {events}"
        (event,) = events
        if outcome is not None:
            assert event["outcome"] == outcome, event
        return event


# -- the oracle for usage ---------------------------------------------------------------------------

USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


def sane(value: object) -> int | None:
    """What the event may say for a count the SDK holds: the count if it is sane, else unknown."""
    return value if type(value) is int and 0 <= value < 2**53 else None


def usage_of(usage: object) -> dict[str, int | None]:
    """The four counts of the event that an SDK `Usage` (or None: no usage at all) stands for."""
    return {name: sane(getattr(usage, name, None)) for name in USAGE_FIELDS}


def logged_usage(event: dict[str, Any]) -> dict[str, int | None]:
    """The four counts an event holds."""
    return {name: event[name] for name in USAGE_FIELDS}


def visible(items: list[Any]) -> list[Any]:
    """What a caller can compare of the items a stream yielded (unknown shapes included, quietly)."""
    return [item.to_dict(warnings=False) if hasattr(item, "to_dict") else item for item in items]


# -- lines as the stdout output writes them (for hypothesis, which cannot use capfd) -------------------

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


@contextmanager
def lines() -> Iterator[list[str]]:
    """The JSON lines (exactly as the stdout output writes them) of the events emitted inside.

    Dropped streams are finished before the block ends; background errors (strict mode) raise.
    """
    written: list[str] = []

    def sink(record: dict[str, Any]) -> bool:
        written.append(_render.encode_line(record, _config.current().max_line_bytes))
        return True

    _outputs.sinks.append(sink)
    try:
        yield written
    finally:
        WORKER.flush(2.0)
        if _calls.in_flight():
            # A dropped stream held in a reference cycle: collect it (a full pass is slow late in
            # a long run, so only when a call is still open).
            gc.collect()
        WORKER.flush(2.0)
        _outputs.sinks.remove(sink)
        claude_logging.flush()


def check_line(line: str) -> dict[str, Any]:
    """One RFC 8259 line of ASCII under the cap, with the core fields intact; parsed."""
    assert "\n" not in line
    assert "\r" not in line
    assert line.isascii()
    assert len(line) <= _config.current().max_line_bytes
    event = strict_json(line)
    assert event["event"] == "claude.call"
    assert event["outcome"] in OUTCOMES
    assert TIMESTAMP.fullmatch(event["timestamp"])
    assert re.fullmatch(r"[0-9a-f]{16}", event["call_id"])
    return event
