"""Bedrock and Vertex clients share the SDK's resources: instrument() covers them too."""

from __future__ import annotations

import httpx2
import pytest
from anthropic import AnthropicBedrock, AnthropicVertex, AsyncAnthropicVertex

import claude_logging
from claude_logging.testing import message

REQUEST = {"max_tokens": 32, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def bedrock(api):
    """An instrumented Bedrock client whose signed requests go to the fake API."""
    client = AnthropicBedrock(
        aws_access_key="AKIAFAKE",
        aws_secret_key="fake-secret",
        aws_region="us-east-1",
        base_url="http://bedrock.fake.test",
        http_client=httpx2.Client(transport=api.transport()),
        max_retries=0,
    )
    return claude_logging.instrument(client)


@pytest.fixture
def vertex(api):
    """An instrumented Vertex client whose requests go to the fake API."""
    client = AnthropicVertex(
        region="us-east5",
        project_id="fake-project",
        access_token="fake-token",
        base_url="http://vertex.fake.test/v1",
        http_client=httpx2.Client(transport=api.transport()),
        max_retries=0,
    )
    return claude_logging.instrument(client)


def test_bedrock_message_is_logged(bedrock, api, events):
    """A Bedrock invoke: one event with the model id and usage."""
    api.enqueue(message(input_tokens=21, output_tokens=4))

    result = bedrock.messages.create(model="anthropic.claude-sonnet-4-6", **REQUEST)

    assert api.requests[0].path == "/model/anthropic.claude-sonnet-4-6/invoke"
    (event,) = events
    assert (event["model"], event["input_tokens"], event["output_tokens"]) == (result.model, 21, 4)
    assert event["outcome"] == "success"


def test_bedrock_stream_is_logged_with_usage(bedrock, api, events):
    """A Bedrock response stream (AWS event-stream frames) gives the same stream event."""
    api.enqueue(message("a b c", input_tokens=8, output_tokens=13))

    with bedrock.messages.stream(model="anthropic.claude-sonnet-4-6", **REQUEST) as helper:
        final = helper.get_final_message()

    (event,) = events
    assert (event["stream"], event["outcome"]) == (True, "success")
    assert event["output_tokens"] == final.usage.output_tokens == 13


def test_vertex_message_and_stream_are_logged(vertex, api, events):
    """Vertex rawPredict and streamRawPredict: one event each."""
    vertex.messages.create(model="claude-sonnet-4-6", **REQUEST)
    chunks = list(vertex.messages.create(model="claude-sonnet-4-6", stream=True, **REQUEST))

    assert chunks[-1].type == "message_stop"
    assert [e.get("stream", False) for e in events] == [False, True]
    assert all(e["model"] == "claude-sonnet-4-6" for e in events)


async def test_async_vertex_is_logged(api, events):
    """AsyncAnthropicVertex goes through the same seams."""
    client = claude_logging.instrument(
        AsyncAnthropicVertex(
            region="us-east5",
            project_id="p",
            access_token="t",
            base_url="http://vertex.fake.test/v1",
            http_client=httpx2.AsyncClient(transport=api.transport()),
        )
    )

    await client.messages.create(model="claude-haiku-4-5", **REQUEST)

    assert [e["outcome"] for e in events] == ["success"]
