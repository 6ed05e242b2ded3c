"""log_call: decorator and context manager, sync and async, exactly one event per scope."""

from __future__ import annotations

import asyncio
import gc
import inspect

import anthropic
import pytest
from conftest import MESSAGES, MODEL, ask

import claude_logging
from claude_logging.testing import error, message, stream


class Boom(Exception):
    """A user's own exception."""


def test_bare_decorator_keeps_metadata_and_return_value(events):
    """@log_call keeps __name__, __doc__ and __wrapped__, and returns the very same object."""
    marker = object()

    @claude_logging.log_call
    def compute(x: int) -> object:
        """Doc of compute."""
        return marker

    assert compute(1) is marker
    assert compute.__name__ == "compute"
    assert compute.__doc__ == "Doc of compute."
    assert inspect.signature(compute) == inspect.signature(compute.__wrapped__)
    (event,) = events
    assert event["outcome"] == "success"
    assert event["function"].endswith("compute")
    assert event["status_code"] == 200


def test_decorator_with_arguments_copies_fields(events):
    """@log_call(...) fields land in the event; extra fields follow the known ones."""

    @claude_logging.log_call(model=MODEL, max_tokens=1000, tenant_id="acme", user_id=7, feature="summarise")
    def run():
        return None

    run()

    (event,) = events
    assert (event["model"], event["max_tokens"], event["tenant_id"], event["user_id"]) == (
        MODEL,
        1000,
        "acme",
        "7",
    )
    assert event["feature"] == "summarise"
    assert list(event).index("feature") > list(event).index("call_id")


def test_exception_is_logged_then_reraised_with_its_traceback(events):
    """The caller gets the same exception object; the event says error with its type."""
    raised = Boom("bad input")

    @claude_logging.log_call
    def fail():
        raise raised

    with pytest.raises(Boom) as caught:
        fail()

    assert caught.value is raised
    assert caught.value.__context__ is None
    assert caught.traceback[-1].name == "fail"
    (event,) = events
    assert (event["outcome"], event["level"], event["error_type"]) == ("error", "error", "test_scope.Boom")
    assert "error_message" not in event  # an application exception's text may hold its data
    assert event["status_code"] is None


def test_application_error_text_is_written_only_when_asked(events):
    """configure(capture_error_message="all") adds an app exception's message, masked and capped."""
    claude_logging.configure(capture_error_message="all")

    @claude_logging.log_call
    def fail():
        raise Boom("key sk-ant-api03-abcdefghijkl leaked " + "x" * 1000)

    with pytest.raises(Boom):
        fail()

    message = events[0]["error_message"]
    assert message.startswith("key sk-ant-*** leaked")
    assert len(message) == 500


def test_methods_static_and_class_methods_are_decorated(events):
    """Instance, class and static methods all work and log one event each."""

    class Assistant:
        factor = 2

        @claude_logging.log_call
        def instance(self, x):
            return x * self.factor

        @classmethod
        @claude_logging.log_call
        def klass(cls, x):
            return x * cls.factor

        @staticmethod
        @claude_logging.log_call
        def static(x):
            return x * 2

    assistant = Assistant()
    assert (assistant.instance(1), Assistant.klass(2), Assistant.static(3)) == (2, 4, 6)
    assert [e["function"].rsplit(".", 1)[-1] for e in events] == ["instance", "klass", "static"]


async def test_async_function_is_awaited_inside_the_scope(async_client, events):
    """An async def is decorated as async; instrumented calls inside fold into its event."""

    @claude_logging.log_call(tenant_id="t1")
    async def answer():
        return await async_client.messages.create(model=MODEL, max_tokens=50, messages=MESSAGES)

    assert inspect.iscoroutinefunction(answer)
    result = await answer()

    (event,) = events
    assert event["message_id"] == result.id
    assert event["tenant_id"] == "t1"


async def test_async_exception_propagates_unchanged(events):
    """An async function's exception is the caller's, unchanged."""
    raised = Boom()

    @claude_logging.log_call
    async def fail():
        await asyncio.sleep(0)
        raise raised

    with pytest.raises(Boom) as caught:
        await fail()

    assert caught.value is raised
    assert events[0]["error_type"] == "test_scope.Boom"


async def test_cancellation_writes_a_cancelled_event_and_propagates(events):
    """A cancelled task: one `cancelled` event and CancelledError reaches the awaiter."""
    started = asyncio.Event()

    @claude_logging.log_call
    async def slow():
        started.set()
        await asyncio.sleep(10)

    task = asyncio.create_task(slow())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert task.cancelled()
    (event,) = events
    assert (event["outcome"], event["error_type"], event["level"]) == (
        "cancelled",
        "asyncio.CancelledError",
        "error",
    )


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_interrupts_write_an_interrupted_event_and_propagate(interrupt, events):
    """KeyboardInterrupt and SystemExit are logged as `interrupted` and re-raised."""

    @claude_logging.log_call
    def stop():
        raise interrupt

    with pytest.raises(interrupt):
        stop()

    assert [e["outcome"] for e in events] == ["interrupted"]


def test_context_manager_records_a_message_from_an_uninstrumented_client(api, events):
    """with log_call(...) as call: call.record(message) gives usage, model and ids."""
    plain = api.client()
    api.enqueue(message("hi", input_tokens=11, output_tokens=3))

    with claude_logging.log_call(model=MODEL, max_tokens=64) as call:
        result = ask(plain, max_tokens=64)
        call.record(result)
        call.record(result)  # a second record of the same object is a no-op
        call.set(tenant_id="known-later", stage="draft")

    (event,) = events
    assert (event["input_tokens"], event["output_tokens"]) == (11, 3)
    assert event["model"] == result.model
    assert event["message_id"] == result.id
    assert event["request_id"] == result._request_id
    assert event["tenant_id"] == "known-later"
    assert event["stage"] == "draft"
    assert "api_calls" not in event


def test_set_cannot_overwrite_event_fields(events):
    """call.set() with a field of the event itself (not a scope keyword) is dropped."""
    with claude_logging.log_call() as call:
        call.set(latency_ms=-1, input_tokens=10**9, outcome="fake", **{"bad key": 1, "good_key": 2})

    (event,) = events
    assert event["outcome"] == "success"
    assert event["input_tokens"] is None
    assert event["latency_ms"] >= 0
    assert event["good_key"] == 2
    assert "bad key" not in event


async def test_async_context_manager(async_client, events):
    """async with log_call(...) folds the instrumented calls made inside."""
    async with claude_logging.log_call(tenant_id="a") as call:
        await async_client.messages.create(model=MODEL, max_tokens=50, messages=MESSAGES)
        call.set(user_id="u")

    (event,) = events
    assert (event["tenant_id"], event["user_id"], event["outcome"]) == ("a", "u", "success")


def test_decorated_function_returning_a_stream_logs_when_the_stream_ends(api, events):
    """Returning a stream (uninstrumented client): the event waits for the end of the stream."""
    plain = api.client()
    api.enqueue(stream("a b c", input_tokens=9, output_tokens=21))

    @claude_logging.log_call
    def start():
        return ask(plain, stream=True)

    chunks = start()
    assert events == []
    assert [c.type for c in chunks][-1] == "message_stop"

    (event,) = events
    assert (event["outcome"], event["stream"], event["output_tokens"]) == ("success", True, 21)
    assert event["time_to_first_token_ms"] <= event["latency_ms"]


def test_returned_stream_that_is_abandoned_gives_an_abandoned_event(client, events):
    """Instrumented client, returned stream dropped after one event: one `abandoned` event."""

    @claude_logging.log_call(tenant_id="t")
    def start():
        return ask(client, stream=True)

    chunks = start()
    next(iter(chunks))
    del chunks
    gc.collect()
    claude_logging.flush()

    (event,) = events
    assert (event["outcome"], event["tenant_id"]) == ("abandoned", "t")


def test_returned_stream_that_fails_mid_way_gives_an_error_event(client, api, events):
    """A stream returned by the function and failing later: the scope's event is an error."""
    api.enqueue(stream("a b c d e", error_after=3))

    @claude_logging.log_call
    def start():
        return ask(client, stream=True)

    chunks = start()
    with pytest.raises(anthropic.APIStatusError):
        list(chunks)

    (event,) = events
    assert (event["outcome"], event["api_error_type"], event["status_code"]) == (
        "error",
        "overloaded_error",
        200,
    )


def test_returned_stream_manager_is_logged_when_entered_and_read(api, events):
    """Returning messages.stream() unentered: the event waits for the caller to read it."""
    plain = api.client()
    api.enqueue(stream("x y", output_tokens=5))

    @claude_logging.log_call
    def start():
        return plain.messages.stream(model=MODEL, max_tokens=10, messages=MESSAGES)

    manager = start()
    assert events == []
    with manager as helper:
        final = helper.get_final_message()

    (event,) = events
    assert (event["outcome"], event["output_tokens"]) == ("success", final.usage.output_tokens)


def test_generator_function_spans_its_iteration(client, events):
    """A decorated generator: the scope covers the whole iteration, one event at the end."""

    @claude_logging.log_call(tenant_id="gen")
    def words():
        for event in ask(client, stream=True):
            if event.type == "content_block_delta":
                yield event.delta.text

    produced = list(words())

    assert produced
    (event,) = events
    assert (event["outcome"], event["tenant_id"], event["stream"]) == ("success", "gen", True)


def test_generator_closed_early_is_abandoned(events):
    """Closing a decorated generator before its end: `abandoned`, and the inner one is closed."""
    closed = []

    @claude_logging.log_call
    def numbers():
        try:
            yield from range(10)
        finally:
            closed.append(True)

    iterator = numbers()
    next(iterator)
    iterator.close()

    assert closed == [True]
    assert [e["outcome"] for e in events] == ["abandoned"]


def test_generator_scope_does_not_leak_into_the_callers_code(client, events):
    """Between items, calls made by the consumer are not folded into the generator's scope."""

    @claude_logging.log_call
    def two():
        yield 1
        yield 2

    for _ in two():
        ask(client)

    assert sorted(e.get("api_calls", 1) for e in events) == [1, 1, 1]
    assert len(events) == 3


async def test_async_generator_function(events):
    """A decorated async generator yields the same items and logs one event."""

    @claude_logging.log_call
    async def numbers():
        for number in range(3):
            await asyncio.sleep(0)
            yield number

    assert [n async for n in numbers()] == [0, 1, 2]
    assert [e["outcome"] for e in events] == ["success"]


def test_nested_scopes_fold_into_the_outermost(client, api, events):
    """A log_call inside a log_call: one event for the outer scope with everything inside."""
    api.enqueue(message(input_tokens=5, output_tokens=1), message(input_tokens=6, output_tokens=2))

    @claude_logging.log_call
    def inner():
        return ask(client)

    @claude_logging.log_call(tenant_id="outer")
    def outer():
        ask(client)
        return inner()

    outer()

    (event,) = events
    assert event["function"].endswith("outer")
    assert (event["input_tokens"], event["output_tokens"], event["api_calls"]) == (11, 3, 2)


def test_caught_error_inside_a_scope_does_not_fail_the_scope(client, api, events):
    """An instrumented call that fails but is handled: the scope succeeds, both calls counted."""
    client = claude_logging.instrument(api.client(max_retries=0))
    api.enqueue(error(500), message())

    with claude_logging.log_call() as _:
        try:
            ask(client)
        except anthropic.InternalServerError:
            ask(client)

    (event,) = events
    assert (event["outcome"], event["api_calls"], event["status_code"]) == ("success", 2, 200)


@pytest.mark.parametrize(
    ("kwargs", "error_type"),
    [
        ({"model": 3}, TypeError),
        ({"max_tokens": "100"}, TypeError),
        ({"max_tokens": 0}, ValueError),
        ({"tenant_id": 1.5}, TypeError),
        ({"latency_ms": 1}, ValueError),
        ({"**bad": 1}, ValueError),
    ],
)
def test_bad_arguments_fail_at_configuration_time(kwargs, error_type):
    """Wrong types and reserved names raise at decoration time, with the bad value named."""
    with pytest.raises(error_type):
        claude_logging.log_call(**kwargs)


def test_decorating_a_non_callable_is_a_type_error():
    """log_call(...)(obj) needs a callable."""
    with pytest.raises(TypeError, match="callable"):
        claude_logging.log_call()(42)


def test_sync_function_returning_a_coroutine_returns_it_untouched(events):
    """A sync function that returns a coroutine object: the caller gets that very object."""

    async def later():
        return 1

    coroutine = later()

    @claude_logging.log_call
    def make():
        return coroutine

    assert make() is coroutine
    coroutine.close()
    assert [e["outcome"] for e in events] == ["success"]


def test_a_scope_with_an_unpriced_call_writes_no_partial_cost(client, api, events):
    """A scope whose calls include an unknown model writes no cost_usd rather than an understated sum."""
    api.enqueue(message(model="claude-unknown-model"), message())

    with claude_logging.log_call():
        ask(client)
        ask(client)
    ask(client)

    assert "cost_usd" not in events[0]
    assert events[1]["cost_usd"] > 0
