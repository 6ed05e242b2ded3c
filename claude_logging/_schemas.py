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
