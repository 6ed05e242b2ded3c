"""Differential byte-level fuzz of SSE and JSON response bodies.

Valid bodies are mutated at the byte level (truncated, bytes flipped or deleted, ranges
duplicated, events reordered, bad JSON, injected `error` events, huge data lines, invalid UTF-8,
other line endings), then the same bytes go through a plain and an instrumented client. The
instrumented one must show exactly what the plain one shows (items, result or exception) and
write exactly one valid line, with the outcome the caller's view implies.

The tests are ordinary hypothesis tests (run in CI under the `ci` profile). Each is also a target
that a coverage-guided fuzzer can drive outside CI, through hypothesis's `fuzz_one_input`:

    pip install atheris
    CLAUDE_LOGGING_STRICT=1 python tests/test_fuzz.py sse  -max_total_time=600
    CLAUDE_LOGGING_STRICT=1 python tests/test_fuzz.py json -max_total_time=600

Without atheris, `python tests/test_fuzz.py sse` runs the target under the `dev` profile.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))  # run as a script (the fuzzer) as well as by pytest

from harness import (
    KEY,
    PING,
    SSE_HEADERS,
    STOP,
    check_line,
    delta_event,
    lines,
    request,
    shape,
    sse,
    start_event,
    text_block,
    visible,
)

import claude_logging

TOOL_BLOCK = [
    {
        "type": "content_block_start",
        "index": 1,
        "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
    },
    {
        "type": "content_block_delta",
        "index": 1,
        "delta": {"type": "input_json_delta", "partial_json": '{"a": '},
    },
    {
        "type": "content_block_delta",
        "index": 1,
        "delta": {"type": "input_json_delta", "partial_json": "[1, 2]}"},
    },
    {"type": "content_block_stop", "index": 1},
]
SCRIPTS = [
    [
        start_event(10, 1, cache_read_input_tokens=4),
        PING,
        *text_block(0, ["Hel", "lo"]),
        delta_event(output_tokens=42),
        STOP,
    ],
    [
        start_event(7, 1),
        *text_block(0, ["a"]),
        *TOOL_BLOCK,
        delta_event("tool_use", output_tokens=9, input_tokens=8),
        STOP,
    ],
    [start_event(3, 1), {"type": "future_event"}, delta_event(output_tokens=2), STOP],
]
ERROR_EVENT = sse([{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}])
MESSAGE = {
    "id": "msg_fuzz",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-6-20260101",
    "content": [{"type": "text", "text": "hi"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 5, "output_tokens": 6, "cache_read_input_tokens": 0},
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


# -- byte-level mutations -------------------------------------------------------------------------


def _truncate(draw, data: bytes) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


def _flip(draw, data: bytes) -> bytes:
    if not data:
        return data
    body = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        body[draw(st.integers(0, len(body) - 1))] = draw(st.integers(0, 255))
    return bytes(body)


def _delete(draw, data: bytes) -> bytes:
    start = draw(st.integers(0, len(data)))
    return data[:start] + data[start + draw(st.integers(0, 40)) :]


def _duplicate(draw, data: bytes) -> bytes:
    start = draw(st.integers(0, len(data)))
    end = draw(st.integers(start, min(len(data), start + 200)))
    return data[:end] + data[start:end] + data[end:]


def _reorder(draw, data: bytes) -> bytes:
    events = data.split(b"\n\n")
    return b"\n\n".join(draw(st.permutations(events)))


def _bad_json(draw, data: bytes) -> bytes:
    events = data.split(b"\n\n")
    index = draw(st.integers(0, len(events) - 1))
    head, _, _ = events[index].partition(b"data:")
    bad = draw(st.sampled_from([b"{", b"null", b"[]", b'"x"', b"{}", b'{"type": 5}', b"\xff\xfe", b""]))
    events[index] = head + b"data: " + bad
    return b"\n\n".join(events)


def _inject_error(draw, data: bytes) -> bytes:
    events = data.split(b"\n\n")
    events.insert(draw(st.integers(0, len(events))), ERROR_EVENT.rstrip(b"\n"))
    return b"\n\n".join(events)


def _huge_line(draw, data: bytes) -> bytes:
    size = draw(st.sampled_from([10_000, 100_000, 300_000]))
    kind = draw(st.sampled_from(["comment", "text", "error"]))
    if kind == "comment":
        huge = b": " + b"x" * size + b"\n\n"
    elif kind == "text":
        piece = json.dumps(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "y" * size}}
        )
        huge = b"event: content_block_delta\ndata: " + piece.encode() + b"\n\n"
    else:
        piece = json.dumps({"type": "error", "error": {"type": "api_error", "message": "z" * size}})
        huge = b"event: error\ndata: " + piece.encode() + b"\n\n"
    position = draw(st.sampled_from([m.end() for m in _boundaries(data)] or [0]))
    return data[:position] + huge + data[position:]


def _boundaries(data: bytes):
    import re

    return list(re.finditer(rb"\n\n", data))


def _line_endings(draw, data: bytes) -> bytes:
    return data.replace(b"\n", draw(st.sampled_from([b"\r", b"\r\n"])))


MUTATIONS = {
    "truncate": _truncate,
    "flip": _flip,
    "delete": _delete,
    "duplicate": _duplicate,
    "reorder": _reorder,
    "bad_json": _bad_json,
    "inject_error": _inject_error,
    "huge_line": _huge_line,
    "line_endings": _line_endings,
}


@st.composite
def sse_bodies(draw) -> tuple[bytes, list[bytes]]:
    """A valid stream's bytes after zero to three mutations, and how they are cut into chunks."""
    data = sse(draw(st.sampled_from(SCRIPTS)))
    for name in draw(st.lists(st.sampled_from(sorted(MUTATIONS)), max_size=3)):
        note(f"mutation: {name}")
        data = MUTATIONS[name](draw, data)
    cuts = (
        sorted(draw(st.lists(st.integers(1, max(1, len(data) - 1)), max_size=4, unique=True))) if data else []
    )
    bounds = [0, *cuts, len(data)]
    return data, [data[a:b] for a, b in itertools.pairwise(bounds) if data[a:b]]


@st.composite
def json_bodies(draw) -> tuple[int, dict[str, str], bytes]:
    """A status, headers and a body: a Message or an error, its fields replaced, then its bytes mutated."""
    status = draw(st.sampled_from([200, 200, 400, 429, 500, 502, 529]))
    if status == 200:
        payload: Any = json.loads(json.dumps(MESSAGE))
        for _ in range(draw(st.integers(0, 2))):
            path = draw(
                st.sampled_from(
                    [
                        ("usage",),
                        ("usage", "input_tokens"),
                        ("usage", "output_tokens"),
                        ("model",),
                        ("type",),
                        ("content",),
                        ("stop_reason",),
                        ("id",),
                    ]
                )
            )
            target = payload
            for key in path[:-1]:
                target = target.setdefault(key, {}) if isinstance(target, dict) else {}
            if isinstance(target, dict):
                if draw(st.booleans()):
                    target[path[-1]] = draw(json_values)
                else:
                    target.pop(path[-1], None)
    else:
        payload = {
            "type": "error",
            "error": {
                "type": draw(st.sampled_from(["api_error", "overloaded_error"])),
                "message": draw(st.text(max_size=20)),
            },
        }
    data = json.dumps(payload).encode()
    for name in draw(
        st.lists(st.sampled_from(["truncate", "flip", "delete", "duplicate", "huge"]), max_size=2)
    ):
        note(f"mutation: {name}")
        if name == "huge":
            data = data[:-1] + b', "pad": "' + b"p" * draw(st.sampled_from([1_000, 200_000])) + b'"}'
        else:
            data = MUTATIONS[name](draw, data)
    content_type = draw(
        st.sampled_from(["application/json", "application/json; charset=utf-8", "text/html", None])
    )
    headers = {"content-type": content_type} if content_type else {}
    return status, headers, data


# -- running the same bytes through two clients -------------------------------------------------


def _client(handler, **options: Any) -> Any:
    return anthropic.Anthropic(
        api_key=KEY,
        base_url="http://fake.anthropic.test",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        max_retries=0,
        **options,
    )


def _seen(exc: BaseException) -> tuple[Any, ...]:
    return (shape(exc), str(exc))


def _drain(client: Any, helper: bool) -> tuple[Any, ...]:
    items: list[Any] = []
    try:
        if helper:
            with client.messages.stream(**request()) as stream:
                items.extend(stream)
                return (visible(items), stream.get_final_message().to_dict(warnings=False), None)
        items.extend(client.messages.create(**request(stream=True)))
        return (visible(items), None, None)
    except Exception as exc:  # the caller's view, compared with a plain client's
        return (visible(items), None, _seen(exc.with_traceback(None)))


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")  # the SDK's own
@given(body=sse_bodies(), helper=st.booleans())
def test_sse_bytes_give_the_same_view_and_one_valid_line(body, helper):
    """Fuzz: mutated SSE bytes: same items and exception as a plain client, exactly one valid line."""
    _, chunks = body

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers=SSE_HEADERS, content=iter(chunks))

    bare = _drain(_client(handler), helper)
    with lines() as written:
        ours = _drain(claude_logging.instrument(_client(handler)), helper)

    assert ours == bare
    assert len(written) == 1, written
    event = check_line(written[0])
    assert event["stream"] is True
    items, _, error = ours
    if not helper:
        if error is not None:
            assert (event["outcome"], event["level"]) == ("error", "error")
            assert event["error_type"].endswith(error[0][0].__name__)
        else:
            stopped = any(isinstance(item, dict) and item.get("type") == "message_stop" for item in items)
            assert event["outcome"] == ("success" if stopped else "incomplete")


@given(body=json_bodies(), strict=st.booleans())
def test_json_bytes_give_the_same_view_and_one_valid_line(body, strict):
    """Fuzz: mutated JSON bodies and statuses: same result or exception, exactly one valid line."""
    status, headers, data = body

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, headers=headers, content=data)

    def call(client: Any) -> tuple[Any, ...]:
        try:
            result = client.messages.create(**request())
        except Exception as exc:  # the caller's view, compared with a plain client's
            return (None, _seen(exc.with_traceback(None)))
        return (result.to_dict(warnings=False) if hasattr(result, "to_dict") else result, None)

    bare = call(_client(handler, _strict_response_validation=strict))
    with lines() as written:
        ours = call(claude_logging.instrument(_client(handler, _strict_response_validation=strict)))

    assert ours == bare
    assert len(written) == 1, written
    event = check_line(written[0])
    _, error = ours
    if error is None:
        assert (event["outcome"], event["status_code"]) == ("success", 200)
    else:
        assert event["outcome"] == "error"
        assert event["error_type"].endswith(error[0][0].__name__)
        if error[0][1] is not None:  # an APIStatusError (or a validation error) has the HTTP status
            assert event["status_code"] == error[0][1]


TARGETS = {
    "sse": test_sse_bytes_give_the_same_view_and_one_valid_line,
    "json": test_json_bytes_give_the_same_view_and_one_valid_line,
}


def main(argv: list[str]) -> None:
    """Drive one target with atheris (coverage-guided) if installed, else with hypothesis's dev profile."""
    target = TARGETS[argv[1] if len(argv) > 1 else "sse"]
    try:
        import atheris  # type: ignore[import-not-found]
    except ImportError:
        settings(max_examples=2_000, deadline=None)(target)()
        return
    atheris.Setup([argv[0], *argv[2:]], target.hypothesis.fuzz_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
