"""Validation of user-supplied field names and identity values, shared by every public entry point."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

CORE_FIELDS: Final = frozenset(
    {
        "timestamp", "level", "event", "outcome", "model", "input_tokens", "output_tokens",
        "cache_read_input_tokens", "cache_creation_input_tokens", "max_tokens", "latency_ms",
        "status_code", "error_type", "tenant_id", "user_id", "call_id", "operation", "request_model",
        "request_id", "message_id", "stop_reason", "stream", "stream_completed", "time_to_first_token_ms",
        "retries", "api_error_type", "api_error_class", "retry_after_s", "ratelimit_requests_remaining",
        "ratelimit_input_tokens_remaining", "ratelimit_output_tokens_remaining", "error_message",
        "api_calls", "run_id", "batch_id", "batch_requests", "batch_custom_id", "batch_result_type",
        "cost_usd", "counted_input_tokens", "function", "service", "env", "version",
        "prompt", "completion", "internal_error", "truncated", "dropped_events", "trace_id", "span_id",
        "canonical_model", "platform", "server_address", "cloud_region", "refusal_category", "tool_use_count",
        "tool_use_names", "cache_miss_reason", "cost_incomplete", "cache_creation_5m_input_tokens",
        "cache_creation_1h_input_tokens", "thinking_output_tokens", "service_tier", "speed", "inference_geo",
        "web_search_requests", "web_fetch_requests", "server_tool_requests", "thinking_type",
        "thinking_budget_tokens", "effort", "structured_output", "stop_sequence_count", "tool_count",
        "tool_choice", "temperature", "top_p", "top_k", "workspace_id", "user_profile_id", "conversation_id",
    }
)  # fmt: skip
"""Every key the library itself writes; extra fields may not take these names."""

ALWAYS_FIELDS: Final = (
    "timestamp",
    "level",
    "event",
    "outcome",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "max_tokens",
    "latency_ms",
    "status_code",
    "error_type",
    "tenant_id",
    "user_id",
)
"""The flat fields every event carries, in order (`null` when unknown)."""

_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,63}")


def check_extra_fields(fields: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Validate extra field names at configuration time; raise a clear error for a bad one."""
    for name in fields:
        if not isinstance(name, str) or _NAME.fullmatch(name) is None:
            raise ValueError(
                f"{where}: field name {name!r} must match [A-Za-z_][A-Za-z0-9_.-]{{0,63}} "
                "(letters, digits, _ . -; at most 64 characters)"
            )
        if name in CORE_FIELDS:
            raise ValueError(f"{where}: {name!r} is a field of the event itself and cannot be an extra field")
    return dict(fields)


def safe_extra_fields(fields: Mapping[Any, Any]) -> dict[str, Any]:
    """Keep the well-named, non-core extra fields of a run-time `set()`; drop the rest silently."""
    return {
        name: value
        for name, value in fields.items()
        if isinstance(name, str) and name not in CORE_FIELDS and _NAME.fullmatch(name) is not None
    }


def check_identity(name: str, value: object) -> str | None:
    """A tenant or user id given at configuration time: str or int, kept as str."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"{name} must be a str, an int or None, not {type(value).__name__}: {value!r}")


def check_model(value: object) -> str | None:
    """A model id given at configuration time."""
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"model must be a str or None, not {type(value).__name__}: {value!r}")


def check_max_tokens(value: object) -> int | None:
    """A `max_tokens` given at configuration time: a positive int."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"max_tokens must be an int or None, not {type(value).__name__}: {value!r}")
    if value < 1:
        raise ValueError(f"max_tokens must be at least 1, not {value}")
    return value


def identity_at_runtime(value: object) -> str | None:
    """A tenant or user id set at run time: never raises; other types become their `str()`."""
    if value is None or isinstance(value, str):
        return value
    try:
        return str(value)
    except Exception:
        return None
