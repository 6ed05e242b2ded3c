"""Properties P1, P2, P3, P4, P6, P7 and P8 of the reliability issue, with hypothesis.

- P1 serialisation is total: any extra-field value gives one strict JSON line under the cap.
- P2 hostile strings stay on one line, and sanitising is idempotent.
- P3 the decorator is transparent for any return value and any BaseException, sync and async.
- P4 stream accounting is differential: the same bytes through a plain and an instrumented
  client, read with a drawn policy, show the same things, and usage equals the SDK's snapshot.
- P6 the usage readers never raise and keep only non-negative ints (or nothing).
- P7 no secret or prompt in an error text or a warning with capture off: keys of any shape quoted
  by the API, error bodies and stream `error` events echoing the request, raising redact hooks.
- P8 truncation keeps valid UTF-8 and the byte cap.

Profiles (tests/conftest.py): `ci` (default, bounded for 2 cores) and `dev`
(`HYPOTHESIS_PROFILE=dev python -m pytest tests/test_properties.py`).
"""

from __future__ import annotations

import asyncio
import builtins
import datetime as dt
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import anthropic
import httpx2
import pytest
from harness import (
    KEY,
    PING,
    SSE_HEADERS,
    STOP,
    check_line,
    delta_event,
    lines,
    request,
    shape,
    sse,
    start_event,
    usage_of,
    visible,
)
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

import claude_logging
from claude_logging import testing
from claude_logging._capture import MAX_COUNT, record_delta_usage, record_message, record_usage
from claude_logging._errortext import api_wording
from claude_logging._event import Event
from claude_logging._sanitize import clean_label, clean_text, fix_unicode, mask_secrets

# -- P1: serialisation is total ---------------------------------------------------------------------


class Unprintable:
    """`str()` and `repr()` both raise."""

    def __str__(self):
        """Refuse."""
        raise RuntimeError("str")

    def __repr__(self):
        """Refuse."""
        raise RuntimeError("repr")


class WrongStr:
    """`str()` returns something that is not a string."""

    def __str__(self):
        """Return a number."""
        return 42  # noqa: PLE0307 - the point of this class


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**5000), max_value=10**5000).map(lambda n: n * 10**4400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.binary(max_size=64),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=Decimal("1e300"), max_value=Decimal("1e500"), places=0),
    st.datetimes(timezones=st.none() | st.timezones()),
    st.dates(),
    st.times(),
    st.uuids(),
    st.complex_numbers(),
    st.builds(Unprintable),
    st.builds(WrongStr),
    st.builds(object),
    st.sampled_from([type, Ellipsis, NotImplemented, math.nan, -math.inf]),
)
keys = st.one_of(
    st.text(),
    st.integers(),
    st.tuples(st.integers(), st.text(max_size=3)),
    st.none(),
    st.builds(Unprintable),
    st.frozensets(st.integers(), max_size=2),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.lists(children, max_size=5).map(tuple),
        st.frozensets(st.integers() | st.text(max_size=4), max_size=5),
        st.dictionaries(keys, children, max_size=5),
    ),
    max_leaves=25,
)


@st.composite
def maybe_cyclic(draw):
    """A value, sometimes with a container inside it that refers back to the top."""
    value = draw(values)
    if draw(st.booleans()):
        holder: Any = {"top": value}
        holder["self"] = holder
        value = draw(st.sampled_from([holder, [holder, value], {"wrap": holder}]))
    return value


@given(value=maybe_cyclic(), other=values, cap=st.integers(1_024, 16_000))
def test_p1_any_extra_value_gives_one_strict_line_under_the_cap(value, other, cap):
    """P1: any extra value (set by log_call, context and set) gives exactly one strict JSON line."""
    claude_logging.configure(max_line_bytes=cap)
    with (
        lines() as written,
        claude_logging.context(ctx=other),
        claude_logging.log_call(tenant_id="t", value=value) as call,
    ):
        call.set(late=value, user_id="u")

    (line,) = written
    event = check_line(line)
    assert (event["outcome"], event["level"]) == ("success", "info")
    assert "internal_error" not in event
    if "truncated" not in event or event["truncated"] != ["*"]:
        assert (event["tenant_id"], event["user_id"]) == ("t", "u")


# -- P2: hostile strings --------------------------------------------------------------------------------

HOSTILE_CHARACTERS = [
    "\r",
    "\n",
    "\x00",
    "\x1b",
    "\u2028",
    "\u2029",
    "\u202e",
    "\ud800",
    "\udfff",
    "\x85",
    "\t",
]
hostile_text = st.lists(
    st.one_of(
        st.sampled_from(HOSTILE_CHARACTERS), st.text(max_size=8), st.sampled_from(["\u00e9", "\U0001f600"])
    ),
    max_size=40,
).map("".join)


@given(text=hostile_text, cap=st.integers(16, 300))
def test_p2_sanitising_is_idempotent_and_leaves_no_line_break(text, cap):
    """P2: clean_label / clean_text / fix_unicode are idempotent; labels keep no control character."""
    label, _ = clean_label(text, cap)
    cleaned, _ = clean_text(text, cap)

    assert clean_label(label, cap) == (label, False)
    assert clean_text(cleaned, cap) == (cleaned, False)
    assert fix_unicode(fix_unicode(text)) == fix_unicode(text)
    label.encode("utf-8")
    cleaned.encode("utf-8")
    assert label.isprintable()
    assert len(label) <= cap
    assert len(cleaned) <= cap


@given(text=hostile_text)
def test_p2_hostile_strings_everywhere_stay_on_one_line(text):
    """P2: a hostile string as tenant, user, model, extra field, nested key and error message: one line."""
    api = testing.FakeAnthropicAPI()
    client = claude_logging.instrument(api.client(api_key=KEY, max_retries=0))
    sendable = text.encode("utf-8", "replace").decode("utf-8")

    def fail():
        with claude_logging.log_call(tenant_id=text, user_id=text, model=text, note=text) as call:
            call.set(nested={text: [text]})
            raise ValueError(text)

    with lines() as written:
        with pytest.raises(ValueError):
            fail()
        client.messages.create(**request(model=sendable, metadata={"user_id": sendable}))

    assert len(written) == 2
    scope, api_call = (check_line(line) for line in written)
    assert scope["tenant_id"] == clean_label(text, 256)[0]
    assert scope["user_id"] == clean_label(text, 256)[0]
    assert scope["model"] == clean_label(text, 256)[0]
    assert scope["note"] == clean_text(text, 256)[0]
    assert scope["error_type"] == "ValueError"
    assert api_call["user_id"] == clean_label(sendable, 256)[0]
    assert api_call["model"] == clean_label(sendable, 256)[0]


# -- P3: the decorator is transparent ---------------------------------------------------------------


class Hostile:
    """A value whose comparisons, truth and attributes misbehave in a drawn way."""

    def __init__(self, attribute: Any, truth: Any, equal: Any) -> None:
        """`attribute`: what any missing attribute gives (an exception is raised); the same for the rest."""
        self._attribute = attribute
        self._truth = truth
        self._equal = equal

    def __getattr__(self, name):
        """Every unknown attribute: raise, or hand out the drawn value (self, falsy, a Mock-like)."""
        if name.startswith("__"):
            raise AttributeError(name)
        if isinstance(self._attribute, Exception):
            raise self._attribute
        return self if self._attribute == "self" else self._attribute

    def __bool__(self):
        """Raise, or answer as drawn."""
        if isinstance(self._truth, Exception):
            raise self._truth
        return bool(self._truth)

    def __eq__(self, other):
        """Raise, or answer as drawn."""
        if isinstance(self._equal, Exception):
            raise self._equal
        return self._equal

    def __hash__(self):
        """Hashable."""
        return 0

    def __call__(self, *args, **kwargs):
        """Callable, returning itself."""
        return self


def hostiles():
    exceptions = st.sampled_from([ValueError("v"), TypeError("t"), RuntimeError("r"), KeyError("k")])
    return st.builds(
        Hostile,
        attribute=st.one_of(exceptions, st.just("self"), st.sampled_from([None, 0, "", "message", [], {}])),
        truth=st.one_of(exceptions, st.booleans()),
        equal=st.one_of(exceptions, st.booleans(), st.just(NotImplemented)),
    )


def generator():
    yield 1


return_values = st.one_of(
    st.none(),
    values,
    hostiles(),
    st.builds(object),
    st.builds(generator),
    st.sampled_from([len, int, Exception("returned, not raised"), KeyboardInterrupt()]),
)

BASE_EXCEPTIONS: list[type[BaseException]] = [
    ValueError,
    TypeError,
    KeyError,
    RuntimeError,
    OSError,
    RecursionError,
    MemoryError,
    StopIteration,
    StopAsyncIteration,
    GeneratorExit,
    KeyboardInterrupt,
    SystemExit,
    asyncio.CancelledError,
    TimeoutError,
    anthropic.APIError,
    *(
        getattr(builtins, name)
        for name in ("BaseExceptionGroup", "ExceptionGroup")
        if hasattr(builtins, name)
    ),
]


def make_exception(cls: type[BaseException]) -> BaseException:
    if cls.__name__.endswith("ExceptionGroup"):
        return cls("group", [ValueError("inner")])
    if cls is anthropic.APIError:
        return cls("api", httpx2.Request("POST", "http://x"), body=None)
    return cls("raised")


exceptions = st.sampled_from(BASE_EXCEPTIONS).map(make_exception)


def expected_outcome(exc: BaseException) -> str:
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return "interrupted"
    return "error"


@given(returned=return_values, asynchronous=st.booleans())
def test_p3_any_return_value_is_the_callers_and_one_event(returned, asynchronous):
    """P3: whatever a decorated function returns (sync or async), the caller gets that very object."""

    @claude_logging.log_call
    def sync():
        return returned

    @claude_logging.log_call
    async def coroutine():
        return returned

    with lines() as written:
        result = asyncio.run(coroutine()) if asynchronous else sync()

    assert result is returned
    (line,) = written
    event = check_line(line)
    assert event["outcome"] == "success"
    assert "internal_error" not in event


def classify(exc: BaseException, raised: BaseException) -> tuple[type, str]:
    """How the caller saw `raised`: itself, or wrapped by Python (a coroutine's StopIteration)."""
    if exc is raised:
        return type(exc), "same"
    if exc.__cause__ is raised:
        return type(exc), "cause"
    return type(exc), "other"


def call_and_catch(function, asynchronous: bool) -> BaseException:
    try:
        if asynchronous:
            asyncio.run(function())
        else:
            function()
    except BaseException as exc:  # every BaseException is the point of P3
        return exc
    raise AssertionError("nothing was raised")


@given(raised_class=st.sampled_from(BASE_EXCEPTIONS), asynchronous=st.booleans(), block=st.booleans())
def test_p3_any_base_exception_reaches_the_caller_as_without_the_decorator(raised_class, asynchronous, block):
    """P3: any BaseException (decorator or block, sync or async) reaches the caller as without us."""
    bare_raised, raised = make_exception(raised_class), make_exception(raised_class)

    def bare_sync():
        raise bare_raised

    async def bare_async():
        raise bare_raised

    def wrapped_sync():
        if block:
            with claude_logging.log_call():
                raise raised

        @claude_logging.log_call
        def inner():
            raise raised

        inner()

    async def wrapped_async():
        if block:
            async with claude_logging.log_call():
                raise raised

        @claude_logging.log_call
        async def inner():
            raise raised

        await inner()

    bare = call_and_catch(bare_async if asynchronous else bare_sync, asynchronous)
    with lines() as written:
        caught = call_and_catch(wrapped_async if asynchronous else wrapped_sync, asynchronous)

    assert classify(caught, raised) == classify(bare, bare_raised)
    assert caught.__context__ is None or type(caught.__context__) is type(bare.__context__)
    (line,) = written
    event = check_line(line)
    assert event["outcome"] == expected_outcome(raised)


# -- P4: stream accounting is differential ------------------------------------------------------------

TEXT = st.sampled_from(["Hello", " world", "", "\u00e9\U0001f600", "a\nb"])


@st.composite
def content_blocks(draw, index: int) -> list[dict[str, Any]]:
    kind = draw(st.sampled_from(["text", "tool_use", "thinking", "future"]))
    pieces = draw(st.integers(0, 3))
    if kind == "text":
        block: dict[str, Any] = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": draw(TEXT)} for _ in range(pieces)]
    elif kind == "tool_use":
        block = {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}
        payload = '{"city": "Paris", "n": [1, 2]}'
        cuts = sorted(draw(st.lists(st.integers(1, len(payload) - 1), max_size=pieces, unique=True)))
        bounds = [0, *cuts, len(payload)]
        deltas = [
            {"type": "input_json_delta", "partial_json": payload[a:b]} for a, b in itertools.pairwise(bounds)
        ]
    elif kind == "thinking":
        block = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": draw(TEXT)} for _ in range(pieces)]
        deltas.append({"type": "signature_delta", "signature": "sig"})
    else:
        block = {"type": "future_block", "payload": {"x": 1}}
        deltas = [{"type": "future_delta", "value": i} for i in range(pieces)]
    return [
        {"type": "content_block_start", "index": index, "content_block": block},
        *({"type": "content_block_delta", "index": index, "delta": delta} for delta in deltas),
        {"type": "content_block_stop", "index": index},
    ]


optional_count = st.one_of(
    st.none(),
    st.integers(0, 10**6),
    st.sampled_from(["12", -5, 1.5, True, 2**70]),  # wrong-typed counts over the wire (row B10)
)


@st.composite
def stream_scripts(draw) -> list[dict[str, Any]]:
    """A valid stream, then cut or mutated: what the API could send, faults included."""
    start_usage: dict[str, Any] = {}
    for name in ("cache_read_input_tokens", "cache_creation_input_tokens"):
        if draw(st.booleans()):
            start_usage[name] = draw(optional_count)
    if draw(st.booleans()):
        start_usage["ephemeral_99h_input_tokens"] = draw(st.integers(0, 9))
    events: list[dict[str, Any]] = [
        *([PING] * draw(st.integers(0, 1))),
        start_event(draw(st.integers(0, 10**6)), draw(st.integers(0, 3)), **start_usage),
    ]
    after_start = len(events)
    for index in range(draw(st.integers(0, 3))):
        events += draw(content_blocks(index))
    output = 0
    for _ in range(draw(st.integers(0, 2))):
        output += draw(st.integers(0, 500))
        usage: dict[str, Any] = {"output_tokens": output if draw(st.integers(0, 9)) else None}
        for name in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
            if draw(st.integers(0, 3)) == 0:
                usage[name] = draw(optional_count)
        if draw(st.integers(0, 5)) == 0:
            usage["future_count"] = 7
        events.append(
            delta_event(draw(st.sampled_from(["end_turn", "max_tokens", "future_stop", None])), **usage)
        )
    if draw(st.integers(0, 4)):
        events.append(STOP)
    for _ in range(draw(st.integers(0, 3))):
        extra = draw(st.sampled_from([PING, {"type": "future_event", "n": 1}]))
        events.insert(draw(st.integers(after_start, len(events))), extra)
    return events[: draw(st.integers(0, len(events)))] if draw(st.integers(0, 3)) == 0 else events


@dataclass
class Wire:
    """The bytes of one streamed response, in chunks, and how the body ends."""

    chunks: list[bytes]
    ending: str
    """`end`, or `cut`: the connection drops after the last chunk."""

    def client(self) -> Any:
        """A client whose every request gets these bytes (and the same fault)."""

        def body():
            yield from self.chunks
            if self.ending == "cut":
                raise httpx2.RemoteProtocolError(
                    "peer closed connection without sending complete message body"
                )

        def handler(request: httpx2.Request) -> httpx2.Response:
            return httpx2.Response(200, headers=SSE_HEADERS, content=body())

        return anthropic.Anthropic(
            api_key=KEY,
            base_url="http://fake.anthropic.test",
            http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
            max_retries=0,
        )


@st.composite
def wires(draw) -> tuple[list[dict[str, Any]], Wire]:
    events = draw(stream_scripts())
    data = sse(events)
    ending = draw(st.sampled_from(["end", "end", "cut", "error"]))
    if ending == "error":
        error = {
            "type": "error",
            "error": {"type": draw(st.sampled_from(["overloaded_error", "api_error"])), "message": "x"},
        }
        data += sse([error, *draw(st.sampled_from([[], [STOP]]))])
        ending = "end"
    cuts = (
        sorted(draw(st.lists(st.integers(1, max(1, len(data) - 1)), max_size=6, unique=True))) if data else []
    )
    bounds = [0, *cuts, len(data)]
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds) if data[a:b]]
    return events, Wire(chunks, ending)


class UserStop(Exception):
    """The caller's own exception, raised inside its loop."""


@dataclass
class Trace:
    """What the caller saw, and where the SDK's own accounting stood when reading stopped."""

    items: list[Any] = field(default_factory=list)
    result: Any = None
    error: BaseException | None = None
    usage: dict[str, int | None] | None = None
    read_to_end: bool = False
    saw_stop: bool = False


POLICIES = ["drain", "break", "close", "raise", "raise-in-with", "final", "text", "helper-break"]


def sdk_snapshot_usage(items: list[Any]) -> dict[str, int | None]:
    """Accumulate raw events the way the SDK's stream helper does; the usage it ends with."""
    from anthropic.lib.streaming._messages import accumulate_event

    snapshot = None
    buffers: dict[int, bytes] = {}
    for item in items:
        if snapshot is None and item.type != "message_start":
            continue
        snapshot = accumulate_event(event=item, current_snapshot=snapshot, json_bufs=buffers)
    return usage_of(getattr(snapshot, "usage", None))


def read(client: Any, policy: str, limit: int) -> Trace:
    """Read one stream from `client` with `policy`, stopping after `limit` items where it stops."""
    trace = Trace()
    try:
        if policy in ("final", "text", "helper-break"):
            _read_helper(client, policy, limit, trace)
        else:
            _read_raw(client, policy, limit, trace)
    except Exception as exc:  # the trace records what the caller would see
        trace.error = exc.with_traceback(None)  # its frames would keep the stream alive
    trace.saw_stop = any(getattr(item, "type", None) == "message_stop" for item in trace.items)
    return trace


def _read_raw(client: Any, policy: str, limit: int, trace: Trace) -> None:
    chunks = client.messages.create(**request(stream=True))
    try:
        if policy == "raise-in-with":
            with chunks:
                _loop(chunks, trace, limit, raise_at_limit=True)
        else:
            _loop(chunks, trace, limit, raise_at_limit=policy == "raise", stop_at_limit=policy != "drain")
            if policy == "close":
                chunks.close()
    finally:
        trace.usage = sdk_snapshot_usage(trace.items)


def _loop(
    iterable, trace: Trace, limit: int, *, raise_at_limit: bool = False, stop_at_limit: bool = True
) -> None:
    for item in iterable:
        trace.items.append(item)
        if len(trace.items) >= limit and (stop_at_limit or raise_at_limit):
            if raise_at_limit:
                raise UserStop
            return
    trace.read_to_end = True


def _read_helper(client: Any, policy: str, limit: int, trace: Trace) -> None:
    with client.messages.stream(**request()) as helper:
        try:
            if policy == "final":
                helper.until_done()
                trace.read_to_end = True  # what follows may raise (no message_start: no snapshot)
                trace.result = helper.get_final_message().to_dict(warnings=False)
            elif policy == "text":
                trace.result = "".join(helper.text_stream)
                trace.read_to_end = True
            else:
                _loop(helper, trace, limit)
        finally:
            snapshot = helper._current_snapshot_or_none()
            trace.usage = usage_of(getattr(snapshot, "usage", None))


RAW_ERRORS = {
    anthropic.APIStatusError: "anthropic.APIStatusError",
    httpx2.RemoteProtocolError: "httpx2.RemoteProtocolError",
}
"""What the stream itself raises: an SSE `error` event, a dropped connection (always after the script)."""


def stop_arrived(trace: Trace, events: list[dict[str, Any]]) -> bool:
    """Whether `message_stop` reached the reader: seen, or read past (to the end or to the failure)."""
    read_past = trace.read_to_end or type(trace.error) in RAW_ERRORS
    return trace.saw_stop or (read_past and STOP in events)


def expected(trace: Trace, events: list[dict[str, Any]]) -> tuple[str, str | None]:
    """The outcome and error type the event must have, from what the caller saw."""
    error_type = RAW_ERRORS.get(type(trace.error))
    if error_type is not None:
        return "error", error_type
    if stop_arrived(trace, events):
        return "success", None
    return ("incomplete" if trace.read_to_end else "abandoned"), None


def outward(trace: Trace) -> tuple[Any, ...]:
    """What the caller can compare between a plain and an instrumented client."""
    return (
        visible(trace.items),
        trace.result,
        None if trace.error is None else shape(trace.error),
    )


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")  # the SDK's, on unknown blocks
@given(wire=wires(), policy=st.sampled_from(POLICIES), limit=st.integers(1, 12))
def test_p4_stream_accounting_matches_the_sdk_on_the_same_bytes(wire, policy, limit):
    """P4: same bytes, same policy: the same view as without us, one event, usage = SDK snapshot."""
    events, wire = wire
    note(f"events={json.dumps(events)}")

    bare = read(wire.client(), policy, limit)
    client = claude_logging.instrument(wire.client())
    with lines() as written:
        ours = read(client, policy, limit)
        del client

    assert outward(ours) == outward(bare)
    assert len(written) == 1, written
    event = check_line(written[0])
    assert (event["outcome"], event["error_type"]) == expected(ours, events)
    assert {name: event[name] for name in ours.usage} == ours.usage
    assert event["stream"] is True
    assert event["stream_completed"] is stop_arrived(ours, events)


# -- P6: the usage readers ------------------------------------------------------------------------------


class Exploding:
    """Every attribute access raises."""

    def __getattr__(self, name):
        """Raise."""
        raise RuntimeError(name)


class Weird:
    """Attributes are properties that raise or return strange things."""

    @property
    def input_tokens(self):
        """A property that raises."""
        raise ValueError("input")

    output_tokens = float("nan")
    cache_read_input_tokens = 10**30
    cache_creation_input_tokens = True


anything = st.one_of(
    values,
    st.builds(Exploding),
    st.builds(Weird),
    hostiles(),
    st.integers(min_value=-(2**80), max_value=2**80),
)
usages = st.one_of(
    anything,
    st.fixed_dictionaries(
        {},
        optional={
            "input_tokens": anything,
            "output_tokens": anything,
            "cache_read_input_tokens": anything,
            "cache_creation_input_tokens": anything,
            "cache_creation": st.one_of(
                anything, st.dictionaries(st.text(max_size=30), anything, max_size=3)
            ),
            "server_tool_use": anything,
            "service_tier": anything,
        },
    ),
)

COUNTS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cache_creation_5m_input_tokens",
    "cache_creation_1h_input_tokens",
    "web_search_requests",
    "counted_input_tokens",
)


@given(usage=usages, message=st.one_of(anything, st.fixed_dictionaries({"usage": usages, "model": anything})))
def test_p6_usage_readers_never_raise_and_keep_only_sane_counts(usage, message):
    """P6: record_usage / record_delta_usage / record_message: no exception, only sane ints or None."""
    event = Event(start_wall_ns=0, start_mono_ns=0)

    record_usage(event, usage)
    record_delta_usage(event, usage)
    record_message(event, message)
    with lines() as written:
        claude_logging._outputs.emit(event)

    for name in COUNTS:
        value = getattr(event, name)
        assert value is None or (type(value) is int and 0 <= value < MAX_COUNT), (name, value)
    assert event.response_model is None or isinstance(event.response_model, str)
    (line,) = written
    check_line(line)


# -- P8: truncation keeps UTF-8 and the byte cap ---------------------------------------------------


big_text = st.one_of(
    st.text(min_size=0, max_size=50),
    st.builds(
        lambda ch, n: ch * n,
        st.sampled_from(["a", "\u00e9", "\U0001f600", "\ud800", "\n", '"']),
        st.integers(0, 40_000),
    ),
)


@given(text=big_text, cap=st.integers(16, 4_096))
def test_p8_truncated_text_is_valid_utf8_within_the_cap(text, cap):
    """P8: clean_text cuts at the cap (counting the marker) and always encodes as strict UTF-8."""
    cleaned, cut = clean_text(text, cap)

    cleaned.encode("utf-8", "strict")
    assert len(cleaned) <= cap
    assert cut == (len(text) > cap)
    if cut:
        assert cleaned.endswith("\u2026")
        assert fix_unicode(text[: cap - 1]) == cleaned[:-1]


@given(
    tenant=big_text,
    fields=st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True), big_text, max_size=40),
    message=big_text,
    max_line_bytes=st.integers(1_024, 16_000),
    max_field_chars=st.integers(16, 4_096),
)
def test_p8_every_line_keeps_the_byte_cap(tenant, fields, message, max_line_bytes, max_field_chars):
    """P8: whatever the sizes, each line is ASCII JSON of at most `max_line_bytes` bytes."""
    claude_logging.configure(max_line_bytes=max_line_bytes, max_field_chars=max_field_chars)
    extra = {name: value for name, value in fields.items() if name not in _fields_core()}
    assume(len(extra) == len(fields))

    def fail():
        with claude_logging.log_call(tenant_id=tenant, **extra):
            raise ValueError(message)

    with lines() as written, pytest.raises(ValueError):
        fail()

    (line,) = written
    assert len(line.encode("utf-8")) <= max_line_bytes
    event = check_line(line)
    assert event["outcome"] == "error"
    if event.get("truncated") != ["*"]:
        assert event["tenant_id"] == clean_label(tenant, max_field_chars)[0]


def _fields_core() -> frozenset[str]:
    from claude_logging._fields import CORE_FIELDS

    return CORE_FIELDS


def test_p8_cap_holds_for_a_datetime_heavy_and_decimal_heavy_event():
    """P8 (example): many values that render longer than they look still fit the cap."""
    claude_logging.configure(max_line_bytes=1_024)
    fields = {
        f"f{i}": [dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), Decimal("1e400"), 10**5000]
        for i in range(200)
    }

    with lines() as written, claude_logging.log_call(**fields):
        pass

    (line,) = written
    assert len(line) <= 1_024
    assert check_line(line)["outcome"] == "success"


# -- P7: no secret or prompt in an error text or a warning, with capture off -------------------------

SECRET_SHAPES = (
    "Authorization: Bearer {secret}",
    "authorization: Basic {secret}",
    'upstream said {{"authorization": "Bearer {secret}"}}',
    "proxy-authorization: Bearer {secret}",
    "Bearer {secret} has expired",
    "Invalid API key: {secret}",
    "invalid x-api-key {secret}",
    "x-api-key={secret}",
    "api_key: '{secret}'",
    "password: {secret}",
    "access token {secret} revoked",
)
secrets = st.builds(
    lambda prefix, body, digit: f"{prefix}{body}{digit}",
    st.sampled_from(["gwtok_", "prx-", "sess_", "", "key"]),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=12, max_size=40),
    st.sampled_from("0123456789"),
)
prompts = st.text(
    st.characters(categories=("L", "N", "Zs"), include_characters=".,:;!?()-\n"), min_size=8, max_size=120
).filter(lambda text: len(text.strip()) >= 8)
"""Prompt text (no quote characters: a prompt that holds the API's quote is a documented limit)."""
ECHO_SHAPES = (
    'messages.0.content.0.text: "{prompt}" is not valid',
    "messages.{index}.content: '{prompt}'",
    "messages.{index}.content.0.text: {prompt}",
    "system: {prompt}",
    "Input should be a valid list [type=list_type, input_value='{prompt}']",
    "Unexpected value `{prompt}`",
    "invalid request near \u201c{prompt}\u201d",
    "bad request: '{prompt}",
    "bad request:\n{prompt}",
    "{json}",
    "request was: {long}",
)


@given(shape=st.sampled_from(SECRET_SHAPES), secret=secrets, status=st.sampled_from([400, 401, 403, 502]))
def test_p7_a_key_quoted_in_an_api_error_is_never_written(shape, secret, status):
    """P7: an API error text quoting a header or a key of any vendor's shape: the key is never written."""
    text = shape.format(secret=secret)
    api = testing.FakeAnthropicAPI([testing.error(status, message=text)])
    client = claude_logging.instrument(api.client(max_retries=0, api_key=KEY))

    with lines() as written, pytest.raises(anthropic.APIStatusError):
        client.messages.create(**request())

    (line,) = written
    assert secret not in line
    assert KEY not in line
    assert secret not in mask_secrets(text)  # masked, not only withheld with the API's echoes


@given(shape=st.sampled_from(SECRET_SHAPES), secret=secrets)
def test_p7_a_key_quoted_in_an_app_exception_is_masked_even_when_its_text_is_asked_for(shape, secret):
    """P7: with capture_error_message="all", an exception's text is written with the key masked."""
    claude_logging.configure(capture_error_message="all")

    with lines() as written, pytest.raises(ValueError), claude_logging.log_call():
        raise ValueError(shape.format(secret=secret))

    (line,) = written
    assert secret not in line
    assert "***" in check_line(line)["error_message"]


def echo(shape: str, prompt: str, index: int) -> str:
    """The API's message of `shape`, echoing `prompt`."""
    return shape.format(
        prompt=prompt,
        index=index,
        json=json.dumps({"messages": [{"role": "user", "content": prompt}]}),
        long=f"{prompt} " * (500 // len(prompt) + 1),
    )


@given(shape=st.sampled_from(ECHO_SHAPES), prompt=prompts, index=st.integers(0, 99), stream=st.booleans())
def test_p7_an_api_error_echoing_the_request_never_writes_the_prompt(shape, prompt, index, stream):
    """P7: an error body or a mid-stream `error` event that echoes the request: no part of the prompt.

    The message written is the one written for a prompt of `z`s of the same length and lines: it
    does not depend on what the prompt says.
    """
    wording = echo(shape, prompt, index)
    body = {"type": "error", "error": {"type": "invalid_request_error", "message": wording}}
    reply = testing.stream(events=[start_event(), body]) if stream else testing.error(400, message=wording)
    client = claude_logging.instrument(testing.FakeAnthropicAPI([reply]).client(max_retries=0))
    messages = [{"role": "user", "content": prompt}]

    def call() -> None:
        if stream:
            for _ in client.messages.create(stream=True, **request(messages=messages)):
                pass
        else:
            client.messages.create(**request(messages=messages))

    with lines() as written, pytest.raises(anthropic.APIStatusError):
        call()

    (line,) = written
    blank = re.sub(r"[^\n]", "z", prompt)
    expected = clean_text(mask_secrets(api_wording(echo(shape, blank, index))), 500)[0]
    assert check_line(line)["error_message"] == expected
    assert "zzzz" not in expected


@given(
    raised=st.sampled_from([RuntimeError, ValueError, KeyError, UnicodeError, Exception]),
    prompt=prompts,
    field_name=st.sampled_from(["prompt", "completion"]),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_p7_a_raising_redact_hook_never_prints_what_it_was_given(raised, prompt, field_name, capfd, caplog):
    """P7: whatever a redact hook raises, with the content in its message: no output holds any of it."""
    testing.reset()  # the warning is once per process: every example must be able to print it
    prompt = f"PRIVATE-{prompt}"  # never a part of the fixed text of a line ("claude.call", ...)
    caplog.clear()

    def hook(name: str, text: str) -> str:
        if name == field_name:
            raise raised(f"cannot redact {text}")
        return "[redacted]"

    claude_logging.configure(capture_content=True, redact=hook)
    api = testing.FakeAnthropicAPI([testing.message(f"echo {prompt}")])
    client = claude_logging.instrument(api.client(max_retries=0))
    with testing.capture_events(passthrough=True) as events:
        client.messages.create(**request(messages=[{"role": "user", "content": prompt}]))
    claude_logging.flush()
    out, err = capfd.readouterr()

    warnings = [record.getMessage() for record in caplog.records]
    assert field_name not in events[0]
    # Only the redact warning counts: the once-per-process stdout warning (pytest's capture file
    # is not opened for appending) lands in whichever test writes to stdout first.
    assert [text for text in warnings if "redact" in text] == [
        f"claude_logging: redact hook raised {raised.__name__}; {field_name} dropped"
    ]
    assert not any(prompt in text for text in warnings)
    assert prompt not in out
    assert prompt not in err
