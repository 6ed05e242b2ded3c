"""instructor: structured output through the app's own client, and its retry wrapper around errors.

`instructor.from_anthropic(client)` patches nothing global: it calls `client.messages.create` with
a tool built from the response model. An API error reaches the app as instructor's
`InstructorRetryException`, raised `from` the SDK's error.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("instructor")

import anthropic
import instructor
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
from instructor.core.exceptions import InstructorRetryException
from pydantic import BaseModel

from claude_logging.testing import FakeAnthropicAPI, error

MESSAGES = [{"role": "user", "content": "The largest city of France?"}]
PARIS = {"name": "Paris", "population": 2_100_000}


class City(BaseModel):
    """A structured output."""

    name: str
    population: int


def patched(api: FakeAnthropicAPI, *, max_retries: int = 2) -> Any:
    """instructor around a plain client of the in-process fake (not instrumented by us)."""
    return instructor.from_anthropic(api.client(max_retries=max_retries))


def test_structured_output_gives_one_event_and_the_model_instance(api, events, way) -> None:
    """`response_model=City`: the tool call becomes the app's `City`, one event with its tokens."""
    api.enqueue(tool_use("City", PARIS))
    with logged(way):
        city = patched(api).messages.create(
            model=MODEL, max_tokens=300, messages=MESSAGES, response_model=City
        )
    assert isinstance(city, City)
    assert city.model_dump() == PARIS
    assert len(events) == 1
    check_success(events[0], max_tokens=300, input_tokens=TOOL_INPUT_TOKENS, output_tokens=TOOL_OUTPUT_TOKENS)
    assert events[0]["stop_reason"] == "tool_use"


def test_partial_stream_gives_one_streamed_event(api, events, way) -> None:
    """`create_partial()`: partial objects reach the app as the tool input streams, one event."""
    api.enqueue(tool_use_stream("City", PARIS))
    with logged(way):
        partials = list(
            patched(api).messages.create_partial(
                model=MODEL, max_tokens=300, messages=MESSAGES, response_model=City
            )
        )
    assert partials[-1].model_dump() == PARIS
    assert len(events) == 1
    check_success(
        events[0],
        max_tokens=300,
        input_tokens=TOOL_INPUT_TOKENS,
        output_tokens=TOOL_OUTPUT_TOKENS,
        streamed=True,
    )


def test_rate_limit_retried_by_the_sdk_is_one_successful_event(api, events, way) -> None:
    """A 429 then a success: instructor sees the success, the one event counts the retry."""
    api.enqueue(error(429, retry_after=0.001), tool_use("City", PARIS))
    with logged(way):
        city = patched(api, max_retries=1).messages.create(
            model=MODEL, max_tokens=300, messages=MESSAGES, response_model=City
        )
    assert isinstance(city, City)
    assert city.model_dump() == PARIS
    assert len(events) == 1
    check_success(events[0], max_tokens=300, retries=1)


@pytest.mark.parametrize(
    ("status", "api_class"),
    [(429, anthropic.RateLimitError), (529, anthropic.OverloadedError)],
    ids=["429", "529"],
)
@pytest.mark.parametrize("max_retries", [0, 1], ids=["no-retries", "retries"])
def test_api_error_keeps_its_status_under_instructors_wrapper(
    api, events, way, status, api_class, max_retries
) -> None:
    """429/529 after the last retry: `InstructorRetryException` is raised, the event has the API's facts."""
    api.enqueue(*[error(status, retry_after=0.001)] * (max_retries + 1))
    with pytest.raises(InstructorRetryException) as caught, logged(way):
        patched(api, max_retries=max_retries).messages.create(
            model=MODEL, max_tokens=300, messages=MESSAGES, response_model=City
        )
    assert type(caught.value.__cause__) is api_class
    assert len(events) == 1
    check_api_error(events[0], caught.value, way=way, status=status, retries=max_retries, max_tokens=300)
