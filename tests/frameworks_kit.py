"""Shared tools of the framework tests: tool-use replies, the two ways to log, and the event checks.

Every framework test runs twice, once per way a user turns logging on without touching the
framework's client: `claude_logging.instrument()` for the whole process, or `@log_call` alone
around the framework call. Either way each API call the framework makes must give one event with
the request's model and max_tokens, the response's tokens, the HTTP status and the retries, and
the framework must see exactly what it sees without us (its result, or its own exception).
"""

from __future__ import annotations

import importlib
import json
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import claude_logging
from claude_logging.testing import Reply, raw, stream

if TYPE_CHECKING:
    from collections.abc import Iterator

MODEL = "claude-sonnet-4-6"

TOOL_INPUT_TOKENS = 42
TOOL_OUTPUT_TOKENS = 17


@contextmanager
def logged(way: str, **fields: Any) -> Iterator[None]:
    """A `log_call` scope around the framework call for the `log_call` way; nothing otherwise."""
    if way == "log_call":
        with claude_logging.log_call(**fields):
            yield
    else:
        yield


def tool_use(
    name: str,
    arguments: dict[str, Any],
    *,
    model: str = MODEL,
    input_tokens: int = TOOL_INPUT_TOKENS,
    output_tokens: int = TOOL_OUTPUT_TOKENS,
) -> Reply:
    """A Message whose only block calls the tool `name` with `arguments` (stop reason `tool_use`)."""
    payload = {
        "id": "msg_01ToolUseFake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "tool_use", "id": "toolu_01Fake", "name": name, "input": arguments}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0,
        },
    }
    return raw(200, json.dumps(payload).encode(), {"content-type": "application/json"})


def tool_use_stream(
    name: str,
    arguments: dict[str, Any],
    *,
    model: str = MODEL,
    input_tokens: int = TOOL_INPUT_TOKENS,
    output_tokens: int = TOOL_OUTPUT_TOKENS,
) -> Reply:
    """The same tool call as server-sent events, its JSON input in two `input_json_delta`s."""
    usage = {"input_tokens": input_tokens, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}
    start = {
        "id": "msg_01ToolUseStream",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": 1},
    }
    block = {"type": "tool_use", "id": "toolu_01Fake", "name": name, "input": {}}
    text = json.dumps(arguments)
    half = len(text) // 2
    events = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": block},
        *(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": p},
            }
            for p in (text[:half], text[half:])
        ),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": output_tokens},
        },
        {"type": "message_stop"},
    ]
    return stream(events=events)


def resolve(dotted: str) -> object:
    """The object a dotted name such as `anthropic.RateLimitError` names."""
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def check_success(
    event: dict[str, Any],
    *,
    max_tokens: int,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    streamed: bool = False,
    retries: int = 0,
) -> None:
    """One successful call's event: the request's model and limits, the response's tokens."""
    assert ("success", MODEL, max_tokens) == (event["outcome"], event["request_model"], event["max_tokens"])
    assert (200, None, retries) == (event["status_code"], event["error_type"], event["retries"])
    assert event["model"].startswith(MODEL)
    assert streamed == bool(event.get("stream"))
    if input_tokens is not None:
        assert input_tokens == event["input_tokens"]
    else:
        assert event["input_tokens"] > 0
    if output_tokens is not None:
        assert output_tokens == event["output_tokens"]
    else:
        assert event["output_tokens"] > 0
    assert event["request_id"].startswith("req_")


def check_api_error(
    event: dict[str, Any],
    raised: BaseException,
    *,
    way: str,
    status: int,
    retries: int,
    max_tokens: int,
) -> None:
    """One failed call's event: the API's status and error, and the class the caller saw.

    With `instrument()` the event is the SDK call's own, so `error_type` is the SDK's class; with a
    `log_call` scope around the framework it is the class the framework raised, and when that is
    not the SDK's own class `api_error_class` names the SDK's class of the API error under it.
    """
    api_class = {429: "anthropic.RateLimitError", 529: "anthropic.OverloadedError"}[status]
    api_type = {429: "rate_limit_error", 529: "overloaded_error"}[status]
    assert ("error", MODEL, max_tokens) == (event["outcome"], event["request_model"], event["max_tokens"])
    assert (status, api_type, retries) == (event["status_code"], event["api_error_type"], event["retries"])
    assert event["request_id"].startswith("req_")
    assert event["input_tokens"] is None
    if way == "instrument":
        assert (api_class, None) == (event["error_type"], event.get("api_error_class"))
        return
    # The name, not always the very class: pydantic-ai raises an HTTP subclass that it builds with
    # the same name as the public class it derives from, and only the public one can be imported.
    assert type(raised).__qualname__ == event["error_type"].rpartition(".")[2]
    assert isinstance(raised, resolve(event["error_type"]))
    expected_api_class = None if event["error_type"] == api_class else api_class
    assert expected_api_class == event.get("api_error_class")
