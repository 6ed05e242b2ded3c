"""Every Claude call, whatever the route: plain clients under `log_call`, `instrument()` for the process.

The seed's own pattern (a plain `anthropic.Anthropic()` client called inside `@log_call`, no
`instrument()`) must give the same full field set as an instrumented client, on success and on
every failure; `instrument()` with no argument covers every client of the process; and the SDK
sees its clients exactly as it built them.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import subprocess
import sys
import textwrap
from typing import Any

import anthropic
import httpx2
import pytest
from conftest import MESSAGES, MODEL, ask

import claude_logging
from claude_logging.testing import FakeAnthropicAPI, capture_events, disconnect, error, message, stall, stream

FAILURES = [
    (400, "anthropic.BadRequestError", "invalid_request_error"),
    (401, "anthropic.AuthenticationError", "authentication_error"),
    (429, "anthropic.RateLimitError", "rate_limit_error"),
    (500, "anthropic.InternalServerError", "api_error"),
    (529, "anthropic.OverloadedError", "overloaded_error"),
]


def full(event: dict[str, Any]) -> dict[str, Any]:
    """The fields every call's event must carry, whatever the route."""
    keys = ("model", "max_tokens", "input_tokens", "output_tokens", "status_code", "error_type", "retries")
    return {key: event.get(key) for key in keys}


# -- the seed's pattern: a plain client inside log_call -------------------------------------------------


def test_plain_client_inside_log_call_gives_the_full_field_set_on_success() -> None:
    """No `instrument()`: the scope itself sees the SDK call, its request and its response."""
    api = FakeAnthropicAPI([message("Hi", input_tokens=12, output_tokens=5)])
    client = api.client(max_retries=0)

    @claude_logging.log_call(tenant_id="acme")
    def summarise() -> anthropic.types.Message:
        return ask(client, max_tokens=321)

    with capture_events() as events:
        result = summarise()

    assert isinstance(result, anthropic.types.Message)
    assert len(events) == 1
    event = events[0]
    assert full(event) == {
        "model": MODEL,
        "max_tokens": 321,
        "input_tokens": 12,
        "output_tokens": 5,
        "status_code": 200,
        "error_type": None,
        "retries": 0,
    }
    assert event["request_id"].startswith("req_")
    assert event["ratelimit_requests_remaining"] is not None
    assert event["tenant_id"] == "acme"
    assert event["cost_usd"] > 0


@pytest.mark.parametrize(("status", "error_class", "api_type"), FAILURES)
def test_plain_client_inside_log_call_gives_the_full_field_set_on_each_failure(
    status: int, error_class: str, api_type: str
) -> None:
    """A failure keeps model, max_tokens and the API's status, type and request id; it is re-raised."""
    api = FakeAnthropicAPI([error(status)])
    client = api.client(max_retries=0)

    @claude_logging.log_call
    def call() -> object:
        return ask(client, max_tokens=99)

    with capture_events() as events, pytest.raises(anthropic.APIStatusError) as raised:
        call()

    assert raised.value.status_code == status
    (event,) = events
    assert event["outcome"] == "error"
    assert (event["model"], event["max_tokens"], event["status_code"]) == (MODEL, 99, status)
    assert (event["error_type"], event["api_error_type"]) == (error_class, api_type)
    assert event["request_id"].startswith("req_")
    assert "api_error_class" not in event


def test_plain_client_inside_log_call_counts_retries_of_a_rate_limit() -> None:
    """Two 429s then a success: one event, two retries, the success's numbers."""
    api = FakeAnthropicAPI([error(429, retry_after=0.001), error(429, retry_after=0.001), message()])
    client = api.client(max_retries=2)

    with capture_events() as events, claude_logging.log_call():
        ask(client)

    (event,) = events
    assert (event["outcome"], event["status_code"], event["retries"]) == ("success", 200, 2)
    assert event["input_tokens"] is not None


def test_plain_client_inside_log_call_logs_a_timeout_and_a_connection_error() -> None:
    """No status for either; the SDK's classes, the model and max_tokens are there."""
    api = FakeAnthropicAPI([stall(2.0), disconnect()])
    client = api.client(max_retries=0, timeout=0.2)

    with capture_events() as events:
        for expected in (anthropic.APITimeoutError, anthropic.APIConnectionError):
            with pytest.raises(expected), claude_logging.log_call():
                ask(client)

    assert [event["error_type"] for event in events] == [
        "anthropic.APITimeoutError",
        "anthropic.APIConnectionError",
    ]
    assert [(event["model"], event["max_tokens"], event["status_code"]) for event in events] == [
        (MODEL, 256, None)
    ] * 2


async def test_plain_async_client_inside_log_call_gives_the_full_field_set() -> None:
    """The async route: the decorated coroutine's scope sees the async client's call."""
    api = FakeAnthropicAPI([message(input_tokens=7, output_tokens=3), error(529)])
    client = api.async_client(max_retries=0)

    @claude_logging.log_call
    async def call() -> object:
        return await client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES)

    with capture_events() as events:
        await call()
        with pytest.raises(anthropic.OverloadedError):
            await call()

    assert [full(event) for event in events] == [
        {"model": MODEL, "max_tokens": 64, "input_tokens": 7, "output_tokens": 3, "status_code": 200,
         "error_type": None, "retries": 0},
        {"model": MODEL, "max_tokens": 64, "input_tokens": None, "output_tokens": None, "status_code": 529,
         "error_type": "anthropic.OverloadedError", "retries": 0},
    ]  # fmt: skip


def test_plain_client_stream_inside_log_call_is_one_event_with_the_streamed_usage() -> None:
    """A stream read inside the scope: usage equals what `get_final_message()` says."""
    api = FakeAnthropicAPI([stream("Hello there", input_tokens=9, output_tokens=4)])
    client = api.client(max_retries=0)

    with (
        capture_events() as events,
        claude_logging.log_call(),
        client.messages.stream(model=MODEL, max_tokens=50, messages=MESSAGES) as reader,
    ):
        final = reader.get_final_message()

    (event,) = events
    assert event["stream"] is True
    assert (event["input_tokens"], event["output_tokens"]) == (
        final.usage.input_tokens,
        final.usage.output_tokens,
    )
    assert (event["max_tokens"], event["status_code"], event["stream_completed"]) == (50, 200, True)


def test_the_seed_pattern_in_a_real_process_writes_full_events_to_stdout() -> None:
    """The README's decorator over a plain client, in a subprocess, over HTTP: stdout has every field."""
    script = textwrap.dedent(
        f"""
        import anthropic, claude_logging
        from claude_logging.testing import FakeAnthropicAPI, error, message, stream

        with FakeAnthropicAPI([message(), error(429), stream()]) as api:
            client = anthropic.Anthropic(base_url=api.url, api_key="sk-ant-x", max_retries=0)

            @claude_logging.log_call(tenant_id="acme")
            def ask(**extra):
                return client.messages.create(model="{MODEL}", max_tokens=77, messages={MESSAGES!r}, **extra)

            ask()
            try:
                ask()
            except anthropic.RateLimitError:
                pass
            for _ in ask(stream=True):
                pass
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(e["outcome"], e["status_code"], e["error_type"]) for e in events] == [
        ("success", 200, None),
        ("error", 429, "anthropic.RateLimitError"),
        ("success", 200, None),
    ]
    assert {(e["model"], e["max_tokens"], e["tenant_id"]) for e in events} == {(MODEL, 77, "acme")}
    assert [e["input_tokens"] is not None for e in events] == [True, False, True]


# -- instrument() for the whole process -------------------------------------------------------------------


def test_instrument_without_a_client_logs_clients_built_before_and_after() -> None:
    """Every client, of the sync and the async class, whenever it was built; uninstrument() ends it."""
    api = FakeAnthropicAPI()
    before = api.client()
    claude_logging.instrument()
    try:
        after = api.client()
        later_async = api.async_client()
        with capture_events() as events:
            ask(before)
            ask(after)
            asyncio.run(later_async.messages.create(model=MODEL, max_tokens=8, messages=MESSAGES))
        assert len(events) == 3
        assert all(event["outcome"] == "success" and event["max_tokens"] for event in events)
    finally:
        claude_logging.uninstrument()
    with capture_events() as events:
        ask(before)
    assert events == []


def test_instrument_without_a_client_covers_the_platform_clients() -> None:
    """Bedrock and Vertex clients are SDK clients like any other: logged with no per-client step."""
    api = FakeAnthropicAPI()
    transport = api.transport()
    bedrock = anthropic.AnthropicBedrock(
        aws_region="us-east-1", aws_access_key="a", aws_secret_key="b",
        base_url="http://fake.anthropic.test", http_client=httpx2.Client(transport=transport),
    )  # fmt: skip
    vertex = anthropic.AnthropicVertex(
        region="us-east5", project_id="p", access_token="t",
        base_url="http://fake.anthropic.test/v1", http_client=httpx2.Client(transport=transport),
    )  # fmt: skip
    claude_logging.instrument()
    try:
        with capture_events() as events:
            bedrock.messages.create(
                model="anthropic.claude-sonnet-4-6-v1:0", max_tokens=10, messages=MESSAGES
            )
            vertex.messages.create(model="claude-sonnet-4-6@20260101", max_tokens=10, messages=MESSAGES)
    finally:
        claude_logging.uninstrument()
    assert [(event["outcome"], event["max_tokens"]) for event in events] == [("success", 10), ("success", 10)]


def test_instrument_leaves_no_trace_on_the_client() -> None:
    """vars(), middleware, copies and signatures are the SDK's own, instrumented or not."""
    api = FakeAnthropicAPI()
    plain = api.client()
    before = (
        dict(vars(plain)),
        plain.middleware,
        inspect.signature(plain.copy),
        inspect.signature(plain.request),
    )
    claude_logging.instrument(plain)
    claude_logging.instrument()
    try:
        after = (
            dict(vars(plain)),
            plain.middleware,
            inspect.signature(plain.copy),
            inspect.signature(plain.request),
        )
        assert after == before
        copied = plain.copy(max_retries=1)
        assert copied.middleware == ()
        assert vars(copied).keys() == vars(api.client().copy(max_retries=1)).keys()
    finally:
        claude_logging.uninstrument()
        claude_logging.uninstrument(plain)


def test_a_client_derived_from_an_instrumented_one_is_instrumented() -> None:
    """`with_options()` and `copy()` of a chosen client are chosen; other clients are not."""
    api = FakeAnthropicAPI()
    chosen = claude_logging.instrument(api.client())
    other = api.client()
    with capture_events() as events:
        ask(chosen.with_options(max_retries=0))
        ask(chosen.copy(timeout=5))
        ask(other)
    assert len(events) == 2


# -- errors found by what they are ------------------------------------------------------------------------


class FrameworkRateLimitError(anthropic.RateLimitError):
    """A framework's own subclass of the SDK's error (LangChain's `AnthropicRateLimitError` is one)."""


class FrameworkHTTPError(Exception):
    """A framework's wrapper, raised `from` the SDK's error (pydantic-ai's `ModelHTTPError` is one)."""


def test_a_subclass_of_an_api_error_keeps_the_api_facts() -> None:
    """Found by isinstance, not by the module's name: status, API type and request id are there."""
    api = FakeAnthropicAPI([error(429)])
    client = claude_logging.instrument(api.client(max_retries=0))

    def framework_call() -> None:
        try:
            ask(client)
        except anthropic.RateLimitError as exc:
            raise FrameworkRateLimitError(exc.message, response=exc.response, body=exc.body) from exc

    with capture_events() as events, pytest.raises(FrameworkRateLimitError), claude_logging.log_call():
        framework_call()

    (event,) = events
    assert event["error_type"] == f"{__name__}.FrameworkRateLimitError"
    assert (event["status_code"], event["api_error_type"], event["api_error_class"]) == (
        429,
        "rate_limit_error",
        "anthropic.RateLimitError",
    )


@pytest.mark.parametrize("chained", [True, False], ids=["raised_from", "no_chain"])
def test_a_wrapper_exception_in_a_scope_keeps_the_failed_calls_facts(chained: bool) -> None:
    """Whether or not the wrapper chains the API error, the scope's event keeps its 429."""
    api = FakeAnthropicAPI([error(429, retry_after=3)])
    client = api.client(max_retries=0)

    @claude_logging.log_call
    def agent() -> None:
        try:
            ask(client)
        except anthropic.RateLimitError as exc:
            if chained:
                raise FrameworkHTTPError("model request failed") from exc
        raise FrameworkHTTPError("model request failed")

    with capture_events() as events, pytest.raises(FrameworkHTTPError):
        agent()

    (event,) = events
    assert event["error_type"] == f"{__name__}.FrameworkHTTPError"
    assert (
        event["status_code"],
        event["api_error_type"],
        event["api_error_class"],
        event["retry_after_s"],
    ) == (
        429,
        "rate_limit_error",
        "anthropic.RateLimitError",
        3.0,
    )
    assert event["request_id"].startswith("req_")


def test_an_app_exception_of_the_sdk_base_class_is_not_taken_for_the_api() -> None:
    """`anthropic.AnthropicError(prompt)` raised by the app: its text is the app's, not written by default."""
    with capture_events() as events, pytest.raises(anthropic.AnthropicError), claude_logging.log_call():
        raise anthropic.AnthropicError("summarise: my secret prompt")

    (event,) = events
    assert event["error_type"] == "anthropic.AnthropicError"
    assert "error_message" not in event
    assert event["status_code"] is None


def test_an_app_exception_text_is_not_read_when_it_will_not_be_written() -> None:
    """A slow or raising `__str__` never runs on the caller's thread for nothing."""

    class Loud(Exception):
        def __str__(self) -> str:
            raise AssertionError("__str__ was called")

    with capture_events() as events, pytest.raises(Loud), claude_logging.log_call():
        raise Loud(object())

    assert events[0]["error_type"].endswith("Loud")


# -- the scope holds no stream -----------------------------------------------------------------------------


def test_a_stream_dropped_inside_a_scope_is_finished_before_the_scope_ends() -> None:
    """No strong reference from the scope: the dropped stream's call ends when it is dropped."""
    api = FakeAnthropicAPI([stream("a b c d e f")])
    client = api.client(max_retries=0)

    with capture_events() as events, claude_logging.log_call() as scope:
        response = client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES, stream=True)
        del response
        gc.collect()
        claude_logging.flush(2.0)
        assert scope.event.api_calls == 1  # folded: the dropped stream's call has ended

    (event,) = events
    assert event["outcome"] == "success"
    assert event["stream_completed"] is False


def test_no_opentelemetry_call_when_no_tracer_provider_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK loads the OpenTelemetry API itself; we call it only once a provider is set."""
    from opentelemetry import trace

    def refuse() -> None:
        raise AssertionError("get_current_span() was called")

    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    monkeypatch.setattr(trace, "get_current_span", refuse)
    api = FakeAnthropicAPI()
    with capture_events() as events, claude_logging.log_call():
        ask(claude_logging.instrument(api.client()))
    assert events[0]["outcome"] == "success"


def test_the_sdks_own_spans_keep_a_streams_output_and_its_body_wrapper() -> None:
    """SDK tracing on, client instrumented: the SDK's body wrapper stays, its span keeps the output."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    api = FakeAnthropicAPI([stream("Hi there", input_tokens=5, output_tokens=2)])
    option = {"tracer_provider": provider, "traces": {"content_mode": "content"}}
    client = claude_logging.instrument(api.client(max_retries=0, open_telemetry=option))

    with (
        capture_events() as events,
        client.messages.stream(model=MODEL, max_tokens=9, messages=MESSAGES) as helper,
    ):
        assert type(helper._raw_stream.response.stream).__module__.startswith("anthropic")
        final = helper.get_final_message()

    (span,) = exporter.get_finished_spans()
    assert json.loads(span.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hi there"}]}
    ]
    (event,) = events
    assert (event["input_tokens"], event["output_tokens"]) == (
        final.usage.input_tokens,
        final.usage.output_tokens,
    )
    assert (event["stream_completed"], event["outcome"]) == (True, "success")
    assert event["time_to_first_token_ms"] is not None
