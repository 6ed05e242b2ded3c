"""The raw SSE scanner finds the same facts however the network cuts a stream, with either line ending.

It reads a body read as bytes, or one the SDK's own tracing wraps.

The scanner has a fast way for the usual chunk (exactly one `content_block_delta` event) and splits
other chunks into lines, keeping a partial line for the next chunk; both must agree with the
stream read in one piece.
"""

from __future__ import annotations

import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from claude_logging import _calls, _streams

MESSAGE = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-6",
    "content": [],
    "stop_reason": None,
    "usage": {"input_tokens": 25, "output_tokens": 1, "cache_read_input_tokens": 7},
}
EVENTS = [
    ("message_start", {"type": "message_start", "message": MESSAGE}),
    ("ping", {"type": "ping"}),
    (
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ),
    *[
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f"w{i}"}},
        )
        for i in range(12)
    ],
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    (
        "message_delta",
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 13}},
    ),
    ("message_stop", {"type": "message_stop"}),
]


def body(newline: bytes) -> bytes:
    """The whole stream as the API sends it, with `newline` ending each line."""
    return b"".join(
        b"event: " + name.encode() + newline + b"data: " + json.dumps(data).encode() + newline + newline
        for name, data in EVENTS
    )


def facts(chunks: list[bytes]) -> tuple[object, ...]:
    """What the scanner learns from the body read as `chunks`."""
    observer = _streams.StreamObserver(_calls.Call(_calls.new_event()))
    observer.raw_only()
    for chunk in chunks:
        observer.body_chunk(chunk)
    event = observer.call.event
    _calls._open.pop(id(observer.call), None)  # never finished: nothing to emit
    return (
        event.input_tokens,
        event.output_tokens,
        event.cache_read_input_tokens,
        event.stop_reason,
        event.response_model,
        event.first_token_mono_ns is not None,
        observer.saw_stop,
    )


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """`data` cut at the given offsets."""
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    return [data[start:end] for start, end in itertools.pairwise(points) if end > start]


WHOLE = (25, 13, 7, "end_turn", "claude-sonnet-4-6", True, True)


def test_one_event_per_chunk_and_the_whole_body_at_once_agree() -> None:
    """The benchmark's and the SDK's usual chunking (one event each) and one single chunk."""
    data = body(b"\n")
    events = [part + b"\n\n" for part in data.split(b"\n\n") if part]
    assert facts(events) == WHOLE
    assert facts([data]) == WHOLE


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=40), st.sampled_from([b"\n", b"\r\n"]))
@settings(max_examples=300)
def test_any_cut_of_the_stream_finds_the_same_facts(cuts: list[int], newline: bytes) -> None:
    """Chunks cut anywhere (mid-line, mid-event, several events at once), LF or CRLF."""
    assert facts(split(body(newline), cuts)) == WHOLE
