"""`claude-logging demo`: real SDK calls against the built-in fake API, events on stdout.

Offline and key-free: an instrumented `anthropic.Anthropic` client talks HTTP to the fake
Messages API on 127.0.0.1, which answers with a realistic mix of successes, streams, retries,
rate limits, overloads, timeouts, mid-stream errors and abandoned streams. Events go to stdout
exactly as in production; a summary goes to stderr.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import claude_logging
from claude_logging import _calls

if TYPE_CHECKING:
    from collections.abc import Iterator

    from claude_logging._fake_api import ReceivedRequest, Reply

MODELS = (("claude-sonnet-4-6", 0.55), ("claude-haiku-4-5", 0.30), ("claude-opus-4-6", 0.15))
_PLAN_HEADER = "x-claude-logging-demo-plan"
_ANSWERS = (
    "Here is a concise summary of the document you shared.",
    "The function leaks a file handle when the parser raises; close it in a finally block.",
    "Paris is the capital of France.",
    "I would split the migration into three steps and keep the old column until the backfill ends.",
)
_ERROR_KINDS = ("rate_limited", "overloaded", "server_error", "bad_request", "timeout", "stream_error")


@dataclass
class Plan:
    """One demo call: what the client does and what the fake answers on each attempt."""

    kind: str
    model: str
    tenant: str
    user: str
    stream: bool = False
    helper: bool = False
    replies: list[Reply] = field(default_factory=list)


def add_parser(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `demo` and its options."""
    parser = subcommands.add_parser(
        "demo",
        help="run real SDK calls against a built-in fake API and print their events (offline)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--calls", type=_positive, default=None, help="number of calls (default: a fixed tour of 12)"
    )
    parser.add_argument(
        "--error-rate", type=_fraction, default=0.12, help="share of calls that fail (default 0.12)"
    )
    parser.add_argument(
        "--stream-share", type=_fraction, default=0.35, help="share of calls that stream (default 0.35)"
    )
    parser.add_argument("--tenants", type=_positive, default=5, help="number of tenants (default 5)")
    parser.add_argument("--workers", type=_positive, default=4, help="concurrent client threads (default 4)")
    parser.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable run")
    parser.add_argument(
        "--span",
        type=_duration,
        default=None,
        metavar="DURATION",
        help="simulated history: stamp the calls as started over the last DURATION (30m, 6h, 1d, 7d) "
        "instead of now; latencies, tokens and outcomes stay real (for the report's time views)",
    )
    parser.set_defaults(run=run)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {value}")
    return value


def _duration(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    number = text[:-1]
    if text[-1:] not in units or not number.replace(".", "", 1).isdigit() or float(number) <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration such as 30m, 6h, 1d, not {text!r}")
    return float(number) * units[text[-1]]


_planned_start: ContextVar[int | None] = ContextVar("demo_planned_start", default=None)


@contextmanager
def _simulated_history(span_s: float | None, calls: int, rng: random.Random) -> Iterator[list[int]]:
    """Start times spread over the last `span_s` seconds, one per call, read by the event clock.

    The library stamps an event with `_calls.wall()`; inside a call of the demo that clock returns
    the call's planned start instead of now. Nothing else changes: latencies come from the
    monotonic clock, so they stay real.
    """
    if not span_s:
        yield []
        return
    now = time.time_ns()
    step = span_s * 1e9 / max(calls, 1)
    starts = [int(now - span_s * 1e9 + step * (index + rng.random())) for index in range(calls)]
    real_wall = _calls.wall
    _calls.wall = lambda: _planned_start.get() or real_wall()
    try:
        yield starts
    finally:
        _calls.wall = real_wall


def _tour(rng: random.Random) -> list[Plan]:
    """The default run: one call of each kind, so every outcome shows up."""
    kinds = ["success", "success", "stream", "helper_stream", "cached", "rate_limited"]
    kinds += ["overloaded", "server_error", "bad_request", "timeout", "stream_error", "abandoned"]
    tenants = ["acme", "globex", "initech"]
    return [_plan(kind, rng, tenants[index % 3], f"user-{index % 4 + 1}") for index, kind in enumerate(kinds)]


def _random_plans(args: argparse.Namespace, rng: random.Random) -> list[Plan]:
    tenants = [f"tenant-{index:02d}" for index in range(1, args.tenants + 1)]
    weights = [1.0 / rank for rank in range(1, len(tenants) + 1)]  # a few big tenants, a long tail
    plans = []
    for _ in range(args.calls):
        tenant = rng.choices(tenants, weights)[0]
        user = f"user-{rng.randint(1, 40)}"
        if rng.random() < args.error_rate:
            kind = rng.choices(_ERROR_KINDS, (30, 25, 15, 15, 5, 10))[0]
        elif rng.random() < args.stream_share:
            kind = rng.choices(("stream", "helper_stream", "abandoned"), (45, 45, 10))[0]
        else:
            kind = rng.choices(("success", "cached", "rate_limited"), (75, 15, 10))[0]
        plans.append(_plan(kind, rng, tenant, user))
    return plans


def _plan(kind: str, rng: random.Random, tenant: str, user: str) -> Plan:
    # The fake API (and the HTTP stack under it) is imported when the demo runs, not for every command.
    from claude_logging._fake_api import error, message, stall, stream  # noqa: PLC0415

    model = rng.choices([name for name, _ in MODELS], [weight for _, weight in MODELS])[0]
    delay = {"claude-haiku-4-5": 0.002, "claude-sonnet-4-6": 0.006, "claude-opus-4-6": 0.012}[model]
    text = rng.choice(_ANSWERS) * rng.randint(1, 6)
    tokens = rng.randint(40, 2500)

    # Thinking is a third of the output; long prompts hit max_tokens; streams search the web once.
    # Derived from the draws above, so the demo's random sequence stays what it was.
    output = max(1, math.ceil(len(text) / 4))
    details = {"output_tokens_details": {"thinking_tokens": output // 3}}
    stop = "max_tokens" if tokens > 2200 else "end_turn"

    def ok(**extra: Any) -> Reply:
        return message(
            text,
            input_tokens=tokens,
            delay_s=delay * rng.uniform(0.5, 2.5),
            usage=details,
            stop_reason=stop,
            **extra,
        )

    def streamed(**extra: Any) -> Reply:
        usage = {**details, "server_tool_use": {"web_search_requests": 1, "web_fetch_requests": 0}}
        return stream(text, input_tokens=tokens, chunk_delay_s=delay / 6, usage=usage, **extra)

    plan = Plan(kind, model, tenant, user)
    if kind in ("stream", "helper_stream", "abandoned", "stream_error"):
        plan.stream = True
        plan.helper = kind == "helper_stream"
    plan.replies = {
        "success": lambda: [ok()],
        "cached": lambda: [
            ok(cache_read_input_tokens=rng.randint(1000, 20000), cache_creation_input_tokens=0)
        ],
        "stream": lambda: [streamed()],
        "helper_stream": lambda: [streamed()],
        "abandoned": lambda: [streamed()],
        "rate_limited": lambda: [error(429, retry_after=0.01), ok()],
        "overloaded": lambda: [error(529, retry_after=0.01), error(529, retry_after=0.01)],
        "server_error": lambda: [error(500), error(500)],
        "bad_request": lambda: [error(400, message="max_tokens: must be less than or equal to 64000")],
        "timeout": lambda: [stall(5.0)],
        "stream_error": lambda: [streamed(error_after=4)],
    }[kind]()
    return plan


def run(args: argparse.Namespace) -> int:
    """Run the demo calls; events go to stdout, a one-line summary to stderr."""
    from claude_logging._fake_api import FakeAnthropicAPI  # noqa: PLC0415 - see _plan

    rng = random.Random(args.seed)  # noqa: S311 - demo traffic, not secrets
    plans = _tour(rng) if args.calls is None else _random_plans(args, rng)
    lock = threading.Lock()

    def route(request: ReceivedRequest) -> Reply | None:
        key = request.headers.get(_PLAN_HEADER)
        if key is None:
            return None
        attempt = int(request.headers.get("x-stainless-retry-count", "0"))
        replies = plans[int(key)].replies
        with lock:
            return replies[min(attempt, len(replies) - 1)]

    outcomes: Counter[str] = Counter()
    started = time.perf_counter()
    with FakeAnthropicAPI(router=route) as api, _simulated_history(args.span, len(plans), rng) as starts:
        import anthropic  # noqa: PLC0415 - imported after argument parsing, so `--help` is instant

        client = claude_logging.instrument(
            anthropic.Anthropic(
                base_url=api.url, api_key="sk-ant-demo-not-a-real-key", max_retries=1, timeout=10.0
            )
        )
        quick = client.with_options(timeout=0.25, max_retries=0)

        def call(index: int) -> None:
            plan = plans[index]
            target = quick if plan.kind == "timeout" else client
            token = _planned_start.set(starts[index] if starts else None)
            try:
                with claude_logging.context(tenant_id=plan.tenant, user_id=plan.user):
                    outcomes[_call(target, plan, index)] += 1
            finally:
                _planned_start.reset(token)

        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            list(pool.map(call, range(len(plans))))
    claude_logging.flush()
    seconds = time.perf_counter() - started
    summary = ", ".join(f"{count} {name}" for name, count in sorted(outcomes.items()))
    print(f"claude-logging demo: {len(plans)} calls in {seconds:.1f}s ({summary})", file=sys.stderr)
    return 0


def _call(client: Any, plan: Plan, index: int) -> str:
    """Make the call the plan describes, the way an application would; returns what the app saw."""
    request: dict[str, Any] = {
        "model": plan.model,
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "Summarise the attached design document."}],
        "extra_headers": {_PLAN_HEADER: str(index)},
    }
    try:
        if plan.helper:
            with client.messages.stream(**request) as helper:
                helper.get_final_message()
        elif plan.stream:
            events = client.messages.create(stream=True, **request)
            with events:
                for position, _ in enumerate(events):
                    if plan.kind == "abandoned" and position == 2:
                        break
        else:
            client.messages.create(**request)
    except Exception as exc:
        return type(exc).__name__
    return "abandoned" if plan.kind == "abandoned" else "ok"
