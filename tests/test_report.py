"""claude-logging report: figures against an independent computation, messy inputs, every format."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from typing import TYPE_CHECKING

import pytest

from claude_logging._cli import main
from claude_logging._report._engine import bucket_seconds
from claude_logging._report._reader import LineCounts, ProgressBar, chunks, normalise, normalise_chunk

if TYPE_CHECKING:
    from pathlib import Path

CLI = [sys.executable, "-m", "claude_logging"]


def event(second, model, latency, *, tenant="acme", outcome="success", status=200, cost=0.01, **extra):
    """A flat event line as the library writes it (only the fields the report reads, plus extras)."""
    record = {
        "timestamp": f"2026-11-24T12:00:{second:02d}.000000Z",
        "level": "info" if outcome == "success" else "error",
        "event": "claude.call",
        "outcome": outcome,
        "model": model,
        "input_tokens": 100 if outcome == "success" else None,
        "output_tokens": 10 if outcome == "success" else None,
        "cache_read_input_tokens": 5 if outcome == "success" else None,
        "cache_creation_input_tokens": 0 if outcome == "success" else None,
        "max_tokens": 256,
        "latency_ms": latency,
        "status_code": status,
        "error_type": None if outcome == "success" else f"anthropic.E{status}",
        "tenant_id": tenant,
        "user_id": "u-1",
    }
    if outcome == "success":
        record["cost_usd"] = cost
    record.update(extra)
    return record


EVENTS = [
    event(0, "claude-sonnet-4-6", 120.0, cost=0.02, time_to_first_token_ms=40.0, feature="search"),
    event(1, "claude-sonnet-4-6", 80.0, cost=0.03, time_to_first_token_ms=55.0, feature="search"),
    event(2, "claude-sonnet-4-6-20260217", 300.0, tenant="globex", cost=0.05, feature="chat"),
    event(3, "claude-sonnet-4-6", 95.5, outcome="error", status=429, tenant="globex"),
    event(5, "claude-haiku-4-5", 20.0, tenant="initech", cost=0.001),
    event(8, "claude-haiku-4-5", 35.0, tenant="initech", cost=0.002, feature="chat"),
    event(9, "claude-haiku-4-5", 1500.0, outcome="error", status=529, tenant="acme"),
    event(13, "claude-sonnet-4-6", 60.0, cost=0.04, time_to_first_token_ms=30.0),
    event(20, "claude-haiku-4-5", 25.0, outcome="cancelled", status=None, tenant="globex"),
]


def write_lines(path: Path, records, extra_lines=()) -> Path:
    lines = [json.dumps(record) for record in records] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def report_json(capsys, *args) -> dict:
    assert main(["report", *map(str, args), "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def quantiles(values):
    """Exact interpolated percentiles p50/p95/p99, computed without the report's engine."""
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


# -- figures -------------------------------------------------------------------------------------------


def test_summary_figures_equal_an_independent_computation(tmp_path, capsys):
    """Calls, errors, tokens, cost and latency percentiles over the whole file."""
    data = report_json(capsys, write_lines(tmp_path / "events.log", EVENTS))

    summary = data["summary"]
    errors = [e for e in EVENTS if e["outcome"] != "success"]
    assert summary["calls"] == len(EVENTS)
    assert summary["errors"] == len(errors)
    assert summary["error_rate"] == pytest.approx(len(errors) / len(EVENTS))
    assert summary["cost_usd"] == pytest.approx(sum(e.get("cost_usd", 0) for e in EVENTS))
    assert summary["input_tokens"] == sum(e["input_tokens"] or 0 for e in EVENTS)
    expected = quantiles([e["latency_ms"] for e in EVENTS])
    actual = (summary["p50_latency_ms"], summary["p95_latency_ms"], summary["p99_latency_ms"])
    assert actual == pytest.approx(expected)
    assert summary["share_429"] == pytest.approx(1 / len(EVENTS))
    assert summary["share_529"] == pytest.approx(1 / len(EVENTS))
    assert summary["span_s"] == 20.0
    assert data["projection"]["per_day_usd"] == pytest.approx(summary["cost_usd"] / 20 * 86400)
    assert data["projection"]["per_month_usd"] == pytest.approx(summary["cost_usd"] / 20 * 86400 * 30)


def test_per_model_figures_group_dated_ids_with_their_alias(tmp_path, capsys):
    """Sonnet rows (alias and dated id) are one model; percentiles and TTFT per model are exact."""
    data = report_json(capsys, write_lines(tmp_path / "events.log", EVENTS))

    models = {row["key"]: row for row in data["models"]}
    assert set(models) == {"claude-sonnet-4-6", "claude-haiku-4-5"}
    sonnet = [e for e in EVENTS if e["model"].startswith("claude-sonnet-4-6")]
    row = models["claude-sonnet-4-6"]
    assert row["calls"] == len(sonnet)
    assert row["error_rate"] == pytest.approx(1 / len(sonnet))
    expected = quantiles([e["latency_ms"] for e in sonnet])
    assert (row["p50_latency_ms"], row["p95_latency_ms"], row["p99_latency_ms"]) == pytest.approx(expected)
    ttft = [e["time_to_first_token_ms"] for e in sonnet if "time_to_first_token_ms" in e]
    assert (row["p50_ttft_ms"], row["p95_ttft_ms"]) == pytest.approx(quantiles(ttft)[:2])
    assert row["cost_usd"] == pytest.approx(sum(e.get("cost_usd", 0) for e in sonnet))
    assert [r["key"] for r in data["models"]] == ["claude-sonnet-4-6", "claude-haiku-4-5"]  # by cost


BILL_EVENTS = [
    event(
        0,
        "us.anthropic.claude-sonnet-4-6-v1:0",
        100.0,
        canonical_model="claude-sonnet-4-6",
        stop_reason="max_tokens",
        thinking_output_tokens=4,
        ratelimit_requests_remaining=40,
        cost_incomplete=True,
    ),
    event(1, "claude-sonnet-4-6@20260101", 100.0, canonical_model="claude-sonnet-4-6", stop_reason="refusal"),
    event(2, "claude-sonnet-4-6", 100.0, canonical_model="claude-sonnet-4-6", stop_reason="end_turn"),
    event(3, "claude-sonnet-4-6", 90.0, outcome="error", status=429, ratelimit_requests_remaining=0),
    event(4, "claude-haiku-4-5", 10.0, canonical_model="claude-haiku-4-5", stop_reason="end_turn"),
]


def test_bill_figures_group_platform_ids_under_one_model(tmp_path, capsys):
    """Bedrock, Vertex and first-party ids are one model; cache, thinking, stop and headroom figures exact."""
    data = report_json(capsys, write_lines(tmp_path / "events.log", BILL_EVENTS))

    models = {row["key"]: row for row in data["models"]}
    assert set(models) == {"claude-sonnet-4-6", "claude-haiku-4-5"}
    sonnet = models["claude-sonnet-4-6"]
    assert sonnet["calls"] == 4
    # each success: 100 input, 5 cache read, 0 write -> 3 x 5 / 3 x 105
    assert sonnet["cache_hit_rate"] == pytest.approx(15 / 315)
    assert sonnet["thinking_share"] == pytest.approx(4 / 30)
    assert (sonnet["truncation_rate"], sonnet["refusal_rate"]) == pytest.approx((1 / 3, 1 / 3))
    assert sonnet["min_requests_remaining"] == 0
    assert data["summary"]["cost_incomplete_calls"] == 1
    assert models["claude-haiku-4-5"]["thinking_share"] == 0


def test_the_table_shows_the_bill_section_and_headroom(tmp_path, capsys):
    """The terminal report names the section and the lowest headroom seen."""
    assert main(["report", str(write_lines(tmp_path / "events.log", BILL_EVENTS))]) == 0
    out = capsys.readouterr().out

    assert "Cache, thinking, stop reasons and headroom by model" in out
    assert "rate-limit headroom (lowest seen): requests 0" in out
    assert "1 calls whose cost is a lower bound" in out


def test_errors_by_type_and_status_with_their_share(tmp_path, capsys):
    """Each (error type, status) pair with its share of all errors; cancelled calls count."""
    data = report_json(capsys, write_lines(tmp_path / "events.log", EVENTS))

    rows = {(r["error_type"], r["status_code"]): r for r in data["errors"]}
    assert set(rows) == {("anthropic.E429", 429), ("anthropic.E529", 529), ("anthropic.ENone", None)}
    assert all(r["calls"] == 1 and r["share_of_errors"] == pytest.approx(1 / 3) for r in rows.values())


def test_tenants_are_ranked_by_cost_and_cut_to_top_n(tmp_path, capsys):
    """--top 2 keeps the two most expensive tenants and reports how many there are."""
    data = report_json(capsys, write_lines(tmp_path / "events.log", EVENTS), "--top", "2")

    costs: dict[str, float] = {}
    for e in EVENTS:
        costs[e["tenant_id"]] = costs.get(e["tenant_id"], 0) + e.get("cost_usd", 0)
    ranked = sorted(costs, key=costs.get, reverse=True)[:2]
    assert [row["key"] for row in data["tenants"]["top"]] == ranked
    assert data["tenants"]["count"] == 3
    assert data["tenants"]["top"][0]["cost_usd"] == pytest.approx(costs[ranked[0]])


def test_by_a_custom_field_and_where_filters(tmp_path, capsys):
    """--by feature groups on an extra field; --where keeps only matching events."""
    path = write_lines(tmp_path / "events.log", EVENTS)

    data = report_json(capsys, path, "--by", "feature")
    groups = {row["key"]: row["calls"] for row in data["groups"]["rows"]}
    assert groups == {"search": 2, "chat": 2, "(none)": 5}

    data = report_json(capsys, path, "--where", "tenant_id=globex", "--where", "outcome=error")
    assert data["summary"]["calls"] == 1


def test_since_and_until_select_a_time_window(tmp_path, capsys):
    """ISO times bound the window: since is inclusive, until exclusive."""
    path = write_lines(tmp_path / "events.log", EVENTS)

    data = report_json(capsys, path, "--since", "2026-11-24T12:00:02Z", "--until", "2026-11-24T12:00:13Z")

    assert data["summary"]["calls"] == len([e for e in EVENTS if "00:02" <= e["timestamp"][14:19] < "00:13"])


def test_a_field_named_like_the_engines_own_column_can_be_grouped_and_filtered(tmp_path, capsys):
    """An extra field called `ts` works with --by and --since together."""
    path = write_lines(tmp_path / "events.log", [{**record, "ts": "x"} for record in EVENTS])

    data = report_json(capsys, path, "--by", "ts", "--since", "2026-11-24T12:00:02Z")

    assert data["summary"]["calls"] == len([e for e in EVENTS if e["timestamp"][14:19] >= "00:02"])
    assert [row["key"] for row in data["groups"]["rows"]] == ["x"]


def test_lone_surrogate_escapes_are_repaired_not_fatal(tmp_path, capsys):
    """A line with a lone surrogate escape (valid JSON, not Unicode) is read with U+FFFD in its place."""
    broken = json.dumps({**EVENTS[0], "tenant_id": "bad\ud800x"})
    path = tmp_path / "events.log"
    path.write_text(broken + "\n" + "\n".join(json.dumps(record) for record in EVENTS[1:]) + "\n")

    data = report_json(capsys, path)

    assert data["summary"]["calls"] == len(EVENTS)
    assert "bad\ufffdx" in [row["key"] for row in data["tenants"]["top"]]


def test_time_buckets_are_sized_to_the_span():
    """Small spans get second buckets, a day gets hour-sized ones; never more than 36 buckets."""
    assert bucket_seconds(0) == 1
    assert bucket_seconds(20) == 1
    assert bucket_seconds(86400) == 3600
    assert 30 * 86400 / bucket_seconds(30 * 86400) < 36


def test_timeline_buckets_hold_every_call(tmp_path, capsys):
    """The buckets' calls add up to all calls, errors too."""
    data = report_json(capsys, write_lines(tmp_path / "events.log", EVENTS))

    rows = data["timeline"]["rows"]
    assert data["timeline"]["bucket_s"] == 1
    assert sum(r["calls"] for r in rows) == len(EVENTS)
    assert sum(r["errors"] for r in rows) == 3


# -- messy inputs --------------------------------------------------------------------------------------


def test_mixed_malformed_and_truncated_lines_are_counted_never_fatal(tmp_path, capsys):
    """App log lines and foreign JSON are skipped; broken JSON is counted and said on stderr."""
    truncated = json.dumps(EVENTS[0])[:57]
    path = write_lines(
        tmp_path / "mixed.log",
        EVENTS[:3],
        [
            "2026-11-24 12:00:00 INFO starting worker",
            '{"level":"info","msg":"GET /health 200"}',
            "",
            truncated,
            '{"event":"claude.call", "outcome": "succ',
            "[1, 2, 3]",
            "\x00\xff garbage",
        ],
    )

    assert main(["report", str(path), "--format", "json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["lines"] == {"lines": 10, "events": 3, "other": 4, "malformed": 2, "blank": 1, "runs": 0}
    assert data["summary"]["calls"] == 3
    assert "2 malformed lines ignored" in captured.err


def test_empty_input_reports_no_events(tmp_path, capsys):
    """An empty file is a report with nothing in it, not an error."""
    path = tmp_path / "empty.log"
    path.write_text("")

    assert main(["report", str(path)]) == 0

    assert "No Claude call events to report." in capsys.readouterr().out


def test_gzip_files_and_several_files_are_read_together(tmp_path, capsys):
    """A .gz file and a plain one: all their events in one report."""
    plain = write_lines(tmp_path / "a.log", EVENTS[:4])
    packed = tmp_path / "b.log.gz"
    with gzip.open(packed, "wt") as out:
        out.write("\n".join(json.dumps(e) for e in EVENTS[4:]) + "\n")

    data = report_json(capsys, plain, packed)

    assert data["summary"]["calls"] == len(EVENTS)


def test_stdin_is_read_with_dash_or_no_file():
    """`report -` and a bare `report` read standard input."""
    text = "\n".join(json.dumps(e) for e in EVENTS) + "\n"
    for args in (["-"], []):
        result = subprocess.run(
            [*CLI, "report", *args, "--format", "json"],
            input=text,
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(result.stdout)["summary"]["calls"] == len(EVENTS)


def test_missing_file_is_a_clear_error(tmp_path, capsys):
    """A path that does not exist: exit 2 and its name on stderr."""
    assert main(["report", str(tmp_path / "nope.log")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_missing_duckdb_names_the_extra(tmp_path):
    """Without DuckDB installed the command says which extra brings it."""
    path = write_lines(tmp_path / "events.log", EVENTS)
    code = (
        "import sys; sys.modules['duckdb'] = None\n"
        "from claude_logging._cli import main\n"
        f"sys.exit(main(['report', {str(path)!r}]))"
    )

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)

    assert result.returncode == 3
    assert "pip install 'claude-logging[report]'" in result.stderr


# -- formats, parsed back -------------------------------------------------------------------------------


def test_terminal_table_fits_100_columns_and_names_every_model(tmp_path, capsys):
    """Every line of the default output is at most 100 characters."""
    assert main(["report", str(write_lines(tmp_path / "events.log", EVENTS)), "--by", "feature"]) == 0
    out = capsys.readouterr().out

    assert max(len(line) for line in out.splitlines()) <= 100
    assert "claude-sonnet-4-6" in out
    assert "claude-haiku-4-5" in out
    assert "cost $0.1430" in out  # 0.02 + 0.03 + 0.05 + 0.001 + 0.002 + 0.04


def test_csv_parses_back_to_the_json_figures(tmp_path, capsys):
    """Tidy CSV: every figure is a row `section,group,metric,value` equal to the JSON one."""
    path = write_lines(tmp_path / "events.log", EVENTS)
    data = report_json(capsys, path)
    assert main(["report", str(path), "--format", "csv"]) == 0

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))

    figures = {(r["section"], r["group"], r["metric"]): r["value"] for r in rows}
    assert float(figures[("summary", "", "cost_usd")]) == pytest.approx(data["summary"]["cost_usd"])
    for model in data["models"]:
        assert int(figures[("models", model["key"], "calls")]) == model["calls"]
        assert float(figures[("models", model["key"], "p95_latency_ms")]) == pytest.approx(
            model["p95_latency_ms"]
        )
    assert int(figures[("errors", "anthropic.E429|429", "calls")]) == 1


def test_markdown_tables_parse_back(tmp_path, capsys):
    """Markdown: each section is a pipe table whose rows carry the models' call counts."""
    assert main(["report", str(write_lines(tmp_path / "events.log", EVENTS)), "--format", "markdown"]) == 0
    out = capsys.readouterr().out

    section = out.split("## By model", 1)[1].split("##", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    body = [[cell.strip() for cell in line.strip("|").split("|")] for line in table[2:]]
    calls = {row[0]: int(row[header.index("calls")]) for row in body}
    assert calls == {"claude-sonnet-4-6": 5, "claude-haiku-4-5": 4}


# -- the pipeline from the README ----------------------------------------------------------------------


def test_demo_piped_into_report_prints_costs():
    """`claude-logging demo --calls N | claude-logging report`: every call counted, with costs."""
    demo = subprocess.run(
        [*CLI, "demo", "--calls", "40", "--seed", "7"], capture_output=True, check=True, timeout=120
    )
    result = subprocess.run([*CLI, "report"], input=demo.stdout, capture_output=True, check=True, timeout=60)
    out = result.stdout.decode()

    assert out.startswith("40 events from 40 lines")
    assert "cost $" in out
    assert "By model" in out


def test_demo_span_spreads_timestamps_over_simulated_history():
    """--span 1d: events start across the last day, in call order, latencies still measured."""
    demo = subprocess.run(
        [*CLI, "demo", "--calls", "30", "--seed", "2", "--span", "1d"],
        capture_output=True,
        check=True,
        timeout=120,
    )
    stamps = sorted(json.loads(line)["timestamp"] for line in demo.stdout.splitlines())

    first = stamps[0][:19]
    last = stamps[-1][:19]
    assert first[:10] != last[:10] or first[11:13] != last[11:13]  # hours apart, not seconds


# -- progress ------------------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_shows_only_on_a_terminal():
    """On a tty the bar is drawn and cleared; on a pipe nothing is written."""
    tty, pipe = Terminal(), io.StringIO()
    for stream in (tty, pipe):
        bar = ProgressBar(1000, stream, delay_s=0)
        bar(500)
        bar.close()

    assert "50.0%" in tty.getvalue()
    assert pipe.getvalue() == ""


# -- the HTML page in a real browser ---------------------------------------------------------------------


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


def render_in_chromium(browser: str, page: Path) -> tuple[str, list[str]]:
    """Load `page` offline in headless Chromium: the DOM after scripts ran, and console messages."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=2000",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        )
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    return result.stdout, console


def test_html_page_is_self_contained_and_its_charts_render_in_chromium(tmp_path, capsys):
    """Headless Chromium loads the page offline: 4 charts drawn, no console error, nothing fetched."""
    browser = chromium()
    page = tmp_path / "report.html"
    assert main(["report", str(write_lines(tmp_path / "e.log", EVENTS)), "--html", str(page)]) == 0
    capsys.readouterr()
    html = page.read_text()
    assert "src=" not in html
    assert "href=" not in html
    assert "@import" not in html

    dom, console = render_in_chromium(browser, page)

    assert 'data-charts="4"' in dom
    assert console == []


def test_byte_ranges_give_every_line_to_exactly_one_worker(tmp_path):
    """Split at every possible size, the ranges together read each line once, as one pass does."""
    path = write_lines(tmp_path / "events.log", EVENTS, ["not json", '{"broken": '])
    whole = io.BytesIO()
    expected = normalise([str(path)], whole)

    for size in (1, 7, 64, 333, 10_000):
        counts = LineCounts()
        parts = []
        for index, (start, end) in enumerate(chunks(str(path), size)):
            part = tmp_path / f"part-{size}-{index}"
            counts.add(normalise_chunk(str(path), start, end, str(part)))
            parts.append(part.read_bytes())
        assert counts == expected, size
        assert b"".join(parts) == whole.getvalue(), size


def test_a_big_file_is_read_by_parallel_workers_with_the_same_figures(tmp_path, capsys, monkeypatch):
    """With tiny chunks (forcing the worker pool) the report equals the single-pass one."""
    path = write_lines(tmp_path / "events.log", EVENTS * 20, ["app log line"] * 5)
    monkeypatch.setattr("claude_logging._report._run.CHUNK_BYTES", 10**9)
    single = report_json(capsys, path)
    monkeypatch.setattr("claude_logging._report._run.CHUNK_BYTES", 1000)
    parallel = report_json(capsys, path)

    assert parallel == single
    assert parallel["lines"]["events"] == len(EVENTS) * 20
