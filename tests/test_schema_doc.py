"""docs/schema.md is the contract: its field table is this test's oracle."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest
from conftest import ask
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from test_batches import batches_api, create_and_read

import claude_logging
from claude_logging import _fields
from claude_logging.testing import error, message, stream

SCHEMA_DOC = Path(__file__).parent.parent / "docs" / "schema.md"
TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
}


def documented_fields() -> list[tuple[str, str, str]]:
    """(field, group, type) rows of the field table, in order."""
    rows = re.findall(
        r"^\| `([a-z_0-9]+)` \| (always|known) \| (\w+) \|", SCHEMA_DOC.read_text(), re.MULTILINE
    )
    assert len(rows) > 30
    return rows


FIELDS = documented_fields()
ORDER = {name: index for index, (name, _, _) in enumerate(FIELDS)}
ALWAYS = [name for name, group, _ in FIELDS if group == "always"]


def check_against_table(event: dict[str, Any]) -> None:
    """Always-fields first and in order; known fields in table order; types as documented."""
    keys = list(event)
    assert keys[: len(ALWAYS)] == ALWAYS
    known = [key for key in keys if key in ORDER]
    assert known == sorted(known, key=ORDER.__getitem__)
    extras = [index for index, key in enumerate(keys) if key not in ORDER]
    tail = [index for index, key in enumerate(keys) if key in ("trace_id", "span_id", "dropped_events")]
    assert not extras or not tail or max(extras) < min(tail)
    for name, group, kind in FIELDS:
        if name not in event:
            continue
        value = event[name]
        if value is None:
            assert group == "always", f"{name} is null but documented as present only when known"
            continue
        assert isinstance(value, TYPES[kind]), f"{name}={value!r} is not {kind}"
        assert kind != "integer" or not isinstance(value, bool)


def scenario_events(api: Any) -> list[dict[str, Any]]:
    """Events from calls that together exercise every documented field."""
    client = claude_logging.instrument(api.client(max_retries=1))
    claude_logging.configure(service="svc", env="test", version="1.0", capture_content=True)
    span = NonRecordingSpan(SpanContext(0x1234, 0x5678, is_remote=False, trace_flags=TraceFlags(1)))
    with claude_logging.testing.capture_events() as events:
        api.enqueue(error(429, retry_after=0.001), stream("a b c", output_tokens=9))
        with trace.use_span(span), claude_logging.context(tenant_id="t" * 300, user_id="u", extra_field=1):
            list(ask(client, stream=True))
        api.enqueue(error(400, message="bad"))
        with pytest.raises(anthropic.BadRequestError):
            ask(client)
        client.messages.count_tokens(model="claude-sonnet-4-6", messages=[])
        api.enqueue(message(), message())

        @claude_logging.log_call(model="m")
        def two_calls() -> None:
            ask(client)
            ask(client)

        two_calls()
        api.enqueue(error(400))

        @claude_logging.log_call
        def wrapped() -> None:
            try:
                ask(client)
            except anthropic.BadRequestError as exc:
                raise RuntimeError("the framework's own error") from exc

        with pytest.raises(RuntimeError):
            wrapped()
        with claude_logging.log_call(per_call=True):
            ask(client)
        create_and_read(claude_logging.instrument(batches_api().client(max_retries=0)))
        vertex = anthropic.AnthropicVertex(
            region="us-east5",
            project_id="p",
            access_token="t",
            http_client=httpx2.Client(transport=api.transport()),
        )
        with claude_logging.log_call():
            vertex.messages.create(
                model="claude-sonnet-4-6@20260101",
                max_tokens=10,
                messages=[],
                extra_body={"temperature": 0.5, "top_p": 0.9, "top_k": 5},
                extra_headers={"anthropic-user-profile-id": "up_1"},
            )
        api.enqueue(bill_explaining_reply())
        with claude_logging.context(conversation_id="conv-1"):
            ask(client, **BILL_SHAPING_REQUEST)
    return events


BILL_SHAPING_REQUEST: dict[str, Any] = {
    "model": "us.anthropic.claude-sonnet-4-6-v1:0",
    "thinking": {"type": "enabled", "budget_tokens": 2048},
    "output_config": {"effort": "high", "format": {"type": "json_schema", "schema": {"type": "object"}}},
    "stop_sequences": ["END"],
    "tools": [{"name": "lookup", "input_schema": {"type": "object"}}],
    "tool_choice": {"type": "auto"},
    "workspace_id": "wrkspc_1",
    "diagnostics": {"previous_message_id": "msg_prev"},
    "extra_body": {"temperature": 0.5, "top_p": 0.9, "top_k": 40},
}
"""A request with every setting the body carries (the 2.x SDK takes sampling only in `extra_body`)."""


def bill_explaining_reply() -> Any:
    """A refusal that still used tools and web search, thought, wrote the cache and ran in the US."""
    return message(
        stop_reason="refusal",
        stop_details={"type": "refusal", "category": "cyber", "explanation": None},
        diagnostics={"cache_miss_reason": {"type": "tools_changed", "cache_missed_input_tokens": 10}},
        tool_uses=["lookup"],
        input_tokens=100,
        output_tokens=50,
        usage={
            "cache_creation_input_tokens": 30,
            "cache_creation": {"ephemeral_5m_input_tokens": 10, "ephemeral_1h_input_tokens": 20},
            "output_tokens_details": {"thinking_tokens": 40},
            "service_tier": "standard",
            "speed": "standard",
            "inference_geo": "us",
            "server_tool_use": {
                "web_search_requests": 2,
                "web_fetch_requests": 1,
                "code_execution_requests": 1,
            },
        },
    )


def test_every_event_matches_the_documented_table(api):
    """Names, order, presence and types of every field of every scenario event."""
    for event in scenario_events(api):
        check_against_table(event)


def test_every_documented_field_is_emitted_by_some_call(api):
    """No phantom fields: each row of the table appears in a real event.

    `internal_error` and `dropped_events` need injected faults; the reliability tests emit them.
    """
    emitted = {key for event in scenario_events(api) for key in event}
    missing = {name for name, _, _ in FIELDS} - emitted - {"internal_error", "dropped_events"}
    assert missing == set()


def test_the_always_group_is_the_codes_own_list():
    """The documented always-present fields, in order, are the ones the code fills in first."""
    assert tuple(ALWAYS) == _fields.ALWAYS_FIELDS


def test_the_table_lists_exactly_the_fields_the_library_reserves():
    """The documented fields are the ones extra fields may not take (the code's own list)."""
    assert {name for name, _, _ in FIELDS} == set(_fields.CORE_FIELDS)


def test_the_outcome_table_matches_the_code():
    """Every documented outcome is one the code knows, with the documented level."""
    from claude_logging._event import OUTCOMES
    from claude_logging._render import LEVELS

    rows = re.findall(r"^\| `(\w+)` \| [^|]+ \| `(\w+)` \|", SCHEMA_DOC.read_text(), re.MULTILINE)
    assert [outcome for outcome, _ in rows] == list(OUTCOMES)
    assert dict(rows) == {o: LEVELS.get(o, "error") for o in OUTCOMES}
