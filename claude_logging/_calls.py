"""Calls in flight: each owns one event record and ends exactly once.

A `Call` ends its own part once (`finish`) and completes when its children have completed too:
a `log_call` scope waits for the stream its function returned. A completed call either folds its
record into its parent scope (tokens summed, the last call's model, ids and stop reason) or is
emitted. Every open call is registered, so the interpreter-exit sweep can emit calls still in
flight as `incomplete`; a forked child forgets the parent's calls.
"""

from __future__ import annotations

import operator
import os
import sys
import threading
import time
from contextvars import ContextVar
from typing import Final

from claude_logging import _config, _guard, _outputs, _pricing
from claude_logging._capture import outcome_of, record_exception
from claude_logging._event import ERROR, INCOMPLETE, SUCCESS, Event, Outcome

_allocate_lock = threading.Lock
now = time.perf_counter_ns
wall = time.time_ns

_open: dict[int, Call] = {}

current_scope: Final[ContextVar[Call | None]] = ContextVar("claude_logging.scope", default=None)
"""The innermost `log_call` scope, which instrumented calls fold into."""


class Call:
    """One event in progress; `finish` ends its own part, completion waits for its children."""

    __slots__ = ("__weakref__", "_lock", "_pending", "completed", "event", "exited", "parent")

    def __init__(self, event: Event, parent: Call | None = None) -> None:
        """Register a call that started at `event.start_*`, as a child of `parent` if given."""
        self.event = event
        self.parent = parent
        self._lock = _allocate_lock()
        self._pending = 1
        self.exited = False
        self.completed = False
        if parent is not None:
            parent._adopt()
        _open[id(self)] = self

    def _adopt(self) -> None:
        with self._lock:
            self._pending += 1

    def finish(self, outcome: Outcome, exc: BaseException | None = None) -> bool:
        """End this call's own part with `outcome` (and the exception seen); False if already ended."""
        with self._lock:
            if self.exited:
                return False
            self.exited = True
        event = self.event
        event.end_mono_ns = now()
        event.outcome = outcome
        if exc is not None:
            try:
                record_exception(event, exc, app_text=_config.current().capture_error_message == "all")
            except Exception as error:
                event.internal_error = True
                _guard.internal_error("capture.exception", error)
        elif outcome == SUCCESS and event.status_code is None:
            event.status_code = 200
        self._release()
        return True

    def fail(self, exc: BaseException) -> bool:
        """End this call's own part with the outcome that `exc` stands for."""
        return self.finish(outcome_of(exc), exc)

    def _release(self) -> None:
        with self._lock:
            self._pending -= 1
            if self._pending > 0 or self.completed:
                return
            self.completed = True
        self._complete()

    def _complete(self) -> None:
        _open.pop(id(self), None)
        self._price()
        parent = self.parent
        if parent is not None and not parent.completed:
            if self.event.run_id is not None and not self.event.rollup:
                _outputs.emit(self.event)  # an API call of an agent run: its own event, and the run's sum
            parent.fold(self)
        else:
            _outputs.emit(self.event)

    def _price(self) -> None:
        """Cost of an API-level record (one call, not a scope: a scope sums its parts' costs)."""
        event = self.event
        if event.api_calls == 1 and type(self) is Call:
            try:
                _pricing.price(event)
            except Exception as exc:
                event.internal_error = True
                _guard.internal_error("price", exc)

    def fold(self, child: Call) -> None:
        """Take a completed child's record into this one (see module docstring), then release it."""
        try:
            with self._lock:
                merge(self.event, child.event, late=self.exited)
        except Exception as exc:
            self.event.internal_error = True
            _guard.internal_error("fold", exc)
        finally:
            self._release()

    def detach(self) -> None:
        """Vanish: complete without folding or emitting anything (a placeholder no longer needed)."""
        with self._lock:
            if self.completed:
                return
            self.completed = True
            self.exited = True
        _open.pop(id(self), None)
        if self.parent is not None:
            self.parent._release()

    def abort(self, outcome: Outcome) -> None:
        """Complete now, children or not (interpreter exit): emits at most once."""
        self.finish(outcome)
        with self._lock:
            if self.completed:
                return
            self.completed = True
        _open.pop(id(self), None)
        self._price()
        parent = self.parent
        if parent is not None and not parent.completed:
            with parent._lock:
                merge(parent.event, self.event, late=parent.exited)
        else:
            _outputs.emit(self.event)


_SUMMED: Final = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "counted_input_tokens",
    "web_search_requests",
    "web_fetch_requests",
    "server_tool_requests",
    "thinking_output_tokens",
    "tool_use_count",
    "retries",
    "cost_usd",
)
_LAST_WINS: Final = (
    "response_model",
    "request_id",
    "message_id",
    "stop_reason",
    "service_tier",
    "speed",
    "ratelimit_requests_remaining",
    "ratelimit_input_tokens_remaining",
    "ratelimit_output_tokens_remaining",
    "operation",
    "stream_completed",
    "inference_geo",
    "canonical_model",
    "platform",
    "server_address",
    "cloud_region",
    "refusal_category",
    "cache_miss_reason",
    "tool_use_names",
    "cost_incomplete",
)
_FIRST_WINS: Final = (
    "request_model",
    "max_tokens",
    "request_user_id",
    "first_token_mono_ns",
    "prompt",
    "conversation_id",
    "thinking_type",
    "thinking_budget_tokens",
    "effort",
    "structured_output",
    "stop_sequence_count",
    "tool_count",
    "tool_choice",
    "temperature",
    "top_p",
    "top_k",
    "workspace_id",
    "user_profile_id",
)
_FAILURE: Final = (
    "status_code",
    "error_type",
    "api_error_type",
    "api_error_class",
    "error_message",
    "error_message_source",
    "retry_after_s",
)
_API_FAILURE: Final = (
    "status_code",
    "api_error_type",
    "error_message",
    "error_message_source",
    "retry_after_s",
)
"""What a failed API call inside a scope tells the scope, whatever exception the scope ends with."""


_summed_of: Final = operator.attrgetter(*_SUMMED)
_last_wins_of: Final = operator.attrgetter(*_LAST_WINS)
_first_wins_of: Final = operator.attrgetter(*_FIRST_WINS)
"""Each list's values of an event in one C call: most are None, and merging runs once per API call."""


def merge(scope: Event, call: Event, *, late: bool) -> None:
    """Fold the record of an API call (`call`) into its scope's record (`scope`).

    Tokens and retries are summed and `api_calls` counted; model, ids, stop reason and rate-limit
    headroom come from the last call. A call that completes after the scope's own code ended
    (the stream a decorated function returned) decides the outcome when it did not succeed.
    """
    for name, part in zip(_SUMMED, _summed_of(call), strict=True):
        if part is not None:
            total = getattr(scope, name)
            setattr(scope, name, part if total is None else total + part)
    for name, value in zip(_LAST_WINS, _last_wins_of(call), strict=True):
        if value is not None:
            setattr(scope, name, value)
    for name, mine in zip(_FIRST_WINS, _first_wins_of(scope), strict=True):
        if mine is None:
            setattr(scope, name, getattr(call, name))
    scope.api_calls += call.api_calls
    _merge_status(scope, call)
    if call.cost_unknown or (call.cost_usd is None and (call.input_tokens or call.output_tokens)):
        scope.cost_unknown = True
    scope.stream = scope.stream or call.stream
    scope.internal_error = scope.internal_error or call.internal_error
    if call.completion is not None:
        scope.completion = call.completion if scope.completion is None else scope.completion + call.completion
    if late:
        _merge_late(scope, call)


def _merge_status(scope: Event, call: Event) -> None:
    """The last API call's status, and its failure facts if it failed.

    A framework that wraps the API's error in its own exception, or an app that catches it, still
    leaves the scope's event with the failed call's `status_code`, `api_error_type` and the SDK's
    error class (`api_error_class`); a later successful call clears them.
    """
    if call.api_calls != 1:
        return  # a nested scope's record: its own status was settled by its own calls
    if call.outcome == SUCCESS:
        scope.status_code = call.status_code
        scope.api_error_type = scope.api_error_class = scope.retry_after_s = None
        if scope.error_message_source == "api":
            scope.error_message = scope.error_message_source = None
    elif call.outcome == ERROR:
        for name in _API_FAILURE:
            setattr(scope, name, getattr(call, name))
        scope.api_error_class = call.api_error_class or call.error_type


def _merge_late(scope: Event, call: Event) -> None:
    """A call that outlived its scope's code: its end is the scope's end, its failure the scope's."""
    if call.end_mono_ns is not None and (scope.end_mono_ns is None or call.end_mono_ns > scope.end_mono_ns):
        scope.end_mono_ns = call.end_mono_ns
    if call.outcome not in (None, SUCCESS) and scope.outcome == SUCCESS:
        scope.outcome = call.outcome
        for name in _FAILURE:
            setattr(scope, name, getattr(call, name))


def new_event() -> Event:
    """A record stamped with the wall and monotonic clocks now."""
    return Event.started(wall(), now())


def sweep(outcome: Outcome = INCOMPLETE) -> None:
    """Emit every call still in flight as `outcome`, innermost first."""
    calls = list(_open.values())

    def depth(call: Call) -> int:
        level = 0
        parent = call.parent
        while parent is not None and level < 100:
            level += 1
            parent = parent.parent
        return level

    for call in sorted(calls, key=depth, reverse=True):
        try:
            call.abort(outcome)
        except Exception:
            pass


def in_flight() -> int:
    """How many calls have started and not yet been emitted."""
    return len(_open)


def _after_fork_in_child() -> None:
    # The parent's calls are the parent's to emit; the child emits only its own.
    _open.clear()
    _guard.after_fork_in_child()


# At exit, _lifecycle sweeps the calls in flight, then drains the writer.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def stamp_trace(event: Event) -> None:
    """Copy the current OpenTelemetry trace and span ids (hex) onto `event`, when a span is active.

    OpenTelemetry is called only when it is in use: its trace API is loaded (the anthropic SDK
    loads it itself, so that alone says nothing) and its context holds something, which is where
    an active span would be. Reading that context is a context-variable read, not an OTel call.
    """
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None or not _otel_context_in_use():
        return
    try:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            event.trace_id = f"{context.trace_id:032x}"
            event.span_id = f"{context.span_id:016x}"
    except Exception:
        pass


def _otel_context_in_use() -> bool:
    """Whether OpenTelemetry's current context is other than the empty one (True when unsure)."""
    runtime = getattr(sys.modules.get("opentelemetry.context"), "_RUNTIME_CONTEXT", None)
    variable = getattr(runtime, "_current_context", None)
    if not isinstance(variable, ContextVar):
        return True
    try:
        return bool(variable.get())
    except Exception:
        return True
