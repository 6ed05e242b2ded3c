"""configure(): validated at once, defaults from the environment, clear errors."""

from __future__ import annotations

import pytest

import claude_logging
from claude_logging import _config, testing


def test_defaults_come_from_the_environment(monkeypatch, events):
    """service, env and version default to DD_SERVICE (else OTEL_SERVICE_NAME), DD_ENV, DD_VERSION."""
    monkeypatch.setenv("OTEL_SERVICE_NAME", "otel-svc")
    monkeypatch.setenv("DD_ENV", "staging")
    monkeypatch.setenv("DD_VERSION", "1.2.3")
    testing.reset()

    with claude_logging.log_call():
        pass

    assert (events[0]["service"], events[0]["env"], events[0]["version"]) == ("otel-svc", "staging", "1.2.3")

    monkeypatch.setenv("DD_SERVICE", "dd-svc")
    testing.reset()
    assert _config.current().service == "dd-svc"


def test_configure_overrides_and_keeps_unspecified_options(events):
    """configure() changes what it is given and keeps the rest."""
    claude_logging.configure(service="api", env="prod")
    claude_logging.configure(version="9")

    with claude_logging.log_call():
        pass

    assert (events[0]["service"], events[0]["env"], events[0]["version"]) == ("api", "prod", "9")


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"output": "kafka"}, ValueError, "output 'kafka' is not one of: stdout, logging, structlog"),
        ({"schema": "nope"}, ValueError, "schema 'nope' is not one of"),
        ({"buffer_size": 0}, ValueError, "buffer_size must be from 1"),
        ({"buffer_size": "10"}, TypeError, "buffer_size must be an int"),
        ({"max_line_bytes": 100_000}, ValueError, "max_line_bytes must be from 1024 to 16000"),
        ({"redact": "yes"}, TypeError, "redact must be a callable"),
        ({"capture_content": "yes"}, TypeError, "capture_content must be True or False"),
        ({"service": 3}, TypeError, "service must be a str"),
        ({"flush_timeout_s": -1}, ValueError, "flush_timeout_s"),
        ({"colour": "red"}, TypeError, "unknown option"),
    ],
)
def test_invalid_settings_raise_clear_errors_and_change_nothing(options, error, message):
    """Each bad value raises at configure() time, naming the value; the settings stay as they were."""
    before = _config.current()

    with pytest.raises(error, match=message):
        claude_logging.configure(**options)

    assert _config.current() is before


def test_bad_environment_values_are_reported_not_raised(monkeypatch, capsys):
    """An invalid CLAUDE_LOGGING_SCHEMA falls back to flat with one warning on stderr."""
    monkeypatch.setenv("CLAUDE_LOGGING_SCHEMA", "nope")
    testing.reset()

    assert _config.current().schema == "flat"


def test_strict_mode_comes_from_the_environment(monkeypatch):
    """CLAUDE_LOGGING_STRICT=1 turns strict mode on; the test suite runs in it."""
    assert _config.current().strict is True
    monkeypatch.setenv("CLAUDE_LOGGING_STRICT", "0")
    testing.reset()
    assert _config.current().strict is False
