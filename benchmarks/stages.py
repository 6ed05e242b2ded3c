"""Where one logged call's time goes: each stage of the pipeline timed alone, on the real SDK's objects.

One real `messages.create` on the canned transport (`_canned.py`) is made with the SDK's `request()`
and `_attempt_request()` watched, to keep what they were given and returned: the request options,
one attempt's `(response, options)` and the parsed Message. Each stage of ours then runs on those
objects in a tight loop (`timeit`, best of `--repeat`), so the figures are precise and comparable
between commits: run it with `PYTHONPATH=<an older checkout>` to measure that tree the same way.

    python benchmarks/stages.py                    # flat schema, stdout to /dev/null
    python benchmarks/stages.py --schema otel

Stages are cheaper alone than between SDK calls (their data stays in the CPU caches), so their
sum is below the per-call rows of `run.py`; the shares are what this tool is for.
"""

from __future__ import annotations

import argparse
import os
import sys
import timeit
from typing import Any

import _canned
from _timing import stdout_to_devnull
from anthropic import _base_client

import claude_logging
from claude_logging import _api_calls, _calls, _capture, _config, _pricing, _render, _responses, _schemas
from claude_logging._writer import WORKER


def capture() -> tuple[Any, Any, Any, Any]:
    """(client, request options, one attempt's result, the Message) of one real SDK call."""
    client = _canned.client()
    seen: dict[str, Any] = {}
    request, attempt = _base_client.SyncAPIClient.request, _base_client.SyncAPIClient._attempt_request

    def watched_request(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen["options"] = args[1]
        seen["message"] = request(self, *args, **kwargs)
        return seen["message"]

    def watched_attempt(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen["attempt"] = attempt(self, *args, **kwargs)
        return seen["attempt"]

    _base_client.SyncAPIClient.request = watched_request  # type: ignore[method-assign]
    _base_client.SyncAPIClient._attempt_request = watched_attempt  # type: ignore[method-assign]
    try:
        client.messages.create(**_canned.REQUEST)
    finally:
        _base_client.SyncAPIClient.request = request  # type: ignore[method-assign]
        _base_client.SyncAPIClient._attempt_request = attempt  # type: ignore[method-assign]
    return client, seen["options"], seen["attempt"], seen["message"]


def stages(client: Any, options: Any, attempt: Any, message: Any) -> list[tuple[str, Any]]:
    """Each stage as a no-argument callable, in pipeline order; the last is the whole of them."""
    settings = _config.current()
    call = _api_calls.start_call(options, client)
    if call is None:
        raise RuntimeError("the canned request is not a Messages API call")
    _calls._open.pop(id(call), None)  # never finished here: keep the exit sweep's registry clean
    event = call.event
    _api_calls.attempt_ended(call, attempt)
    _capture.record_message(event, message)
    event.end_mono_ns, event.outcome = event.start_mono_ns + 1_000_000, "success"
    _pricing.price(event)
    facts = _render.facts(event, settings)
    record = _schemas.render(facts, settings)
    line = _render.encode_line(record, settings.max_line_bytes)

    def open_call() -> None:
        opened = _api_calls.start_call(options, client)
        _calls._open.pop(id(opened), None)

    def whole() -> None:
        opened = _api_calls.start_call(options, client)
        if opened is not None:
            _api_calls.attempt_ended(opened, attempt)
            _responses.observe(opened, message)

    return [
        ("open the call: request fields, context, endpoint", open_call),
        (
            "one attempt: status, request id, rate-limit headers",
            lambda: _api_calls.attempt_ended(call, attempt),
        ),
        ("the Message: model, ids, usage, details", lambda: _capture.record_message(event, message)),
        ("cost_usd", lambda: _pricing.price(event)),
        ("facts: the flat view, sanitised", lambda: _render.facts(event, settings)),
        (f"schema {settings.schema}", lambda: _schemas.render(facts, settings)),
        ("encode the line", lambda: _render.encode_line(record, settings.max_line_bytes)),
        ("write the line (stdout: /dev/null)", lambda: WORKER.write(line)),
        ("the whole of it, as instrument() runs it", whole),
    ]


def main(argv: list[str] | None = None) -> int:
    """Time each stage and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--schema", default="flat")
    parser.add_argument("--number", type=int, default=2000, help="calls per timing")
    parser.add_argument("--repeat", type=int, default=15, help="timings per stage; the best is kept")
    args = parser.parse_args(argv)
    with stdout_to_devnull():
        claude_logging.configure(output="stdout", schema=args.schema)
        timed = [
            (name, min(timeit.repeat(stage, number=args.number, repeat=args.repeat)) / args.number * 1e6)
            for name, stage in stages(*capture())
        ]
        claude_logging.flush()
    *parts, (whole_name, whole_us) = timed
    load = os.getloadavg()[0]
    print(f"claude_logging stages ({args.schema}), us per call, best of {args.repeat}; load {load:.1f}")
    for name, us in parts:
        print(f"  {name:<56}{us:8.2f}  {100 * us / whole_us:5.1f}%")
    print(f"  {whole_name:<56}{whole_us:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
