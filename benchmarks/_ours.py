"""The floor and claude_logging's own variants: every entry point x every output x every schema.

Outputs are set up once, each writing to /dev/null: `stdout` through the background writer to
file descriptor 1 (which `run.py` points at /dev/null), `logging` through a handler with our
`JsonFormatter`, `structlog` through a typical production configuration (JSON renderer, write
logger, cached). Schemas come from `claude_logging._schemas.SCHEMAS`, so new ones are picked up.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import TYPE_CHECKING, Any, Final

import _canned
from _timing import Variant

import claude_logging
from claude_logging import _outputs, _schemas

if TYPE_CHECKING:
    from collections.abc import Callable

OUTPUTS: Final = ("stdout", "logging", "structlog")
ENTRY_POINTS: Final = ("instrument(client)", "@log_call", "with log_call()")
DEFAULT: Final = "instrument(client) / stdout / flat"
"""The row the targets are judged on: the recommended setup with every default."""
DECORATED: Final = "@log_call / stdout / flat"
SDK_TRACING: Final = "anthropic SDK's own OpenTelemetry tracing"
IDLE_ROW: Final = "idle seams: one SDK call nobody observes (request + one attempt)"
"""What the seams cost a call when no scope is open and nothing is instrumented (target <= 1 us)."""


def setup_outputs(devnull: Any) -> None:
    """Point the `logging` and `structlog` outputs at /dev/null, as an application would configure them."""
    import structlog  # noqa: PLC0415 - a dependency of ours, imported when benchmarking it

    handler = logging.StreamHandler(devnull)
    handler.setFormatter(claude_logging.JsonFormatter())
    logger = logging.getLogger(_outputs.LOGGER_NAME)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    structlog.configure(
        processors=[structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.WriteLoggerFactory(devnull),
        cache_logger_on_first_use=True,
    )


def minimum_logging_work(message: Any, fd: int, start_wall: float, start: int, end: int) -> None:
    """The least a logger can do per call: a 20-field dict, one `json.dumps`, one `write`."""
    usage = message.usage
    record = {
        "timestamp": start_wall,
        "level": "info",
        "event": "claude.call",
        "outcome": "success",
        "model": message.model,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "max_tokens": 256,
        "latency_ms": (end - start) / 1e6,
        "status_code": 200,
        "error_type": None,
        "tenant_id": None,
        "user_id": None,
        "operation": "chat",
        "request_id": message._request_id,
        "message_id": message.id,
        "stop_reason": message.stop_reason,
        "stream": False,
    }
    os.write(fd, (json.dumps(record) + "\n").encode())


def floor_variants(devnull_fd: int) -> list[Variant]:
    """The bare SDK call, and the minimum logging work measured alone and on top of the SDK call."""
    bare = _canned.client()
    message = bare.messages.create(**_canned.REQUEST)
    request = _canned.REQUEST
    clock, wall = time.perf_counter_ns, time.time

    def sdk() -> object:
        return bare.messages.create(**request)

    def sdk_and_minimum() -> object:
        start_wall, start = wall(), clock()
        result = bare.messages.create(**request)
        minimum_logging_work(result, devnull_fd, start_wall, start, clock())
        return result

    def minimum_alone() -> None:
        minimum_logging_work(message, devnull_fd, wall(), clock(), clock())

    return [
        Variant("bare SDK call", "floor", sdk),
        Variant("SDK call + minimum logging work", "floor", sdk_and_minimum),
        Variant("nothing (timer overhead)", "alone", _noop),
        Variant("minimum logging work", "alone", minimum_alone),
    ]


def _noop() -> None:
    """Times the timer: subtracted from the work measured without an SDK call."""


def our_variants() -> list[Variant]:
    """Every entry point with every output and schema, each on the canned SDK call."""
    bare = _canned.client()
    instrumented = claude_logging.instrument(_canned.client())
    calls: dict[str, Callable[[], object]] = {
        "instrument(client)": _instrumented_call(instrumented),
        "@log_call": _decorated_call(bare),
        "with log_call()": _scoped_call(bare),
    }
    return [
        Variant(
            f"{entry} / {output} / {schema}", "claude_logging", calls[entry], *_configured(output, schema)
        )
        for schema in _schemas.SCHEMAS
        for output in OUTPUTS
        for entry in ENTRY_POINTS
    ]


def alone_variants() -> list[Variant]:
    """Our logging work without the SDK call: a scope that records a parsed Message, per output."""
    message = _canned.client().messages.create(**_canned.REQUEST)

    def record() -> None:
        with claude_logging.log_call() as call:
            call.record(message)

    return [
        *(
            Variant(
                f"with log_call(): record(message) / {output} / flat",
                "alone",
                record,
                *_configured(output, "flat"),
            )
            for output in OUTPUTS
        ),
        _idle_seams(),
    ]


def _idle_seams() -> Variant:
    """The seams' wrappers of `request()` and `_attempt_request()` around a no-op, nothing observed.

    Conservative: the no-op's own call is counted in. Measured alone, not on an SDK call, because a
    fraction of a microsecond disappears in the SDK call's spread.
    """
    from claude_logging import _seams, _targets  # noqa: PLC0415

    def original(*_args: Any, **_kwargs: Any) -> None:
        return None

    request, attempt = _seams._sync_request(original), _seams._sync_attempt(original)
    client = _canned.client()

    def call() -> None:
        if _targets.everything[0]:
            raise RuntimeError("the idle row needs instrument() off")
        request(client, object, None, stream=False)
        attempt(client, None, stream=False, retries_taken=0)

    return Variant(IDLE_ROW, "alone", call)


def _configured(
    output: str, schema: str
) -> tuple[Callable[[], None], Callable[[], None], Callable[[], None]]:
    """`enter`, `leave` and `drain` for a batch written to `output` in `schema`."""

    def enter() -> None:
        claude_logging.configure(output=output, schema=schema)

    def leave() -> None:
        claude_logging.configure(output="stdout", schema="flat")

    def drain() -> None:
        claude_logging.flush()

    return enter, leave, drain


def _instrumented_call(client: Any) -> Callable[[], object]:
    request = _canned.REQUEST

    def call() -> object:
        return client.messages.create(**request)

    return call


def _decorated_call(client: Any) -> Callable[[], object]:
    request = _canned.REQUEST

    @claude_logging.log_call
    def ask() -> object:
        return client.messages.create(**request)

    return ask


def _scoped_call(client: Any) -> Callable[[], object]:
    request = _canned.REQUEST

    def ask() -> object:
        with claude_logging.log_call() as call:
            message = client.messages.create(**request)
            call.record(message)
        return message

    return ask
