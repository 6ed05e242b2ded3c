"""`output="otel"`: every event as an OpenTelemetry log record, through the app's LoggerProvider.

The record is the otel schema's (`EventName` `gen_ai.client.inference.operation.details`, GenAI
attributes, severity) handed to the OpenTelemetry logs API, so the application's processors and
exporters (an OTLP exporter to a Collector, say) take it anywhere. Service, environment and
version then come from the provider's `Resource`, as for every other signal of the app.

Without a LoggerProvider installed, or without the OpenTelemetry logs API (`opentelemetry-api`
1.35 or later: `pip install "claude-logging[otel]"`), events are not lost: they go to stdout as otel-schema
JSON lines, and a warning says so once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from claude_logging import __version__, _guard, _schemas
from claude_logging._writer import StdoutOutput

if TYPE_CHECKING:
    from claude_logging._config import Settings

SCOPE_NAME: Final = "claude_logging"
"""The instrumentation scope of our log records."""

_NO_PROVIDER: Final = frozenset({"NoOpLoggerProvider", "ProxyLoggerProvider"})


class OtelOutput:
    """Emits each event through `opentelemetry._logs` to the global LoggerProvider."""

    def __init__(self, settings: Settings) -> None:
        """Import the OpenTelemetry API lazily; fall back to stdout lines when it is missing."""
        self._stdout = StdoutOutput(settings)
        self._has_provider = False
        try:
            from opentelemetry import _logs, trace  # noqa: PLC0415 - an optional dependency
        except ImportError:
            self._logs: Any = None
            return
        self._logs = _logs
        self._trace = trace
        self._logger = _logs.get_logger(SCOPE_NAME, __version__)

    def write(self, record: dict[str, Any]) -> None:
        """Emit `record` as an OTel log record, or write it to stdout when there is no provider."""
        if "Attributes" not in record or "EventName" not in record:
            record = _schemas.render_as("otel", _schemas.to_flat(record) or record)
        if not self._provider_ready():
            self._stdout.write(record)
            return
        logs = self._logs
        self._logger.emit(
            logs.LogRecord(
                timestamp=int(record["Timestamp"]),
                context=self._context(record),
                severity_text=record.get("SeverityText"),
                severity_number=logs.SeverityNumber(record.get("SeverityNumber", 9)),
                body=record.get("Body"),
                attributes=record.get("Attributes"),
                event_name=record.get("EventName"),
            )
        )
        _guard.count("emitted")

    def _provider_ready(self) -> bool:
        """Whether the app has installed a LoggerProvider (checked until it has: apps set it once)."""
        if self._has_provider:
            return True
        logs = self._logs
        if logs is not None and type(logs.get_logger_provider()).__name__ not in _NO_PROVIDER:
            self._has_provider = True
            return True
        _guard.warn_once(
            "otel:no-provider",
            "claude_logging: output='otel' but %s; events are written to stdout as otel-schema lines.",
            "the OpenTelemetry logs API is not installed (pip install 'claude-logging[otel]')"
            if logs is None
            else "no OpenTelemetry LoggerProvider is set (opentelemetry._logs.set_logger_provider)",
        )
        return False

    def _context(self, record: dict[str, Any]) -> Any:
        """The trace context the event was captured in (not whatever is current at emit time)."""
        trace = self._trace
        trace_id, span_id = record.get("TraceId"), record.get("SpanId")
        if trace_id is None or span_id is None:
            return trace.set_span_in_context(trace.INVALID_SPAN)
        current = trace.get_current_span().get_span_context()
        if current.is_valid and (current.trace_id, current.span_id) == (int(trace_id, 16), int(span_id, 16)):
            return None  # the current context is the event's: keep its trace flags
        span_context = trace.SpanContext(
            trace_id=int(trace_id, 16), span_id=int(span_id, 16), is_remote=False
        )
        return trace.set_span_in_context(trace.NonRecordingSpan(span_context))
