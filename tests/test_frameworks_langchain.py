"""LangChain (`langchain-anthropic`): its private SDK client is logged without being handed to us.

`ChatAnthropic` builds its `anthropic.Client` lazily (`llm._client`, a cached property) on the
first call, over HTTP to `base_url`; errors come back as its own subclasses of the SDK's
(`AnthropicRateLimitError(anthropic.RateLimitError, ModelRateLimitError)`).
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("langchain_anthropic")

import anthropic
from frameworks_kit import (
    MODEL,
    TOOL_INPUT_TOKENS,
    TOOL_OUTPUT_TOKENS,
    check_api_error,
    check_success,
    logged,
    tool_use,
    tool_use_stream,
)
from langchain_anthropic import ChatAnthropic, _client_utils
from langchain_anthropic.chat_models import AnthropicOverloadedError, AnthropicRateLimitError

import claude_logging
from claude_logging.testing import FakeAnthropicAPI, error, message

if TYPE_CHECKING:
    from collections.abc import Iterator

TEXT = "Bonjour from the fake API"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeAnthropicAPI]:
    """The fake API over HTTP, one for the module: LangChain builds its own HTTP client for `base_url`.

    LangChain caches that HTTP client per `base_url` for the life of the process; it is closed here
    so that no connection to the stopped server outlives the module.
    """
    with FakeAnthropicAPI() as fake:
        yield fake
    for cached in (_client_utils._get_default_httpx_client, _client_utils._get_default_async_httpx_client):
        cached.cache_clear()
    gc.collect()


def chat(server: FakeAnthropicAPI, *, max_retries: int = 2, **options: Any) -> ChatAnthropic:
    """A `ChatAnthropic` on the fake API, as an app would build it."""
    return ChatAnthropic(
        model=MODEL,
        base_url=server.url,
        api_key="sk-ant-test-key",
        max_tokens=300,
        max_retries=max_retries,
        **options,
    )


def lookup_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def test_invoke_gives_one_event_and_the_message_unchanged(server, events, way) -> None:
    """`invoke()`: one event with the request's model and max_tokens, the reply's tokens."""
    server.enqueue(message(TEXT, input_tokens=11, output_tokens=7))
    with logged(way):
        reply = chat(server).invoke("Hello")
    assert (reply.content, reply.usage_metadata["input_tokens"], reply.usage_metadata["output_tokens"]) == (
        TEXT,
        11,
        7,
    )
    assert len(events) == 1
    check_success(events[0], max_tokens=300, input_tokens=11, output_tokens=7)


def test_stream_gives_one_streamed_event_with_the_final_usage(server, events, way) -> None:
    """`stream()`: every chunk reaches the app, and one event once the stream is read."""
    server.enqueue(message(TEXT, input_tokens=11, output_tokens=7))
    with logged(way):
        chunks = list(chat(server).stream("Hello"))
    assert "".join(chunk.content for chunk in chunks if isinstance(chunk.content, str)) == TEXT
    assert len(events) == 1
    check_success(events[0], max_tokens=300, input_tokens=11, output_tokens=7, streamed=True)


@pytest.mark.parametrize("streamed", [False, True], ids=["invoke", "stream"])
def test_tool_call_gives_one_event_and_the_tool_call(server, events, way, streamed) -> None:
    """`bind_tools()`: the tool call reaches the app, the event has the call's tokens."""
    reply = tool_use_stream if streamed else tool_use
    server.enqueue(reply("lookup_weather", {"city": "Paris"}))
    llm = chat(server).bind_tools([lookup_weather])
    with logged(way):
        if streamed:
            chunks = list(llm.stream("Weather in Paris?"))
            result = chunks[0]
            for chunk in chunks[1:]:
                result += chunk
        else:
            result = llm.invoke("Weather in Paris?")
    assert [(call["name"], call["args"]) for call in result.tool_calls] == [
        ("lookup_weather", {"city": "Paris"})
    ]
    assert len(events) == 1
    check_success(
        events[0],
        max_tokens=300,
        input_tokens=TOOL_INPUT_TOKENS,
        output_tokens=TOOL_OUTPUT_TOKENS,
        streamed=streamed,
    )
    assert events[0]["stop_reason"] == "tool_use"


def test_rate_limit_retried_by_the_sdk_is_one_successful_event(server, events, way) -> None:
    """A 429 then a success: LangChain sees the success, the one event counts the retry."""
    server.enqueue(error(429, retry_after=0.001), message(TEXT))
    with logged(way):
        reply = chat(server, max_retries=1).invoke("Hello")
    assert reply.content == TEXT
    assert len(events) == 1
    check_success(events[0], max_tokens=300, retries=1)


@pytest.mark.parametrize(
    ("status", "raised"),
    [(429, AnthropicRateLimitError), (529, AnthropicOverloadedError)],
    ids=["429", "529"],
)
@pytest.mark.parametrize("max_retries", [0, 1], ids=["no-retries", "retries"])
def test_api_error_keeps_its_status_under_langchains_own_class(
    server, events, way, status, raised, max_retries
) -> None:
    """429/529 after the last retry: LangChain's subclass is raised, the event has the API's facts."""
    server.enqueue(*[error(status, retry_after=0.001)] * (max_retries + 1))
    with pytest.raises(raised) as caught, logged(way):
        chat(server, max_retries=max_retries).invoke("Hello")
    assert status == caught.value.status_code
    assert isinstance(caught.value, anthropic.APIStatusError)
    assert len(events) == 1
    check_api_error(events[0], caught.value, way=way, status=status, retries=max_retries, max_tokens=300)


def test_a_client_built_before_instrument_is_logged_too(server, events) -> None:
    """`instrument()` after LangChain built its client: later calls on it are logged."""
    llm = chat(server)
    llm.invoke("warm up")  # builds llm._client before instrument()
    claude_logging.instrument()
    try:
        llm.invoke("Hello")
    finally:
        claude_logging.uninstrument()
    llm.invoke("after uninstrument")
    assert len(events) == 1
    check_success(events[0], max_tokens=300)
