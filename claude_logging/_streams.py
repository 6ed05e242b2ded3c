"""Streams: usage per server-sent event, time to first token, and exactly one end.

We wrap the response body (`httpx2.Response.stream`) and expose a `stream_observer` on it: the
SDK's `Stream`, `AsyncStream` and the `messages.stream()` helpers report every parsed event and
how reading ended to that observer (the hook the SDK's own tracing uses). The body wrapper adds
what the stream cannot see: bytes read to the end, a failure or cancellation during a read, an
explicit close, and the body being dropped unread (`__del__`). A body read raw
(`with_streaming_response`) is scanned for the few events that carry usage.

The observer ends its call once: `success` after `message_stop`, `error` (or `cancelled`,
`interrupted`) when reading failed, `abandoned` when closed or dropped early, `incomplete` when
the body ended without `message_stop`. `message_delta` usage is cumulative and replaces what
`message_start` said, exactly as the SDK's `get_final_message()` accumulates it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from claude_logging import _guard
from claude_logging._calls import now
from claude_logging._capture import get, record_delta_usage, record_message, record_usage, text
from claude_logging._capture_response import record_content_block, record_stop_details
from claude_logging._event import ABANDONED, ERROR, INCOMPLETE, SUCCESS
from claude_logging._writer import WORKER

if TYPE_CHECKING:
    import httpx2

    from claude_logging._calls import Call

_MAX_JSON_BODY: Final = 8 * 1024 * 1024
_DELTA_EVENT: Final = b"event: content_block_delta\n"
_EVENT_NEWLINES: Final = 3
_SSE_USAGE_EVENTS: Final = frozenset(
    {b"message_start", b"message_delta", b"message_stop", b"content_block_start", b"error"}
)


class StreamObserver:
    """Learns how the application reads one streamed response, and ends its call once."""

    __slots__ = (
        "_buffer",
        "_completion",
        "_content_cap",
        "_deltas_told",
        "_event_name",
        "_raw",
        "_start",
        "body_read",
        "call",
        "done",
        "inner",
        "parsed",
        "saw_stop",
    )

    def __init__(self, call: Call, inner: object = None, content_cap: int | None = None) -> None:
        """Observe for `call`, forwarding to `inner` (an observer already on the body, if any)."""
        self.call = call
        self.inner = inner
        self.parsed = False
        self.body_read = False
        self.saw_stop = False
        self.done = False
        self._raw: bool | None = None
        self._buffer = bytearray()
        self._event_name = b""
        self._content_cap = content_cap
        self._completion: list[str] | None = [] if content_cap else None
        self._deltas_told = False
        self._start: object = None

    def raw_only(self) -> None:
        """Read usage from the body's bytes only: a `Stream` reports to another observer."""
        self._raw = True

    # -- the SDK's StreamObserver protocol (called by Stream / AsyncStream) ----------------------

    def begin(self) -> None:
        """A `Stream` starts parsing the body."""
        self.parsed = True
        _forward(self.inner, "begin")

    def item(self, item: object) -> None:
        """One parsed server-sent event."""
        if self.inner is not None:
            _forward(self.inner, "item", item)
        if self.done:
            return
        try:
            kind = item.get("type") if type(item) is dict else getattr(item, "type", None)
            if kind == "content_block_delta" and self._deltas_told:
                return  # most events of a stream: nothing left to learn from them
            self._account(kind, item)
        except Exception as exc:
            self.call.event.internal_error = True
            _guard.internal_error("stream.item", exc)

    def end(self, how: str, error: BaseException | None = None) -> None:
        """The `Stream` ended: read to its end, closed, or failed with `error`."""
        if self.inner is not None:
            _forward(self.inner, "end", how, error)
        if how == "failed" and error is not None:
            self._finish_error(error)
        elif how == "read":
            self._finish(SUCCESS if self.saw_stop else INCOMPLETE)
        else:
            self._finish(SUCCESS if self.saw_stop else ABANDONED)

    # -- what the body wrapper reports -----------------------------------------------------------

    def body_chunk(self, chunk: bytes) -> bool:
        """Bytes of the body; scanned only when no `Stream` parses them (raw reading).

        False once they are not wanted: a `Stream` parses the body and reports its events.
        """
        raw = self._raw
        if raw is None:
            raw = self._raw = not self.parsed
        if raw and not self.done:
            try:
                self._scan(chunk)
            except Exception as exc:
                self.call.event.internal_error = True
                _guard.internal_error("stream.raw", exc)
        return raw

    def body_end(self, how: str, error: BaseException | None = None) -> None:
        """The body was read to its end, failed, or was closed."""
        if self.done:
            return
        if how == "failed" and error is not None:
            self._finish_error(error)
        elif how == "read":
            self.body_read = True
            if self._raw or not self.parsed:
                self._finish_raw()
        elif not (self.parsed and self.body_read):
            # Closed before the end. (Closed after the end: the Stream still reports its own end.)
            self._finish(SUCCESS if self.saw_stop else ABANDONED)

    def body_gone(self) -> None:
        """The body was garbage-collected: finish on the worker thread, never in `__del__`."""
        if not self.done:
            WORKER.defer(self._finish_gone)

    def _finish_gone(self) -> None:
        if self.saw_stop:
            self._finish(SUCCESS)
        else:
            self._finish(INCOMPLETE if self.body_read else ABANDONED)

    # -- accounting --------------------------------------------------------------------------------

    def _account(self, kind: object, item: object) -> None:
        event = self.call.event
        if kind == "content_block_delta":
            if event.first_token_mono_ns is None:
                event.first_token_mono_ns = now()
            if self._completion is not None:
                self._collect(get(get(item, "delta"), "text"))
            else:
                self._deltas_told = True  # the first token's time is all a delta tells
        elif kind == "message_start":
            self._settle_start()
            self._start = item  # read later: the first event reaches the application untouched
        elif kind == "message_delta":
            self._settle_start()  # its usage is replaced by the delta's, as the SDK accumulates it
            usage = get(item, "usage")
            record_usage(event, usage)
            record_delta_usage(event, usage)
            delta = get(item, "delta")
            stop = text(get(delta, "stop_reason"))
            if stop is not None:
                event.stop_reason = stop
            record_stop_details(event, get(delta, "stop_details"))
        elif kind == "content_block_start":
            record_content_block(event, get(item, "content_block"))
        elif kind == "message_stop":
            self.saw_stop = True

    def _settle_start(self) -> None:
        """Record the `message_start` event kept aside (model, id, input and cache tokens), once."""
        start, self._start = self._start, None
        if start is not None:
            record_message(self.call.event, get(start, "message"))

    def _collect(self, piece: object) -> None:
        parts = self._completion
        cap = self._content_cap or 0
        if parts is not None and isinstance(piece, str) and sum(map(len, parts)) < cap:
            parts.append(piece)

    def _scan(self, chunk: bytes) -> None:
        """Find usage in raw SSE lines, or keep a JSON body to parse at its end.

        A chunk is split into lines at once; a partial last line waits for the next chunk. The
        data lines of `content_block_delta` events, most of a stream, are skipped once the first
        token's time is known, without decoding them.
        """
        if not self._buffer and _one_delta(chunk) and self.call.event.first_token_mono_ns is not None:
            self._event_name = b"content_block_delta"
            return  # one whole delta event, the usual chunk of a stream: nothing to learn
        lines = self._whole_lines(chunk)
        event = self.call.event
        for line in lines:
            if line.startswith(b"data:"):
                if self._event_name == b"content_block_delta" and event.first_token_mono_ns is not None:
                    continue
                self._scan_line(line.rstrip(b"\r"))
            elif line.startswith(b"event:"):
                self._event_name = line[6:].strip()

    def _whole_lines(self, chunk: bytes) -> list[bytes]:
        """The complete SSE lines the buffer and `chunk` hold (none while a JSON body is kept whole)."""
        buffer = self._buffer
        if self._event_name == b"":
            buffer += chunk
            if not buffer.lstrip().startswith((b"event", b"data", b":")):
                if len(buffer) > _MAX_JSON_BODY:
                    self._raw = False  # too large to keep; the event goes without usage
                    buffer.clear()
                return []
            data = bytes(buffer)
            buffer.clear()
        elif buffer:
            buffer += chunk
            data = bytes(buffer)
            buffer.clear()
        else:
            data = chunk
        lines = data.split(b"\n")
        rest = lines.pop()
        if rest:
            buffer += rest
        return lines

    def _scan_line(self, line: bytes) -> None:
        if line.startswith(b"event:"):
            self._event_name = line[6:].strip()
            return
        if not line.startswith(b"data:"):
            return
        name = self._event_name
        if name == b"content_block_delta":
            if self.call.event.first_token_mono_ns is None:
                self.call.event.first_token_mono_ns = now()
            return
        if name in _SSE_USAGE_EVENTS:
            data = json.loads(line[5:])
            if name == b"error":
                error = get(data, "error")
                self.call.event.api_error_type = text(get(error, "type"))
                self.call.event.error_message = text(get(error, "message"))
                self.call.event.error_message_source = "api"
                self.call.event.outcome = ERROR
            else:
                self._account(get(data, "type"), data)

    def _finish_raw(self) -> None:
        buffer = self._buffer
        if self._event_name == b"" and buffer.strip():
            try:
                record_message(self.call.event, json.loads(bytes(buffer)))
                self.saw_stop = True
            except Exception:
                pass
            buffer.clear()
        elif buffer.strip():
            self._scan_line(bytes(buffer).rstrip(b"\r\n"))
        if self.call.event.outcome == ERROR:
            self._finish(ERROR)
        else:
            self._finish(SUCCESS if self.saw_stop else INCOMPLETE)

    # -- ending once -----------------------------------------------------------------------------------

    def _finish(self, outcome: Any) -> None:
        if self.done:
            return
        self.done = True
        self._close_record()
        self.call.finish(outcome)

    def _close_record(self) -> None:
        try:
            self._settle_start()
        except Exception as exc:
            self.call.event.internal_error = True
            _guard.internal_error("stream.start", exc)
        event = self.call.event
        if event.stream:
            event.stream_completed = self.saw_stop
        if self._completion:
            event.completion = "".join(self._completion)

    def _finish_error(self, error: BaseException) -> None:
        if self.done:
            return
        self.done = True
        self._close_record()
        self.call.fail(error)


def _one_delta(chunk: bytes) -> bool:
    """Whether `chunk` is exactly one `content_block_delta` event: its two lines and the blank one."""
    return (
        chunk.startswith(_DELTA_EVENT) and chunk.endswith(b"\n\n") and chunk.count(b"\n") == _EVENT_NEWLINES
    )


def _forward(inner: object, method: str, *args: object) -> None:
    """Pass an SDK stream report on to the observer we wrapped (the SDK's own tracing)."""
    try:
        getattr(inner, method)(*args)
    except Exception:
        pass


def observer_of(response: object) -> StreamObserver | None:
    """Our observer on the body of `response` (or inside the SDK's own wrapper of it), if we watch it."""
    body = getattr(response, "stream", None)
    observer = getattr(body, "stream_observer", None)
    if isinstance(observer, StreamObserver):
        return observer
    inner = _inner_body(body)
    observer = getattr(inner, "stream_observer", None)
    return observer if isinstance(observer, StreamObserver) else None


def _inner_body(body: object) -> object:
    """The body inside the SDK's own span-ending wrapper (`_body` / `_async_body`), else None."""
    if getattr(body, "stream_observer", None) is None:
        return None
    try:
        attributes = vars(body)
    except TypeError:
        return None
    return attributes.get("_body", attributes.get("_async_body"))


def wrap_body(response: httpx2.Response, observer: Any) -> bool:
    """Make the body of `response` report to `observer` (body_chunk / body_end / body_gone).

    A body that already reports to an observer is the SDK's own tracing's: it stays where it is,
    the observer the SDK's `Stream` finds stays the SDK's, and our wrapper goes inside it. True
    when it went inside: the `Stream` then reports its parsed events to the SDK's observer only.
    """
    from claude_logging._bodies import wrap  # noqa: PLC0415 - httpx2 is imported on first use only

    body = response.stream
    inner = _inner_body(body)
    if inner is None:
        response.stream = wrap(body, observer)
        return False
    wrapped = wrap(inner, observer)
    attributes = vars(body)
    for name in ("_body", "_async_body"):
        if attributes.get(name) is inner:
            attributes[name] = wrapped
    return True


def watch(call: Call, response: httpx2.Response, content_cap: int | None = None) -> StreamObserver:
    """Wrap the unread body of `response` so that reading it ends `call` exactly once.

    Inside the SDK's own wrapper of the body (see `wrap_body`), usage is read from the bytes:
    the same accounting, from the raw server-sent event lines.
    """
    if "text/event-stream" in response.headers.get("content-type", ""):
        call.event.stream = True
    body = response.stream
    if _inner_body(body) is not None:
        observer = StreamObserver(call, None, content_cap)
        observer.raw_only()
    else:
        observer = StreamObserver(call, getattr(body, "stream_observer", None), content_cap)
    wrap_body(response, observer)
    return observer
