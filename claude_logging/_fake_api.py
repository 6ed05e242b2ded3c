"""A fake Anthropic Messages API that speaks the real wire format, for tests and the demo.

Two doors to the same script of replies: an HTTP server on 127.0.0.1 (real sockets, so timeouts,
refused connections and dropped streams are real) and an in-process `httpx2` transport (fast, no
sockets). Replies are JSON Messages, the API's error bodies and status codes with `request-id`,
`retry-after` and rate-limit headers, and server-sent event streams with `ping`s; a script can
also stall, cut a stream, send a mid-stream `error` event or drop the connection.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import math
import secrets
import socket
import string
import struct
import threading
import time
import urllib.parse
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

import httpx2
from typing_extensions import Self

ERROR_TYPES: Final[Mapping[int, str]] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    409: "invalid_request_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
"""The `error.type` the API sends with each status (docs: 'Errors')."""

DEFAULT_MODEL: Final = "claude-sonnet-4-5-20250929"
_ALPHABET: Final = string.ascii_letters + string.digits


def _id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(24))


@dataclass
class Reply:
    """One scripted response; build it with `message()`, `error()`, `stream()` and friends."""

    kind: str
    status: int = 200
    text: str = "Hello! How can I help you today?"
    model: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    stop_reason: str | None = "end_turn"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    events: list[dict[str, Any]] | None = None
    error_type: str | None = None
    error_message: str | None = None
    error_after: int | None = None
    cut_after: int | None = None
    no_stop: bool = False
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    stall_s: float = 0.0
    tool_uses: list[str] = field(default_factory=list)
    """Names of `tool_use` blocks the Message asks for, after its text."""
    fields: dict[str, Any] = field(default_factory=dict)
    """More top-level Message fields (`stop_details`, `diagnostics`)."""


def message(
    text: str = "Hello! How can I help you today?",
    *,
    model: str | None = None,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    cache_read_input_tokens: int | None = 0,
    cache_creation_input_tokens: int | None = 0,
    usage: dict[str, Any] | None = None,
    stop_reason: str | None = "end_turn",
    headers: dict[str, str] | None = None,
    delay_s: float = 0.0,
    chunk_delay_s: float = 0.0,
    tool_uses: list[str] | None = None,
    stop_details: dict[str, Any] | None = None,
    diagnostics: dict[str, Any] | None = None,
) -> Reply:
    """A successful Message (or, for a `stream=True` request, the same Message as SSE events).

    Token counts default to plausible values derived from the request and `text`; `usage` adds
    or replaces fields (`server_tool_use`, `output_tokens_details`, `inference_geo`, ...).
    `tool_uses` names `tool_use` blocks after the text; `stop_details` and `diagnostics` are
    the Message's own fields (a stream sends them where the API does: `message_delta` and
    `message_start`).
    """
    counts: dict[str, Any] = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_input_tokens": cache_read_input_tokens,
        "cache_creation_input_tokens": cache_creation_input_tokens,
    }
    counts.update(usage or {})
    return Reply(
        "message",
        text=text,
        model=model,
        usage=counts,
        stop_reason=stop_reason,
        headers=dict(headers or {}),
        delay_s=delay_s,
        chunk_delay_s=chunk_delay_s,
        tool_uses=list(tool_uses or ()),
        fields={
            key: value
            for key, value in (("stop_details", stop_details), ("diagnostics", diagnostics))
            if value is not None
        },
    )


def error(
    status: int,
    *,
    error_type: str | None = None,
    message: str | None = None,
    retry_after: float | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    delay_s: float = 0.0,
) -> Reply:
    """An API error: the status, the API's error body and headers (`retry-after` if given).

    `body` replaces the JSON error body (e.g. an HTML page from a proxy).
    """
    extra = dict(headers or {})
    if retry_after is not None:
        extra.setdefault("retry-after", str(math.ceil(retry_after)))
        extra.setdefault("retry-after-ms", str(round(retry_after * 1000)))
    return Reply(
        "error",
        status=status,
        error_type=error_type or ERROR_TYPES.get(status, "api_error"),
        error_message=message,
        headers=extra,
        body=body,
        delay_s=delay_s,
    )


def stream(
    text: str = "Hello! How can I help you today?",
    *,
    model: str | None = None,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    usage: dict[str, Any] | None = None,
    stop_reason: str | None = "end_turn",
    events: list[dict[str, Any]] | None = None,
    error_after: int | None = None,
    error_type: str = "overloaded_error",
    cut_after: int | None = None,
    no_stop: bool = False,
    chunk_delay_s: float = 0.0,
    headers: dict[str, str] | None = None,
    tool_uses: list[str] | None = None,
    stop_details: dict[str, Any] | None = None,
    diagnostics: dict[str, Any] | None = None,
) -> Reply:
    """An SSE stream, with faults on demand.

    `events` replaces the generated events; `error_after=N` sends an `error` event after N
    events; `cut_after=N` drops the connection after N events; `no_stop` omits `message_stop`.
    """
    reply = message(
        text,
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        usage=usage,
        stop_reason=stop_reason,
        tool_uses=tool_uses,
        stop_details=stop_details,
        diagnostics=diagnostics,
    )
    reply.kind = "stream"
    reply.events = events
    reply.error_after = error_after
    reply.error_type = error_type
    reply.cut_after = cut_after
    reply.no_stop = no_stop
    reply.chunk_delay_s = chunk_delay_s
    reply.headers = dict(headers or {})
    return reply


def raw(status: int, body: bytes, headers: dict[str, str] | None = None) -> Reply:
    """Exactly these bytes, with this status and these headers."""
    return Reply("raw", status=status, body=body, headers=dict(headers or {}))


def stall(seconds: float) -> Reply:
    """Wait `seconds` before answering (longer than the client's timeout makes a timeout)."""
    return Reply("stall", stall_s=seconds)


def disconnect() -> Reply:
    """Close the connection without answering."""
    return Reply("disconnect")


@dataclass
class ReceivedRequest:
    """What the fake API received, and the request id it answered with."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    request_id: str | None = None


@dataclass
class _Answer:
    status: int
    headers: dict[str, str]
    chunks: list[bytes]
    chunk_delay_s: float = 0.0
    delay_s: float = 0.0
    cut: bool = False
    disconnect: bool = False
    stall_s: float = 0.0


class FakeAnthropicAPI:
    """The fake API: a script of replies, served over HTTP (`url`) or in process (`transport()`).

    With an empty script every request gets a default Message for the model it asked for.
    Use as a context manager to run the HTTP server; the transports need no server.
    """

    def __init__(
        self,
        replies: Sequence[Reply] = (),
        *,
        router: Callable[[ReceivedRequest], Reply | None] | None = None,
    ) -> None:
        """Create the fake with an initial script of `replies` (served in order).

        `router(request)` may pick the reply for a request itself (None: use the script).
        """
        self._router = router
        self._lock = threading.Lock()
        self._script: list[Reply] = list(replies)
        self.requests: list[ReceivedRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()

    # -- script ------------------------------------------------------------------------------------

    def enqueue(self, *replies: Reply) -> None:
        """Append replies to the script."""
        with self._lock:
            self._script.extend(replies)

    def _next(self) -> Reply | None:
        with self._lock:
            return self._script.pop(0) if self._script else None

    # -- the HTTP server ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        """Start the HTTP server on 127.0.0.1 (a free port)."""
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop the HTTP server."""
        self.stop()

    def start(self) -> None:
        """Start the HTTP server on 127.0.0.1 (a free port) in a daemon thread."""
        api = self

        class Handler(_Handler):
            fake = api

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-anthropic-api", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the HTTP server and release any stalled reply."""
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        """The server's base URL, for `Anthropic(base_url=...)`."""
        if self._server is None:
            raise RuntimeError("the fake API server is not running; use `with FakeAnthropicAPI() as api:`")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- in-process transports ---------------------------------------------------------------------

    def transport(self) -> _FakeTransport:
        """An `httpx2` transport answering from the script, for sync and async clients alike."""
        return _FakeTransport(self)

    def client(self, **options: Any) -> Any:
        """An `anthropic.Anthropic` client wired to this fake in process (no sockets)."""
        import anthropic  # noqa: PLC0415 - keep importing this module cheap

        options.setdefault("api_key", "sk-ant-test-key")
        options.setdefault("base_url", "http://fake.anthropic.test")
        options.setdefault("http_client", httpx2.Client(transport=self.transport()))
        return anthropic.Anthropic(**options)

    def async_client(self, **options: Any) -> Any:
        """An `anthropic.AsyncAnthropic` client wired to this fake in process (no sockets)."""
        import anthropic  # noqa: PLC0415 - keep importing this module cheap

        options.setdefault("api_key", "sk-ant-test-key")
        options.setdefault("base_url", "http://fake.anthropic.test")
        options.setdefault("http_client", httpx2.AsyncClient(transport=self.transport()))
        return anthropic.AsyncAnthropic(**options)

    # -- replies -----------------------------------------------------------------------------------

    def answer(self, method: str, path: str, headers: Mapping[str, str], content: bytes) -> _Answer:  # noqa: PLR0911, C901 - one branch per kind of reply
        """The answer to one request: the next scripted reply, or the default."""
        try:
            body = json.loads(content) if content else None
        except ValueError:
            body = None
        received = ReceivedRequest(method, path, dict(headers), body)
        with self._lock:
            self.requests.append(received)
        reply = self._router(received) if self._router is not None else None
        if reply is None:
            reply = self._next()
        request_id = _id("req_")
        received.request_id = request_id
        base = {"request-id": request_id, **_ratelimit_headers()}
        workspace = {key.lower(): value for key, value in headers.items()}.get("anthropic-workspace-id")
        if workspace:
            base["anthropic-workspace-id"] = workspace  # the API names the workspace it billed
        route, path_model = _route(path)
        if reply is None:
            reply = message() if route is not None else error(404, message=f"Not found: {path}")
        if reply.kind == "disconnect":
            return _Answer(0, {}, [], disconnect=True)
        if reply.kind == "stall":
            return _Answer(0, {}, [], stall_s=reply.stall_s)
        if reply.kind == "raw":
            return _Answer(reply.status, {**base, **reply.headers}, [reply.body or b""])
        if reply.kind == "error":
            return self._error_answer(reply, request_id, base)
        if route == "count_tokens":
            tokens = _input_tokens(body, reply)
            return _json_answer(200, {**base, **reply.headers}, {"input_tokens": tokens}, reply)
        if path_model is not None and isinstance(body, dict):
            body = {**body, "model": path_model}
        payload = self._message_payload(reply, body)
        if route == "bedrock_stream":
            return self._bedrock_stream_answer(reply, payload, {**base, **reply.headers})
        wants_stream = route == "vertex_stream" or (isinstance(body, Mapping) and body.get("stream") is True)
        if reply.kind == "stream" or wants_stream:
            return self._stream_answer(reply, payload, {**base, **reply.headers})
        return _json_answer(200, {**base, **reply.headers}, payload, reply)

    def _bedrock_stream_answer(
        self, reply: Reply, payload: dict[str, Any], headers: dict[str, str]
    ) -> _Answer:
        """Bedrock's `invoke-with-response-stream`: each event in an AWS event-stream frame."""
        events = reply.events if reply.events is not None else sse_events(payload, no_stop=reply.no_stop)
        frames = [_event_stream_frame(json.dumps(event).encode()) for event in events]
        headers = {**headers, "content-type": "application/vnd.amazon.eventstream"}
        return _Answer(200, headers, frames, reply.chunk_delay_s, reply.delay_s)

    def _error_answer(self, reply: Reply, request_id: str, base: dict[str, str]) -> _Answer:
        headers = {**base, **reply.headers}
        if reply.body is not None:
            headers.setdefault("content-type", "text/html")
            return _Answer(reply.status, headers, [reply.body], delay_s=reply.delay_s)
        text = reply.error_message or f"fake {reply.error_type} ({reply.status})"
        payload = {
            "type": "error",
            "error": {"type": reply.error_type, "message": text},
            "request_id": request_id,
        }
        return _json_answer(reply.status, headers, payload, reply)

    def _message_payload(self, reply: Reply, body: object) -> dict[str, Any]:
        requested = body.get("model") if isinstance(body, Mapping) else None
        model = reply.model or dated_model(requested if isinstance(requested, str) else DEFAULT_MODEL)
        usage = dict(reply.usage)
        if usage.get("input_tokens") is None:
            usage["input_tokens"] = _input_tokens(body, reply)
        if usage.get("output_tokens") is None:
            usage["output_tokens"] = max(1, math.ceil(len(reply.text) / 4))
        tools = [
            {"type": "tool_use", "id": _id("toolu_"), "name": name, "input": {}} for name in reply.tool_uses
        ]
        return {
            "id": _id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": reply.text}, *tools],
            "stop_reason": reply.stop_reason,
            "stop_sequence": None,
            "usage": usage,
            **reply.fields,
        }

    def _stream_answer(self, reply: Reply, payload: dict[str, Any], headers: dict[str, str]) -> _Answer:
        events = reply.events if reply.events is not None else sse_events(payload, no_stop=reply.no_stop)
        chunks = []
        for index, event in enumerate(events):
            if reply.error_after is not None and index == reply.error_after:
                error_event = {"type": "error", "error": {"type": reply.error_type, "message": "Overloaded"}}
                chunks.append(_sse("error", error_event))
                break
            if reply.cut_after is not None and index == reply.cut_after:
                return _Answer(
                    200,
                    {**headers, "content-type": "text/event-stream"},
                    chunks,
                    reply.chunk_delay_s,
                    cut=True,
                )
            chunks.append(_sse(str(event.get("type", "unknown")), event))
        return _Answer(
            200, {**headers, "content-type": "text/event-stream"}, chunks, reply.chunk_delay_s, reply.delay_s
        )


def dated_model(model: str) -> str:
    """The dated id the API answers with for an alias it knows (`claude-sonnet-4-5` -> `...-20250929`)."""
    for known in _known_models():
        if known.startswith(model + "-") and known[len(model) + 1 :].isdigit():
            return known
    return model


_models_cache: list[str] = []


def _known_models() -> list[str]:
    if not _models_cache:
        try:
            from typing import get_args  # noqa: PLC0415

            from anthropic.types import Model  # noqa: PLC0415 - only when the fake answers

            literal = get_args(Model)[0]
            _models_cache.extend(str(name) for name in get_args(literal))
        except Exception:
            _models_cache.append(DEFAULT_MODEL)
    return _models_cache


_DELTA_USAGE: Final = ("server_tool_use", "output_tokens_details")
"""Usage fields that are final only at the end: sent in `message_delta`, not `message_start`."""


def sse_events(payload: Mapping[str, Any], *, no_stop: bool = False) -> list[dict[str, Any]]:
    """The server-sent events the API sends for `payload` (a Message), as the docs show them.

    Usage arrives in pieces: `message_start` has the input and cache counts and a placeholder
    output count; `message_delta` has the cumulative output count, the server-tool requests
    and the thinking tokens, beside the stop reason and `stop_details`.
    """
    usage = dict(payload["usage"])
    start_usage = {key: value for key, value in usage.items() if key not in _DELTA_USAGE}
    start_usage["output_tokens"] = 1
    start = {
        **payload,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "stop_details": None,
        "usage": start_usage,
    }
    text = payload["content"][0]["text"] if payload["content"] else ""
    words = [word + " " for word in text.split(" ")] if text else []
    if words:
        words[-1] = words[-1][:-1]
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": start},
        {"type": "ping"},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    events += [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}} for w in words
    ]
    events.append({"type": "content_block_stop", "index": 0})
    for index, block in enumerate(payload["content"][1:], start=1):
        events += [
            {"type": "content_block_start", "index": index, "content_block": {**block, "input": {}}},
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "input_json_delta", "partial_json": json.dumps(block["input"])},
            },
            {"type": "content_block_stop", "index": index},
        ]
    delta_usage = {"output_tokens": usage["output_tokens"]}
    delta_usage.update({key: usage[key] for key in _DELTA_USAGE if key in usage})
    delta: dict[str, Any] = {"stop_reason": payload["stop_reason"], "stop_sequence": None}
    if payload.get("stop_details") is not None:
        delta["stop_details"] = payload["stop_details"]
    events.append({"type": "message_delta", "delta": delta, "usage": delta_usage})
    if not no_stop:
        events.append({"type": "message_stop"})
    return events


def _route(path: str) -> tuple[str | None, str | None]:
    """What a request path asks for, and the model when the path names it (Bedrock, Vertex)."""
    path = path.rstrip("/")
    if path.endswith("/v1/messages/count_tokens"):
        return "count_tokens", None
    if path.endswith("/v1/messages"):
        return "messages", None
    if path.startswith("/model/") and path.endswith(("/invoke", "/invoke-with-response-stream")):
        model = urllib.parse.unquote(path[len("/model/") :].rsplit("/", 1)[0])
        return ("bedrock_stream" if path.endswith("-stream") else "messages"), model
    if "/publishers/anthropic/models/" in path and ":" in path.rsplit("/", 1)[-1]:
        model, _, method = path.rsplit("/", 1)[-1].partition(":")
        if method in ("rawPredict", "streamRawPredict"):
            return ("vertex_stream" if method == "streamRawPredict" else "messages"), model
    return None, None


def _event_stream_frame(event_json: bytes) -> bytes:
    """One AWS event-stream message carrying a Bedrock `chunk` (the binary framing botocore reads)."""
    headers = b"".join(
        bytes([len(name)]) + name + b"\x07" + struct.pack(">H", len(value)) + value
        for name, value in (
            (b":event-type", b"chunk"),
            (b":content-type", b"application/json"),
            (b":message-type", b"event"),
        )
    )
    payload = json.dumps({"bytes": base64.b64encode(event_json).decode()}).encode()
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + headers + payload
    return message + struct.pack(">I", zlib.crc32(message))


def _sse(name: str, data: Mapping[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _json_answer(status: int, headers: dict[str, str], payload: object, reply: Reply) -> _Answer:
    headers = {**headers, "content-type": "application/json"}
    return _Answer(status, headers, [json.dumps(payload).encode()], delay_s=reply.delay_s)


def _input_tokens(body: object, reply: Reply) -> int:
    explicit = reply.usage.get("input_tokens") if reply.usage else None
    if isinstance(explicit, int):
        return explicit
    if not isinstance(body, Mapping):
        return 1
    prompt = json.dumps([body.get("system"), body.get("messages")])
    return max(1, len(prompt) // 4)


_remaining = itertools.count()


def _ratelimit_headers() -> dict[str, str]:
    used = next(_remaining) % 50
    return {
        "anthropic-ratelimit-requests-limit": "4000",
        "anthropic-ratelimit-requests-remaining": str(3999 - used),
        "anthropic-ratelimit-input-tokens-remaining": str(2_000_000 - used * 1000),
        "anthropic-ratelimit-output-tokens-remaining": str(400_000 - used * 200),
    }


class _FakeTransport(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """Answers requests from a `FakeAnthropicAPI` script without a socket."""

    def __init__(self, fake: FakeAnthropicAPI) -> None:
        self._fake = fake

    def _answer(self, request: httpx2.Request) -> _Answer:
        return self._fake.answer(request.method, request.url.path, dict(request.headers), request.content)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Answer a sync client."""
        request.read()
        answer = self._answer(request)
        if answer.disconnect:
            raise httpx2.ConnectError("fake API: connection refused", request=request)
        if answer.stall_s:
            time.sleep(answer.stall_s)
            raise httpx2.ReadTimeout("fake API: the server did not answer in time", request=request)
        if answer.delay_s:
            time.sleep(answer.delay_s)
        return httpx2.Response(answer.status, headers=answer.headers, content=_sync_chunks(answer))

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Answer an async client."""
        await request.aread()
        answer = self._answer(request)
        if answer.disconnect:
            raise httpx2.ConnectError("fake API: connection refused", request=request)
        if answer.stall_s:
            await asyncio.sleep(answer.stall_s)
            raise httpx2.ReadTimeout("fake API: the server did not answer in time", request=request)
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
        return httpx2.Response(answer.status, headers=answer.headers, content=_async_chunks(answer))


def _sync_chunks(answer: _Answer) -> Iterator[bytes]:
    for index, chunk in enumerate(answer.chunks):
        if index and answer.chunk_delay_s:
            time.sleep(answer.chunk_delay_s)
        yield chunk
    if answer.cut:
        raise httpx2.RemoteProtocolError(
            "fake API: peer closed connection without sending complete message body"
        )


async def _async_chunks(answer: _Answer) -> AsyncIterator[bytes]:
    for index, chunk in enumerate(answer.chunks):
        if index and answer.chunk_delay_s:
            await asyncio.sleep(answer.chunk_delay_s)
        yield chunk
    if answer.cut:
        raise httpx2.RemoteProtocolError(
            "fake API: peer closed connection without sending complete message body"
        )


class _Handler(BaseHTTPRequestHandler):
    fake: FakeAnthropicAPI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        """Stay quiet: the fake serves tests and the demo."""

    def do_GET(self) -> None:
        """Answer a GET."""
        self._serve()

    def do_POST(self) -> None:
        """Answer a POST."""
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        content = self.rfile.read(length) if length else b""
        answer = self.fake.answer(
            self.command, self.path.split("?", 1)[0], dict(self.headers.items()), content
        )
        if answer.disconnect or answer.stall_s:
            if answer.stall_s:
                self.fake._closing.wait(answer.stall_s)
            self._drop()
            return
        if answer.delay_s:
            time.sleep(answer.delay_s)
        streaming = answer.headers.get("content-type") == "text/event-stream"
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if streaming:
            self.send_header("transfer-encoding", "chunked")
        else:
            self.send_header("content-length", str(sum(map(len, answer.chunks))))
        self.end_headers()
        try:
            self._write_body(answer, chunked=streaming)
        except OSError:
            self.close_connection = True

    def _write_body(self, answer: _Answer, *, chunked: bool) -> None:
        for index, chunk in enumerate(answer.chunks):
            if index and answer.chunk_delay_s:
                time.sleep(answer.chunk_delay_s)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            self.wfile.flush()
        if answer.cut:
            self._drop()
        elif chunked:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
