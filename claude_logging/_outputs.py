"""Outputs: where a rendered event goes. Each is one small object with one `write(record)`.

- `stdout` (default): one JSON line, written at once or by the background writer (`_writer.py`).
- `logging`: a stdlib `LogRecord` on the logger `claude_logging`, fields as record attributes;
  `JsonFormatter` renders our records as the very same line.
- `structlog`: through the application's own structlog configuration and processors.

`emit()` is the pipeline's entry: render, then write, each step inside our error boundary, and
never re-entered on one thread (a handler that logs back into us queues, it does not recurse).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Final, Protocol

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from claude_logging import _config, _guard, _render, _schemas
from claude_logging._writer import StdoutOutput

if TYPE_CHECKING:
    from collections.abc import Callable

    from claude_logging._config import Settings
    from claude_logging._event import Event

LOGGER_NAME: Final = "claude_logging"
RECORD_ATTRIBUTE: Final = "claude_logging"
"""The `LogRecord` attribute that carries the rendered event for `JsonFormatter`."""

_LEVELS: Final = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class Output(Protocol):
    """Writes one rendered event; may raise (the caller counts and reports it)."""

    def write(self, record: dict[str, Any]) -> None:
        """Write `record`."""


class LoggingOutput:
    """A `LogRecord` on the `claude_logging` logger, every field an attribute of the record."""

    def __init__(self, _settings: Settings) -> None:
        """Resolve the logger once; its handlers and level stay the application's."""
        self._logger = logging.getLogger(LOGGER_NAME)
        self._reserved = _reserved_record_attributes()

    def write(self, record: dict[str, Any]) -> None:
        """Hand the event to the stdlib logging machinery."""
        logger = self._logger
        level = _LEVELS.get(_schemas.level_of(record), logging.INFO)
        if logger.disabled or not logger.isEnabledFor(level):
            _guard.count_drop("level_disabled")
            return
        if not logger.hasHandlers():
            # stdlib would hand it to `lastResort`, which shows warnings only: say so once, count it.
            _guard.count_drop("no_handler")
            _guard.warn_once(
                "no_handler",
                "claude_logging: output='logging' but no handler is configured for the 'claude_logging' "
                "logger or its ancestors; events are dropped (counted in claude_logging.stats()). "
                "Add a handler, e.g. with claude_logging.JsonFormatter, or use output='stdout'.",
            )
            return
        # The event's own name: a user's extra field called "message" must not become the text
        # that plain-text formatters print (it is kept as the attribute `claude_message`).
        name = record.get("event")
        message = name if isinstance(name, str) else record.get("message") or "claude.call"
        log_record = logger.makeRecord(LOGGER_NAME, level, "(claude_logging)", 0, str(message), (), None)
        attributes = log_record.__dict__
        reserved = self._reserved
        for key, value in record.items():
            attributes[f"claude_{key}" if key in reserved else key] = value
        attributes[RECORD_ATTRIBUTE] = record
        logger.handle(log_record)
        _guard.count("emitted")


class StructlogOutput:
    """Through `structlog.get_logger("claude_logging")`, so the app's processors apply."""

    def __init__(self, _settings: Settings) -> None:
        """Import structlog lazily: only apps that choose this output pay for it."""
        import structlog  # noqa: PLC0415

        self._logger = structlog.get_logger(LOGGER_NAME)

    def write(self, record: dict[str, Any]) -> None:
        """Log the event at its level with the fields as key-value pairs."""
        fields = dict(record)
        name = fields.pop("event", None) or fields.get("message") or "claude.call"
        level = _schemas.level_of(fields)
        method = getattr(self._logger, level if level in _LEVELS else "info")
        method(name, **fields)
        _guard.count("emitted")


def _otel_output(settings: Settings) -> Output:
    """`output="otel"`: through the app's OpenTelemetry LoggerProvider (`_otel.py`, imported on use)."""
    from claude_logging._otel import OtelOutput  # noqa: PLC0415 - only apps that choose it import OTel

    return OtelOutput(settings)


OUTPUT_FACTORIES: dict[str, Callable[[Settings], Output]] = {
    "stdout": StdoutOutput,
    "logging": LoggingOutput,
    "structlog": StructlogOutput,
    "otel": _otel_output,
}
_config.register_outputs(lambda: tuple(OUTPUT_FACTORIES))


class JsonFormatter(_BaseJsonFormatter):
    """python-json-logger's formatter that writes our events exactly as the stdout output does.

    Attach it to your own handler (`handler.setFormatter(claude_logging.JsonFormatter())`) with
    `configure(output="logging")`; other records are formatted by python-json-logger as usual.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Our event's line for our records; python-json-logger's JSON for any other record."""
        event = record.__dict__.get(RECORD_ATTRIBUTE)
        if isinstance(event, dict):
            return _render.encode_line(event, _config.current().max_line_bytes)
        return str(super().format(record))


# -- the pipeline -------------------------------------------------------------------------------

_local = threading.local()
_output_cache: tuple[Settings, Output] | None = None
sinks: list[Callable[[dict[str, Any]], bool]] = []
"""Test capture hooks (`testing.capture_events`); a hook returning True swallows the event."""


def output_for(settings: Settings) -> Output:
    """The output object for these settings, built once per `configure()`."""
    global _output_cache  # noqa: PLW0603 - rebuilt only when the settings object changes
    cached = _output_cache
    if cached is not None and cached[0] is settings:
        return cached[1]
    output = OUTPUT_FACTORIES[settings.output](settings)
    _output_cache = (settings, output)
    return output


def emit(event: Event) -> None:
    """Render and write one finished event. Never raises, except our own bugs in strict mode."""
    pending: list[Event] | None = getattr(_local, "pending", None)
    if pending is not None:
        # Re-entered from inside a write (a handler that makes a logged call): queue, don't recurse.
        if len(pending) < 1_000:
            pending.append(event)
        else:
            _guard.count_drop("recursion")
        return
    _local.pending = pending = [event]
    try:
        while pending:
            _emit_one(pending.pop(0))
    finally:
        _local.pending = None


def _emit_one(event: Event) -> None:
    settings = _config.current()
    try:
        record = _schemas.render(_render.facts(event, settings), settings)
    except Exception as exc:
        _guard.internal_error("render", exc)
        record = _render.fallback(event)
    if sinks and any(sink(record) for sink in list(sinks)):
        return
    try:
        output_for(settings).write(record)
    except Exception as exc:
        _guard.count_drop("output_error")
        _guard.warn_once(
            f"output:{settings.output}:{type(exc).__name__}",
            "claude_logging: the %s output raised %s; events it cannot take are counted as dropped.",
            settings.output,
            type(exc).__name__,
        )


def _reserved_record_attributes() -> frozenset[str]:
    """Names a `LogRecord` already uses, read at run time (3.12 added `taskName`)."""
    sample = logging.LogRecord("x", logging.INFO, "x", 0, "x", (), None)
    return frozenset(sample.__dict__) | {"message", "asctime"}
