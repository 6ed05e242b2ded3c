"""Schemas: datadog, ecs and otel render the flat view and read back to it, by their vendors' rules."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import timeit
from pathlib import Path

import pytest
from conftest import ask
from demo_events import demo_events, demo_lines
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider

import claude_logging
from claude_logging import _config, _fieldmap, _fields, _render, _schemas
from claude_logging.testing import capture_events, error, message, stream

SCHEMAS = ("datadog", "ecs", "otel")
FIRST = {
    "datadog": ["timestamp", "status", "message"],
    "ecs": ["@timestamp", "log.level", "message"],
    "otel": ["Timestamp", "SeverityText", "SeverityNumber", "Body"],
}
LAST = {"datadog": ["trace_id", "span_id"], "ecs": ["trace.id", "span.id"], "otel": ["TraceId", "SpanId"]}


def expected_flat(flat):
    """What a non-flat schema reads back: the flat view, with OTel's required operation filled in."""
    return {"operation": "chat", **flat}


def through_json(record):
    return json.loads(_render.encode_line(record, 16_000))


@pytest.fixture
def traced():
    """An active OpenTelemetry span (no global provider needed), so events carry trace ids."""
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("request") as span:
        yield span.get_span_context()


def full_flat_events(api, traced):
    """Flat events with every optional group: stream, cache, retries, error, content, extras, trace ids."""
    claude_logging.configure(service="llm-gateway", env="prod", version="1.4.2", capture_content=True)
    client = claude_logging.instrument(api.client(max_retries=1))
    api.enqueue(message("Hi", input_tokens=12, output_tokens=5, cache_read_input_tokens=7))
    api.enqueue(stream("one two three", input_tokens=40, output_tokens=42))
    api.enqueue(error(429, retry_after=0.001), error(529, retry_after=0.001))
    with capture_events() as events, claude_logging.context(tenant_id="acme", user_id="u-42", feature="qa"):
        ask(client)
        list(ask(client, stream=True))
        with pytest.raises(Exception, match="overloaded"):
            ask(client)
        with claude_logging.log_call(model="claude-haiku-4-5", step="plan", message="extra named message"):
            pass
    return events


@pytest.mark.parametrize("schema", SCHEMAS)
def test_every_demo_event_reads_back_to_its_flat_view(schema):
    """Real demo events (successes, streams, errors, abandoned): render, JSON, to_flat == the flat view."""
    for flat in demo_events("flat"):
        line = through_json(_schemas.render_as(schema, flat))
        assert _schemas.detect(line) == schema
        assert _schemas.to_flat(line) == expected_flat(flat)


@pytest.mark.parametrize("schema", SCHEMAS)
def test_optional_fields_extras_and_trace_ids_read_back(schema, api, traced):
    """Content, extra fields (one named like a vendor field), service, trace ids: all survive the trip."""
    events = full_flat_events(api, traced)

    assert len(events) == 4
    for flat in events:
        assert flat["trace_id"] == f"{traced.trace_id:032x}"
        line = through_json(_schemas.render_as(schema, flat))
        assert _schemas.to_flat(line) == expected_flat(flat)


@pytest.mark.parametrize("schema", SCHEMAS)
def test_timestamp_level_message_come_first_and_trace_ids_last(schema, api, traced):
    """Key order: the vendor's timestamp, level and message lead; the trace ids close the line."""
    for flat in full_flat_events(api, traced):
        keys = list(_schemas.render_as(schema, flat))
        assert keys[: len(FIRST[schema])] == FIRST[schema]
        assert keys[-2:] == LAST[schema]


def walk(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    yield value


@pytest.mark.parametrize("schema", SCHEMAS)
def test_absent_fields_are_left_out_never_null(schema):
    """No null anywhere in a non-flat event (the flat schema's nulls become absent keys)."""
    for flat in demo_events("flat"):
        record = _schemas.render_as(schema, flat)
        assert None not in list(walk(record))


def test_datadog_units_ids_and_names():
    """Duration is integer ns; OTel input tokens include the cache; ids are strings; status from level."""
    flat = next(e for e in demo_events("flat") if e["outcome"] == "success" and e.get("stream"))
    flat = {**flat, "cache_read_input_tokens": 300, "cache_creation_input_tokens": 20, "cost_usd": 0.0123}

    record = _schemas.render_as("datadog", flat)

    assert record["duration"] == round(flat["latency_ms"] * 1_000_000)
    assert isinstance(record["duration"], int)
    assert record["gen_ai.usage.input_tokens"] == flat["input_tokens"] + 320
    assert record["gen_ai.response.time_to_first_chunk"] == flat["time_to_first_token_ms"] / 1000
    assert record["gen_ai.response.finish_reasons"] == [flat["stop_reason"]]
    assert record["status"] == flat["level"]
    assert record["claude.cost_usd"] == 0.0123
    assert isinstance(record["claude.call_id"], str)
    assert isinstance(record["http.request_id"], str)


def test_ecs_units_outcome_and_tenant():
    """event.duration in ns, event.outcome from ECS's allowed values, tenant as organization.id."""
    for flat in demo_events("flat"):
        record = _schemas.render_as("ecs", flat)
        assert record["event.duration"] == round(flat["latency_ms"] * 1_000_000)
        assert record["event.outcome"] in {"success", "failure", "unknown"}
        assert record["claude.outcome"] == flat["outcome"]
        assert record.get("organization.id") == flat["tenant_id"]
        assert record["ecs.version"] == _schemas.ECS_VERSION
        assert "service" not in record
        assert "host" not in record


def test_otel_timestamp_severity_and_resource(api, traced):
    """Timestamp is ns since the epoch (a decimal string, as OTLP JSON writes 64-bit ints)."""
    flat = full_flat_events(api, traced)[2]  # the 529 error

    record = _schemas.render_as("otel", flat)

    assert record["Timestamp"] == str(_fieldmap.unix_nanos(flat["timestamp"]))
    assert _render.timestamp(int(record["Timestamp"])) == flat["timestamp"]
    assert (record["SeverityText"], record["SeverityNumber"]) == ("ERROR", 17)
    assert record["EventName"] == "gen_ai.client.inference.operation.details"
    assert record["Resource"] == {
        "service.name": "llm-gateway",
        "service.version": "1.4.2",
        "deployment.environment.name": "prod",
    }
    assert record["Attributes"]["error.type"] == "anthropic.OverloadedError"
    assert record["TraceId"] == f"{traced.trace_id:032x}"
    assert record["SpanId"] == f"{traced.span_id:016x}"


def test_extra_field_named_like_a_vendor_field_moves_under_the_namespace(api, traced):
    """An extra `message` cannot overwrite Datadog's message: it becomes `claude.message`."""
    flat = full_flat_events(api, traced)[3]

    record = _schemas.render_as("datadog", flat)

    assert record["message"] == "chat claude-haiku-4-5 success"
    assert record["claude.message"] == "extra named message"
    assert record["step"] == "plan"


@pytest.mark.parametrize("schema", ["flat", *SCHEMAS])
def test_configured_schema_is_what_the_lines_are_written_in(schema, api):
    """configure(schema=...) changes the written lines; each is recognised and read back."""
    claude_logging.configure(schema=schema)
    client = claude_logging.instrument(api.client(max_retries=0))
    api.enqueue(message("Hi", input_tokens=3, output_tokens=4))
    with capture_events() as events:
        ask(client)

    (line,) = events
    assert _schemas.detect(line) == schema
    flat = _schemas.to_flat(line)
    assert (flat["input_tokens"], flat["output_tokens"], flat["outcome"]) == (3, 4, "success")


def test_unknown_schema_is_rejected_naming_the_allowed_ones():
    """A typo fails at configure() time with the list of schemas."""
    with pytest.raises(ValueError, match="schema 'datdog' is not one of: flat, datadog, ecs, otel"):
        claude_logging.configure(schema="datdog")


def test_schema_from_the_environment_variable():
    """CLAUDE_LOGGING_SCHEMA=ecs: the demo's lines on stdout are ECS documents."""
    lines = demo_lines("ecs", 12)

    assert len(lines) == 12
    assert {_schemas.detect(json.loads(line)) for line in lines} == {"ecs"}


def test_a_bad_schema_in_the_environment_falls_back_to_flat_with_a_warning():
    """The environment is read while the app runs: a bad value warns once and keeps events flowing."""
    env = {**os.environ, "CLAUDE_LOGGING_SCHEMA": "splunk"}
    env.pop("CLAUDE_LOGGING_STRICT")
    result = subprocess.run(
        [sys.executable, "-m", "claude_logging", "demo", "--calls", "2", "--seed", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert "schema 'splunk' is not one of" in result.stderr
    assert {_schemas.detect(json.loads(line)) for line in result.stdout.splitlines()} == {"flat"}


@pytest.mark.parametrize("schema", SCHEMAS)
def test_oversized_event_shrinks_in_flat_order_and_stays_readable(schema, api):
    """A huge prompt under a small line cap: the line fits, the prompt goes first, the rest stays."""
    claude_logging.configure(
        schema=schema, capture_content=True, max_content_chars=12_000, max_line_bytes=2048
    )
    client = claude_logging.instrument(api.client(max_retries=0))
    api.enqueue(message("y" * 11_000, input_tokens=9, output_tokens=8))
    with capture_events() as events:
        ask(client, messages=[{"role": "user", "content": "x" * 11_000}])

    (line,) = events
    assert len(json.dumps(line, separators=(",", ":"))) <= 2048
    flat = _schemas.to_flat(line)
    assert "prompt" not in flat
    assert "completion" not in flat
    assert {"prompt", "completion"} <= set(flat["truncated"])
    assert (flat["input_tokens"], flat["output_tokens"]) == (9, 8)


@pytest.mark.parametrize("schema", SCHEMAS)
def test_logging_output_uses_the_level_of_any_schema(schema, api, caplog):
    """output="logging": an error event is an ERROR record whatever the schema names its level."""
    claude_logging.configure(output="logging", schema=schema)
    client = claude_logging.instrument(api.client(max_retries=0))
    api.enqueue(error(500))
    with caplog.at_level(logging.INFO, logger="claude_logging"), pytest.raises(Exception, match="500"):
        ask(client)

    assert [record.levelname for record in caplog.records if record.name == "claude_logging"] == ["ERROR"]


def test_flat_rendering_is_the_identity():
    """The default schema costs nothing: render() returns the very dict facts() built."""
    flat = demo_events("flat")[0]
    assert _schemas.render(flat, _config.current()) is flat


def test_render_cost_stays_small():
    """A non-flat render is a walk over a precompiled table: well under 100 µs per event."""
    flat = demo_events("flat")[0]
    for schema in SCHEMAS:
        fieldmap = _schemas.SCHEMAS[schema]
        seconds = min(timeit.repeat(lambda fm=fieldmap: fm(flat), number=2000, repeat=3)) / 2000
        assert seconds < 100e-6, (schema, seconds)


def test_lines_that_are_not_ours_are_not_read():
    """detect/to_flat say None for someone else's JSON, for any schema's look-alike."""
    for record in ({"message": "hello"}, {"evt.name": "other"}, {"EventName": "gen_ai.x", "Attributes": {}}):
        assert _schemas.detect(record) is None
        assert _schemas.to_flat(record) is None


def test_always_present_fields_match_the_documented_contract():
    """The fields to_flat restores as null are exactly docs/schema.md's 'always' group (less call_id)."""
    table = (Path(__file__).parent.parent / "docs" / "schema.md").read_text()
    always = re.findall(r"^\| `(\w+)` \| always \|", table, flags=re.MULTILINE)
    assert tuple(always) == _fieldmap.ALWAYS


# -- property: any flat view reads back ------------------------------------------------------------

_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=20)
_MS = st.integers(0, 10**10).map(lambda micros: micros / 1000)
_COUNT = st.integers(0, 10**7)
_OPTIONAL = {
    "operation": st.sampled_from(["chat", "count_tokens", "batches"]),
    "request_id": _TEXT,
    "message_id": _TEXT,
    "stop_reason": _TEXT,
    "stream": st.booleans(),
    "stream_completed": st.booleans(),
    "time_to_first_token_ms": _MS,
    "retries": st.integers(0, 10),
    "api_error_type": _TEXT,
    "retry_after_s": st.floats(0, 1000),
    "ratelimit_requests_remaining": _COUNT,
    "error_message": _TEXT,
    "api_calls": st.integers(2, 50),
    "cost_usd": st.floats(0, 100),
    "counted_input_tokens": _COUNT,
    "function": _TEXT,
    "service": _TEXT,
    "env": _TEXT,
    "version": _TEXT,
    "prompt": _TEXT
    | st.builds(
        lambda system, messages: json.dumps(
            {**({"system": system} if system is not None else {}), "messages": messages}, ensure_ascii=False
        ),
        st.none() | _TEXT,
        st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]), "content": _TEXT})),
    ),
    "completion": _TEXT,
    "canonical_model": _TEXT,
    "platform": st.sampled_from(["anthropic", "bedrock", "vertex", "foundry"]),
    "server_address": _TEXT,
    "cloud_region": _TEXT,
    "refusal_category": _TEXT,
    "tool_use_count": _COUNT,
    "tool_use_names": st.lists(_TEXT, min_size=1, max_size=3),
    "cache_miss_reason": _TEXT,
    "cost_incomplete": st.just(value=True),
    "cache_creation_1h_input_tokens": _COUNT,
    "thinking_output_tokens": _COUNT,
    "service_tier": _TEXT,
    "inference_geo": _TEXT,
    "web_search_requests": _COUNT,
    "thinking_type": _TEXT,
    "structured_output": st.just(value=True),
    "temperature": st.floats(0, 1),
    "top_k": _COUNT,
    "workspace_id": _TEXT,
    "conversation_id": _TEXT,
    "internal_error": st.just(value=True),
    "truncated": st.lists(_TEXT, min_size=1, max_size=3),
    "trace_id": st.integers(1, 2**128 - 1).map(lambda n: f"{n:032x}"),
    "span_id": st.integers(1, 2**64 - 1).map(lambda n: f"{n:016x}"),
}
_EXTRA_NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,12}", fullmatch=True).filter(
    lambda name: name not in _fields.CORE_FIELDS
)
_VENDOR_LIKE = st.sampled_from(
    [
        *("message", "status", "duration", "gen_ai", "gen_ai.request.model.x", "claude.tenant_id"),
        *("dd.trace_id", "Timestamp", "Attributes", "service.name", "http", "event.kind", "trace"),
    ]
)


@st.composite
def flat_views(draw):
    nanos = draw(st.integers(0, 4 * 10**9)) * 10**9 + draw(st.integers(0, 999_999)) * 1000
    flat = {
        "timestamp": _render.timestamp(nanos),
        "level": draw(st.sampled_from(["info", "warning", "error"])),
        "event": "claude.call",
        "outcome": draw(st.sampled_from(["success", "error", "cancelled", "interrupted", "abandoned"])),
        "model": draw(st.none() | _TEXT),
        **{key: draw(st.none() | _COUNT) for key in _fieldmap.ALWAYS[5:10]},
        "latency_ms": draw(st.none() | _MS),
        "status_code": draw(st.none() | st.integers(100, 599)),
        "error_type": draw(st.none() | _TEXT),
        "tenant_id": draw(st.none() | _TEXT),
        "user_id": draw(st.none() | _TEXT),
        "call_id": draw(_TEXT),
    }
    for key, values in _OPTIONAL.items():
        if draw(st.booleans()):
            flat[key] = draw(values)
    names = draw(st.lists(_EXTRA_NAME | _VENDOR_LIKE, max_size=4, unique=True))
    flat.update({name: draw(_TEXT | _COUNT | st.booleans()) for name in names})
    return flat


@pytest.mark.parametrize("schema", SCHEMAS)
@settings(max_examples=300, deadline=None)
@given(flat=flat_views())
def test_any_flat_view_reads_back_unchanged(schema, flat):
    """Whatever the values and extra names (vendor look-alikes included), the round trip is exact."""
    line = json.loads(json.dumps(_schemas.render_as(schema, flat)))
    assert _schemas.to_flat(line) == expected_flat(flat)


def test_subprocess_stdout_lines_use_the_configured_schema(tmp_path):
    """A real process: configure(schema='datadog'); the stdout line is a Datadog document."""
    script = tmp_path / "app.py"
    script.write_text(
        "import claude_logging\n"
        "from claude_logging.testing import FakeAnthropicAPI, message\n"
        "claude_logging.configure(schema='datadog', service='svc')\n"
        "api = FakeAnthropicAPI([message('hi', input_tokens=5, output_tokens=2)])\n"
        "client = claude_logging.instrument(api.client())\n"
        "client.messages.create(\n"
        "    model='claude-sonnet-4-6', max_tokens=9, messages=[{'role': 'user', 'content': 'x'}]\n"
        ")\n"
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True
    )

    (line,) = result.stdout.splitlines()
    record = json.loads(line)
    assert record["service"] == "svc"
    assert record["gen_ai.usage.input_tokens"] == 5
    assert _schemas.detect(record) == "datadog"
