"""Fault matrix, group A: exceptions and control flow.

Each test is one row (or one case of a row): exactly one event with the right outcome; the caller
sees the very object or exception the SDK or the user's code produced; stdout and stderr hold no
key or prompt sentinel and no line over the cap (`out.one()` checks the real stdout path).

Already covered elsewhere, and not repeated here:
- A2 event fields per status (status, class, API error type, request id): test_instrument.py
  `test_api_error_is_logged_then_reraised_unchanged`.
- A3 over HTTP (refused port, server stalling past the timeout): test_instrument.py
  `test_refused_connection_has_no_status`, `test_timeout_over_http_is_logged_with_the_time_it_took`.
- A4 sync `create(stream=True)` fields: test_instrument.py
  `test_mid_stream_error_event_has_status_200_and_the_api_error_type`.
- A5 sync retries (two retries, then success or failure): test_instrument.py
  `test_retries_then_success_is_one_event`, `test_retries_then_failure_is_one_error_event`.
- A6 a cancelled decorated coroutine: test_scope.py
  `test_cancellation_writes_a_cancelled_event_and_propagates`.
- A11 a sync function returning a coroutine: test_scope.py
  `test_sync_function_returning_a_coroutine_returns_it_untouched`.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import anthropic
import httpx2
import pytest
from harness import (
    PROMPT,
    SSE_HEADERS,
    Spy,
    clients,
    request,
    shape,
    spied,
    sse,
    start_event,
    status_errors_made,
    tail,
    text_block,
)

import claude_logging
from claude_logging.testing import FakeAnthropicAPI, disconnect, error, message, raw, stall, stream


async def create(client, **overrides):
    """`messages.create` on a sync or an async client, awaited when it must be."""
    result = client.messages.create(**request(**overrides))
    return await result if asyncio.iscoroutine(result) else result


STATUSES = (400, 401, 403, 404, 409, 413, 422, 429, 500, 503, 529)


class UserError(ValueError):
    """An application's own exception."""


def no_traceback_in(event: dict[str, object]) -> None:
    """The event holds no exception object, traceback or frame locals."""
    line = json.dumps(event)
    assert "Traceback" not in line
    assert 'File "' not in line
    assert not {"exc_info", "exception", "traceback", "stack", "stack_info"} & set(event)


# -- A1: the user's own exception ------------------------------------------------------------------


def test_decorated_function_raising_gives_the_same_exception_and_traceback_tail(out):
    """Row A1 (sync decorator): the caller gets the very ValueError, unchained, same innermost frames."""

    def fail(err):
        raise err

    with pytest.raises(UserError) as bare:
        fail(UserError("bare"))
    raised = UserError(f"bad input near {PROMPT[:6]}")
    with pytest.raises(UserError) as caught:
        claude_logging.log_call(fail)(raised)

    assert caught.value is raised
    assert (caught.value.__cause__, caught.value.__context__) == (None, None)
    assert not caught.value.__suppress_context__
    assert tail(caught.traceback) == tail(bare.traceback)[: len(tail(caught.traceback))]
    assert tail(caught.traceback)[0][1] == "fail"
    event = out.one("error")
    assert (event["error_type"], event["level"], event["status_code"]) == (
        "test_faults_control_flow.UserError",
        "error",
        None,
    )
    no_traceback_in(event)


def test_context_manager_sees_the_exception_and_adds_no_frame(out):
    """Row A1 (sync context manager): the exception passes through `with log_call()` untouched."""
    raised = UserError("in a block")

    with pytest.raises(UserError) as caught, claude_logging.log_call(tenant_id="t"):
        raise raised

    assert caught.value is raised
    assert caught.value.__context__ is None
    assert [entry.name for entry in caught.traceback] == [
        "test_context_manager_sees_the_exception_and_adds_no_frame"
    ]
    event = out.one("error")
    assert event["error_type"] == "test_faults_control_flow.UserError"
    no_traceback_in(event)


async def test_async_decorator_and_context_manager_reraise_the_same_exception(out):
    """Row A1 (async decorator and `async with`): the same objects, one error event each."""
    first, second = UserError("first"), UserError("second")

    @claude_logging.log_call
    async def fail():
        await asyncio.sleep(0)
        raise first

    async def block():
        async with claude_logging.log_call():
            await asyncio.sleep(0)
            raise second

    with pytest.raises(UserError) as caught_decorated:
        await fail()
    with pytest.raises(UserError) as caught_block:
        await block()

    assert caught_decorated.value is first
    assert caught_block.value is second
    assert caught_decorated.value.__context__ is caught_block.value.__context__ is None
    assert tail(caught_decorated.traceback)[0][1] == "fail"
    events = out.settle()
    assert [(e["outcome"], e["error_type"]) for e in events] == [
        ("error", "test_faults_control_flow.UserError")
    ] * 2
    assert all("error_message" not in e for e in events)  # an app exception's text is off by default
    for event in events:
        no_traceback_in(event)


# -- A2: every status error -------------------------------------------------------------------------


@pytest.mark.parametrize("status", STATUSES)
def test_status_error_reaches_the_caller_as_the_sdks_own_instance(status, out):
    """Row A2 (FT): the caller gets the very exception the SDK raised, shaped as without us."""
    api = FakeAnthropicAPI()
    plain, _ = clients(api)
    client, spy = spied(api)
    api.enqueue(error(status), error(status))

    with pytest.raises(anthropic.APIStatusError) as bare:
        plain.messages.create(**request())
    with pytest.raises(anthropic.APIStatusError) as caught:
        client.messages.create(**request())

    assert spy.raised == [caught.value]
    assert caught.value is spy.raised[0]
    assert shape(caught.value) == shape(bare.value)
    assert tail(caught.traceback) == tail(bare.traceback)[: len(tail(caught.traceback))]
    event = out.one("error")
    assert event["status_code"] == status
    assert event["error_type"] == f"anthropic.{type(caught.value).__name__}"
    assert event["api_error_type"] == caught.value.type
    assert event["request_id"] == caught.value.request_id == api.requests[-1].request_id


def test_status_error_over_http_is_the_sdks_own_instance(server, out):
    """Row A2 (FS once): a 529 over real sockets, same checks."""
    client = anthropic.Anthropic(api_key="KEY-SENTINEL-5b1e9c0d", base_url=server.url, max_retries=0)
    spy = Spy(client)
    claude_logging.instrument(client)
    server.enqueue(error(529))

    with pytest.raises(anthropic.OverloadedError) as caught:
        client.messages.create(**request())

    assert caught.value is spy.raised[0]
    event = out.one("error")
    assert (event["status_code"], event["api_error_type"]) == (529, "overloaded_error")
    assert event["request_id"] == server.requests[0].request_id


# -- A3: connection errors and timeouts --------------------------------------------------------------


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
async def test_refused_connection_in_process_has_no_status(asynchronous, out):
    """Row A3 (FT, `httpx.ConnectError`): APIConnectionError unchanged, no status, one event."""
    api = FakeAnthropicAPI([disconnect(), disconnect()])
    plain, _ = clients(api, asynchronous=asynchronous)
    client, spy = spied(api, asynchronous=asynchronous)

    with pytest.raises(anthropic.APIConnectionError) as bare:
        await create(plain)
    with pytest.raises(anthropic.APIConnectionError) as caught:
        await create(client)

    assert caught.value is spy.raised[0]
    assert type(caught.value) is type(bare.value) is anthropic.APIConnectionError
    assert type(caught.value.__cause__) is type(bare.value.__cause__) is httpx2.ConnectError
    event = out.one("error")
    assert (event["error_type"], event["status_code"]) == ("anthropic.APIConnectionError", None)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
async def test_timeout_in_process_takes_as_long_as_the_stall(asynchronous, out):
    """Row A3 (FT, read timeout after 0.2 s): APITimeoutError unchanged; latency covers the wait."""
    api = FakeAnthropicAPI([stall(0.2)])
    client, spy = spied(api, asynchronous=asynchronous)

    with pytest.raises(anthropic.APITimeoutError) as caught:
        await create(client)

    assert caught.value is spy.raised[0]
    event = out.one("error")
    assert (event["error_type"], event["status_code"]) == ("anthropic.APITimeoutError", None)
    assert 190 <= event["latency_ms"] < 2000


# -- A4: a mid-stream `error` event -----------------------------------------------------------------


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
async def test_mid_stream_error_is_the_sdks_exception_with_partial_usage(asynchronous, out):
    """Row A4: the APIStatusError (status 200) the SDK built is raised from iteration, unchanged."""
    api = FakeAnthropicAPI()
    plain, client = clients(api, asynchronous=asynchronous)
    made = status_errors_made(client)
    api.enqueue(*[stream("a b c d e", input_tokens=33, error_after=4)] * 2)

    async def read(chosen):
        seen = []
        chunks = chosen.messages.create(**request(stream=True))
        if asynchronous:
            async for chunk in await chunks:
                seen.append(chunk.type)  # noqa: PERF401 - keep what arrived before the failure
        else:
            seen.extend(chunk.type for chunk in chunks)
        return seen

    with pytest.raises(anthropic.APIStatusError) as bare:
        await read(plain)
    with pytest.raises(anthropic.APIStatusError) as caught:
        await read(client)

    assert made == [caught.value]
    assert shape(caught.value) == shape(bare.value)
    assert caught.value.status_code == 200
    event = out.one("error")
    assert (event["status_code"], event["api_error_type"]) == (200, "overloaded_error")
    assert event["error_type"] == "anthropic.APIStatusError"
    assert event["stream_completed"] is False
    assert event["input_tokens"] == 33


def test_mid_stream_error_through_get_final_message(out):
    """Row A4 (helper): `messages.stream().get_final_message()` raises the SDK's exception unchanged."""
    api = FakeAnthropicAPI([stream("a b c d e", error_after=5)])
    _, client = clients(api)
    made = status_errors_made(client)

    with (
        pytest.raises(anthropic.APIStatusError) as caught,
        client.messages.stream(**request()) as helper,
    ):
        helper.get_final_message()

    assert made == [caught.value]
    event = out.one("error")
    assert (event["api_error_type"], event["stream_completed"]) == ("overloaded_error", False)


# -- A5: retries --------------------------------------------------------------------------------------


async def test_async_retry_after_a_429_is_one_event(out):
    """Row A5 (async): a 429 with a tiny retry-after, then 200: two requests, one event, retries=1."""
    api = FakeAnthropicAPI([error(429, retry_after=0.05), message(input_tokens=5, output_tokens=6)])
    client, spy = spied(api, asynchronous=True, max_retries=2)

    result = await client.messages.create(**request())

    assert spy.returned == [result]
    assert len(api.requests) == 2
    event = out.one("success")
    assert (event["retries"], event["status_code"], event["input_tokens"]) == (1, 200, 5)
    assert event["latency_ms"] >= 50
    assert event["request_id"] == api.requests[1].request_id == result._request_id


# -- A6, A7, A8: cancellation -------------------------------------------------------------------------


async def test_task_cancelled_while_awaiting_create(out):
    """Row A6: cancelling the task in the middle of `create()` logs `cancelled` and stays cancelled."""
    arrived = asyncio.Event()
    api = FakeAnthropicAPI([message(delay_s=5)], router=lambda _: arrived.set())
    client, _ = spied(api, asynchronous=True)
    task = asyncio.create_task(client.messages.create(**request()))
    await arrived.wait()

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert task.cancelled()
    event = out.one("cancelled")
    assert (event["error_type"], event["level"], event["status_code"]) == (
        "asyncio.CancelledError",
        "error",
        None,
    )


async def test_task_cancelled_inside_a_log_call_scope_is_one_cancelled_event(out):
    """Row A6 (inside `@log_call`): the instrumented call folds into the scope: one `cancelled` event."""
    arrived = asyncio.Event()
    api = FakeAnthropicAPI([message(delay_s=5)], router=lambda _: arrived.set())
    _, client = clients(api, asynchronous=True)

    @claude_logging.log_call(tenant_id="t")
    async def answer():
        return await client.messages.create(**request())

    task = asyncio.create_task(answer())
    await arrived.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert task.cancelled()
    event = out.one("cancelled")
    assert (event["tenant_id"], event["error_type"]) == ("t", "asyncio.CancelledError")
    assert event["function"].endswith("answer")


@pytest.mark.parametrize(
    "how",
    [
        pytest.param(
            "timeout", marks=pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout: 3.11+")
        ),
        "wait_for",
    ],
)
async def test_asyncio_timeout_around_the_call_raises_timeout_error_as_without_us(how, out):
    """Row A7: `asyncio.timeout()` / `wait_for` expiring: TimeoutError as without us, one `cancelled`."""
    api = FakeAnthropicAPI([message(delay_s=5), message(delay_s=5)])
    plain, client = clients(api, asynchronous=True)

    async def bounded(chosen):
        if how == "timeout":
            async with asyncio.timeout(0.05):
                await chosen.messages.create(**request())
        else:
            await asyncio.wait_for(chosen.messages.create(**request()), 0.05)

    with pytest.raises(TimeoutError) as bare:
        await bounded(plain)
    with pytest.raises(TimeoutError) as caught:
        await bounded(client)

    assert type(caught.value) is type(bare.value)
    assert type(caught.value.__context__) is type(bare.value.__context__) is asyncio.CancelledError
    event = out.one("cancelled")
    assert event["error_type"] == "asyncio.CancelledError"
    assert 40 <= event["latency_ms"] < 2000


async def test_cancelled_in_the_middle_of_async_for_over_a_stream(out):
    """Row A8: a task cancelled while reading a stream: `cancelled`, partial usage, not completed."""
    api = FakeAnthropicAPI([stream("one two three four five", input_tokens=21, chunk_delay_s=0.05)])
    _, client = clients(api, asynchronous=True)
    seen = []
    first = asyncio.Event()

    async def read():
        async for chunk in await client.messages.create(**request(stream=True)):
            seen.append(chunk.type)
            first.set()

    task = asyncio.create_task(read())
    await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert task.cancelled()
    assert seen[0] == "message_start"
    assert "message_stop" not in seen
    event = out.one("cancelled")
    assert (event["stream_completed"], event["input_tokens"]) == (False, 21)
    assert event["error_type"] == "asyncio.CancelledError"


# -- A9: interrupts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "interrupt", [KeyboardInterrupt(), SystemExit(3)], ids=["KeyboardInterrupt", "SystemExit"]
)
def test_interrupt_in_a_decorated_function_and_a_block_is_the_same_object(interrupt, out):
    """Row A9: KeyboardInterrupt / SystemExit: same object from decorator and block, `interrupted`."""

    @claude_logging.log_call
    def stop():
        raise interrupt

    with pytest.raises(type(interrupt)) as decorated:
        stop()
    with pytest.raises(type(interrupt)) as block, claude_logging.log_call():
        raise interrupt

    assert decorated.value is block.value is interrupt
    events = out.settle()
    assert [e["outcome"] for e in events] == ["interrupted", "interrupted"]
    assert {e["error_type"] for e in events} == {type(interrupt).__name__}
    assert all("error_message" not in e for e in events)


def test_keyboard_interrupt_raised_inside_the_sdk_call_is_interrupted(out):
    """Row A9 (instrumented client): an interrupt inside the HTTP call propagates; one `interrupted`."""
    raised = KeyboardInterrupt()

    def handler(request):
        raise raised

    client = anthropic.Anthropic(
        api_key="KEY-SENTINEL-5b1e9c0d",
        base_url="http://fake.anthropic.test",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        max_retries=2,
    )
    claude_logging.instrument(client)

    with pytest.raises(KeyboardInterrupt) as caught:
        client.messages.create(**request())

    assert caught.value is raised
    event = out.one("interrupted")
    assert event["error_type"] == "KeyboardInterrupt"


SIGINT_SCRIPT = """
import os, signal, threading
import claude_logging
from claude_logging.testing import FakeAnthropicAPI, message
api = FakeAnthropicAPI([message(delay_s=30)])
client = api.client(api_key="KEY-SENTINEL-5b1e9c0d", max_retries=0)
if INSTRUMENT:
    claude_logging.instrument(client)
threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
client.messages.create(model="claude-sonnet-4-6", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_real_sigint_during_a_call_exits_as_without_us_after_one_event():
    """Row A9 (SP): a real SIGINT mid-call: same exit status as uninstrumented, one `interrupted` line."""

    def run(instrument: bool) -> subprocess.CompletedProcess[bytes]:
        code = f"INSTRUMENT = {instrument}\n" + textwrap.dedent(SIGINT_SCRIPT)
        env = {**os.environ, "CLAUDE_LOGGING_STRICT": "1"}
        return subprocess.run(
            [sys.executable, "-c", code], capture_output=True, timeout=60, env=env, check=False
        )

    started = time.monotonic()
    bare, ours = run(instrument=False), run(instrument=True)

    assert time.monotonic() - started < 30
    assert ours.returncode == bare.returncode == -signal.SIGINT
    assert bare.stdout == b""
    lines = ours.stdout.decode("utf-8").splitlines()
    assert len(lines) == 1, ours.stdout
    event = json.loads(lines[0])
    assert (event["outcome"], event["error_type"]) == ("interrupted", "KeyboardInterrupt")
    assert b"KEY-SENTINEL" not in ours.stdout + ours.stderr
    assert ours.stderr.splitlines()[-1] == bare.stderr.splitlines()[-1] == b"KeyboardInterrupt"


# -- A10: the user's code raises inside the loop over a stream ----------------------------------------


@pytest.mark.parametrize("with_block", [False, True], ids=["bare-for", "with"])
def test_user_exception_inside_the_loop_over_a_stream(with_block, out):
    """Row A10 (`create(stream=True)`): the user's exception unchanged, one `abandoned` event."""
    api = FakeAnthropicAPI([stream("a b c d", input_tokens=12)])
    _, client = clients(api)
    raised = UserError("stop reading")

    def consume(chunks):
        for chunk in chunks:
            if chunk.type == "content_block_delta":
                raise raised

    def consume_inside_with(chunks):
        with chunks:
            consume(chunks)

    chunks = client.messages.create(**request(stream=True))
    with pytest.raises(UserError) as caught:
        (consume_inside_with if with_block else consume)(chunks)

    assert caught.value is raised
    assert caught.value.__context__ is None
    assert out.settle() == [] or with_block  # the traceback's frames still hold the stream
    raised.__traceback__ = None
    del caught, chunks
    event = out.one("abandoned")
    assert (event["stream_completed"], event["input_tokens"], event["error_type"]) == (False, 12, None)


@pytest.mark.parametrize("with_block", [False, True], ids=["bare-for", "with"])
def test_user_exception_inside_the_loop_over_a_stream_helper(with_block, out):
    """Row A10 (`messages.stream()`): same, through the helper's own iterator."""
    api = FakeAnthropicAPI([stream("a b c d", input_tokens=12)])
    _, client = clients(api)
    raised = UserError("stop reading")
    manager = client.messages.stream(**request())

    def consume(helper):
        for _ in helper.text_stream:
            raise raised

    def consume_inside_with(manager):
        with manager as helper:
            consume(helper)

    def consume_entered(manager):
        consume(manager.__enter__())

    with pytest.raises(UserError) as caught:
        (consume_inside_with if with_block else consume_entered)(manager)

    assert caught.value is raised
    raised.__traceback__ = None  # its frames hold the stream
    del caught, manager

    assert out.one("abandoned")["stream_completed"] is False


async def test_user_exception_inside_async_for_over_a_stream(out):
    """Row A10 (async, `async with`): the user's exception unchanged, one `abandoned` event."""
    api = FakeAnthropicAPI([stream("a b c d")])
    _, client = clients(api, asynchronous=True)
    raised = UserError("stop")

    async def consume():
        async with await client.messages.create(**request(stream=True)) as chunks:
            async for _ in chunks:
                raise raised

    with pytest.raises(UserError) as caught:
        await consume()

    assert caught.value is raised
    assert out.one("abandoned")["stream_completed"] is False


def test_raw_sse_stream_interrupted_by_the_user_after_message_stop_is_success(out):
    """Row A10 (edge): an exception raised after `message_stop` was read: the call itself succeeded."""
    body = sse([start_event(7), *text_block(0, ["x"]), {"type": "message_stop"}])
    api = FakeAnthropicAPI([raw(200, body, SSE_HEADERS)])
    _, client = clients(api)
    raised = UserError("after the end")

    def consume():
        for chunk in client.messages.create(**request(stream=True)):
            if chunk.type == "message_stop":
                raise raised

    with pytest.raises(UserError):
        consume()

    assert out.one("success")["stream_completed"] is True


# -- A11: what a decorated function returns ---------------------------------------------------------


class Odd:
    """A value whose comparisons and truth are hostile (like a NumPy array or a SQL expression)."""

    type = "message"  # looks a little like a Message

    def __eq__(self, other):
        """Refuse to compare."""
        raise TypeError("ambiguous comparison")

    def __hash__(self):
        """Hashable all the same."""
        return 1

    def __bool__(self):
        """Refuse to be truthy or falsy."""
        raise ValueError("truth value is ambiguous")

    def __getattr__(self, name):
        """Every missing attribute raises something other than AttributeError."""
        raise RuntimeError(f"no attribute {name} here")


def numbers():
    yield from range(3)


@pytest.mark.parametrize(
    "make",
    [lambda: None, numbers, Odd, lambda: Odd.__new__(Odd), object],
    ids=["None", "generator", "odd", "odd-new", "object"],
)
def test_decorated_function_returns_the_very_object(make, out):
    """Row A11 (sync): whatever the function returns is what the caller gets, one `success` event."""
    returned = make()

    @claude_logging.log_call
    def produce():
        return returned

    assert produce() is returned
    event = out.one("success")
    assert "internal_error" not in event


async def test_async_decorated_function_returning_a_coroutine_returns_it_untouched(out):
    """Row A11 (async decorator): a coroutine object returned by an `async def` is the caller's."""

    async def later():
        return 1

    inner = later()

    @claude_logging.log_call
    async def produce():
        return inner

    assert await produce() is inner
    assert await inner == 1
    assert "internal_error" not in out.one("success")
