"""Fault matrix, group B: streams and SDK response shapes.

The oracle for usage is the SDK itself: the snapshot its `messages.stream()` helper accumulated
(`get_final_message().usage`, or the current snapshot where reading stopped), kept only where it is
a sane count (`harness.sane`). The caller's view is compared with a plain client on the same bytes.

Already covered elsewhere, and not repeated here:
- B1 sync `create(stream=True)`: closed early, `break` then `del`, never iterated, helper left
  early: test_instrument.py `test_stream_closed_early_is_one_abandoned_event`,
  `test_stream_abandoned_by_break_and_garbage_collection_is_one_event`,
  `test_stream_never_iterated_then_dropped_is_abandoned`, `test_stream_helper_exited_early_is_abandoned`.
- B2 sync `text_stream` + `get_final_message`, `with_raw_response` (plain and `stream=True`),
  `with_streaming_response` (not streamed), `beta.messages.create`: test_instrument.py
  `test_stream_helper_usage_equals_get_final_message`,
  `test_raw_and_streaming_responses_are_returned_untouched_and_logged`,
  `test_raw_response_of_a_stream_is_watched_until_read`, `test_count_tokens_parse_and_beta_are_logged`.
- B4 over HTTP: test_instrument.py `test_connection_dropped_mid_stream_is_an_error_with_partial_usage`.
- B9 `message_start` 1 then `message_delta` 42: test_instrument.py
  `test_stream_read_fully_matches_the_sdk_final_usage`.
"""

from __future__ import annotations

import asyncio
import json

import anthropic
import httpx2
import pytest
from harness import (
    JSON_HEADERS,
    KEY,
    PING,
    SSE_HEADERS,
    STOP,
    USAGE_FIELDS,
    clients,
    delta_event,
    logged_usage,
    request,
    spied,
    sse,
    start_event,
    text_block,
    usage_of,
    visible,
)

import claude_logging
from claude_logging import _fields
from claude_logging.testing import FakeAnthropicAPI, raw

FULL_USAGE = {"cache_read_input_tokens": 7, "cache_creation_input_tokens": 3}


def full_script() -> list[dict[str, object]]:
    """A complete stream whose usage has every count: input 10, output 42, cache 7 and 3."""
    return [
        start_event(10, 1, **FULL_USAGE),
        PING,
        *text_block(0, ["Hello", " world"]),
        delta_event(output_tokens=42),
        STOP,
    ]


def json_message(usage: object = ..., **fields: object) -> bytes:
    """The JSON body of a Message with fixed ids; `usage` left out when not given."""
    body: dict[str, object] = {
        "id": "msg_fixed",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6-20260101",
        "content": [{"type": "text", "text": "hi"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
    }
    if usage is not ...:
        body["usage"] = usage
    body.update(fields)
    return json.dumps(body).encode()


def twice(body: bytes, headers: dict[str, str] = SSE_HEADERS, status: int = 200) -> FakeAnthropicAPI:
    """A fake that answers the same bytes to a plain and an instrumented client."""
    return FakeAnthropicAPI([raw(status, body, headers), raw(status, body, headers)])


def helper_read(client, policy: str):
    """Read `messages.stream()` with a helper method; what the caller saw, and the SDK's usage."""
    with client.messages.stream(**request()) as helper:
        if policy == "text_stream":
            seen: object = "".join(helper.text_stream)
        elif policy == "until_done":
            helper.until_done()
            seen = None
        elif policy == "get_final_text":
            seen = helper.get_final_text()
        else:
            seen = helper.get_final_message().to_dict(warnings=False)
        return seen, helper.get_final_message().usage


# -- B1: streams abandoned ------------------------------------------------------------------------


def test_break_with_the_stream_kept_can_resume_and_logs_once(out):
    """Row B1: after `break` the caller may resume the same stream: no event until its end, then one."""
    api = twice(sse(full_script()))
    _, client = clients(api)
    chunks = client.messages.create(**request(stream=True))
    seen = []

    for chunk in chunks:
        seen.append(chunk.type)
        break
    assert out.settle() == []
    seen.extend(chunk.type for chunk in chunks)

    assert seen[0] == "message_start"
    assert seen[-1] == "message_stop"
    event = out.one("success")
    assert (event["output_tokens"], event["stream_completed"]) == (42, True)
    del chunks
    assert len(out.settle()) == 1  # nothing more on garbage collection


async def test_async_stream_broken_out_of_then_dropped_is_one_abandoned_event(out):
    """Row B1 (async `break`, reference kept, then `del`): one `abandoned` event, never a second."""
    api = twice(sse(full_script()))
    _, client = clients(api, asynchronous=True)
    chunks = await client.messages.create(**request(stream=True))

    async for _ in chunks:
        break
    del chunks
    # The SDK's async generators are closed by tasks the event loop runs: give it time to run them.
    for _ in range(200):
        await asyncio.sleep(0.005)
        if out.events:
            break

    event = out.one("abandoned")
    assert (event["stream_completed"], event["input_tokens"], event["output_tokens"]) == (False, 10, 1)
    await asyncio.sleep(0)
    assert len(out.settle()) == 1


async def test_async_stream_never_iterated_then_dropped_is_abandoned(out):
    """Row B1 (async, created and never iterated): one `abandoned` event once it is dropped."""
    api = twice(sse(full_script()))
    _, client = clients(api, asynchronous=True)

    chunks = await client.messages.create(**request(stream=True))
    del chunks

    event = out.one("abandoned")
    assert (event["stream_completed"], event["input_tokens"]) == (False, None)


async def test_async_with_helper_left_early_is_abandoned(out):
    """Row B1 (`async with messages.stream()` left after one event): one `abandoned` event."""
    api = twice(sse(full_script()))
    _, client = clients(api, asynchronous=True)

    async with client.messages.stream(**request()) as helper:
        async for _ in helper:
            break

    event = out.one("abandoned")
    assert (event["stream_completed"], event["output_tokens"]) == (False, 1)


def test_closed_stream_gives_no_second_event_on_garbage_collection(out):
    """Row B1: `close()` then `del` and two collections: still exactly one event."""
    api = twice(sse(full_script()))
    _, client = clients(api)
    chunks = client.messages.create(**request(stream=True))
    next(iter(chunks))

    chunks.close()
    assert len(out.settle()) == 1
    del chunks

    assert out.one("abandoned")["stream_completed"] is False


# -- B2: helpers and variants --------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["text_stream", "get_final_message", "until_done", "get_final_text"])
def test_stream_helpers_work_and_log_full_usage(policy, out):
    """Row B2 (sync helpers): each helper gives what it gives without us; one event, full usage."""
    api = twice(sse(full_script()))
    plain, client = clients(api)

    bare_seen, bare_usage = helper_read(plain, policy)
    seen, usage = helper_read(client, policy)

    assert seen == bare_seen
    assert usage.to_dict() == bare_usage.to_dict()
    event = out.one("success")
    assert (
        logged_usage(event)
        == usage_of(usage)
        == {
            "input_tokens": 10,
            "output_tokens": 42,
            "cache_read_input_tokens": 7,
            "cache_creation_input_tokens": 3,
        }
    )
    assert event["stream_completed"] is True


async def test_async_stream_helpers_work_and_log_full_usage(out):
    """Row B2 (`async with messages.stream()`: text_stream, get_final_message, get_final_text)."""
    body = sse(full_script())
    api = FakeAnthropicAPI([raw(200, body, SSE_HEADERS) for _ in range(6)])
    plain, client = clients(api, asynchronous=True)

    async def read(chosen):
        async with chosen.messages.stream(**request()) as helper:
            text = "".join([piece async for piece in helper.text_stream])
            final = await helper.get_final_message()
            return text, await helper.get_final_text(), final.to_dict()

    assert await read(client) == await read(plain)
    async with client.messages.stream(**request()) as helper:
        await helper.until_done()
    async with client.beta.messages.stream(**request()) as helper:
        final = await helper.get_final_message()

    events = out.settle()
    assert [e["outcome"] for e in events] == ["success"] * 3
    assert all(logged_usage(e) == usage_of(final.usage) for e in events)


def test_raw_and_streaming_response_variants_are_the_sdks_objects(out):
    """Row B2: with_raw_response / with_streaming_response (streamed), beta: SDK objects, full usage."""
    body = sse(full_script())
    api = FakeAnthropicAPI([raw(200, body, SSE_HEADERS) for _ in range(4)])
    client, spy = spied(api)

    with client.messages.with_streaming_response.create(**request(stream=True)) as response:
        lines = list(response.iter_lines())
    raw_response = client.messages.with_raw_response.create(**request(stream=True))
    parsed = [chunk.type for chunk in raw_response.parse()]
    beta = [chunk.type for chunk in client.beta.messages.create(**request(stream=True))]
    with client.beta.messages.stream(**request()) as helper:
        final = helper.get_final_message()

    assert spy.returned[1] is raw_response
    assert [line for line in lines if line.startswith("event:")][-1] == "event: message_stop"
    assert parsed == beta
    assert parsed[-1] == "message_stop"
    events = out.settle()
    assert len(events) == 4
    for event in events:
        assert (event["outcome"], event["stream"], event["stream_completed"]) == ("success", True, True)
        assert logged_usage(event) == usage_of(final.usage)


async def test_async_raw_response_is_returned_untouched(out):
    """Row B2 (async `with_raw_response.create`): the very APIResponse, parsed as without us."""
    body = json_message({"input_tokens": 4, "output_tokens": 5})
    api = twice(body, JSON_HEADERS)
    plain, _ = clients(api, asynchronous=True)
    client, spy = spied(api, asynchronous=True)

    bare = await plain.messages.with_raw_response.create(**request())
    response = await client.messages.with_raw_response.create(**request())

    assert spy.returned == [response]
    assert (await response.parse()).to_dict() == (await bare.parse()).to_dict()
    event = out.one("success")
    assert (event["input_tokens"], event["output_tokens"], event["message_id"]) == (4, 5, "msg_fixed")


# -- B3, B4, B5: streams that end early ---------------------------------------------------------------


@pytest.mark.parametrize("reader", ["create", "helper"])
def test_stream_without_message_delta_keeps_message_start_usage(reader, out):
    """Row B3: no `message_delta` (ends after content): start usage, not completed, no stop reason."""
    body = sse([start_event(15, 1, **FULL_USAGE), *text_block(0, ["partial"])])
    api = twice(body)
    plain, client = clients(api)

    def read(chosen):
        if reader == "create":
            return visible(list(chosen.messages.create(**request(stream=True)))), None
        with chosen.messages.stream(**request()) as helper:
            final = helper.get_final_message()
            return final.to_dict(), final.usage

    bare_seen, _ = read(plain)
    seen, usage = read(client)

    assert seen == bare_seen
    event = out.one("incomplete")
    assert event["stream_completed"] is False
    assert "stop_reason" not in event
    assert logged_usage(event) == {
        "input_tokens": 15,
        "output_tokens": 1,
        "cache_read_input_tokens": 7,
        "cache_creation_input_tokens": 3,
    }
    if usage is not None:
        assert logged_usage(event) == usage_of(usage)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
async def test_connection_dropped_mid_stream_in_process(asynchronous, out):
    """Row B4 (FT): the transport's exception object reaches the caller unchanged; one error event."""
    cut = httpx2.RemoteProtocolError("peer closed connection without sending complete message body")
    head = sse(full_script()[:4])

    def body():
        yield head
        raise cut

    async def async_body():
        yield head
        raise cut

    def handler(request):
        return httpx2.Response(200, headers=SSE_HEADERS, content=async_body() if asynchronous else body())

    transport = httpx2.MockTransport(handler)
    options = {"api_key": KEY, "base_url": "http://fake.anthropic.test", "max_retries": 0}
    seen = []
    if asynchronous:
        client = anthropic.AsyncAnthropic(http_client=httpx2.AsyncClient(transport=transport), **options)
        claude_logging.instrument(client)

        async def read():
            async for chunk in await client.messages.create(**request(stream=True)):
                seen.append(chunk.type)  # noqa: PERF401 - keep what arrived before the failure

        with pytest.raises(httpx2.RemoteProtocolError) as caught:
            await read()
    else:
        client = anthropic.Anthropic(http_client=httpx2.Client(transport=transport), **options)
        claude_logging.instrument(client)
        with pytest.raises(httpx2.RemoteProtocolError) as caught:
            seen.extend(chunk.type for chunk in client.messages.create(**request(stream=True)))

    assert caught.value is cut
    assert seen == ["message_start", "content_block_start", "content_block_delta"]
    event = out.one("error")
    assert event["error_type"] == "httpx2.RemoteProtocolError"
    assert (event["stream_completed"], event["input_tokens"], event["output_tokens"]) == (False, 10, 1)
    assert event["status_code"] == 200


@pytest.mark.parametrize("reader", ["create", "helper"])
def test_empty_stream_is_incomplete_without_usage(reader, out):
    """Row B5: HTTP 200 with zero events: whatever the SDK does, one `incomplete` event, no usage."""
    api = twice(b"")
    plain, client = clients(api)

    def read(chosen):
        if reader == "create":
            return list(chosen.messages.create(**request(stream=True)))
        with chosen.messages.stream(**request()) as helper:
            try:
                return helper.get_final_message()
            except AssertionError as exc:  # the SDK asserts a snapshot exists
                return type(exc)

    assert read(client) == read(plain)
    event = out.one("incomplete")
    assert (event["stream"], event["stream_completed"]) == (True, False)
    assert logged_usage(event) == dict.fromkeys(USAGE_FIELDS)
    assert "message_id" not in event


# -- B6, B7, B10: usage missing, null, unknown or of the wrong type ---------------------------------


@pytest.mark.parametrize(
    "usage",
    [
        ...,
        None,
        {},
        {
            "input_tokens": 5,
            "output_tokens": 3,
            "cache_read_input_tokens": None,
            "cache_creation_input_tokens": None,
        },
        {"input_tokens": None, "output_tokens": None},
    ],
    ids=["missing", "null", "empty", "null-cache", "null-counts"],
)
def test_message_with_missing_or_null_usage(usage, out):
    """Row B6 (JSON Message): absent counts are null, never 0; model, ids and stop reason still logged."""
    api = twice(json_message(usage), JSON_HEADERS)
    plain, client = clients(api)

    bare = plain.messages.create(**request())
    result = client.messages.create(**request())

    assert result.to_dict() == bare.to_dict()
    event = out.one("success")
    assert logged_usage(event) == usage_of(getattr(result, "usage", None))
    assert (event["model"], event["message_id"], event["stop_reason"]) == (
        "claude-sonnet-4-6-20260101",
        "msg_fixed",
        "end_turn",
    )


@pytest.mark.parametrize(
    ("start", "delta"),
    [
        ({"cache_read_input_tokens": None, "cache_creation_input_tokens": None}, {"output_tokens": 9}),
        ({}, {"output_tokens": 9, "input_tokens": None, "cache_read_input_tokens": None}),
        (FULL_USAGE, {"output_tokens": None}),
        (FULL_USAGE, {"output_tokens": 9, "cache_creation_input_tokens": None, "server_tool_use": None}),
    ],
    ids=["null-cache-at-start", "null-input-in-delta", "null-output-in-delta", "null-cache-in-delta"],
)
def test_stream_with_null_usage_fields_matches_the_sdk_snapshot(start, delta, out):
    """Row B6 (SSE): null counts never overwrite and never become 0; usage equals the SDK's snapshot."""
    body = sse([start_event(10, 1, **start), *text_block(0, ["x"]), delta_event(**delta), STOP])
    api = twice(body)
    plain, client = clients(api)

    bare_seen, _ = helper_read(plain, "get_final_message")
    seen, usage = helper_read(client, "get_final_message")

    assert seen == bare_seen
    event = out.one("success")
    assert logged_usage(event) == usage_of(usage)
    assert all(event[name] != 0 for name in USAGE_FIELDS)


KNOWN_KEYS = _fields.CORE_FIELDS


def test_unknown_usage_and_top_level_fields_are_ignored(out):
    """Row B7 (JSON): unknown usage fields (scalar and nested) and top-level fields change nothing."""
    usage = {
        "input_tokens": 11,
        "output_tokens": 12,
        "ephemeral_99h_input_tokens": 3,
        "future_breakdown": {"nested": {"deep": [1, 2]}},
        "cache_creation": {"ephemeral_5m_input_tokens": 2, "ephemeral_77m_input_tokens": 1},
    }
    body = json_message(usage, future_top_level={"a": 1}, container={"id": "c"})
    api = twice(body, JSON_HEADERS)
    plain, client = clients(api)

    assert client.messages.create(**request()).to_dict() == plain.messages.create(**request()).to_dict()
    event = out.one("success")
    assert (event["input_tokens"], event["output_tokens"]) == (11, 12)
    assert (event["cache_read_input_tokens"], event["cache_creation_input_tokens"]) == (None, None)
    assert set(event) <= KNOWN_KEYS


def test_unknown_usage_fields_in_a_stream_are_ignored(out):
    """Row B7 (SSE): unknown fields at start and in the delta: known counts equal the SDK's snapshot."""
    start = start_event(10, 1, ephemeral_99h_input_tokens=3, future={"x": {"y": 1}})
    start["message"]["future_top_level"] = [1, 2, 3]
    delta = delta_event(output_tokens=30, ephemeral_99h_input_tokens=4, future={"z": 2})
    body = sse([start, *text_block(0, ["a"]), delta, STOP])
    api = twice(body)
    plain, client = clients(api)

    bare_seen, _ = helper_read(plain, "get_final_message")
    seen, usage = helper_read(client, "get_final_message")

    assert seen == bare_seen
    event = out.one("success")
    assert logged_usage(event) == usage_of(usage)
    assert set(event) <= KNOWN_KEYS


WRONG_COUNTS = ["12", -5, 2**70, 1.5, True, [], {"n": 1}]


@pytest.mark.parametrize("bad", WRONG_COUNTS, ids=repr)
def test_wrong_typed_counts_in_a_message_are_never_logged(bad, out):
    """Row B10 (JSON): the SDK keeps (or coerces) what it got; the event logs only sane non-negative ints."""
    usage = {
        "input_tokens": bad,
        "output_tokens": 8,
        "cache_read_input_tokens": bad,
        "cache_creation_input_tokens": 2,
    }
    api = twice(json_message(usage), JSON_HEADERS)
    plain, client = clients(api)

    bare = plain.messages.create(**request())
    result = client.messages.create(**request())

    assert result.usage.to_dict(warnings=False) == bare.usage.to_dict(warnings=False)
    event = out.one("success")
    assert logged_usage(event) == usage_of(result.usage)
    assert (event["input_tokens"], event["output_tokens"], event["cache_creation_input_tokens"]) == (
        None,
        8,
        2,
    )


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")  # the SDK's own, on bad counts
@pytest.mark.parametrize("bad", WRONG_COUNTS, ids=repr)
def test_wrong_typed_counts_in_a_stream_match_the_sane_part_of_the_sdk_snapshot(bad, out):
    """Row B10 (SSE): wrong-typed counts at start and in the delta; the event holds sane ints only."""
    body = sse(
        [
            start_event(bad, bad, cache_read_input_tokens=bad),
            *text_block(0, ["a"]),
            delta_event(output_tokens=bad, input_tokens=bad),
            STOP,
        ]
    )
    api = twice(body)
    plain, client = clients(api)

    bare_seen, _ = helper_read(plain, "get_final_message")
    seen, usage = helper_read(client, "get_final_message")

    assert seen == bare_seen
    event = out.one("success")
    assert logged_usage(event) == usage_of(usage)
    assert all(value is None or type(value) is int for value in logged_usage(event).values())


def test_strict_sdk_validation_failure_is_one_error_event(out):
    """Row B10 (strict SDK validation): the SDK raises on a bad count; one error event, same exception."""
    body = json_message({"input_tokens": "twelve", "output_tokens": 8})
    api = twice(body, JSON_HEADERS)
    plain, _ = clients(api, _strict_response_validation=True)
    client, spy = spied(api, _strict_response_validation=True)

    with pytest.raises(anthropic.APIResponseValidationError) as bare:
        plain.messages.create(**request())
    with pytest.raises(anthropic.APIResponseValidationError) as caught:
        client.messages.create(**request())

    assert caught.value is spy.raised[0]
    assert type(caught.value) is type(bare.value)
    event = out.one("error")
    assert event["error_type"] == "anthropic.APIResponseValidationError"
    assert event["input_tokens"] is None


# -- B8: unknown content, stop reasons and event names -------------------------------------------------


def test_unknown_content_block_and_stop_reason_in_a_message(out):
    """Row B8 (JSON): an unknown block type and stop reason: returned as without us, one event."""
    content = [{"type": "future_block", "payload": {"x": 1}}, {"type": "text", "text": "t"}]
    body = json_message({"input_tokens": 1, "output_tokens": 2}, content=content, stop_reason="future_stop")
    api = twice(body, JSON_HEADERS)
    plain, client = clients(api)

    result = client.messages.create(**request())

    assert result.to_dict(warnings=False) == plain.messages.create(**request()).to_dict(warnings=False)
    event = out.one("success")
    assert (event["stop_reason"], event["output_tokens"]) == ("future_stop", 2)


UNKNOWN_STREAM = [
    start_event(5),
    {"type": "future_event", "x": 1},
    {"type": "content_block_start", "index": 0, "content_block": {"type": "future_block", "foo": 1}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "future_delta", "bar": 2}},
    {"type": "content_block_stop", "index": 0},
    *text_block(1, ["known"]),
    delta_event("future_stop", output_tokens=6),
    STOP,
]


@pytest.mark.parametrize("reader", ["create", "helper"])
def test_unknown_stream_events_blocks_and_stop_reason(reader, out):
    """Row B8 (SSE): unknown event name, block and delta types, stop reason: same items, one event."""
    api = twice(sse(UNKNOWN_STREAM))
    plain, client = clients(api)

    def read(chosen):
        if reader == "create":
            return visible(list(chosen.messages.create(**request(stream=True))))
        with chosen.messages.stream(**request()) as helper:
            return [*visible(list(helper)), helper.get_final_message().to_dict(warnings=False)]

    assert read(client) == read(plain)
    event = out.one("success")
    assert (event["stop_reason"], event["input_tokens"], event["output_tokens"]) == ("future_stop", 5, 6)


def test_raw_read_of_an_unknown_stream_still_finds_usage(out):
    """Row B8 (raw bytes through `with_streaming_response`): unknown events are skipped by the scanner."""
    api = twice(sse([*UNKNOWN_STREAM[:2], PING, *UNKNOWN_STREAM[2:]]))
    _, client = clients(api)

    with client.messages.with_streaming_response.create(**request(stream=True)) as response:
        data = b"".join(response.iter_bytes())

    assert data.endswith(b"\n\n")
    event = out.one("success")
    assert (event["stop_reason"], event["input_tokens"], event["output_tokens"]) == ("future_stop", 5, 6)


# -- B9: the double-count trap -------------------------------------------------------------------------


@pytest.mark.parametrize("reader", ["create", "helper"])
def test_delta_usage_replaces_and_overrides_input(reader, out):
    """Row B9: start output 1 and a delta with output 42 and input 77: output 42, input 77, no sums."""
    body = sse(
        [
            start_event(10, 1, cache_read_input_tokens=3),
            *text_block(0, ["x"]),
            delta_event(output_tokens=20),
            delta_event(output_tokens=42, input_tokens=77, cache_read_input_tokens=5),
            STOP,
        ]
    )
    api = twice(body)
    plain, client = clients(api)
    _, usage = helper_read(plain, "get_final_message")

    if reader == "create":
        list(client.messages.create(**request(stream=True)))
    else:
        _, usage = helper_read(client, "get_final_message")

    event = out.one("success")
    assert logged_usage(event) == usage_of(usage)
    assert (event["input_tokens"], event["output_tokens"], event["cache_read_input_tokens"]) == (77, 42, 5)
