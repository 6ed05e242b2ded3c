"""The report as text: a terminal table (fits 100 columns), Markdown, CSV (tidy) and JSON."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from claude_logging._sanitize import show_controls

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from claude_logging._report._engine import Report

# -- number formats ------------------------------------------------------------------------------------


def usd(value: float | None) -> str:
    """`$12.34`, `$0.0123`, `$0.000012`; `-` when unknown."""
    if value is None:
        return "-"
    if value >= 1:
        return f"${value:,.2f}"
    if value >= 0.0001 or value == 0:
        return f"${value:.4f}"
    return f"${value:.2g}"


def tokens(value: float | None) -> str:
    """`1,234`, `123.4k`, `12.35M`."""
    if value is None:
        return "-"
    if value < 10_000:
        return f"{value:,.0f}"
    if value < 1_000_000:
        return f"{value / 1000:.1f}k"
    return f"{value / 1_000_000:.2f}M"


def ms(value: float | None) -> str:
    """Milliseconds: `1,234`, `56.7`; `-` when unknown."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def percent(value: float | None) -> str:
    """`12.3%`."""
    return "-" if value is None else f"{value * 100:.1f}%"


def count(value: float | None) -> str:
    """`1,234`."""
    return "-" if value is None else f"{value:,.0f}"


def duration(seconds: float) -> str:
    """`2.1 s`, `14 min`, `3.5 h`, `12.0 d`."""
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def when(value: datetime | None) -> str:
    """`2026-11-24 12:00:00`."""
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


# -- tables --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    """One column: title, the row key it shows, how to format it, and the widest text it may take."""

    title: str
    key: str
    format: Callable[[Any], str] = str
    max_width: int = 40
    left: bool = False


def cell(column: Column, row: dict[str, Any]) -> str:
    """The formatted text of `column` in `row`, control characters shown escaped, then cut to width.

    Escaping comes first, so a cut can never leave a terminal sequence (an OSC 8 link) open.
    """
    value = row.get(column.key)
    text = show_controls("-" if value is None and column.format is str else column.format(value))
    return text if len(text) <= column.max_width else text[: column.max_width - 1] + "…"


_MARKDOWN_SPECIAL: Final = str.maketrans({char: "\\" + char for char in "\\|<>[]`"})


def markdown_text(text: str) -> str:
    """`text` safe inside a Markdown table cell or heading: no line break, pipe, tag, link or code span."""
    return show_controls(text).translate(_MARKDOWN_SPECIAL)


_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: object) -> object:
    """A CSV cell that no spreadsheet runs as a formula: text starting `= + - @` gets a `'` first (OWASP)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def table(columns: list[Column], rows: list[dict[str, Any]]) -> list[str]:
    """Aligned text lines: a header, then one line per row."""
    cells = [[cell(column, row) for column in columns] for row in rows]
    widths = [max([len(column.title)] + [len(line[i]) for line in cells]) for i, column in enumerate(columns)]

    def line(values: list[str]) -> str:
        parts = [
            value.ljust(width) if column.left else value.rjust(width)
            for value, width, column in zip(values, widths, columns, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return [line([column.title for column in columns]), *(line(values) for values in cells)]


def markdown_table(columns: list[Column], rows: list[dict[str, Any]]) -> list[str]:
    """A GitHub-flavoured Markdown table."""
    head = "| " + " | ".join(column.title for column in columns) + " |"
    rule = "|" + "|".join(":---" if column.left else "---:" for column in columns) + "|"
    body = ["| " + " | ".join(markdown_text(cell(column, row)) for column in columns) + " |" for row in rows]
    return [head, rule, *body]


MODEL_COLUMNS: Final = [
    Column("model", "key", max_width=22, left=True),
    Column("calls", "calls", count),
    Column("err%", "error_rate", percent),
    Column("p50 ms", "p50_latency_ms", ms),
    Column("p95 ms", "p95_latency_ms", ms),
    Column("p99 ms", "p99_latency_ms", ms),
    Column("ttft50", "p50_ttft_ms", ms),
    Column("ttft95", "p95_ttft_ms", ms),
    Column("tokens", "tokens", tokens),
    Column("cost", "cost_usd", usd),
]
BILL_COLUMNS: Final = [
    Column("model", "key", max_width=32, left=True),
    Column("cache hit", "cache_hit_rate", percent),
    Column("thinking", "thinking_share", percent),
    Column("truncated", "truncation_rate", percent),
    Column("refused", "refusal_rate", percent),
    Column("min req left", "min_requests_remaining", count),
]
"""What explains a model's bill and its limits: cache reuse, thinking, stop reasons, rate-limit headroom."""
ERROR_COLUMNS: Final = [
    Column("error type", "error_type", max_width=40, left=True),
    Column("status", "status_code", lambda value: "-" if value is None else str(value)),
    Column("calls", "calls", count),
    Column("share", "share_of_errors", percent),
]


def group_columns(title: str) -> list[Column]:
    """Columns of a per-tenant (or `--by` field) section."""
    return [
        Column(title, "key", max_width=32, left=True),
        Column("calls", "calls", count),
        Column("err%", "error_rate", percent),
        Column("p95 ms", "p95_latency_ms", ms),
        Column("tokens", "tokens", tokens),
        Column("cost", "cost_usd", usd),
    ]


TIMELINE_COLUMNS: Final = [
    Column("bucket (UTC)", "bucket", when, left=True),
    Column("calls", "calls", count),
    Column("errors", "errors", count),
    Column("err%", "error_rate", percent),
    Column("p95 ms", "p95_latency_ms", ms),
    Column("cost", "cost_usd", usd),
]


# -- the whole report --------------------------------------------------------------------------------


def headline(report: Report) -> list[str]:
    """The summary lines above the tables."""
    lines, summary = report.lines, report.summary
    skipped = []
    if lines["other"]:
        skipped.append(f"{lines['other']:,} other log lines skipped")
    if lines["malformed"]:
        skipped.append(f"{lines['malformed']:,} malformed lines ignored")
    if lines.get("runs"):
        skipped.append(f"{lines['runs']:,} agent-run rollups (claude.run) not counted again")
    text = [
        f"{lines['events']:,} events from {lines['lines']:,} lines"
        + (f" ({', '.join(skipped)})" if skipped else "")
    ]
    calls = summary.get("calls") or 0
    if not calls:
        return [*text, "No Claude call events to report."]
    text += [
        f"from {when(summary['first'])} to {when(summary['last'])} UTC ({duration(summary['span_s'])})",
        (
            f"calls {calls:,}  |  errors {summary['errors']:,} ({percent(summary['error_rate'])})  |  "
            f"status 429: {percent(summary['share_429'])}  |  status 529: {percent(summary['share_529'])}"
        ),
        (
            f"tokens {tokens(summary['tokens'])} (in {tokens(summary['input_tokens'])}, out "
            f"{tokens(summary['output_tokens'])}, cache read {tokens(summary['cache_read_input_tokens'])}, "
            f"cache write {tokens(summary['cache_creation_input_tokens'])})"
        ),
    ]
    unpriced = summary["unpriced_calls"]
    incomplete = summary.get("cost_incomplete_calls") or 0
    notes = [f"{unpriced:,} calls without a price"] if unpriced else []
    notes += [f"{incomplete:,} calls whose cost is a lower bound"] if incomplete else []
    text.append(f"cost {usd(summary['cost_usd'])}" + (f" ({', '.join(notes)})" if notes else ""))
    shares = [
        f"cache hit {percent(summary.get('cache_hit_rate'))}",
        f"thinking {percent(summary.get('thinking_share'))} of output",
        f"truncated {percent(summary.get('truncation_rate'))}",
        f"refused {percent(summary.get('refusal_rate'))}",
    ]
    text.append("  |  ".join(shares))
    if summary.get("min_requests_remaining") is not None:
        text.append(
            f"rate-limit headroom (lowest seen): requests {count(summary['min_requests_remaining'])}, "
            f"input tokens {tokens(summary.get('min_input_tokens_remaining'))}, output tokens "
            f"{tokens(summary.get('min_output_tokens_remaining'))}"
        )
    projection = report.projection
    if projection.get("per_day_usd") is not None:
        text.append(
            f"projected at the observed rate: {usd(projection['per_day_usd'])}/day, "
            f"{usd(projection['per_month_usd'])}/month (from {duration(projection['span_s'])} of data)"
        )
    return text


def sections(report: Report) -> list[tuple[str, list[Column], list[dict[str, Any]]]]:
    """(title, columns, rows) of each table, in the order they are shown."""
    if not report.summary.get("calls"):
        return []
    more = report.tenant_count - len(report.tenants)
    tenant_title = f"Top {len(report.tenants)} tenants by cost" + (
        f" (of {report.tenant_count})" if more > 0 else ""
    )
    result = [
        ("By model", MODEL_COLUMNS, report.models),
        ("Cache, thinking, stop reasons and headroom by model", BILL_COLUMNS, report.models),
        ("Errors by type and status", ERROR_COLUMNS, report.errors),
        (tenant_title, group_columns("tenant"), report.tenants),
    ]
    if report.group_field:
        field_name = show_controls(report.group_field)
        result.append((f"By {field_name}", group_columns(field_name), report.groups))
    result.append(
        (f"Over time ({duration(report.bucket_s or 0)} buckets)", TIMELINE_COLUMNS, report.timeline)
    )
    return result


def terminal(report: Report) -> str:
    """The default output: headline and tables, each line at most 100 characters."""
    out = headline(report)
    for title, columns, rows in sections(report):
        out += ["", title, *(table(columns, rows) if rows else ["(none)"])]
    return "\n".join(out) + "\n"


def markdown(report: Report) -> str:
    """The report as Markdown: the headline as a list, each section as a table."""
    out = ["# Claude calls report", "", *(f"- {line}" for line in headline(report))]
    for title, columns, rows in sections(report):
        out += [
            "",
            f"## {markdown_text(title)}",
            "",
            *(markdown_table(columns, rows) if rows else ["(none)"]),
        ]
    return "\n".join(out) + "\n"


def as_json(report: Report) -> str:
    """The report as one JSON document (raw numbers)."""
    return json.dumps(report.as_dict(), indent=2, sort_keys=False) + "\n"


def as_csv(report: Report) -> str:
    """The report as tidy CSV: `section,group,metric,value`, one figure per row (raw numbers)."""
    data = report.as_dict()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["section", "group", "metric", "value"])
    for section in ("lines", "summary", "projection"):
        for metric, value in data[section].items():
            writer.writerow([section, "", metric, "" if value is None else value])
    tables = {
        "models": data["models"],
        "tenants": data["tenants"]["top"],
        "groups": data["groups"]["rows"],
        "timeline": data["timeline"]["rows"],
    }
    for section, rows in tables.items():
        group_key = "bucket" if section == "timeline" else "key"
        for row in rows:
            for metric, value in row.items():
                if metric != group_key:
                    writer.writerow(
                        [section, csv_text(row[group_key]), metric, "" if value is None else value]
                    )
    for row in data["errors"]:
        group = f"{row['error_type']}|{'' if row['status_code'] is None else row['status_code']}"
        for metric in ("calls", "share_of_errors"):
            writer.writerow(["errors", csv_text(group), metric, row[metric]])
    return buffer.getvalue()


RENDERERS: Final[dict[str, Callable[[Report], str]]] = {
    "table": terminal,
    "json": as_json,
    "csv": as_csv,
    "markdown": markdown,
}
