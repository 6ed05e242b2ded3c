"""The peers, each set up to export nowhere, so that only its in-process cost is measured.

OpenTelemetry-based peers get an SDK `TracerProvider` whose only processor is a
`SimpleSpanProcessor` with an exporter that counts spans and drops them (no serialisation, no
network, no background thread): this under-counts their real cost, so a ratio against them is
conservative. ddtrace writes with its own agentless `LogWriter` (the JSON writer it uses on AWS
Lambda) to /dev/null. A peer that is not installed says so; one that is installed but cannot run
against this SDK says why (its error and version), and is never replaced by a guess.

Every peer's first call must produce a span: a peer that runs but records nothing is reported as
not working rather than measured as free.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import _canned
from _timing import Variant

if TYPE_CHECKING:
    from collections.abc import Callable


class _Spans:
    """How many spans the peers handed to their exporters."""

    count = 0


HAND_WRITTEN = "hand-written try/except + time + print"
"""The wrapper the library replaces: a baseline of the least logging, not a peer to beat."""


def _nowhere_processor() -> Any:
    """An OpenTelemetry SDK span processor that counts spans and exports them nowhere."""
    from opentelemetry.sdk.trace.export import (  # noqa: PLC0415 - a peer, optional
        SimpleSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class Nowhere(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            _Spans.count += len(spans)
            return SpanExportResult.SUCCESS

    return SimpleSpanProcessor(Nowhere())


def _nowhere_provider() -> Any:
    """An OpenTelemetry SDK tracer provider that exports nowhere."""
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415 - a peer, optional

    provider = TracerProvider()
    provider.add_span_processor(_nowhere_processor())
    return provider


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _nothing() -> None:
    """No setup needed."""


def _create(client: Any) -> Callable[[], object]:
    request = _canned.REQUEST

    def call() -> object:
        return client.messages.create(**request)

    return call


def hand_written() -> Variant:
    """What users write today: try/except, time, print one JSON line."""
    client = _canned.client()
    request = _canned.REQUEST

    def call() -> object:
        start = time.perf_counter()
        try:
            message = client.messages.create(**request)
        except Exception as exc:
            print(json.dumps({"event": "claude.call", "error": type(exc).__name__}))
            raise
        usage = message.usage
        print(
            json.dumps(
                {
                    "event": "claude.call",
                    "model": message.model,
                    "input_tokens": usage.input_tokens,
                    "output_tokens": usage.output_tokens,
                    "latency_ms": (time.perf_counter() - start) * 1000,
                }
            )
        )
        return message

    return Variant(HAND_WRITTEN, "peer", call, note="print() to stdout")


@dataclass
class Peer:
    """A peer set up (or not): clients it observes, and what to do around each batch."""

    name: str
    note: str
    status: str = "ok"
    make_client: Callable[[int], Any] = _canned.client
    enter: Callable[[], None] = _nothing
    leave: Callable[[], None] = _nothing

    def variant(self, call: Callable[[], object] = _nothing, suffix: str = "") -> Variant:
        """A variant of this peer that makes `call`."""
        return Variant(
            self.name + suffix, "peer", call, self.enter, self.leave, status=self.status, note=self.note
        )


def sdk_tracing() -> Peer:
    """The anthropic SDK's own OpenTelemetry spans (`open_telemetry={"tracer_provider": ...}`)."""
    peer = Peer(
        "anthropic SDK's own OpenTelemetry tracing",
        f"anthropic {_version('anthropic')}, opentelemetry-sdk {_version('opentelemetry-sdk')}",
    )

    def build() -> None:
        provider = _nowhere_provider()
        peer.make_client = lambda events: _canned.client(events, open_telemetry={"tracer_provider": provider})

    return _checked(peer, build)


def openllmetry() -> Peer:
    """Traceloop's OpenLLMetry `opentelemetry-instrumentation-anthropic` (patches SDK classes)."""
    peer = Peer(
        "OpenLLMetry opentelemetry-instrumentation-anthropic",
        f"{_version('opentelemetry-instrumentation-anthropic')},"
        f" opentelemetry-sdk {_version('opentelemetry-sdk')}",
    )

    def build() -> None:
        from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor  # noqa: PLC0415

        instrumentor, provider = AnthropicInstrumentor(), _nowhere_provider()
        peer.enter = lambda: instrumentor.instrument(tracer_provider=provider)
        peer.leave = instrumentor.uninstrument

    return _checked(peer, build)


def logfire() -> Peer:
    """Pydantic Logfire's `instrument_anthropic(client)`, configured to send nothing."""
    peer = Peer("Pydantic Logfire instrument_anthropic", f"logfire {_version('logfire')}")

    def build() -> None:
        import logfire as logfire_sdk  # noqa: PLC0415

        logfire_sdk.configure(
            send_to_logfire=False, console=False, additional_span_processors=[_nowhere_processor()]
        )

        def make_client(events: int) -> Any:
            client = _canned.client(events)
            logfire_sdk.instrument_anthropic(client)
            return client

        peer.make_client = make_client

    return _checked(peer, build)


def ddtrace() -> Peer:
    """Datadog's ddtrace Anthropic integration, without an agent (agentless JSON writer to /dev/null)."""
    peer = Peer("ddtrace Anthropic integration", f"ddtrace {_version('ddtrace')}")

    def build() -> None:
        # No agent here: no telemetry, remote configuration or startup report trying to reach one.
        for key in ("DD_INSTRUMENTATION_TELEMETRY_ENABLED", "DD_REMOTE_CONFIGURATION_ENABLED"):
            os.environ.setdefault(key, "false")
        os.environ.setdefault("DD_TRACE_STARTUP_LOGS", "false")
        import ddtrace as dd  # noqa: PLC0415
        from ddtrace.contrib.internal.anthropic import patch as dd_patch  # noqa: PLC0415
        from ddtrace.internal.writer import LogWriter  # noqa: PLC0415
        from ddtrace.trace import tracer  # noqa: PLC0415

        class CountingLogWriter(LogWriter):  # type: ignore[misc]
            def write(self, spans: Any = None) -> None:
                _Spans.count += len(spans or ())
                super().write(spans)

        aggregator = tracer._span_aggregator
        previous = aggregator.writer
        aggregator.writer = CountingLogWriter(out=open(os.devnull, "w"))  # noqa: SIM115, PTH123 - lives as long as the tracer
        try:
            previous.stop()
        except Exception:
            pass
        peer.enter = lambda: dd.patch(anthropic=True)
        peer.leave = dd_patch.unpatch

    return _checked(peer, build)


def _checked(peer: Peer, build: Callable[[], None]) -> Peer:
    """Set a peer up and make one call; a missing package or a failure becomes its status."""
    try:
        build()
    except ImportError as exc:
        peer.status = f"not installed ({exc.name or exc})"
        return peer
    except Exception as exc:
        peer.status = f"n/a: setup failed: {type(exc).__name__}: {exc}"[:300]
        return peer
    before = _Spans.count
    peer.enter()
    try:
        _create(peer.make_client(_canned.STREAM_EVENTS))()
    except Exception as exc:
        peer.status = f"n/a: the call failed: {type(exc).__name__}: {exc}"[:300]
    else:
        if _Spans.count == before:
            peer.status = "n/a: ran but recorded no span"
    finally:
        peer.leave()
    return peer


def peers() -> list[Peer]:
    """Every peer, in the order the issue lists them."""
    return [openllmetry(), logfire(), sdk_tracing(), ddtrace()]


def per_call_variants(set_up: list[Peer]) -> list[Variant]:
    """One per-call variant per peer, then the hand-written wrapper."""
    variants = [
        peer.variant(_create(peer.make_client(_canned.STREAM_EVENTS)))
        if peer.status == "ok"
        else peer.variant()
        for peer in set_up
    ]
    return [*variants, hand_written()]


def versions() -> dict[str, str]:
    """Versions of the SDK and of every peer, for the report."""
    names = (
        "anthropic",
        "httpx2",
        "structlog",
        "python-json-logger",
        "opentelemetry-api",
        "opentelemetry-sdk",
        "opentelemetry-instrumentation-anthropic",
        "logfire",
        "ddtrace",
    )
    return {"python": sys.version.split()[0], **{name: _version(name) for name in names}}
