"""Haystack (`anthropic-haystack`): a component that builds its client itself, from the environment.

`AnthropicChatGenerator` takes no client and no base URL: `warm_up()` (called by `run()`) builds an
`anthropic.Anthropic` from the API key, and the SDK reads `ANTHROPIC_BASE_URL`. Its errors are the
SDK's own, unwrapped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("haystack_integrations.components.generators.anthropic")

import anthropic
from frameworks_kit import (
    MODEL,
    TOOL_INPUT_TOKENS,
    TOOL_OUTPUT_TOKENS,
    check_api_error,
    check_success,
    logged,
    tool_use,
)
from haystack.dataclasses import ChatMessage, StreamingChunk
from haystack.tools import Tool
from haystack.utils import Secret
from haystack_integrations.components.generators.anthropic import AnthropicChatGenerator

from claude_logging.testing import FakeAnthropicAPI, error, message

if TYPE_CHECKING:
    from collections.abc import Iterator

TEXT = "Bonjour from the fake API"
HELLO = [ChatMessage.from_user("Hello")]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeAnthropicAPI]:
    """The fake API over HTTP, one for the module."""
    with FakeAnthropicAPI() as fake:
        yield fake


@pytest.fixture
def generator(server: FakeAnthropicAPI, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A factory of generators pointed at the fake the only way Haystack allows: the environment."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    built: list[AnthropicChatGenerator] = []

    def build(*, max_retries: int = 2, **options: Any) -> AnthropicChatGenerator:
        component = AnthropicChatGenerator(
            api_key=Secret.from_token("sk-ant-test-key"),
            model=MODEL,
            generation_kwargs={"max_tokens": 300},
            max_retries=max_retries,
            **options,
        )
        built.append(component)
        return component

    yield build
    for component in built:
        component.close()


def test_run_gives_one_event_and_the_reply_unchanged(server, generator, events, way) -> None:
    """`run()`: one event with the request's model and max_tokens, the reply's tokens."""
    server.enqueue(message(TEXT, input_tokens=11, output_tokens=7))
    with logged(way):
        result = generator().run(HELLO)
    reply = result["replies"][0]
    assert (reply.text, reply.meta["usage"]["prompt_tokens"], reply.meta["usage"]["completion_tokens"]) == (
        TEXT,
        11,
        7,
    )
    assert len(events) == 1
    check_success(events[0], max_tokens=300, input_tokens=11, output_tokens=7)


def test_streaming_callback_gives_one_streamed_event(server, generator, events, way) -> None:
    """`streaming_callback=`: every chunk reaches the callback, one event with the final usage."""
    server.enqueue(message(TEXT, input_tokens=11, output_tokens=7))
    chunks: list[StreamingChunk] = []
    with logged(way):
        result = generator().run(HELLO, streaming_callback=chunks.append)
    assert TEXT == result["replies"][0].text == "".join(chunk.content for chunk in chunks)
    assert len(events) == 1
    check_success(events[0], max_tokens=300, input_tokens=11, output_tokens=7, streamed=True)


def test_tool_call_gives_one_event_and_the_tool_call(server, generator, events, way) -> None:
    """`tools=`: the tool call reaches the app, the event has the call's tokens."""
    weather = Tool(
        name="lookup_weather",
        description="The weather in a city.",
        parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        function=lambda city: f"sunny in {city}",
    )
    server.enqueue(tool_use("lookup_weather", {"city": "Paris"}))
    with logged(way):
        result = generator(tools=[weather]).run([ChatMessage.from_user("Weather in Paris?")])
    calls = result["replies"][0].tool_calls
    assert [(call.tool_name, call.arguments) for call in calls] == [("lookup_weather", {"city": "Paris"})]
    assert len(events) == 1
    check_success(events[0], max_tokens=300, input_tokens=TOOL_INPUT_TOKENS, output_tokens=TOOL_OUTPUT_TOKENS)


def test_rate_limit_retried_by_the_sdk_is_one_successful_event(server, generator, events, way) -> None:
    """A 429 then a success: Haystack sees the success, the one event counts the retry."""
    server.enqueue(error(429, retry_after=0.001), message(TEXT))
    with logged(way):
        result = generator(max_retries=1).run(HELLO)
    assert result["replies"][0].text == TEXT
    assert len(events) == 1
    check_success(events[0], max_tokens=300, retries=1)


@pytest.mark.parametrize(
    ("status", "raised"),
    [(429, anthropic.RateLimitError), (529, anthropic.OverloadedError)],
    ids=["429", "529"],
)
@pytest.mark.parametrize("max_retries", [0, 1], ids=["no-retries", "retries"])
def test_api_error_reaches_the_app_as_the_sdks_own(
    server, generator, events, way, status, raised, max_retries
) -> None:
    """429/529 after the last retry: the SDK's error is raised as it is, the event has its facts."""
    server.enqueue(*[error(status, retry_after=0.001)] * (max_retries + 1))
    with pytest.raises(raised) as caught, logged(way):
        generator(max_retries=max_retries).run(HELLO)
    assert type(caught.value) is raised
    assert len(events) == 1
    check_api_error(events[0], caught.value, way=way, status=status, retries=max_retries, max_tokens=300)
