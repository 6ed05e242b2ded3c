"""output="otel": events through the OpenTelemetry logs API into the app's SDK LoggerProvider."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ask
from opentelemetry import _logs
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

import claude_logging
from claude_logging import _schemas
from claude_logging.testing import error, message

EXPORTER = InMemoryLogRecordExporter()


@pytest.fixture(scope="module", autouse=True)
def logger_provider():
    """The app's LoggerProvider, installed once for this module (OTel allows one per process)."""
    provider = LoggerProvider(resource=Resource.create({"service.name": "llm-gateway"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(EXPORTER))
    _logs.set_logger_provider(provider)
    return provider


@pytest.fixture(autouse=True)
def _empty_exporter():
    EXPORTER.clear()


def exported():
    claude_logging.flush(2.0)
    return [data.log_record for data in EXPORTER.get_finished_logs()]


@pytest.mark.parametrize("schema", ["otel", "flat"])
def test_each_event_is_one_otel_log_record_with_genai_attributes(schema, api):
    """A call becomes one SDK LogRecord: GenAI event name and attributes, severity, our timestamp."""
    claude_logging.configure(output="otel", schema=schema)
    client = claude_logging.instrument(api.client(max_retries=0))
    api.enqueue(message("Hi", input_tokens=10, output_tokens=4, cache_read_input_tokens=6))

    ask(client)

    (record,) = exported()
    assert record.event_name == "gen_ai.client.inference.operation.details"
    assert (record.severity_text, record.severity_number.value) == ("INFO", 9)
    attributes = dict(record.attributes)
    assert attributes["gen_ai.provider.name"] == "anthropic"
    assert attributes["gen_ai.usage.input_tokens"] == 16
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == 6
    assert attributes["claude.outcome"] == "success"
    assert record.body.startswith("chat claude-sonnet-4-6")
    assert record.timestamp > 0


def test_error_event_is_an_error_record_in_the_span_it_was_captured_in(api):
    """The record carries the trace and span of the call, and ERROR severity."""
    claude_logging.configure(output="otel", schema="otel")
    client = claude_logging.instrument(api.client(max_retries=0))
    api.enqueue(error(529))
    tracer = TracerProvider().get_tracer("app")

    with tracer.start_as_current_span("request") as span, pytest.raises(Exception, match="529"):
        ask(client)

    (record,) = exported()
    assert (record.severity_text, record.severity_number.value) == ("ERROR", 17)
    assert record.trace_id == span.get_span_context().trace_id
    assert record.span_id == span.get_span_context().span_id
    assert dict(record.attributes)["error.type"] == "anthropic.OverloadedError"


def test_an_event_finished_outside_its_span_keeps_its_own_trace_ids(api):
    """Emitted where no span is current (or another one is), the record still names the call's span."""
    claude_logging.configure(output="otel", schema="otel")
    flat = {
        "timestamp": "2026-11-24T12:00:00.123456Z",
        "level": "info",
        "event": "claude.call",
        "outcome": "success",
        "call_id": "0123456789abcdef",
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "span_id": "00f067aa0ba902b7",
    }
    from claude_logging._otel import OtelOutput

    OtelOutput(claude_logging._config.current()).write(_schemas.render_as("otel", flat))

    (record,) = exported()
    assert f"{record.trace_id:032x}" == flat["trace_id"]
    assert f"{record.span_id:016x}" == flat["span_id"]
    assert record.timestamp == 1_795_521_600_123_456_000


def run_app(prelude):
    script = (
        f"{prelude}\n"
        "import claude_logging\n"
        "from claude_logging.testing import FakeAnthropicAPI, message\n"
        "claude_logging.configure(output='otel', schema='otel')\n"
        "api = FakeAnthropicAPI([message('hi', input_tokens=5, output_tokens=2)])\n"
        "client = claude_logging.instrument(api.client())\n"
        "client.messages.create(\n"
        "    model='claude-sonnet-4-6', max_tokens=9, messages=[{'role': 'user', 'content': 'x'}]\n"
        ")\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )


def test_without_a_logger_provider_events_go_to_stdout_as_otel_lines():
    """No LoggerProvider set: nothing is lost, the line is on stdout and a warning says why."""
    result = run_app("")

    (line,) = result.stdout.splitlines()
    assert _schemas.detect(json.loads(line)) == "otel"
    assert "no OpenTelemetry LoggerProvider is set" in result.stderr


def test_without_the_opentelemetry_logs_api_events_go_to_stdout():
    """The logs API missing: the warning names the extra to install; the event is on stdout."""
    result = run_app("import sys; sys.modules['opentelemetry._logs'] = None")

    (line,) = result.stdout.splitlines()
    assert _schemas.detect(json.loads(line)) == "otel"
    assert "pip install 'claude-logging[otel]'" in result.stderr
