"""Schemas: how the flat view of an event is named and shaped for a backend.

The flat schema is the canonical view itself (`_render.facts`), so rendering it is free. Every
other schema is one table of `Field`s (flat key -> vendor name, unit, placement) and `Fixed`
values, compiled once into a `FieldMap` (`_fieldmap.py`) that renders it and reads it back.

Rules every table follows, from the vendors' own documentation:
- LLM fields take their OpenTelemetry GenAI names, and with the name its meaning:
  `gen_ai.usage.input_tokens` is input + cache reads + cache writes (OTel's rule for Anthropic),
  while the flat `input_tokens` keeps Anthropic's meaning (cache excluded).
- Timestamp, level and message come first, trace ids last; absent fields are left out.
- A field with no vendor or OTel name goes under the project namespace `claude.`; so does an
  extra field whose name would clash with one of the schema's own.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any, Final

from claude_logging import _config, _guard, _line, _otel_content
from claude_logging._config import Settings
from claude_logging._event import EVENT_NAMES
from claude_logging._fieldmap import (
    NANOSECONDS,
    ONE_ITEM_LIST,
    UNIX_NANOS_TEXT,
    Field,
    FieldMap,
    Fixed,
    Unit,
)
from claude_logging._genai import anthropic_fields, gen_ai_fields

Renderer = Callable[[dict[str, Any], Settings], dict[str, Any]]

GENAI_EVENT: Final = "gen_ai.client.inference.operation.details"
"""OTel's event for one GenAI call; the otel schema's `EventName`."""
ECS_VERSION: Final = "8.11.0"
"""The ECS release whose field set the ecs schema's ECS fields are checked against."""

_ATTRIBUTES: Final = "Attributes"
_BATCH: Final = ("batch_id", "batch_requests", "batch_custom_id", "batch_result_type")
_RESOURCE: Final = "Resource"


_SEVERITY_TEXT: Final = {"info": "INFO", "warning": "WARN", "error": "ERROR"}
_SEVERITY_LEVEL: Final = {text: level for level, text in _SEVERITY_TEXT.items()}
_SEVERITY_NUMBER: Final[dict[str | None, int]] = {"info": 9, "warning": 13, "error": 17}
SEVERITY: Final = Unit(
    lambda level, _flat: _SEVERITY_TEXT.get(level, "ERROR"),
    lambda text, _view: _SEVERITY_LEVEL.get(text, str(text).lower()),
)
"""Our level <-> OTel `SeverityText` (the short names of the OTel log data model)."""

_ECS_OUTCOME: Final[dict[str | None, str]] = {
    "success": "success",
    "error": "failure",
    "cancelled": "failure",
    "interrupted": "failure",
}


def _message(flat: dict[str, Any]) -> str:
    """A short, low-variance message: `chat claude-sonnet-4-6 error anthropic.RateLimitError`."""
    text = f"{flat.get('operation') or 'chat'} {flat.get('model') or 'unknown-model'} {flat.get('outcome')}"
    error_type = flat.get("error_type")
    return f"{text} {error_type}" if error_type else text


def _ours(*flat_keys: str, into: str | None = None) -> list[Field | Fixed]:
    """Fields no vendor names, under the project namespace (`claude.cost_usd`)."""
    return [Field(key, f"claude.{key}", into=into) for key in flat_keys]


_HEADROOM: Final = (
    "retry_after_s",
    "ratelimit_requests_remaining",
    "ratelimit_input_tokens_remaining",
    "ratelimit_output_tokens_remaining",
)
_BILL: Final = (
    "canonical_model",
    "platform",
    "cost_incomplete",
    "speed",
    "inference_geo",
    "web_search_requests",
    "web_fetch_requests",
    "server_tool_requests",
    "effort",
    "stop_sequence_count",
    "tool_count",
    "tool_choice",
    "user_profile_id",
    "refusal_category",
    "tool_use_count",
    "tool_use_names",
    "cache_miss_reason",
)
"""The facts that explain a bill and no vendor names: under `claude.` in every schema."""
_BOOKKEEPING: Final = (
    "api_calls",
    "counted_input_tokens",
    "stream_completed",
    "prompt",
    "completion",
    "internal_error",
    "truncated",
)

# -- Datadog -----------------------------------------------------------------------------------

_dd_tracer: Any = None
"""ddtrace's global tracer once looked up; False when ddtrace offers none."""


def _ddtrace_correlation(_flat: dict[str, Any], out: dict[str, Any]) -> None:
    """`dd.trace_id`/`dd.span_id` from ddtrace's own log-injection context, when ddtrace is loaded."""
    global _dd_tracer  # noqa: PLW0603 - looked up once, the first time ddtrace is seen
    if "ddtrace" not in sys.modules:
        return
    tracer = _dd_tracer
    try:
        if tracer is None:
            module = importlib.import_module("ddtrace.trace")  # ddtrace >= 2.20; before: ddtrace.tracer
            tracer = _dd_tracer = getattr(module, "tracer", None) or getattr(
                sys.modules["ddtrace"], "tracer", False
            )
        if tracer is False:
            return
        ids = tracer.get_log_correlation_context()
    except Exception as exc:
        _guard.warn_once(
            "ddtrace",
            "claude_logging: ddtrace's log correlation failed (%r); events carry no dd.trace_id",
            exc,
        )
        return
    trace_id = ids.get("dd.trace_id")
    if trace_id and trace_id != "0":
        out["dd.trace_id"] = str(trace_id)
        out["dd.span_id"] = str(ids.get("dd.span_id") or "0")


DATADOG: Final = FieldMap(
    "datadog",
    [
        Field("timestamp", "timestamp"),
        Field("level", "status"),
        Fixed("message", compute=_message),
        Field("event", "evt.name"),
        Field("outcome", "evt.outcome"),
        *gen_ai_fields(),
        *anthropic_fields(),
        Field("latency_ms", "duration", NANOSECONDS),
        Field("status_code", "http.status_code"),
        Field("request_id", "http.request_id"),
        Field("error_type", "error.kind"),
        Field("error_message", "error.message"),
        Field("user_id", "usr.id"),
        *_ours("tenant_id", "cost_usd", "call_id", "api_error_type", "api_error_class", "run_id"),
        *_ours(*_BATCH, *_HEADROOM, *_BILL),
        Field("function", "logger.method_name"),
        Field("service", "service"),
        Field("env", "env"),
        Field("version", "version"),
        *_ours(*_BOOKKEEPING),
    ],
    trailing=[Field("trace_id", "trace_id"), Field("span_id", "span_id")],
    identify=lambda record: record.get("evt.name") in EVENT_NAMES,
    finish=_ddtrace_correlation,
    finish_names=("dd.trace_id", "dd.span_id"),
)
"""Datadog standard attributes (`duration` in ns, `usr.id`, `error.kind`, `http.status_code`)."""

# -- Elastic Common Schema ---------------------------------------------------------------------

ECS: Final = FieldMap(
    "ecs",
    [
        Field("timestamp", "@timestamp"),
        Field("level", "log.level"),
        Fixed("message", compute=_message),
        Fixed("ecs.version", ECS_VERSION),
        Fixed("event.kind", "event"),
        Field("event", "event.action"),
        Fixed("event.outcome", compute=lambda flat: _ECS_OUTCOME.get(flat.get("outcome"), "unknown")),
        Field("outcome", "claude.outcome"),
        Field("latency_ms", "event.duration", NANOSECONDS),
        Field("call_id", "event.id"),
        *gen_ai_fields(),
        *anthropic_fields(),
        Field("status_code", "http.response.status_code"),
        Field("request_id", "http.request.id"),
        Field("error_type", "error.type"),
        Field("api_error_type", "error.code"),
        Field("error_message", "error.message"),
        Field("tenant_id", "organization.id"),
        Field("user_id", "user.id"),
        *_ours("cost_usd", "api_error_class", "run_id", *_BATCH, *_HEADROOM, *_BILL),
        Field("function", "log.origin.function"),
        Field("service", "service.name"),
        Field("env", "service.environment"),
        Field("version", "service.version"),
        *_ours(*_BOOKKEEPING),
    ],
    trailing=[Field("trace_id", "trace.id"), Field("span_id", "span.id")],
    identify=lambda record: record.get("event.action") in EVENT_NAMES,
)
"""Elastic Common Schema: `@timestamp`, `log.level`, `event.*` (`event.duration` in ns), objects only."""

# -- OpenTelemetry -----------------------------------------------------------------------------

OTEL: Final = FieldMap(
    "otel",
    [
        Field("timestamp", "Timestamp", UNIX_NANOS_TEXT),
        Field("level", "SeverityText", SEVERITY),
        Fixed("SeverityNumber", compute=lambda flat: _SEVERITY_NUMBER.get(flat.get("level"), 17)),
        Fixed("Body", compute=_message),
        Fixed("EventName", GENAI_EVENT),
        *gen_ai_fields(_ATTRIBUTES),
        *anthropic_fields(_ATTRIBUTES),
        Field("prompt", _otel_content.INPUT_MESSAGES, _otel_content.INPUT, into=_ATTRIBUTES),
        Field("prompt", "claude.prompt", _otel_content.RAW_PROMPT, into=_ATTRIBUTES),
        Fixed(_otel_content.SYSTEM_INSTRUCTIONS, compute=_otel_content.system_instructions, into=_ATTRIBUTES),
        Field("completion", _otel_content.OUTPUT_MESSAGES, _otel_content.OUTPUT, into=_ATTRIBUTES),
        Field("outcome", "claude.outcome", into=_ATTRIBUTES),
        Field("latency_ms", "claude.latency_ms", into=_ATTRIBUTES),
        Field("status_code", "http.response.status_code", into=_ATTRIBUTES),
        Field("request_id", "http.response.header.request-id", ONE_ITEM_LIST, into=_ATTRIBUTES),
        Field("error_type", "error.type", into=_ATTRIBUTES),
        Field("error_message", "exception.message", into=_ATTRIBUTES),
        Field("user_id", "user.id", into=_ATTRIBUTES),
        Field("call_id", "log.record.uid", into=_ATTRIBUTES),
        Field("function", "code.function.name", into=_ATTRIBUTES),
        *_ours(
            "tenant_id",
            "cost_usd",
            "api_error_type",
            "api_error_class",
            "run_id",
            *_BATCH,
            *_HEADROOM,
            *_BILL,
            into=_ATTRIBUTES,
        ),
        *_ours(*(key for key in _BOOKKEEPING if key not in ("prompt", "completion")), into=_ATTRIBUTES),
        Field("service", "service.name", into=_RESOURCE),
        Field("version", "service.version", into=_RESOURCE),
        Field("env", "deployment.environment.name", into=_RESOURCE),
    ],
    trailing=[Field("trace_id", "TraceId"), Field("span_id", "SpanId")],
    identify=lambda record: (
        record.get("EventName") == GENAI_EVENT and "claude.outcome" in (record.get(_ATTRIBUTES) or ())
    ),
    extras_into=_ATTRIBUTES,
    unmapped=("event",),
)
"""The OpenTelemetry log data model (`Timestamp` in ns, `Severity*`, `Attributes`, `Resource`)."""

# -- the registry ------------------------------------------------------------------------------


def _flat(facts: dict[str, Any], _settings: Settings) -> dict[str, Any]:
    return facts


SCHEMAS: dict[str, Renderer] = {"flat": _flat}
_MAPS: dict[str, FieldMap] = {}
_config.register_schemas(lambda: tuple(SCHEMAS))


def register(schema: FieldMap) -> None:
    """Make `schema` available to `configure(schema=...)`, `detect()` and `to_flat()`."""
    SCHEMAS[schema.name] = schema
    _MAPS[schema.name] = schema


for _schema in (DATADOG, ECS, OTEL):
    register(_schema)


def render(facts: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The event as the configured schema names and shapes it."""
    return SCHEMAS[settings.schema](facts, settings)


def render_as(schema: str, facts: dict[str, Any]) -> dict[str, Any]:
    """The flat view `facts` in the schema named `schema`."""
    fieldmap = _MAPS.get(schema)
    return facts if fieldmap is None else fieldmap(facts)


def detect(record: dict[str, Any]) -> str | None:
    """The schema a parsed log line was written in, or None if it is not one of our events."""
    if record.get("event") in EVENT_NAMES:
        return "flat"
    for name, fieldmap in _MAPS.items():
        if fieldmap.identify(record):
            return name
    return None


def to_flat(record: dict[str, Any]) -> dict[str, Any] | None:
    """A parsed event line of any schema, back in flat names and units; None if not ours.

    The inverse of `render`, for readers of log files (`claude-logging report`). A line of
    another schema reads back with every always-present flat field (null when absent); fields
    no schema carries (the flat `operation` of a call made outside an instrumented client reads
    back as `chat`, the OTel default) are documented in docs/backends/.
    """
    schema = detect(record)
    if schema == "flat":
        return record
    if schema is None:
        return None
    try:
        return _MAPS[schema].read(record)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):
        return None


def level_of(record: dict[str, Any]) -> str:
    """The level (`info`, `warning`, `error`) of a rendered event, whatever its schema."""
    level = record.get("level") or record.get("status") or record.get("log.level")
    if level is None and "SeverityText" in record:
        level = _SEVERITY_LEVEL.get(record["SeverityText"])
    return level if isinstance(level, str) else "info"


def encode_bounded(record: dict[str, Any], max_bytes: int) -> str:
    """One line of at most `max_bytes` for a rendered event of any schema.

    The slow path of `_render.encode_line`: the event is shrunk in flat names (so the same
    fields go first whatever the schema), and rendered again at each step.
    """
    schema = detect(record)
    fieldmap = _MAPS.get(schema) if schema is not None else None
    if fieldmap is None:
        return _line.shrink(record, max_bytes)
    return _line.shrink(fieldmap.read(record), max_bytes, lambda flat: _line.encode(fieldmap(flat)))
