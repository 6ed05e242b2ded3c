"""The facts that explain a bill: usage details, request settings and response details, end to end.

Real SDK clients against the fake API (which answers in the real wire format), plain and streamed;
a stream's usage arrives in pieces (`message_start`, then a cumulative `message_delta`), and the
event must equal what the SDK itself accumulated.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import anthropic
import httpx2
import pytest
from anthropic import Anthropic, AnthropicBedrock, AnthropicVertex
from anthropic.lib.foundry import AnthropicFoundry
from anthropic.types import Message, Usage
from conftest import ask
from hypothesis import given, settings
from hypothesis import strategies as st

import claude_logging
from claude_logging._capture import (
    _HEADER_NAMES,
    _wanted_headers,
    record_message,
    record_usage,
    request_fields,
)
from claude_logging._event import Event
from claude_logging.testing import message, stream

USAGE_DETAILS: dict[str, Any] = {
    "cache_creation_input_tokens": 300,
    "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200},
    "output_tokens_details": {"thinking_tokens": 70},
    "service_tier": "priority",
    "speed": "fast",
    "inference_geo": "us",
    "server_tool_use": {"web_search_requests": 3, "web_fetch_requests": 2},
}
EXPECTED_USAGE = {
    "cache_creation_input_tokens": 300,
    "cache_creation_5m_input_tokens": 100,
    "cache_creation_1h_input_tokens": 200,
    "thinking_output_tokens": 70,
    "service_tier": "priority",
    "speed": "fast",
    "inference_geo": "us",
    "web_search_requests": 3,
    "web_fetch_requests": 2,
    "server_tool_requests": 5,
}


def new_event() -> Event:
    return Event(start_wall_ns=0, start_mono_ns=0)


def subset(event: dict[str, Any], keys: Any) -> dict[str, Any]:
    return {key: event.get(key) for key in keys}


def test_usage_details_of_a_message_are_written(api, events):
    """A Message's usage: the cache-write split, thinking tokens, tier, speed, geo and server tools."""
    client = claude_logging.instrument(api.client())
    api.enqueue(message(output_tokens=90, usage=USAGE_DETAILS))

    result = ask(client)

    assert result.usage.output_tokens_details.thinking_tokens == 70
    assert subset(events[0], EXPECTED_USAGE) == EXPECTED_USAGE


@pytest.mark.parametrize("helper", [True, False])
def test_a_stream_whose_usage_arrives_in_pieces_gives_the_sdks_final_usage(api, events, helper):
    """Thinking tokens and server-tool counts come only in `message_delta`: the event has them."""
    client = claude_logging.instrument(api.client())
    api.enqueue(stream("a b c", output_tokens=90, usage=USAGE_DETAILS))

    if helper:
        with client.messages.stream(model="claude-sonnet-4-6", max_tokens=256, messages=[]) as live:
            final = live.get_final_message()
    else:
        chunks = list(ask(client, stream=True))
        assert chunks[0].message.usage.server_tool_use is None  # not in message_start
        final = None

    assert subset(events[0], EXPECTED_USAGE) == EXPECTED_USAGE
    assert events[0]["output_tokens"] == 90
    if final is not None:
        assert final.usage.server_tool_use.web_search_requests == events[0]["web_search_requests"]
        assert final.usage.output_tokens_details.thinking_tokens == events[0]["thinking_output_tokens"]


def test_response_details_refusal_cache_miss_and_tool_uses(api, events):
    """stop_details.category, diagnostics.cache_miss_reason.type, tool_use count and names."""
    client = claude_logging.instrument(api.client())
    api.enqueue(
        message(
            stop_reason="refusal",
            stop_details={"type": "refusal", "category": "bio", "explanation": "no"},
            diagnostics={"cache_miss_reason": {"type": "model_changed", "cache_missed_input_tokens": 5}},
            tool_uses=["search", "fetch"],
        )
    )

    result = ask(client, diagnostics={"previous_message_id": "msg_1"})

    assert result.stop_details.category == "bio"
    assert subset(
        events[0], ["refusal_category", "cache_miss_reason", "tool_use_count", "tool_use_names"]
    ) == {
        "refusal_category": "bio",
        "cache_miss_reason": "model_changed",
        "tool_use_count": 2,
        "tool_use_names": ["search", "fetch"],
    }


def test_a_refusal_without_a_category_is_uncategorized_and_names_are_capped():
    """A null category is still a refusal; more than 8 tool_use blocks keep 8 names, the full count."""
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [{"type": "tool_use", "id": f"t{i}", "name": "n" * 100, "input": {}} for i in range(10)],
        "stop_reason": "refusal",
        "stop_sequence": None,
        "stop_details": {"type": "refusal", "category": None, "explanation": None},
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    event = new_event()

    record_message(event, Message.model_validate(body))

    assert (event.refusal_category, event.tool_use_count) == ("uncategorized", 10)
    assert event.tool_use_names == ["n" * 64] * 8


def test_a_server_tool_the_sdk_does_not_name_is_counted_and_marks_the_cost_incomplete(api, events):
    """`code_execution_requests` (unknown to this version): in the total, and the cost is a lower bound."""
    client = claude_logging.instrument(api.client())
    usage = {
        "server_tool_use": {"web_search_requests": 1, "web_fetch_requests": 0, "code_execution_requests": 4}
    }
    api.enqueue(message(input_tokens=1000, output_tokens=100, usage=usage))

    ask(client, model="claude-sonnet-4-6")

    assert subset(events[0], ["web_search_requests", "server_tool_requests", "cost_incomplete"]) == {
        "web_search_requests": 1,
        "server_tool_requests": 5,
        "cost_incomplete": True,
    }
    assert events[0]["cost_usd"] == pytest.approx((1000 * 3 + 100 * 15) / 1e6 + 0.01)


def test_usage_details_from_an_sdk_usage_model_and_a_dict_agree():
    """The reader takes the SDK's own `Usage` model and the JSON dict alike."""
    raw = {"input_tokens": 1, "output_tokens": 90, **USAGE_DETAILS}
    from_model, from_dict = new_event(), new_event()

    record_usage(from_model, Usage.model_validate(raw))
    record_usage(from_dict, raw)

    for name, expected in EXPECTED_USAGE.items():
        assert getattr(from_model, name) == getattr(from_dict, name) == expected, name


class OlderUsage(anthropic.BaseModel):
    """`Usage` as an older SDK declares it: the newer fields arrive as pydantic's extra fields."""

    input_tokens: int
    output_tokens: int


def test_usage_fields_the_sdk_does_not_declare_and_plain_objects_are_read_alike():
    """An older SDK keeps newer usage fields as extra ones; any other object is read by attribute."""
    raw = {"input_tokens": 1, "output_tokens": 90, **USAGE_DETAILS}
    older = OlderUsage.model_validate(raw)
    assert older.__pydantic_extra__  # the details really are undeclared there
    plain = SimpleNamespace(**{**raw, "cache_creation": SimpleNamespace(**raw["cache_creation"])})
    read = {"older SDK": new_event(), "plain object": new_event()}

    record_usage(read["older SDK"], older)
    record_usage(read["plain object"], plain)

    for name, expected in EXPECTED_USAGE.items():
        assert {how: getattr(event, name) for how, event in read.items()} == dict.fromkeys(read, expected)


# -- the request ---------------------------------------------------------------------------------------


def test_request_settings_are_written(api, events):
    """Thinking, effort, structured output, stop sequences, tools, tool_choice and workspace."""
    client = claude_logging.instrument(api.client())

    ask(
        client,
        thinking={"type": "enabled", "budget_tokens": 4096},
        output_config={"effort": "max", "format": {"type": "json_schema", "schema": {"type": "object"}}},
        stop_sequences=["A", "B", "C"],
        tools=[
            {"name": "a", "input_schema": {"type": "object"}},
            {"name": "b", "input_schema": {"type": "object"}},
        ],
        tool_choice={"type": "any"},
        workspace_id="wrkspc_9",
    )

    assert subset(events[0], SETTINGS) == {
        "thinking_type": "enabled",
        "thinking_budget_tokens": 4096,
        "effort": "max",
        "structured_output": True,
        "stop_sequence_count": 3,
        "tool_count": 2,
        "tool_choice": "any",
        "workspace_id": "wrkspc_9",
    }


SETTINGS = [
    "thinking_type",
    "thinking_budget_tokens",
    "effort",
    "structured_output",
    "stop_sequence_count",
    "tool_count",
    "tool_choice",
    "workspace_id",
]


def test_unset_settings_are_absent_not_null(api, events):
    """A plain request writes none of the settings (the SDK's `Omit` markers are not values)."""
    ask(claude_logging.instrument(api.client()), thinking={"type": "adaptive"})

    assert [key for key in [*SETTINGS, "temperature", "top_p", "top_k"] if key in events[0]] == [
        "thinking_type"
    ]


def test_sampling_headers_and_client_are_read_when_handed_over():
    """Older SDK bodies carry temperature/top_p/top_k; 2.x sends them in extra_body, ids as headers."""
    old_body = {"model": "claude-sonnet-4-6", "max_tokens": 5, "temperature": 0.2, "top_p": 0.5, "top_k": 3}
    event = new_event()
    request_fields(event, old_body)
    assert (event.temperature, event.top_p, event.top_k) == (0.2, 0.5, 3)

    event = new_event()
    request_fields(
        event,
        {"model": "claude-sonnet-4-6"},
        headers={"anthropic-user-profile-id": "prof_1", "anthropic-workspace-id": "wrkspc_1"},
        extra_body={"temperature": 1, "top_k": True},
    )
    assert (event.user_profile_id, event.workspace_id, event.temperature, event.top_k) == (
        "prof_1",
        "wrkspc_1",
        1.0,
        None,
    )


def _clients() -> list[tuple[Any, tuple[str, str, str | None]]]:
    transport = httpx2.MockTransport(lambda _request: httpx2.Response(500))
    http = httpx2.Client(transport=transport)
    return [
        (Anthropic(api_key="k", http_client=http), ("anthropic", "api.anthropic.com", None)),
        (
            AnthropicBedrock(
                aws_access_key="a", aws_secret_key="s", aws_region="eu-west-1", http_client=http
            ),
            ("bedrock", "bedrock-runtime.eu-west-1.amazonaws.com", "eu-west-1"),
        ),
        (
            AnthropicVertex(region="us-east5", project_id="p", access_token="t", http_client=http),
            ("vertex", "us-east5-aiplatform.googleapis.com", "us-east5"),
        ),
        (
            AnthropicVertex(region="global", project_id="p", access_token="t", http_client=http),
            ("vertex", "aiplatform.googleapis.com", "global"),
        ),
        (
            AnthropicFoundry(api_key="k", resource="acme", http_client=http),
            ("foundry", "acme.services.ai.azure.com", None),
        ),
        (
            Anthropic(api_key="k", base_url="https://llm-proxy.internal:8443", http_client=http),
            (
                "anthropic",
                "llm-proxy.internal",
                None,
            ),
        ),
    ]


@pytest.mark.parametrize(("client", "expected"), _clients())
def test_platform_host_and_region_of_each_sdk_client(client, expected):
    """The SDK's clients, built offline: their platform, base-URL host and region."""
    event = new_event()

    request_fields(event, {"model": "claude-sonnet-4-6"}, client=client)

    assert (event.platform, event.server_address, event.cloud_region) == expected


def test_conversation_id_of_context_and_log_call(api, events):
    """A named field of context() and log_call(), on instrumented calls and scopes."""
    client = claude_logging.instrument(api.client())
    with claude_logging.context(conversation_id="conv-a"):
        ask(client)
    with claude_logging.log_call(conversation_id=42):
        ask(client)

    assert [event.get("conversation_id") for event in events] == ["conv-a", "42"]
    with pytest.raises(TypeError, match="conversation_id"):
        claude_logging.context(conversation_id=1.5)


def test_stream_readers_for_content_blocks_and_delta_stop_details():
    """What a stream's seam hands over: `content_block_start` blocks and the `message_delta` delta."""
    from anthropic.types import RawContentBlockStartEvent, RawMessageDeltaEvent

    from claude_logging._capture_response import record_content_block, record_stop_details

    event = new_event()
    for index, name in enumerate(["a", "b"]):
        start = RawContentBlockStartEvent.model_validate(
            {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "tool_use", "id": f"t{index}", "name": name, "input": {}},
            }
        )
        record_content_block(event, start.content_block)
    delta = RawMessageDeltaEvent.model_validate(
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": "refusal",
                "stop_sequence": None,
                "stop_details": {"type": "refusal", "category": "cyber"},
            },
            "usage": {"output_tokens": 3},
        }
    )
    record_stop_details(event, delta.delta.stop_details)

    assert (event.tool_use_count, event.tool_use_names, event.refusal_category) == (2, ["a", "b"], "cyber")


_WANTED = sorted(name.decode() for name in _HEADER_NAMES)
_header_names = st.sampled_from([*_WANTED, "content-type", "x-other", "via"]).flatmap(
    lambda name: st.sampled_from([name, name.upper(), name.title()])
)


_header_values = st.text(alphabet="0123456789abc ,\xe9\u00fc\u20ac", max_size=8)


@given(st.lists(st.tuples(_header_names, _header_values), max_size=30), st.sampled_from(["utf-8", "latin-1"]))
@settings(max_examples=300)
def test_the_headers_read_are_exactly_what_httpx_get_returns(pairs: list[tuple[str, str]], wire: str) -> None:
    """Any case, any order, repeated names (joined with ", " as `get()` joins them), missing ones.

    The headers arrive as bytes, as from a server, in UTF-8 or Latin-1 (where they can), so httpx
    works out their encoding from all of them; read from a fresh `Headers`, before anything asked it.
    """
    raw = [(name.encode(), value.encode(wire, "replace")) for name, value in pairs]
    asked = httpx2.Headers(raw)
    expected = {name: asked[name] for name in _WANTED if name in asked}
    assert _wanted_headers(httpx2.Headers(raw)) == expected
