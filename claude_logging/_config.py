"""configure(): validated once, read as a frozen snapshot on the hot path.

Calling `configure()` is optional. Without it the settings come from the environment the first
time an event is written. Bad values passed to `configure()` raise `ValueError`/`TypeError`
at once, naming the value and what is allowed; bad values in the environment are reported once on
stderr and replaced by the default, because by then the application is running.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Final

from claude_logging._stats import warn_once

OUTPUTS: Final = ("stdout", "logging", "structlog")
ERROR_MESSAGE_CHOICES: Final = ("api", "all", "none")
HARD_MAX_LINE_BYTES: Final = 16_000
"""Docker splits log lines at 16 KiB; a line must stay under that whatever the settings."""

Redactor = Callable[[str, str], str]
"""`redact(field, value) -> value`: applied to captured content before it is written."""

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"", "0", "false", "no", "off"})


@dataclass(frozen=True, slots=True)
class Settings:
    """The library's configuration; replaced whole by `configure()`, never mutated."""

    output: str = "stdout"
    schema: str = "flat"
    service: str | None = None
    env: str | None = None
    version: str | None = None
    capture_content: bool = False
    capture_error_message: str = "api"
    """`api`: error text authored by the Anthropic API or SDK; `all`: any exception's; `none`."""
    redact: Redactor | None = None
    strict: bool = False
    blocking: bool = False
    buffer_size: int = 10_000
    max_line_bytes: int = 8_192
    max_field_chars: int = 256
    max_error_chars: int = 500
    max_content_chars: int = 2_048
    flush_timeout_s: float = 2.0
    extensions: Mapping[str, Any] | None = None
    """Settings owned by optional features (prices, ...), validated by their own modules."""


_lock = threading.Lock()
_settings: Settings | None = None
_validators: dict[str, Callable[[Any], Any]] = {}
"""Validators for `configure()` keywords owned by other modules (registered at import)."""


def _schema_names() -> tuple[str, ...]:
    return ("flat",)


def _output_names() -> tuple[str, ...]:
    return OUTPUTS


def register_option(name: str, validate: Callable[[Any], Any]) -> None:
    """Let a feature module accept `configure(name=...)`; `validate` returns the value to keep."""
    _validators[name] = validate


def register_schemas(names: Callable[[], tuple[str, ...]]) -> None:
    """Tell configure() which schema names exist (the renderer owns the list)."""
    global _schema_names  # noqa: PLW0603 - set once at import by _schemas
    _schema_names = names


def register_outputs(names: Callable[[], tuple[str, ...]]) -> None:
    """Tell configure() which output names exist (the outputs module owns the list)."""
    global _output_names  # noqa: PLW0603 - set once at import by _outputs
    _output_names = names


def current() -> Settings:
    """The settings in force: the last `configure()`, else the environment's defaults."""
    settings = _settings
    if settings is None:
        with _lock:
            settings = _settings if _settings is not None else _install(_from_environment())
    return settings


def _install(settings: Settings) -> Settings:
    global _settings  # noqa: PLW0603 - the snapshot is swapped atomically, never mutated
    _settings = settings
    return settings


def configure(**options: Any) -> None:
    """Set how events are written; every keyword is optional and unspecified ones keep their value.

    Keywords: `output` ("stdout", "logging", "structlog", "otel"), `schema` ("flat",
    "datadog", "ecs", "otel"; see docs/backends/), `service`, `env`,
    `version`, `capture_content`, `capture_error_message`, `redact`, `strict`, `blocking`,
    `buffer_size`, `max_line_bytes`, `max_field_chars`, `max_error_chars`,
    `max_content_chars`, `flush_timeout_s`, plus those of optional features (`prices`,
    `handle_sigterm`).
    Raises `TypeError` or `ValueError` naming the bad value.
    """
    known = {f.name for f in fields(Settings)} - {"extensions"}
    unknown = sorted(set(options) - known - set(_validators))
    if unknown:
        allowed = ", ".join(sorted(known | set(_validators)))
        raise TypeError(f"configure() got unknown option(s) {', '.join(unknown)}; allowed: {allowed}")
    base = current()
    core = {name: value for name, value in options.items() if name in known}
    _validate(replace(base, **core))  # before any option's validator acts (handle_sigterm installs)
    extensions = dict(base.extensions or {})
    for name, value in options.items():
        if name in _validators:
            extensions[name] = _validators[name](value)
    settings = replace(base, **core, extensions=extensions or None)
    with _lock:
        _install(settings)


def reset() -> None:
    """Forget `configure()`; the next event re-reads the environment (for tests)."""
    with _lock:
        _install(_from_environment())


def _validate(s: Settings) -> None:
    _check_choice("output", s.output, _output_names())
    _check_choice("schema", s.schema, _schema_names())
    for name in ("service", "env", "version"):
        value = getattr(s, name)
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be a str or None, not {type(value).__name__}: {value!r}")
    _check_choice("capture_error_message", s.capture_error_message, ERROR_MESSAGE_CHOICES)
    for name in ("capture_content", "strict", "blocking"):
        value = getattr(s, name)
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, not {value!r}")
    if s.redact is not None and not callable(s.redact):
        raise TypeError(f"redact must be a callable redact(field, value) -> value, not {s.redact!r}")
    _check_int("buffer_size", s.buffer_size, 1, 10_000_000)
    _check_int("max_line_bytes", s.max_line_bytes, 1_024, HARD_MAX_LINE_BYTES)
    _check_int("max_field_chars", s.max_field_chars, 16, 4_096)
    _check_int("max_error_chars", s.max_error_chars, 16, 4_096)
    _check_int("max_content_chars", s.max_content_chars, 16, 12_000)
    timeout = s.flush_timeout_s
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 <= timeout <= 600:
        raise ValueError(f"flush_timeout_s must be a number of seconds from 0 to 600, not {timeout!r}")


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} {value!r} is not one of: {', '.join(allowed)}")


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}: {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be from {low} to {high}, not {value}")


def _from_environment() -> Settings:
    env = os.environ
    settings = Settings(
        service=env.get("DD_SERVICE") or env.get("OTEL_SERVICE_NAME") or None,
        env=env.get("DD_ENV") or None,
        version=env.get("DD_VERSION") or None,
        strict=_env_flag("CLAUDE_LOGGING_STRICT"),
    )
    schema = env.get("CLAUDE_LOGGING_SCHEMA")
    if schema:
        settings = replace(settings, schema=schema)
    try:
        _validate(settings)
    except (TypeError, ValueError) as exc:
        warn_once(f"env:{exc}", "claude_logging: ignoring environment setting: %s", exc)
        settings = replace(settings, schema="flat")
    return settings


def _env_flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value not in _FALSE:
        warn_once(f"env:{name}", "claude_logging: %s=%r is not a boolean; using false", name, value)
    return False
