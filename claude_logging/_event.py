"""The one record at the centre: everything known about one logical Claude call.

Capture fills it, a schema renders it, an output writes it. Attributes hold raw facts (clock
readings in nanoseconds, the requested and the response model apart); units and names are the
schema's business, so every backend renders the same record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

Outcome = Literal["success", "error", "cancelled", "interrupted", "abandoned", "incomplete"]

SUCCESS: Final = "success"
ERROR: Final = "error"
CANCELLED: Final = "cancelled"
INTERRUPTED: Final = "interrupted"
ABANDONED: Final = "abandoned"
INCOMPLETE: Final = "incomplete"

OUTCOMES: Final[tuple[Outcome, ...]] = (SUCCESS, ERROR, CANCELLED, INTERRUPTED, ABANDONED, INCOMPLETE)

EVENT_NAME: Final = "claude.call"
RUN_EVENT_NAME: Final = "claude.run"
"""The rollup of a `log_call(per_call=True)` scope: a name of its own, so no dashboard counts it twice."""
EVENT_NAMES: Final = frozenset({EVENT_NAME, RUN_EVENT_NAME})


@dataclass(eq=False)
class Event:
    """One logical call as captured: a call, its retries and the reading of its stream.

    `None` means unknown. Token counts are Anthropic's own (input excludes cache reads and writes).
    Every default is immutable and stays a class attribute until a capture sets it on the event,
    so `started()` makes a record by setting its two clocks only (no slots: a slotted record of
    some eighty fields costs a store per field at each call).
    """

    @classmethod
    def started(cls, wall_ns: int, mono_ns: int) -> Event:
        """A record of a call that started at these clock readings, every other field at its default."""
        event = object.__new__(cls)
        event.start_wall_ns = wall_ns
        event.start_mono_ns = mono_ns
        return event

    start_wall_ns: int
    """Wall-clock time at the start, for the event's timestamp."""
    start_mono_ns: int
    """Monotonic clock at the start; latencies are differences of monotonic readings only."""
    end_mono_ns: int | None = None
    first_token_mono_ns: int | None = None

    outcome: Outcome | None = None
    operation: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    max_tokens: int | None = None

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_creation_5m_input_tokens: int | None = None
    cache_creation_1h_input_tokens: int | None = None
    counted_input_tokens: int | None = None
    thinking_output_tokens: int | None = None
    """`usage.output_tokens_details.thinking_tokens`: the part of `output_tokens` spent thinking."""
    service_tier: str | None = None
    speed: str | None = None
    inference_geo: str | None = None
    web_search_requests: int | None = None
    web_fetch_requests: int | None = None
    server_tool_requests: int | None = None
    """Every `usage.server_tool_use.*_requests` count summed, named kinds and any new ones alike."""
    unpriced_server_tools: bool = False
    """A server-tool count of a kind the price table has no fee for: a written cost is a lower bound."""
    cost_usd: float | None = None
    """USD from the price table (`_pricing.py`); a scope's is the sum of its API calls'."""
    cost_unknown: bool = False
    """A part with token usage could not be priced, so a sum would understate: no cost is written."""
    cost_incomplete: bool | None = None
    """The cost leaves out a charge it knows of (a fee or premium the table lacks): a lower bound."""
    canonical_model: str | None = None
    """The price table's id for the model, whatever id the platform used (`claude-sonnet-4-6`)."""

    status_code: int | None = None
    error_type: str | None = None
    api_error_type: str | None = None
    api_error_class: str | None = None
    """The SDK's class of the API error under a raised exception of another class (a framework's)."""
    error_message: str | None = None
    error_message_source: str | None = None
    """`api` for text authored by the Anthropic API or SDK, `app` for any other exception's message."""
    retry_after_s: float | None = None

    tenant_id: str | None = None
    user_id: str | None = None
    request_user_id: str | None = None
    """`metadata.user_id` of the request: the fallback when no scope or context names a user."""

    conversation_id: str | None = None
    platform: str | None = None
    """`anthropic`, `bedrock`, `vertex`, `foundry`, ...: the SDK client's platform."""
    server_address: str | None = None
    cloud_region: str | None = None
    """The cloud region of a Bedrock or Vertex endpoint (`us-east-1`, `global`)."""

    thinking_type: str | None = None
    thinking_budget_tokens: int | None = None
    effort: str | None = None
    structured_output: bool | None = None
    stop_sequence_count: int | None = None
    tool_count: int | None = None
    tool_choice: str | None = None
    workspace_id: str | None = None
    user_profile_id: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None

    request_id: str | None = None
    message_id: str | None = None
    stop_reason: str | None = None
    refusal_category: str | None = None
    cache_miss_reason: str | None = None
    tool_use_count: int | None = None
    tool_use_names: list[str] | None = None
    stream: bool | None = None
    stream_completed: bool | None = None
    retries: int | None = None
    api_calls: int = 0
    ratelimit_requests_remaining: int | None = None
    ratelimit_input_tokens_remaining: int | None = None
    ratelimit_output_tokens_remaining: int | None = None

    batch_id: str | None = None
    """The Message Batch a call created or read, or a batch result came from."""
    batch_requests: int | None = None
    """Requests in the batch a call created (or retrieved, when the API counts them)."""
    batch_custom_id: str | None = None
    """A batch result's `custom_id`: which request of the batch it answers."""
    batch_result_type: str | None = None
    """A batch result's type: `succeeded`, `errored`, `canceled` or `expired`."""
    run_id: str | None = None
    """The `log_call(per_call=True)` scope (an agent run) this call belongs to, or that this rollup is."""
    rollup: bool = False
    """The event of a `log_call(per_call=True)` scope: written as `claude.run`, beside its calls' events."""
    function: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    prompt: str | None = None
    completion: str | None = None
    internal_error: bool | None = None
    fields: dict[str, Any] | None = None
    """Extra fields from `log_call(**fields)`, `call.set()` and `context()`; never override the above."""
