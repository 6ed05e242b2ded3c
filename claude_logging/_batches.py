"""Message Batches: the batch a call created or read, and one event per result of a batch.

Creating a batch records its id and request count on the call's own event. Reading a batch's
results (`messages.batches.results(id)`, a JSON Lines body) writes one `claude.call` event per
result as the application reads it: `operation` `batch_result`, the batch id, the request's
`custom_id`, the result type, the Message's model, usage and stop reason, and its cost at the batch
price. So batch spend reaches every dashboard that sums `cost_usd`, and nothing is counted twice:
the results request itself carries no usage.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Final

from claude_logging import _guard, _outputs, _pricing
from claude_logging._calls import new_event, now
from claude_logging._capture import count, get, record_message, text
from claude_logging._event import ABANDONED, ERROR, INCOMPLETE, SUCCESS
from claude_logging._streams import wrap_body

if TYPE_CHECKING:
    import httpx2

    from claude_logging._calls import Call
    from claude_logging._event import Event, Outcome

_RESULTS_PATH: Final = re.compile(r"/v1/messages/batches/([^/?#]+)/results")
_MAX_LINE: Final = 16 * 1024 * 1024
_COUNTS: Final = ("processing", "succeeded", "errored", "canceled", "expired")
_OUTCOMES: Final[dict[str, Outcome]] = {
    "succeeded": SUCCESS,
    "errored": ERROR,
    "canceled": ABANDONED,
    "expired": INCOMPLETE,
}


def results_batch_id(url: object) -> str | None:
    """The batch id of a results URL (`.../v1/messages/batches/{id}/results`), else None."""
    match = _RESULTS_PATH.search(url) if isinstance(url, str) else None
    return match.group(1) if match else None


def record_request(event: Event, body: object) -> None:
    """A batch being created: how many requests it holds."""
    requests = get(body, "requests")
    if isinstance(requests, (list, tuple)):
        event.batch_requests = len(requests)


def record_batch(event: Event, batch: object) -> None:
    """A `MessageBatch` the call returned: its id, and its request count when the API gives one."""
    if text(get(batch, "type")) != "message_batch":
        return
    event.batch_id = text(get(batch, "id"))
    counts = get(batch, "request_counts")
    parts = [count(get(counts, name)) for name in _COUNTS]
    if counts is not None and all(part is not None for part in parts):
        event.batch_requests = sum(part for part in parts if part is not None)


class ResultsReader:
    """Reads a results body as the application reads it: one event per complete JSON line."""

    __slots__ = ("_buffer", "batch_id", "call", "done", "results")

    def __init__(self, call: Call, batch_id: str) -> None:
        """Read results of `batch_id` for `call` (the results request, ended with the body)."""
        self.call = call
        self.batch_id = batch_id
        self.results = 0
        self.done = False
        self._buffer = bytearray()

    def body_chunk(self, chunk: bytes) -> None:
        """Bytes of the body: each complete line is one result."""
        if self.done:
            return
        buffer = self._buffer
        buffer += chunk
        while True:
            end = buffer.find(b"\n")
            if end < 0:
                if len(buffer) > _MAX_LINE:
                    buffer.clear()  # a line no result can be; the rest of it is skipped
                return
            line = bytes(buffer[:end])
            del buffer[: end + 1]
            self._line(line)

    def body_end(self, how: str, error: BaseException | None = None) -> None:
        """The body was read to its end, failed, or was closed."""
        if self.done:
            return
        if how == "read" and self._buffer.strip():
            self._line(bytes(self._buffer))
        self._buffer.clear()
        self.done = True
        if how == "failed" and error is not None:
            self.call.fail(error)
        else:
            self.call.finish(SUCCESS if how == "read" else ABANDONED)

    def body_gone(self) -> None:
        """The body was dropped unread: the results request ends as abandoned."""
        if not self.done:
            from claude_logging._writer import WORKER  # noqa: PLC0415 - finish off the finaliser

            WORKER.defer(lambda: self.body_end("closed"))

    def _line(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            emit_result(json.loads(line), self.batch_id, self.call)
            self.results += 1
        except Exception as exc:
            _guard.internal_error("batch.result", exc)


def emit_result(result: Any, batch_id: str, request: Call) -> None:
    """Write the event of one batch result, with the identity of the call that read it (or its scopes)."""
    event = new_event()
    event.end_mono_ns = now()
    event.start_mono_ns = event.end_mono_ns
    event.operation = "batch_result"
    event.api_calls = 1
    event.batch_id = batch_id
    event.batch_custom_id = text(get(result, "custom_id"))
    outcome = get(result, "result")
    kind = text(get(outcome, "type"))
    event.batch_result_type = kind
    event.outcome = _OUTCOMES.get(kind or "", ERROR)
    _identify(event, request)
    message = get(outcome, "message")
    if message is not None:
        record_message(event, message)
        event.service_tier = "batch"  # billed at the batch price, whatever the Message says
        event.status_code = 200
    failure = get(get(outcome, "error"), "error")
    if failure is not None:
        event.api_error_type = text(get(failure, "type"))
        event.error_type = "batch_result_error"
    try:
        _pricing.price(event)
    except Exception as exc:
        event.internal_error = True
        _guard.internal_error("price", exc)
    _outputs.emit(event)


def _identify(event: Event, request: Call) -> None:
    """Tenant, user, run and extra fields of the reading call, else of its innermost scope that has them."""
    chain: list[Event] = []
    call: Call | None = request
    while call is not None and len(chain) < 100:
        chain.append(call.event)
        call = call.parent
    event.tenant_id = next((e.tenant_id for e in chain if e.tenant_id is not None), None)
    event.user_id = next((e.user_id for e in chain if e.user_id is not None), None)
    event.run_id = next((e.run_id for e in chain if e.run_id is not None), None)
    fields = next((e.fields for e in chain if e.fields), None)
    event.fields = dict(fields) if fields else None


def watch_results(call: Call, response: httpx2.Response, batch_id: str) -> None:
    """Wrap the unread results body so that reading it writes one event per result."""
    wrap_body(response, ResultsReader(call, batch_id))
