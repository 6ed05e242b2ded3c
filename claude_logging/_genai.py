"""The LLM fields every vendor schema shares: OpenTelemetry GenAI names, and the SDK's own Anthropic names.

The `gen_ai.*` names follow the GenAI conventions named by `GENAI_CONVENTION`, with their meanings
(`gen_ai.usage.input_tokens` counts cache reads and writes); the Anthropic-specific fields take
the names the Anthropic SDK's tracing gives them (`anthropic._tracing`). Each vendor schema places
these lists where it keeps attributes (`_schemas.py`).
"""

from __future__ import annotations

from typing import Any, Final

from claude_logging._fieldmap import SECONDS, Field, Fixed, Unit

_CACHE_READ: Final = "gen_ai.usage.cache_read.input_tokens"
_CACHE_WRITE: Final = "gen_ai.usage.cache_write.input_tokens"
GENAI_CONVENTION: Final = "open-telemetry/semantic-conventions-genai, main after #521 (2026-10-06)"
"""The GenAI semantic conventions the gen_ai.* names follow (docs/backends/otel.md says the same)."""


def _total_input(input_tokens: int, flat: dict[str, Any]) -> int:
    return (
        input_tokens
        + (flat.get("cache_read_input_tokens") or 0)
        + (flat.get("cache_creation_input_tokens") or 0)
    )


def _base_input(total: int, view: dict[str, Any]) -> int:
    return int(total) - (view.get(_CACHE_READ) or 0) - (view.get(_CACHE_WRITE) or 0)


OTEL_INPUT_TOKENS: Final = Unit(_total_input, _base_input)
"""Anthropic's `input_tokens` <-> OTel's `gen_ai.usage.input_tokens` (cache reads and writes added)."""


def _response_model(model: str, flat: dict[str, Any]) -> str | None:
    # The flat `model` is the response's when a response arrived (it names a message, or a model
    # other than the one requested), else the requested one: written then as the request model only.
    if "message_id" in flat or model != flat.get("request_model"):
        return model
    return None


RESPONSE_MODEL: Final = Unit(_response_model, lambda model, _view: model)
"""The flat `model` <-> `gen_ai.response.model`, present only when a response named it."""


_PROVIDERS: Final = {
    "bedrock": "aws.bedrock",
    "aws": "aws.bedrock",
    "vertex": "gcp.vertex_ai",
    "google_cloud": "gcp.vertex_ai",
}
"""Our platform -> `gen_ai.provider.name`, as the SDK's own clients name it; any other is `anthropic`."""


def _provider(flat: dict[str, Any]) -> str:
    return _PROVIDERS.get(flat.get("platform") or "", "anthropic")


def _finish_reasons_of_unfinished(flat: dict[str, Any]) -> list[str] | None:
    """`["error"]` for a call that failed or ended before its stop reason (the conventions' value)."""
    return None if flat.get("outcome") == "success" else ["error"]


def _stop_reason_back(value: Any, _view: dict[str, Any]) -> Any:
    reason = value[0] if isinstance(value, list) and value else value
    return None if reason == "error" or isinstance(reason, list) else reason


FINISH_REASONS: Final = Unit(lambda reason, _flat: [reason], _stop_reason_back)
"""The flat `stop_reason` <-> `gen_ai.response.finish_reasons`; `error` reads back as no stop reason."""
JSON_OUTPUT: Final = Unit(lambda _on, _flat: "json", lambda value, _view: value == "json" or None)
"""The flat `structured_output` <-> `gen_ai.output.type` (`json`)."""


def gen_ai_fields(into: str | None = None) -> list[Field | Fixed]:
    """The LLM fields, by their OpenTelemetry GenAI names: the same in every non-flat schema."""
    return [
        Fixed("gen_ai.provider.name", compute=_provider, into=into),
        Field("operation", "gen_ai.operation.name", default="chat", into=into),
        Field("request_model", "gen_ai.request.model", into=into),
        Field("model", "gen_ai.response.model", RESPONSE_MODEL, into=into, fallback="request_model"),
        Field("max_tokens", "gen_ai.request.max_tokens", into=into),
        Field("input_tokens", "gen_ai.usage.input_tokens", OTEL_INPUT_TOKENS, into=into),
        Field("output_tokens", "gen_ai.usage.output_tokens", into=into),
        Field("cache_read_input_tokens", _CACHE_READ, into=into),
        Field("cache_creation_input_tokens", _CACHE_WRITE, into=into),
        Field("thinking_output_tokens", "gen_ai.usage.reasoning.output_tokens", into=into),
        Field("message_id", "gen_ai.response.id", into=into),
        Field(
            "stop_reason",
            "gen_ai.response.finish_reasons",
            FINISH_REASONS,
            into=into,
            fill=_finish_reasons_of_unfinished,
        ),
        Field("stream", "gen_ai.request.stream", into=into),
        Field("time_to_first_token_ms", "gen_ai.response.time_to_first_chunk", SECONDS, into=into),
        Field("temperature", "gen_ai.request.temperature", into=into),
        Field("top_p", "gen_ai.request.top_p", into=into),
        Field("top_k", "gen_ai.request.top_k", into=into),
        Field("structured_output", "gen_ai.output.type", JSON_OUTPUT, into=into),
        Field("conversation_id", "gen_ai.conversation.id", into=into),
        Field("server_address", "server.address", into=into),
        Field("cloud_region", "cloud.region", into=into),
        Field("retries", "http.request.resend_count", into=into),
    ]


def anthropic_fields(into: str | None = None) -> list[Field | Fixed]:
    """Anthropic-specific fields by the names the SDK's own tracing gives them (`anthropic._tracing`)."""
    return [
        Field(
            "cache_creation_5m_input_tokens",
            "anthropic.usage.cache_creation.ephemeral_5m_input_tokens",
            into=into,
        ),
        Field(
            "cache_creation_1h_input_tokens",
            "anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
            into=into,
        ),
        Field("service_tier", "anthropic.response.service_tier", into=into),
        Field("thinking_type", "anthropic.thinking.type", into=into),
        Field("thinking_budget_tokens", "anthropic.thinking.budget_tokens", into=into),
        Field("workspace_id", "anthropic.workspace.id", into=into),
    ]


__all__ = [
    "FINISH_REASONS",
    "GENAI_CONVENTION",
    "JSON_OUTPUT",
    "OTEL_INPUT_TOKENS",
    "RESPONSE_MODEL",
    "anthropic_fields",
    "gen_ai_fields",
]
