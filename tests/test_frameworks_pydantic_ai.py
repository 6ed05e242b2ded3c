"""pydantic-ai (`pydantic-ai-slim[anthropic]`): an agent's async client, its tool loop and its errors.

`AnthropicModel` calls an `AsyncAnthropic` client (`run_sync` drives it on its own event loop).
API errors reach the app as pydantic-ai's `ModelHTTPError` family, raised `from` the SDK's error.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("pydantic_ai")

from frameworks_kit import (
    MODEL,
    TOOL_INPUT_TOKENS,
    TOOL_OUTPUT_TOKENS,
    check_api_error,
    check_success,
    logged,
    tool_use,
)
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.exceptions import ModelHTTPError, ModelOverloadedError, ModelRateLimitError
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.providers.anthropic import AnthropicProvider

import claude_logging
from claude_logging.testing import FakeAnthropicAPI, error, message

if TYPE_CHECKING:
    from collections.abc import Iterator

TEXT = "Bonjour from the fake API"


class City(BaseModel):
    """A structured output."""

    name: str
    population: int


@pytest.fixture(autouse=True)
def _close_the_loop_run_sync_leaves() -> Iterator[None]:
    """`run_sync` sets an event loop of its own and leaves it open; close it after each test.

    Left alone, it is collected during some later test, whose strict warnings then fail on the
    unclosed loop's `ResourceWarning`.
    """
    yield
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            loop = asyncio.get_event_loop()
    except RuntimeError:
        return  # no loop set (Python 3.14 raises instead of making one)
    if not loop.is_running():
        loop.close()
        asyncio.set_event_loop(None)


def agent(api: FakeAnthropicAPI, *, max_retries: int = 2, **options: Any) -> Agent[None, Any]:
    """An agent on an `AsyncAnthropic` client of the in-process fake (not instrumented by us)."""
    client = api.async_client(max_retries=max_retries)
    model = AnthropicModel(MODEL, provider=AnthropicProvider(anthropic_client=client))
    return Agent(model, model_settings={"max_tokens": 300}, **options)


def weather_agent(api: FakeAnthropicAPI) -> Agent[None, Any]:
    """An agent with one tool, and its two replies queued: the tool call, then the answer."""
    api.enqueue(
        tool_use("lookup_weather", {"city": "Paris"}), message(TEXT, input_tokens=60, output_tokens=7)
    )
    weather = agent(api)

    @weather.tool_plain
    def lookup_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    return weather


def test_run_gives_one_event_and_the_output_unchanged(api, events, way) -> None:
    """`run_sync()`: one event with the request's model and max_tokens, the reply's tokens."""
    api.enqueue(message(TEXT, input_tokens=11, output_tokens=7))
    with logged(way):
        result = agent(api).run_sync("Hello")
    assert (result.output, result.usage.input_tokens, result.usage.output_tokens) == (TEXT, 11, 7)
    assert len(events) == 1
    check_success(events[0], max_tokens=300, input_tokens=11, output_tokens=7)


def test_run_stream_gives_one_streamed_event_with_the_final_usage(api, events, way) -> None:
    """`run_stream_sync()`: the text reaches the app, one event once the stream is read."""
    api.enqueue(message(TEXT, input_tokens=11, output_tokens=7))
    with logged(way):
        result = agent(api).run_stream_sync("Hello")
        text = "".join(result.stream_text(delta=True))
    assert text == TEXT
    assert len(events) == 1
    check_success(events[0], max_tokens=300, input_tokens=11, output_tokens=7, streamed=True)


def test_structured_output_gives_one_event_and_the_model_instance(api, events, way) -> None:
    """`output_type=City`: the `final_result` tool call becomes the app's `City`, one event."""
    api.enqueue(tool_use("final_result", {"name": "Paris", "population": 2_100_000}))
    with logged(way):
        result = agent(api, output_type=City).run_sync("The largest city of France?")
    assert City(name="Paris", population=2_100_000) == result.output
    assert len(events) == 1
    check_success(events[0], max_tokens=300, input_tokens=TOOL_INPUT_TOKENS, output_tokens=TOOL_OUTPUT_TOKENS)
    assert events[0]["stop_reason"] == "tool_use"


def test_tool_loop_gives_one_event_per_api_call_or_one_per_scope(api, events, way) -> None:
    """A function tool: two API calls. `instrument()` logs each; a scope sums them into its one event."""
    with logged(way):
        result = weather_agent(api).run_sync("Weather in Paris?")
    assert result.output == TEXT
    if way == "instrument":
        assert len(events) == 2
        check_success(
            events[0], max_tokens=300, input_tokens=TOOL_INPUT_TOKENS, output_tokens=TOOL_OUTPUT_TOKENS
        )
        check_success(events[1], max_tokens=300, input_tokens=60, output_tokens=7)
    else:
        assert len(events) == 1
        check_success(
            events[0],
            max_tokens=300,
            input_tokens=TOOL_INPUT_TOKENS + 60,
            output_tokens=TOOL_OUTPUT_TOKENS + 7,
        )
        assert events[0]["api_calls"] == 2


def test_rate_limit_retried_by_the_sdk_is_one_successful_event(api, events, way) -> None:
    """A 429 then a success: the agent sees the success, the one event counts the retry."""
    api.enqueue(error(429, retry_after=0.001), message(TEXT))
    with logged(way):
        result = agent(api, max_retries=1).run_sync("Hello")
    assert result.output == TEXT
    assert len(events) == 1
    check_success(events[0], max_tokens=300, retries=1)


@pytest.mark.parametrize(
    ("status", "raised"), [(429, ModelRateLimitError), (529, ModelOverloadedError)], ids=["429", "529"]
)
@pytest.mark.parametrize("max_retries", [0, 1], ids=["no-retries", "retries"])
def test_api_error_keeps_its_status_under_pydantic_ais_wrapper(
    api, events, way, status, raised, max_retries
) -> None:
    """429/529 after the last retry: pydantic-ai's own class is raised, the event has the API's facts."""
    api.enqueue(*[error(status, retry_after=0.001)] * (max_retries + 1))
    with pytest.raises(raised) as caught, logged(way):
        agent(api, max_retries=max_retries).run_sync("Hello")
    assert isinstance(caught.value, ModelHTTPError)
    assert status == caught.value.status_code
    assert status == caught.value.__cause__.status_code
    assert len(events) == 1
    check_api_error(events[0], caught.value, way=way, status=status, retries=max_retries, max_tokens=300)


def test_an_agent_run_under_per_call_is_one_event_per_call_and_a_rollup(api, events) -> None:
    """`log_call(per_call=True)` around a tool loop: each API call its own event, one run rollup."""
    with claude_logging.log_call(per_call=True, feature="weather"):
        result = weather_agent(api).run_sync("Weather in Paris?")
    assert result.output == TEXT
    calls = [event for event in events if event["event"] == "claude.call"]
    runs = [event for event in events if event["event"] == "claude.run"]
    assert [(call["input_tokens"], call["output_tokens"]) for call in calls] == [
        (TOOL_INPUT_TOKENS, TOOL_OUTPUT_TOKENS),
        (60, 7),
    ]
    assert len(runs) == 1
    assert {call["run_id"] for call in calls} == {runs[0]["run_id"]}
    assert (runs[0]["input_tokens"], runs[0]["output_tokens"]) == (
        TOOL_INPUT_TOKENS + 60,
        TOOL_OUTPUT_TOKENS + 7,
    )
    assert {event.get("feature") for event in events} == {"weather"}
