"""context(): fields bound on contextvars, right across threads and asyncio tasks."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import ask

import claude_logging


def test_fields_apply_to_every_event_inside_and_not_after(client, events):
    """Inside the block every event carries the fields; after it none does."""
    with claude_logging.context(tenant_id="acme", user_id="u1", region="eu"):
        ask(client)
    ask(client)

    assert (events[0]["tenant_id"], events[0]["user_id"], events[0]["region"]) == ("acme", "u1", "eu")
    assert (events[1]["tenant_id"], events[1]["user_id"]) == (None, None)
    assert "region" not in events[1]


def test_nested_contexts_merge_and_the_inner_value_wins(client, events):
    """Inner blocks add fields and override the outer ones; leaving restores the outer."""
    with claude_logging.context(tenant_id="outer", team="a"):
        with claude_logging.context(tenant_id="inner", feature="x"):
            ask(client)
        ask(client)

    assert (events[0]["tenant_id"], events[0]["team"], events[0]["feature"]) == ("inner", "a", "x")
    assert (events[1]["tenant_id"], events[1]["team"]) == ("outer", "a")
    assert "feature" not in events[1]


def test_scope_arguments_win_over_the_context(events):
    """log_call(tenant_id=...) is more specific than an enclosing context()."""
    with (
        claude_logging.context(tenant_id="ctx", user_id="ctx-user"),
        claude_logging.log_call(tenant_id="scope"),
    ):
        pass

    assert (events[0]["tenant_id"], events[0]["user_id"]) == ("scope", "ctx-user")


def test_context_as_decorator_sync_and_async(client, async_client, events):
    """@context(...) binds for each call of a function or coroutine function."""

    @claude_logging.context(tenant_id="dec")
    def sync_call():
        return ask(client)

    @claude_logging.context(tenant_id="adec")
    async def async_call():
        return await async_client.messages.create(model="claude-sonnet-4-6", max_tokens=5, messages=[])

    sync_call()
    asyncio.run(async_call())

    assert [e["tenant_id"] for e in events] == ["dec", "adec"]


def test_threads_each_see_only_their_own_tenant(client, events):
    """Fifty threads binding different tenants at once: no event carries another thread's tenant."""
    barrier = threading.Barrier(10)

    def work(index: int) -> None:
        with claude_logging.context(tenant_id=f"t{index}", user_id=f"u{index}"):
            barrier.wait()
            ask(client, metadata={"user_id": f"meta{index}"})

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(work, range(50)))

    assert len(events) == 50
    assert all(e["tenant_id"][1:] == e["user_id"][1:] for e in events)
    assert sorted(e["tenant_id"] for e in events) == sorted(f"t{i}" for i in range(50))


async def test_tasks_each_see_only_their_own_tenant(async_client, events):
    """Two hundred concurrent tasks with their own contexts: no bleeding between tasks."""

    async def work(index: int) -> None:
        with claude_logging.context(tenant_id=f"t{index}", attempt=index):
            await asyncio.sleep(0)
            await async_client.messages.create(model="claude-sonnet-4-6", max_tokens=5, messages=[])

    await asyncio.gather(*(work(i) for i in range(200)))

    assert len(events) == 200
    assert all(e["tenant_id"] == f"t{e['attempt']}" for e in events)


def test_request_metadata_user_id_is_the_fallback(client, events):
    """Without a context or scope user, the request's metadata.user_id is the event's user_id."""
    ask(client, metadata={"user_id": "from-metadata"})
    with claude_logging.context(user_id="from-context"):
        ask(client, metadata={"user_id": "from-metadata"})

    assert [e["user_id"] for e in events] == ["from-metadata", "from-context"]


@pytest.mark.parametrize("bad", [{"latency_ms": 1}, {"bad name": 1}, {"tenant_id": 1.5}])
def test_bad_fields_raise_at_the_call(bad):
    """Reserved or malformed names and wrong id types raise at once, not when an event is written."""
    with pytest.raises((ValueError, TypeError)):
        claude_logging.context(**bad)
