"""Fault matrix, group H: `claude-logging report` and the CLI against hostile log files and names.

Log fields are written by whoever can reach the application (a tenant id, a model name from a
proxy), so the report treats them as hostile: nothing they hold may drive the terminal, run in a
spreadsheet, break a table, exhaust the disk or crash the report. `dashboards export` never
writes through a planted link nor replaces a file unasked.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from claude_logging._cli import main
from claude_logging._report._engine import Options
from claude_logging._report._run import build

if TYPE_CHECKING:
    from pathlib import Path

CLI = [sys.executable, "-m", "claude_logging"]
MAX_LINE_BYTES = 16 * 1024 * 1024
"""DuckDB's object limit, as the report uses it."""
OSC8_LINK = "\x1b]8;;https://evil.example/\x1b\\click here"
"""An OSC 8 hyperlink left open: everything the terminal prints after it becomes the link."""
HOSTILE = {
    "model": "claude-sonnet-4-6\x1b[2J\x1b[31m",
    "error_type": "anthropic.Error\x07\x1b]0;pwned\x07",
    "tenant_id": OSC8_LINK + " " * 40,
    "team": "red\nteam | x\r\x1b[1A\u202e",
}


def event(second: int, **fields: Any) -> dict[str, Any]:
    """A flat event line as the library writes it, with `fields` replacing its values."""
    record: dict[str, Any] = {
        "timestamp": f"2026-11-24T12:00:{second:02d}.000000Z",
        "level": "info",
        "event": "claude.call",
        "outcome": "success",
        "model": "claude-sonnet-4-6",
        "input_tokens": 100,
        "output_tokens": 10,
        "latency_ms": 120.0,
        "status_code": 200,
        "error_type": None,
        "tenant_id": "acme",
        "cost_usd": 0.01,
    }
    record.update(fields)
    return record


def write(path: Path, records: list[dict[str, Any]], extra: tuple[str, ...] = ()) -> Path:
    """`records` as JSON lines, then the `extra` raw lines."""
    path.write_text(
        "".join(json.dumps(record) + "\n" for record in records) + "".join(f"{x}\n" for x in extra)
    )
    return path


def hostile_log(tmp_path: Path) -> Path:
    """Events whose model, error type, tenant and a custom field hold terminal and Markdown controls."""
    records = [event(0), event(1, **HOSTILE), event(2, outcome="error", level="error", **HOSTILE)]
    return write(tmp_path / "hostile.log", records)


def report(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in process: (exit status, stdout, stderr)."""
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def controls(text: str) -> list[str]:
    """The control and format characters of `text`, line breaks aside."""
    return [char for char in text if not char.isprintable() and char != "\n"]


# -- H1 to H4: what the report prints --------------------------------------------------------------


@pytest.mark.parametrize("output", ["table", "markdown"])
def test_terminal_controls_in_fields_are_shown_escaped_never_sent(output, tmp_path, capsys):
    """Row H1: escape sequences in the model, error type, tenant and `--by` columns are printed as text.

    Escaped before the column is cut, so a cut never leaves an OSC 8 link open.
    """
    path = hostile_log(tmp_path)
    status, out, _ = report(capsys, "report", str(path), "--by", "team", "--format", output)

    assert status == 0
    assert controls(out) == []
    shown = out.replace("\\\\", "\\") if output == "markdown" else out  # as Markdown renders it
    assert "claude-sonnet-4-6\\x1b" in shown  # the model column, cut after the escape is shown
    assert "8;;https://evil.example/" in shown  # the tenant's link, as text


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted_as_text(tmp_path, capsys):
    """Row H2: a group starting with `=`, `+`, `-` or `@` gets a leading `'` (OWASP), numbers stay numbers."""
    formulas = ['=HYPERLINK("http://evil")', "+1+2", "-2+3", "@SUM(A1)"]
    records = [event(index, tenant_id=formula) for index, formula in enumerate(formulas)]
    path = write(tmp_path / "formulas.log", records)

    status, out, _ = report(capsys, "report", str(path), "--format", "csv")

    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    groups = {row["group"] for row in rows if row["section"] == "tenants"}
    assert groups == {"'" + formula for formula in formulas}
    assert all(not row["group"].startswith(("=", "+", "-", "@")) for row in rows)
    assert float(next(row["value"] for row in rows if row["metric"] == "cost_usd")) > 0


def test_a_newline_or_pipe_in_a_markdown_cell_keeps_the_table_whole(tmp_path, capsys):
    """Row H3: every row of a Markdown table has the header's number of cells, on one line."""
    path = hostile_log(tmp_path)
    status, out, _ = report(capsys, "report", str(path), "--by", "team", "--format", "markdown")

    assert status == 0
    section = out.split("## By team", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.strip()]
    cells = [len(line.replace("\\|", "").split("|")) for line in rows]
    assert rows[0].startswith("| team |")
    assert len(rows) == 4  # header, rule, the hostile team, (none)
    assert all(line.startswith("|") and line.endswith("|") for line in rows)
    assert len(set(cells)) == 1


def test_cli_messages_show_file_and_field_names_escaped(tmp_path, capsys):
    """Row H4: a missing file's name, the `--html` name and a `--by` name are printed escaped."""
    status, _, err = report(capsys, "report", str(tmp_path / "missing\x1b[2J.log"))
    assert status == 2
    assert controls(err) == []
    assert "missing\\x1b[2J.log" in err

    page = tmp_path / "page\x1b]0;x\x07.html"
    status, out, err = report(
        capsys, "report", str(hostile_log(tmp_path)), "--by", "te\x1bam", "--html", str(page)
    )
    assert status == 0
    assert page.exists()
    assert controls(out + err) == []
    assert "By te\\x1bam" in out


def test_the_html_page_of_hostile_fields_renders_as_text_in_chromium(tmp_path, capsys):
    """Row H1: a page of hostile fields: tags stay text, no script runs, every chart still renders."""
    from test_report import chromium, render_in_chromium

    browser = chromium()
    injected = '<img src=x onerror="document.title=1">'
    records = [event(0), event(3, tenant_id=injected, model=HOSTILE["model"]), event(9, cost_usd=0.5)]
    page = tmp_path / "report.html"
    assert main(["report", str(write(tmp_path / "e.log", records)), "--html", str(page)]) == 0
    capsys.readouterr()

    dom, console = render_in_chromium(browser, page)

    assert 'data-charts="4"' in dom
    assert "<img" not in dom
    assert "&lt;img src=x" in dom
    assert console == []


# -- H5 to H7: what the report reads -----------------------------------------------------------------


def test_a_gzip_bomb_stops_at_the_unpacked_limit_with_a_clear_error(tmp_path, capsys):
    """Row H5: 64 MiB of zeros in a 64 KiB .gz stops at --max-unpacked, naming the option; no traceback."""
    bomb = tmp_path / "bomb.log.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as out:
        for _ in range(64):
            out.write(b"\0" * 1024 * 1024)
    assert bomb.stat().st_size < 200_000

    status, out, err = report(capsys, "report", str(bomb), "--max-unpacked", "16M")

    assert status == 2
    assert out == ""
    assert "unpacks to more than 16 MiB" in err
    assert "--max-unpacked" in err


def test_endless_stdin_stops_at_the_unpacked_limit():
    """Row H5: `report - < /dev/zero` ends with exit 2 and a clear error instead of filling the disk."""
    with open("/dev/zero", "rb") as zeros:  # noqa: PTH123 - a device, not a path we build
        result = subprocess.run(
            [*CLI, "report", "-", "--max-unpacked", "8M"],
            stdin=zeros,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 2, result.stderr
    assert "standard input unpacks to more than 8 MiB" in result.stderr
    assert "Traceback" not in result.stderr


def test_unpacking_stops_before_the_temporary_directory_fills(tmp_path, capsys, monkeypatch):
    """Row H5: when the temporary directory is nearly full, unpacking stops with the advice to set TMPDIR."""
    packed = tmp_path / "events.log.gz"
    packed.write_bytes(gzip.compress(b"".join(json.dumps(event(i)).encode() + b"\n" for i in range(10))))
    real = shutil.disk_usage

    def nearly_full(path: Any) -> Any:
        """The real figures, but only 1 KiB free."""
        total, used, _ = real(path)
        return type(real(path))(total, used, 1024)

    monkeypatch.setattr(shutil, "disk_usage", nearly_full)
    status, _, err = report(capsys, "report", str(packed))

    assert status == 2
    assert "set TMPDIR" in err


def test_an_overlong_line_and_a_repeated_key_are_malformed_not_fatal(tmp_path, capsys):
    """Row H6: a line over DuckDB's 16 MiB object limit or with a field the report reads twice is malformed.

    The fast and exact readers agree, and the other events are reported. A field the report does
    not read may repeat (`feature`), unless `--by` reads it.
    """
    good = json.dumps(event(0))
    repeated = good[:-1] + ', "model": "claude-haiku-4-5"}'
    repeated_extra = good[:-1] + ', "feature": "a", "feature": "b"}'
    overlong = json.dumps(event(1, padding="x" * (MAX_LINE_BYTES + 1024)))
    huge = json.dumps(event(2, padding="x" * (2 * MAX_LINE_BYTES + 1024)))
    path = tmp_path / "big.log"
    path.write_text(f"{good}\n{repeated}\n{repeated_extra}\n{overlong}\n{huge}\n{good}\n")

    for options, events, malformed in ((Options(), 3, 3), (Options(by="feature"), 2, 4)):
        exact = build([str(path)], options, fast=False).as_dict()
        fast = build([str(path)], options).as_dict()
        assert exact == fast
        assert (fast["lines"]["events"], fast["lines"]["malformed"]) == (events, malformed)
    status, out, err = report(capsys, "report", str(path))

    assert status == 0
    assert "3 events from 6 lines" in out
    assert "3 malformed lines ignored" in err


@pytest.mark.parametrize("fast", [True, False])
def test_a_cost_of_nan_or_infinity_never_reaches_the_total(fast, tmp_path):
    """Row H7: `NaN`/`Infinity` (not JSON) make a line malformed; `1e999` (read as infinity) is missing."""
    lines = [
        json.dumps(event(0, cost_usd=0.25)),
        json.dumps(event(1, cost_usd=0.5)).replace("0.5", "NaN"),
        json.dumps(event(2, cost_usd=0.5)).replace("0.5", "-Infinity"),
        json.dumps(event(3, cost_usd=0.5)).replace("0.5", "1e999"),
        json.dumps(event(4, cost_usd=0.5, latency_ms=0.5)).replace("0.5", "1e999"),
    ]
    path = tmp_path / "nan.log"
    path.write_text("\n".join(lines) + "\n")

    data = build([str(path)], Options(), fast=fast).as_dict()

    assert data["lines"]["malformed"] == 2
    assert data["summary"]["calls"] == 3
    assert data["summary"]["cost_usd"] == 0.25
    assert all(
        math.isfinite(value)
        for value in (data["summary"]["p99_latency_ms"], data["projection"]["per_day_usd"])
    )


# -- H8: the files dashboards export writes ----------------------------------------------------------


def test_export_refuses_to_write_through_a_planted_symlink(tmp_path, capsys):
    """Row H8: a link in --out pointing elsewhere: nothing written anywhere, the target untouched."""
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / "dashboard.json").symlink_to(victim)

    for force in ([], ["--force"]):
        status, _, err = report(
            capsys, "dashboards", "export", "--backend", "datadog", "--out", str(out), *force
        )
        assert status == 1
        assert "symbolic link" in err
        assert victim.read_text() == "precious"
        assert sorted(path.name for path in out.iterdir()) == ["dashboard.json"]


def test_export_refuses_to_overwrite_without_force(tmp_path, capsys):
    """Row H8: files already there are kept unless --force; with it they are replaced."""
    out = tmp_path / "out"
    assert report(capsys, "dashboards", "export", "--backend", "clickhouse", "--out", str(out))[0] == 0
    written = sorted(out.iterdir())
    written[0].write_text("edited by hand")

    status, _, err = report(capsys, "dashboards", "export", "--backend", "clickhouse", "--out", str(out))
    assert status == 1
    assert "pass --force" in err
    assert written[0].read_text() == "edited by hand"

    status, _, _ = report(
        capsys, "dashboards", "export", "--backend", "clickhouse", "--out", str(out), "--force"
    )
    assert status == 0
    assert written[0].read_text() != "edited by hand"
