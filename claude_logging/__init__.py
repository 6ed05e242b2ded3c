"""claude_logging: one structured JSON log event for every Claude API call.

Decorate the functions that call Claude (`@log_call`) or instrument the client once
(`instrument(client)`), ship stdout to your log agent, and build latency, error, token and cost
dashboards from the log lines alone.
"""

from __future__ import annotations

from claude_logging._api import flush, stats
from claude_logging._config import configure
from claude_logging._context import context
from claude_logging._guard import Stats
from claude_logging._instrument import instrument, uninstrument
from claude_logging._outputs import JsonFormatter
from claude_logging._scope import LogCall, Scope, log_call

__version__ = "0.1.0"

__all__ = [
    "JsonFormatter",
    "LogCall",
    "Scope",
    "Stats",
    "__version__",
    "configure",
    "context",
    "flush",
    "instrument",
    "log_call",
    "stats",
    "uninstrument",
]
