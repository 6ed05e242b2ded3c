"""The floor's transport: canned API answers with as little work per request as httpx2 allows.

Every request gets the same precomputed bytes, so what a benchmark measures is the SDK's own
work (building the request, parsing the Message) plus whatever the variant adds on top. The
headers are those the real API sends (request id, rate-limit headroom), because reading them is
part of what a logger does.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from typing import Any, Final

import httpx2

from claude_logging._fake_api import sse_events

MODEL: Final = "claude-sonnet-4-6"
STREAM_EVENTS: Final = 500
"""Server-sent events in the long benchmark stream."""
SHORT_STREAM_EVENTS: Final = 10
"""Server-sent events in the short one: the two lengths separate per-event from per-stream cost."""
REQUEST: Final[dict[str, Any]] = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 256,
    "messages": [{"role": "user", "content": "Hello, Claude"}],
}
"""The request every benchmark call makes."""

_MESSAGE: Final[dict[str, Any]] = {
    "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "type": "message",
    "role": "assistant",
    "model": MODEL,
    "content": [{"type": "text", "text": "Hello! How can I help you today?"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 12,
        "output_tokens": 10,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
    },
}
_HEADERS: Final = (
    ("date", "Tue, 24 Nov 2026 12:00:00 GMT"),
    ("connection", "keep-alive"),
    ("anthropic-ratelimit-requests-limit", "4000"),
    ("anthropic-ratelimit-requests-remaining", "3999"),
    ("anthropic-ratelimit-requests-reset", "2026-11-24T12:00:01Z"),
    ("anthropic-ratelimit-input-tokens-limit", "2000000"),
    ("anthropic-ratelimit-input-tokens-remaining", "1999000"),
    ("anthropic-ratelimit-input-tokens-reset", "2026-11-24T12:00:01Z"),
    ("anthropic-ratelimit-output-tokens-limit", "400000"),
    ("anthropic-ratelimit-output-tokens-remaining", "399800"),
    ("anthropic-ratelimit-output-tokens-reset", "2026-11-24T12:00:01Z"),
    ("anthropic-ratelimit-tokens-limit", "2400000"),
    ("anthropic-ratelimit-tokens-remaining", "2398800"),
    ("anthropic-ratelimit-tokens-reset", "2026-11-24T12:00:01Z"),
    ("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy"),
    ("strict-transport-security", "max-age=31536000; includeSubDomains; preload"),
    ("anthropic-organization-id", "00000000-0000-0000-0000-000000000000"),
    ("via", "1.1 google"),
    ("cf-cache-status", "DYNAMIC"),
    ("x-robots-tag", "none"),
    ("server", "cloudflare"),
)
"""Headers of a Message response: the documented request id and rate-limit headers, plus the kind
of proxy headers a real response carries, so that header parsing costs what it costs in production."""
_JSON_HEADERS: Final = (*_HEADERS, ("content-type", "application/json"))
_SSE_HEADERS: Final = (*_HEADERS, ("content-type", "text/event-stream"))
MESSAGE_BODY: Final = json.dumps(_MESSAGE).encode()


def sse_chunks(events: int) -> list[bytes]:
    """A streamed Message of exactly `events` server-sent events, one network chunk per event."""
    words = max(events - 6, 1)  # message_start, ping, block start/stop, message_delta, message_stop
    payload = {**_MESSAGE, "content": [{"type": "text", "text": " ".join(["word"] * words)}]}
    payload["usage"] = {**payload["usage"], "output_tokens": words}
    return [
        f"event: {item['type']}\ndata: {json.dumps(item, separators=(',', ':'))}\n\n".encode()
        for item in sse_events(payload)
    ]


class CannedTransport(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """Answers every request with one Message, or with a fixed SSE stream when the body asks."""

    def __init__(self, stream_events: int = STREAM_EVENTS) -> None:
        """Precompute the answers; a `stream=True` request gets `stream_events` events."""
        self._chunks = sse_chunks(stream_events)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Answer a sync client."""
        if b'"stream":true' in request.content:
            return httpx2.Response(200, headers=_SSE_HEADERS, content=iter(self._chunks))
        return httpx2.Response(200, headers=_JSON_HEADERS, content=MESSAGE_BODY)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Answer an async client, after yielding to the event loop once, as network I/O would."""
        await asyncio.sleep(0)
        if b'"stream":true' in request.content:
            return httpx2.Response(200, headers=_SSE_HEADERS, content=_async_iter(self._chunks))
        return httpx2.Response(200, headers=_JSON_HEADERS, content=MESSAGE_BODY)


async def _async_iter(chunks: list[bytes]) -> Any:
    for chunk in chunks:
        yield chunk


_sdk_spans_off: list[dict[str, Any]] = []


def _no_sdk_spans(options: dict[str, Any]) -> None:
    """Pin the SDK's own tracing to a no-op tracer, as an application without OpenTelemetry has it.

    Pinned, so that a peer which installs a global tracer provider (Logfire) cannot turn the SDK's
    spans on for the other variants. SDKs older than the `open_telemetry` option need nothing.
    """
    import anthropic  # noqa: PLC0415

    if "open_telemetry" not in inspect.signature(anthropic.Anthropic).parameters:
        return
    if not _sdk_spans_off:
        from opentelemetry.trace import NoOpTracerProvider  # noqa: PLC0415 - a dependency of such SDKs

        _sdk_spans_off.append({"tracer_provider": NoOpTracerProvider()})
    options.setdefault("open_telemetry", _sdk_spans_off[0])


def client(stream_events: int = STREAM_EVENTS, **options: Any) -> Any:
    """A sync `anthropic.Anthropic` on the canned transport, no retries."""
    import anthropic  # noqa: PLC0415 - imported when a benchmark needs a client

    _no_sdk_spans(options)
    return anthropic.Anthropic(
        api_key="sk-ant-bench",
        base_url="http://canned.anthropic.test",
        max_retries=0,
        http_client=httpx2.Client(transport=CannedTransport(stream_events)),
        **options,
    )


def async_client(stream_events: int = STREAM_EVENTS, **options: Any) -> Any:
    """An `anthropic.AsyncAnthropic` on the canned transport, no retries."""
    import anthropic  # noqa: PLC0415

    _no_sdk_spans(options)
    return anthropic.AsyncAnthropic(
        api_key="sk-ant-bench",
        base_url="http://canned.anthropic.test",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=CannedTransport(stream_events)),
        **options,
    )
