"""Schemas: how the flat view of an event is named and shaped for a backend.

The flat schema is the canonical view itself (`_render.facts`), so rendering it is free. Other
schemas are tables from flat keys to vendor names, units and placement, applied by one function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from claude_logging import _config
from claude_logging._config import Settings

Renderer = Callable[[dict[str, Any], Settings], dict[str, Any]]


def _flat(facts: dict[str, Any], _settings: Settings) -> dict[str, Any]:
    return facts


SCHEMAS: dict[str, Renderer] = {"flat": _flat}
_config.register_schemas(lambda: tuple(SCHEMAS))


def render(facts: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The event as the configured schema names and shapes it."""
    return SCHEMAS[settings.schema](facts, settings)


def detect(record: dict[str, Any]) -> str | None:
    """The schema a parsed log line was written in, or None if it is not one of our events."""
    if record.get("event") == "claude.call":
        return "flat"
    return None


def to_flat(record: dict[str, Any]) -> dict[str, Any] | None:
    """A parsed event line of any schema, back in flat names and units; None if not ours.

    The inverse of `render`, for readers of log files (`claude-logging report`).
    """
    schema = detect(record)
    if schema == "flat":
        return record
    return None
