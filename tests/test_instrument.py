"""instrument(client): the real SDK against the fake API, one event per logical call."""

from __future__ import annotations

import gc
import time

import anthropic
import pytest
from conftest import MESSAGES, MODEL, ask

import claude_logging
from claude_logging import testing
from claude_logging.testing import error, message, stall, stream

ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429, 500, 503, 529)


def test_success_writes_one_event_with_usage_model_and_ids(client, api, events):
    """A plain create() gives one event with the response's model, usage, ids and headroom."""
    api.enqueue(
        message(
            "Hi!", input_tokens=12, output_tokens=5, cache_read_input_tokens=7, cache_creation_input_tokens=3
        )
    )

    result = ask(client, model="claude-sonnet-4-5", max_tokens=300, metadata={"user_id": "u-9"})

    assert len(events) == 1
    event = events[0]
    assert event["outcome"] == "success"
    assert event["level"] == "info"
    assert event["model"] == result.model == "claude-sonnet-4-5-20250929"
    assert (event["input_tokens"], event["output_tokens"]) == (12, 5)
    assert (event["cache_read_input_tokens"], event["cache_creation_input_tokens"]) == (7, 3)
    assert event["max_tokens"] == 300
    assert event["status_code"] == 200
    assert event["error_type"] is None
    assert event["request_id"] == result._request_id == api.requests[0].request_id
    assert event["message_id"] == result.id
    assert event["stop_reason"] == "end_turn"
    assert event["retries"] == 0
    assert event["user_id"] == "u-9"
    assert event["ratelimit_requests_remaining"] > 0
    assert event["latency_ms"] > 0


@pytest.mark.parametrize("status", ERROR_STATUSES)
def test_api_error_is_logged_then_reraised_unchanged(status, api, events):
    """Each error family: one error event with status, class, API error type and request id.

    The expected class is whatever the same SDK raises without us (it differs across SDK versions).
    """
    api.enqueue(error(status))
    with pytest.raises(anthropic.APIStatusError) as plain:
        ask(api.client(max_retries=0))
    events.clear()
    client = claude_logging.instrument(api.client(max_retries=0))
    api.enqueue(error(status, message=f"boom {status}"))

    with pytest.raises(anthropic.APIStatusError) as caught:
        ask(client)

    assert type(caught.value) is type(plain.value)
    (event,) = events
    assert event["outcome"] == "error"
    assert event["level"] == "error"
    assert event["status_code"] == status
    assert event["error_type"] == f"anthropic.{type(plain.value).__name__}"
    assert event["api_error_type"] == testing.ERROR_TYPES[status]
    assert event["request_id"] == caught.value.request_id == api.requests[-1].request_id
    assert event["error_message"] == f"boom {status}"
    assert event["input_tokens"] is None


def test_the_caller_gets_the_very_exception_object_and_traceback(api):
    """The exception is the SDK's own object; our frames add no chaining."""
    client = claude_logging.instrument(api.client(max_retries=0))
    plain = api.client(max_retries=0)
    api.enqueue(error(429), error(429))

    with pytest.raises(anthropic.RateLimitError) as instrumented:
        ask(client)
    with pytest.raises(anthropic.RateLimitError) as bare:
        ask(plain)

    assert instrumented.value.__cause__ is bare.value.__cause__ is None
    assert instrumented.value.__context__ is None
    assert instrumented.value.__suppress_context__ == bare.value.__suppress_context__
    assert instrumented.traceback[-1].name == bare.traceback[-1].name


def test_retries_then_success_is_one_event(client, api, events):
    """Two 429s then a Message: one success event, retries=2, latency over all attempts."""
    api.enqueue(error(429, retry_after=0.05), error(529, retry_after=0.05), message())

    ask(client)

    assert len(api.requests) == 3
    (event,) = events
    assert event["outcome"] == "success"
    assert event["retries"] == 2
    assert event["status_code"] == 200
    assert event["latency_ms"] >= 100
    assert event["request_id"] == api.requests[-1].request_id


def test_retries_then_failure_is_one_error_event(client, api, events):
    """Three 529s with max_retries=2: one error event with the last status and retries=2."""
    api.enqueue(*[error(529, retry_after=0.001)] * 3)

    with pytest.raises(anthropic.OverloadedError):
        ask(client)

    assert len(api.requests) == 3
    (event,) = events
    assert (event["outcome"], event["status_code"], event["retries"]) == ("error", 529, 2)
    assert event["retry_after_s"] == 0.001
    assert event["api_error_type"] == "overloaded_error"


def test_refused_connection_has_no_status(events):
    """A port nobody listens on: APIConnectionError, status_code null."""
    with testing.FakeAnthropicAPI() as fake:
        url = fake.url
    client = claude_logging.instrument(anthropic.Anthropic(api_key="sk-ant-x", base_url=url, max_retries=0))

    with pytest.raises(anthropic.APIConnectionError):
        ask(client)

    (event,) = events
    assert event["error_type"] == "anthropic.APIConnectionError"
    assert event["status_code"] is None
    assert event["outcome"] == "error"


def test_timeout_over_http_is_logged_with_the_time_it_took(server, events):
    """A server that stalls past the client's timeout: APITimeoutError, latency about the timeout."""
    client = claude_logging.instrument(
        anthropic.Anthropic(api_key="sk-ant-x", base_url=server.url, max_retries=0, timeout=0.3)
    )
    server.enqueue(stall(5))

    with pytest.raises(anthropic.APITimeoutError):
        ask(client)

    (event,) = events
    assert event["error_type"] == "anthropic.APITimeoutError"
    assert event["status_code"] is None
    assert 250 <= event["latency_ms"] < 3000


def test_http_server_success_and_stream(server, events):
    """The same events over real sockets as in process."""
    client = claude_logging.instrument(
        anthropic.Anthropic(api_key="sk-ant-x", base_url=server.url, max_retries=0)
    )

    ask(client)
    with client.messages.stream(model=MODEL, max_tokens=100, messages=MESSAGES) as helper:
        final = helper.get_final_message()

    assert [e["outcome"] for e in events] == ["success", "success"]
    assert events[1]["stream"] is True
    assert events[1]["output_tokens"] == final.usage.output_tokens


def test_stream_read_fully_matches_the_sdk_final_usage(client, api, events):
    """create(stream=True) read to the end: usage equals get_final_message().usage, TTFT set."""
    api.enqueue(
        stream("one two three four", input_tokens=40, output_tokens=42, usage={"cache_read_input_tokens": 9})
    )

    chunks = list(ask(client, stream=True))

    assert chunks[-1].type == "message_stop"
    (event,) = events
    assert event["outcome"] == "success"
    assert (event["input_tokens"], event["output_tokens"], event["cache_read_input_tokens"]) == (40, 42, 9)
    assert event["stream"] is True
    assert event["stream_completed"] is True
    assert 0 <= event["time_to_first_token_ms"] <= event["latency_ms"]


def test_stream_helper_usage_equals_get_final_message(client, api, events):
    """messages.stream(): text_stream and get_final_message work, and usage matches the SDK."""
    api.enqueue(stream("alpha beta gamma", input_tokens=30, output_tokens=17))

    with client.messages.stream(model=MODEL, max_tokens=100, messages=MESSAGES) as helper:
        text = "".join(helper.text_stream)
        final = helper.get_final_message()

    assert text == "alpha beta gamma"
    (event,) = events
    assert event["output_tokens"] == final.usage.output_tokens == 17
    assert event["input_tokens"] == final.usage.input_tokens == 30
    assert event["message_id"] == final.id


def test_stream_closed_early_is_one_abandoned_event(client, events):
    """Closing a stream after its first event: one `abandoned` event, partial usage marked."""
    chunks = ask(client, stream=True)
    next(iter(chunks))
    chunks.close()
    gc.collect()
    claude_logging.flush()

    (event,) = events
    assert event["outcome"] == "abandoned"
    assert event["level"] == "warning"
    assert event["stream_completed"] is False


def test_stream_abandoned_by_break_and_garbage_collection_is_one_event(client, events):
    """Breaking out and dropping the stream gives exactly one `abandoned` event, never a second."""
    chunks = ask(client, stream=True)
    for _ in chunks:
        break
    del chunks
    gc.collect()
    claude_logging.flush()
    gc.collect()
    claude_logging.flush()

    assert [e["outcome"] for e in events] == ["abandoned"]


def test_stream_never_iterated_then_dropped_is_abandoned(client, events):
    """A stream created and dropped unread still gives its one event."""
    chunks = ask(client, stream=True)
    del chunks
    gc.collect()
    claude_logging.flush()

    assert [e["outcome"] for e in events] == ["abandoned"]


def test_stream_helper_exited_early_is_abandoned(client, events):
    """Leaving `with messages.stream()` before the end: one abandoned event."""
    with client.messages.stream(model=MODEL, max_tokens=100, messages=MESSAGES) as helper:
        for _ in helper:
            break

    assert [e["outcome"] for e in events] == ["abandoned"]


def test_mid_stream_error_event_has_status_200_and_the_api_error_type(client, api, events):
    """An SSE `error` after HTTP 200: the SDK's APIStatusError propagates; the event says why."""
    api.enqueue(stream("a b c d e f", error_after=4))

    with pytest.raises(anthropic.APIStatusError) as caught:
        list(ask(client, stream=True))

    assert caught.value.status_code == 200
    (event,) = events
    assert event["outcome"] == "error"
    assert event["status_code"] == 200
    assert event["error_type"] == "anthropic.APIStatusError"
    assert event["api_error_type"] == "overloaded_error"
    assert event["stream_completed"] is False
    assert event["input_tokens"] is not None


def test_stream_without_message_stop_is_incomplete(client, api, events):
    """A body that ends without `message_stop`: `incomplete`."""
    api.enqueue(stream("x y", no_stop=True))

    list(ask(client, stream=True))

    (event,) = events
    assert event["outcome"] == "incomplete"
    assert event["stream_completed"] is False


def test_connection_dropped_mid_stream_is_an_error_with_partial_usage(server, events):
    """The server cuts the connection mid-stream: the SDK's exception propagates, one error event."""
    client = claude_logging.instrument(
        anthropic.Anthropic(api_key="sk-ant-x", base_url=server.url, max_retries=0)
    )
    server.enqueue(stream("a b c d e f g", cut_after=4))

    with pytest.raises(Exception) as caught:
        list(ask(client, stream=True))

    (event,) = events
    assert event["outcome"] == "error"
    assert event["error_type"].endswith(type(caught.value).__name__)
    assert event["input_tokens"] is not None
    assert event["stream_completed"] is False


def test_raw_and_streaming_responses_are_returned_untouched_and_logged(client, api, events):
    """with_raw_response and with_streaming_response: the SDK's objects, one event each, usage included."""
    api.enqueue(
        message("raw", input_tokens=3, output_tokens=4), message("s", input_tokens=5, output_tokens=6)
    )

    raw = client.messages.with_raw_response.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    parsed = raw.parse()
    with client.messages.with_streaming_response.create(
        model=MODEL, max_tokens=10, messages=MESSAGES
    ) as response:
        streamed = response.parse()

    assert isinstance(raw, anthropic.APIResponse)
    assert (parsed.usage.output_tokens, streamed.usage.output_tokens) == (4, 6)
    assert [(e["input_tokens"], e["output_tokens"]) for e in events] == [(3, 4), (5, 6)]
    assert events[0]["request_id"] == raw.request_id


def test_raw_response_of_a_stream_is_watched_until_read(client, api, events):
    """with_raw_response.create(stream=True): the event waits for the stream the user parses."""
    api.enqueue(stream("p q r", output_tokens=9))

    raw = client.messages.with_raw_response.create(model=MODEL, max_tokens=10, messages=MESSAGES, stream=True)
    assert events == []
    list(raw.parse())

    (event,) = events
    assert (event["outcome"], event["output_tokens"], event["stream"]) == ("success", 9, True)


def test_count_tokens_parse_and_beta_are_logged(client, api, events):
    """count_tokens (a count, not spend), messages.parse() and beta.messages.create."""
    counted = client.messages.count_tokens(model=MODEL, messages=MESSAGES)
    api.enqueue(message("{}", input_tokens=8, output_tokens=2))
    client.messages.parse(model=MODEL, max_tokens=10, messages=MESSAGES)
    client.beta.messages.create(
        model=MODEL, max_tokens=10, messages=MESSAGES, betas=["context-1m-2025-08-07"]
    )

    assert [e["operation"] for e in events] == ["count_tokens", "chat", "chat"]
    assert events[0]["counted_input_tokens"] == counted.input_tokens
    assert events[0]["input_tokens"] is None
    assert events[1]["output_tokens"] == 2


def test_instrument_is_idempotent_and_copies_stay_instrumented(api, events):
    """instrument() twice, and with_options()/copy() clients: still one event per call."""
    client = api.client(max_retries=0)
    assert claude_logging.instrument(claude_logging.instrument(client)) is client

    ask(client)
    ask(client.with_options(timeout=5))
    ask(client.copy(max_retries=1))

    assert len(events) == 3
    assert len(api.requests) == 3


def test_uninstrument_stops_logging(api, events):
    """uninstrument() restores the client; its calls are no longer logged."""
    client = claude_logging.instrument(api.client())
    claude_logging.uninstrument(client)

    ask(client)

    assert events == []
    assert "request" not in vars(client)


def test_other_endpoints_are_not_logged(client, api, events):
    """Only the Messages API is logged: a models call passes through silently."""
    with pytest.raises(anthropic.NotFoundError):
        client.models.list()

    assert events == []


def test_instrument_rejects_what_is_not_a_client():
    """A clear TypeError at configuration time."""
    with pytest.raises(TypeError, match="anthropic client"):
        claude_logging.instrument(object())


def test_decorator_around_an_instrumented_call_is_one_event(client, events):
    """log_call around an instrumented client: the call folds into the scope's one event."""

    @claude_logging.log_call(tenant_id="acme")
    def answer():
        return ask(client)

    result = answer()

    (event,) = events
    assert event["tenant_id"] == "acme"
    assert event["function"].endswith("answer")
    assert event["message_id"] == result.id
    assert event["input_tokens"] == result.usage.input_tokens
    assert "api_calls" not in event


def test_two_calls_in_one_scope_sum_tokens(client, api, events):
    """Calls folded into a scope: tokens summed, api_calls counted, the last call's ids."""
    api.enqueue(message(input_tokens=10, output_tokens=1), message(input_tokens=20, output_tokens=2))

    with claude_logging.log_call(model=MODEL) as call:
        ask(client)
        last = ask(client)
        call.set(tenant_id="late-tenant")

    (event,) = events
    assert (event["input_tokens"], event["output_tokens"], event["api_calls"]) == (30, 3, 2)
    assert event["message_id"] == last.id
    assert event["tenant_id"] == "late-tenant"


def test_client_side_argument_errors_are_not_api_calls(client, events):
    """The SDK's TypeError for missing arguments comes before any request: no API call, no event.

    Inside a log_call scope the scope's own event records it (documented in docs/schema.md).
    """
    with pytest.raises(TypeError):
        client.messages.create(model=MODEL, messages=MESSAGES)  # max_tokens missing
    assert events == []

    with pytest.raises(TypeError), claude_logging.log_call():
        client.messages.create(model=MODEL, messages=MESSAGES)
    assert [e["error_type"] for e in events] == ["TypeError"]


def test_latency_uses_the_monotonic_clock(client, events, monkeypatch):
    """The wall clock jumping back an hour mid-call does not make latency negative."""
    real = time.time_ns
    monkeypatch.setattr("claude_logging._calls.wall", lambda: real() + 3_600_000_000_000)

    ask(client)

    assert events[0]["latency_ms"] >= 0
    assert events[0]["timestamp"].startswith(time.strftime("%Y", time.gmtime(real() / 1e9 + 3600)))
