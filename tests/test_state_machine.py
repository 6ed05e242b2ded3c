"""Property P5: any interleaving of calls, streams, abandonment, GC and a broken stdout keeps the books.

Events written plus events counted as dropped equal the calls finished, and no call is written twice.
"""

from __future__ import annotations

import gc
import io
import itertools
import sys
from typing import Any

import anthropic
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

import claude_logging
from claude_logging import testing
from claude_logging.testing import error, stream

REQUEST = {"model": "claude-sonnet-4-6", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}


class Books(RuleBasedStateMachine):
    """Drives the library through random lifecycles and checks its accounting after every step."""

    streams = Bundle("streams")

    def __init__(self) -> None:
        """A fresh library, fake API and capture per example."""
        super().__init__()
        testing.reset()
        self.api = testing.FakeAnthropicAPI()
        self.client = claude_logging.instrument(self.api.client(max_retries=0))
        self.capture = testing.capture_events(passthrough=True)
        self.events = self.capture.__enter__()
        self.finished = 0
        self.open: dict[int, Any] = {}  # handle -> stream; the bundle holds handles only, so dropping is real
        self.handles = itertools.count()
        self.real_stdout = sys.stdout
        self.sink = io.StringIO()
        sys.stdout = self.sink

    @rule(fails=st.booleans())
    def call(self, fails: bool) -> None:
        """A plain call, succeeding or failing."""
        if fails:
            self.api.enqueue(error(500))
        try:
            self.client.messages.create(**REQUEST)
        except anthropic.InternalServerError:
            pass
        self.finished += 1

    @rule(target=streams, cut=st.booleans())
    def open_stream(self, cut: bool) -> Any:
        """A stream opened and left for later rules."""
        self.api.enqueue(stream("a b c d", no_stop=cut))
        handle = next(self.handles)
        self.open[handle] = self.client.messages.create(stream=True, **REQUEST)
        return handle

    @rule(handle=streams)
    def advance(self, handle: int) -> None:
        """Read one event of a stream (it may already be over)."""
        next(iter(self.open[handle]), None)

    @rule(handle=consumes(streams))
    def drain(self, handle: int) -> None:
        """Read a stream to its end."""
        for _ in self.open.pop(handle):
            pass
        self.finished += 1

    @rule(handle=consumes(streams))
    def close(self, handle: int) -> None:
        """Close a stream wherever it is."""
        self.open.pop(handle).close()
        self.finished += 1

    @rule(handle=consumes(streams))
    def abandon(self, handle: int) -> None:
        """Drop a stream and let the garbage collector find it."""
        del self.open[handle]
        gc.collect()
        self.finished += 1

    @rule()
    def break_stdout(self) -> None:
        """stdout becomes a closed file: writes fail from now on."""
        broken = io.StringIO()
        broken.close()
        sys.stdout = broken

    @rule()
    def repair_stdout(self) -> None:
        """stdout works again."""
        sys.stdout = self.sink

    @invariant()
    def books_balance(self) -> None:
        """Every finished call has exactly one event; written + dropped = events."""
        claude_logging.flush()
        assert len(self.events) == self.finished
        assert len({event["call_id"] for event in self.events}) == len(self.events)
        stats = claude_logging.stats()
        assert stats.emitted + stats.dropped == len(self.events)
        assert stats.internal_errors == 0

    def teardown(self) -> None:
        """Restore stdout and stop capturing."""
        sys.stdout = self.real_stdout
        self.open.clear()
        gc.collect()
        claude_logging.flush()
        self.capture.__exit__(None, None, None)
        testing.reset()


Books.TestCase.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)
TestBooks = Books.TestCase
