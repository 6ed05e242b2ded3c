"""Message Batches: the batch a call created, and one event per result at the batch price."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anthropic
import pytest

import claude_logging
from claude_logging.testing import FakeAnthropicAPI, ReceivedRequest, Reply, capture_events, raw

BATCH = "msgbatch_01HkcTjaV5uDC8jWR4ZsDV8d"
BASE = "http://fake.anthropic.test"
SONNET = {"input": 3.0, "output": 15.0}  # USD per million tokens, prices.json; batch: half


def batch(status: str, processing: int, succeeded: int = 0) -> dict[str, Any]:
    """A `MessageBatch` in the API's wire format."""
    return {
        "id": BATCH,
        "type": "message_batch",
        "processing_status": status,
        "request_counts": {"processing": processing, "succeeded": succeeded, "errored": 0,
                           "canceled": 0, "expired": 0},
        "created_at": "2026-11-25T10:00:00Z",
        "expires_at": "2026-11-26T10:00:00Z",
        "ended_at": None if status != "ended" else "2026-11-25T11:00:00Z",
        "archived_at": None,
        "cancel_initiated_at": None,
        "results_url": None if status != "ended" else f"{BASE}/v1/messages/batches/{BATCH}/results",
    }  # fmt: skip


def succeeded(custom_id: str, input_tokens: int, output_tokens: int) -> dict[str, Any]:
    """A `succeeded` result line, its Message as the API sends it."""
    return {
        "custom_id": custom_id,
        "result": {
            "type": "succeeded",
            "message": {
                "id": f"msg_{custom_id}",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-6",
                "content": [{"type": "text", "text": "ok"}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens,
                          "service_tier": "batch"},
            },
        },
    }  # fmt: skip


RESULTS = [
    succeeded("a", 1000, 200),
    succeeded("b", 4000, 10),
    {"custom_id": "c", "result": {"type": "errored", "error": {"type": "error", "error": {
        "type": "invalid_request_error", "message": "max_tokens: Field required"}}}},
    {"custom_id": "d", "result": {"type": "expired"}},
]  # fmt: skip


def batches_api() -> FakeAnthropicAPI:
    """The fake API answering the batch endpoints with the real wire format (JSON Lines results)."""

    def route(request: ReceivedRequest) -> Reply | None:
        path = request.path.split("?", 1)[0]
        if request.method == "POST" and path == "/v1/messages/batches":
            return raw(
                200, json.dumps(batch("in_progress", 4)).encode(), {"content-type": "application/json"}
            )
        if request.method == "GET" and path == f"/v1/messages/batches/{BATCH}":
            body = json.dumps(batch("ended", 0, 2)).encode()
            return raw(200, body, {"content-type": "application/json"})
        if request.method == "GET" and path == f"/v1/messages/batches/{BATCH}/results":
            lines = "".join(json.dumps(result) + "\n" for result in RESULTS).encode()
            return raw(200, lines, {"content-type": "application/binary"})
        return None

    return FakeAnthropicAPI(router=route)


def batch_cost(input_tokens: int, output_tokens: int) -> float:
    """The batch price, computed here from the published per-million prices."""
    return 0.5 * (input_tokens * SONNET["input"] + output_tokens * SONNET["output"]) / 1e6


def create_and_read(client: Any) -> list[Any]:
    """What an application does: create a batch, then read its results."""
    requests = [
        {"custom_id": name, "params": {"model": "claude-sonnet-4-6", "max_tokens": 10, "messages": []}}
        for name in "abcd"
    ]
    created = client.messages.batches.create(requests=requests)
    assert created.id == BATCH
    return list(client.messages.batches.results(BATCH))


@pytest.mark.parametrize("route", ["instrument()", "log_call"])
def test_creating_a_batch_and_reading_its_results_writes_one_event_per_result(route: str) -> None:
    """The creation's id and request count; each result with its custom id, outcome, usage and batch cost."""
    client = batches_api().client(max_retries=0)
    if route == "instrument()":
        claude_logging.instrument()
    with capture_events() as events, claude_logging.context(tenant_id="acme"):
        if route == "log_call":
            with claude_logging.log_call():
                results = create_and_read(client)
        else:
            results = create_and_read(client)

    assert [result.custom_id for result in results] == list("abcd")  # the SDK's objects, unchanged
    per_result = [event for event in events if event.get("operation") == "batch_result"]
    assert [
        (e["batch_custom_id"], e["batch_result_type"], e["outcome"], e["input_tokens"], e["output_tokens"])
        for e in per_result
    ] == [
        ("a", "succeeded", "success", 1000, 200),
        ("b", "succeeded", "success", 4000, 10),
        ("c", "errored", "error", None, None),
        ("d", "expired", "incomplete", None, None),
    ]
    assert [e.get("cost_usd") for e in per_result[:2]] == [
        pytest.approx(batch_cost(1000, 200)),
        pytest.approx(batch_cost(4000, 10)),
    ]
    assert per_result[2]["api_error_type"] == "invalid_request_error"
    assert {(e["batch_id"], e["tenant_id"]) for e in per_result} == {(BATCH, "acme")}
    others = [event for event in events if event.get("operation") != "batch_result"]
    if route == "instrument()":
        created = next(e for e in others if e.get("batch_requests"))
        assert (created["batch_id"], created["batch_requests"], created["outcome"]) == (BATCH, 4, "success")
        assert all(e.get("cost_usd") is None and e["input_tokens"] is None for e in others)
    else:
        (scope,) = others  # the scope's own event: three requests, no usage of its own
        assert (scope["api_calls"], scope["input_tokens"]) == (3, None)


def test_batch_results_reach_the_report_at_the_batch_price(tmp_path: Path) -> None:
    """End to end: stdout of a real process, then `claude-logging report`: the batch's spend is counted."""
    script = """
import json, claude_logging
import tests_batches_support as support
claude_logging.instrument()
support.create_and_read(support.batches_api().client(max_retries=0))
"""
    support = tmp_path / "tests_batches_support.py"
    support.write_text(Path(__file__).read_text(encoding="utf-8"))  # this very module
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True, cwd=tmp_path
    )
    log = tmp_path / "app.log"
    log.write_text(done.stdout)
    report = subprocess.run(
        [sys.executable, "-m", "claude_logging", "report", str(log), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    summary = json.loads(report.stdout)["summary"]
    assert summary["input_tokens"] == 5000
    assert summary["cost_usd"] == pytest.approx(batch_cost(1000, 200) + batch_cost(4000, 10), abs=1e-6)


def test_the_sdk_still_reads_the_results_itself_when_nothing_observes() -> None:
    """With nothing instrumented and no scope, results are the SDK's and no event is written."""
    client = batches_api().client(max_retries=0)
    with capture_events() as events:
        results = create_and_read(client)
    assert len(results) == len(RESULTS)
    assert events == []
    assert isinstance(results[0].result, anthropic.types.messages.MessageBatchSucceededResult)
