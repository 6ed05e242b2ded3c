"""The report as one self-contained HTML page: inline CSS and SVG charts, nothing fetched.

Charts are drawn here as SVG (latency percentiles over time, error rate over time, cost by tenant
and by model), so the page renders the same in any browser, offline, with or without JavaScript.
A few lines of inline script only mark the page once every chart has a drawn size
(`data-charts="N"` on `<body>`), which lets a test prove the charts render in a real browser.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any, Final

from claude_logging._report._text import cell, duration, headline, sections, usd, when

if TYPE_CHECKING:
    from claude_logging._report._engine import Report

_W: Final = 640
_H: Final = 220
_PAD: Final = (48, 16, 16, 28)  # left, right, top, bottom
_COLORS: Final = ("#2563eb", "#d97706", "#dc2626")

_STYLE: Final = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;
max-width:1360px;color:#1f2937;padding:0 16px}h1{font-size:22px;margin:0 0 8px}
h2{font-size:16px;margin:28px 0 8px}
ul.facts{list-style:none;padding:0;margin:0 0 12px}ul.facts li{margin:2px 0}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:16px}
figure{margin:0;border:1px solid #e5e7eb;border-radius:8px;padding:12px}
figcaption{font-weight:600;margin-bottom:6px}
svg{width:100%;height:auto}svg text{font-size:11px;fill:#4b5563}.legend span{margin-right:12px}
table{border-collapse:collapse;margin:4px 0 8px;font-variant-numeric:tabular-nums}
th,td{padding:3px 10px;border-bottom:1px solid #e5e7eb;text-align:right}th{background:#f9fafb}
td:first-child,th:first-child{text-align:left}.empty{color:#6b7280}
"""

_SCRIPT: Final = """
window.addEventListener('load', function () {
  var drawn = 0;
  document.querySelectorAll('svg.chart').forEach(function (svg) {
    var box = svg.getBBox();
    if (box.width > 0 && box.height > 0 && svg.querySelectorAll('.mark').length > 0) { drawn += 1; }
  });
  document.body.setAttribute('data-charts', String(drawn));
});
"""


def _scale(low: float, high: float, start: float, end: float) -> Any:
    span = (high - low) or 1.0
    return lambda value: start + (value - low) / span * (end - start)


def _frame(caption: str, body: list[str], legend: str = "") -> str:
    svg = (
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(caption)}">'
        + "".join(body)
        + "</svg>"
    )
    return f"<figure><figcaption>{escape(caption)}</figcaption>{legend}{svg}</figure>"


def _axes(y_top: float, label: str) -> list[str]:
    left, right, top, bottom = _PAD
    base = _H - bottom
    return [
        f'<line x1="{left}" y1="{base}" x2="{_W - right}" y2="{base}" stroke="#9ca3af"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="#9ca3af"/>',
        f'<text x="{left - 6}" y="{top + 8}" text-anchor="end">{escape(label.format(y_top))}</text>',
        f'<text x="{left - 6}" y="{base}" text-anchor="end">0</text>',
    ]


def line_chart(caption: str, rows: list[dict[str, Any]], series: list[tuple[str, str]], unit: str) -> str:
    """Lines over time buckets: one polyline (and a dot per bucket) per (key, label) series."""
    points = [(row, [row.get(key) for key, _ in series]) for row in rows]
    values = [value for _, row_values in points for value in row_values if value is not None]
    if not values:
        return _frame(caption, ['<text x="20" y="40">no data</text>'])
    left, right, top, bottom = _PAD
    x = _scale(0, max(len(rows) - 1, 1), left + 8, _W - right - 8)
    y = _scale(0, max(values), _H - bottom, top)
    body = _axes(max(values), "{:,.0f} " + unit)
    for index, (_key, label) in enumerate(series):
        color = _COLORS[index % len(_COLORS)]
        coords = [(x(i), y(v[index])) for i, (_, v) in enumerate(points) if v[index] is not None]
        body.append(
            f'<polyline class="mark" fill="none" stroke="{color}" stroke-width="2" points="'
            + " ".join(f"{px:.1f},{py:.1f}" for px, py in coords)
            + '"/>'
        )
        for (row, row_values), (px, py) in zip(
            [p for p in points if p[1][index] is not None], coords, strict=True
        ):
            tip = f"{when(row['bucket'])} {label}: {row_values[index]:,.1f} {unit}"
            body.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{color}">'
                f"<title>{escape(tip)}</title></circle>"
            )
    body += _time_labels(rows, x)
    legend = '<div class="legend">' + "".join(
        f'<span style="color:{_COLORS[i % len(_COLORS)]}">&#9632; {escape(label)}</span>'
        for i, (_, label) in enumerate(series)
    )
    return _frame(caption, body, legend + "</div>")


def _time_labels(rows: list[dict[str, Any]], x: Any) -> list[str]:
    if not rows:
        return []
    picks = sorted({0, len(rows) // 2, len(rows) - 1})
    return [
        f'<text x="{x(i):.1f}" y="{_H - 8}" text-anchor="middle">{escape(when(rows[i]["bucket"])[5:])}</text>'
        for i in picks
    ]


def column_chart(caption: str, rows: list[dict[str, Any]], key: str) -> str:
    """Bars over time buckets, for a share (error rate): heights from 0 to the largest share."""
    values = [row.get(key) or 0.0 for row in rows]
    if not rows:
        return _frame(caption, ['<text x="20" y="40">no data</text>'])
    left, right, top, bottom = _PAD
    top_value = max(*values, 0.01)
    y = _scale(0, top_value, _H - bottom, top)
    slot = (_W - left - right) / len(rows)
    body = _axes(top_value * 100, "{:.1f}%")
    for index, (row, value) in enumerate(zip(rows, values, strict=True)):
        height = (_H - bottom) - y(value)
        tip = f"{when(row['bucket'])}: {value * 100:.1f}% errors ({row['errors']} of {row['calls']})"
        body.append(
            f'<rect class="mark" x="{left + index * slot + slot * 0.15:.1f}" y="{y(value):.1f}" '
            f'width="{max(slot * 0.7, 1):.1f}" height="{max(height, 0.5):.1f}" fill="{_COLORS[2]}">'
            f"<title>{escape(tip)}</title></rect>"
        )
    x_center = _scale(0, max(len(rows) - 1, 1), left + slot / 2, _W - right - slot / 2)
    return _frame(caption, body + _time_labels(rows, x_center))


def bar_chart(caption: str, rows: list[dict[str, Any]], key: str) -> str:
    """Horizontal bars of cost per group (tenant, model), largest first."""
    drawn = [row for row in rows if row.get(key)][:10]
    if not drawn:
        return _frame(caption, ['<text x="20" y="40">no priced calls</text>'])
    label_w, right = 170, 90
    step = (_H - 16) / len(drawn)
    x = _scale(0, max(row[key] for row in drawn), 0, _W - label_w - right)
    body = []
    for index, row in enumerate(drawn):
        top = 8 + index * step
        name = str(row["key"])
        width = max(x(row[key]), 1)
        text_y = top + step * 0.6
        body += [
            f'<text x="{label_w - 6}" y="{text_y:.1f}" text-anchor="end">{escape(name[:26])}</text>',
            (
                f'<rect class="mark" x="{label_w}" y="{top + step * 0.15:.1f}" width="{width:.1f}" '
                f'height="{step * 0.7:.1f}" fill="{_COLORS[0]}">'
                f"<title>{escape(name)}: {usd(row[key])}</title></rect>"
            ),
            f'<text x="{label_w + width + 6:.1f}" y="{text_y:.1f}">{usd(row[key])}</text>',
        ]
    return _frame(caption, body)


def _tables(report: Report) -> list[str]:
    out = []
    for title, columns, rows in sections(report):
        out.append(f"<h2>{escape(title)}</h2>")
        if not rows:
            out.append('<p class="empty">(none)</p>')
            continue
        head = "".join(f"<th>{escape(column.title)}</th>" for column in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(cell(column, row))}</td>" for column in columns) + "</tr>"
            for row in rows
        )
        out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    return out


def page(report: Report) -> str:
    """The whole page as one HTML string."""
    facts = "".join(f"<li>{escape(line)}</li>" for line in headline(report))
    charts: list[str] = []
    if report.summary.get("calls"):
        bucket = duration(report.bucket_s or 0)
        latency = [("p50_latency_ms", "p50"), ("p95_latency_ms", "p95"), ("p99_latency_ms", "p99")]
        charts = [
            line_chart(f"Latency percentiles per {bucket} (ms)", report.timeline, latency, "ms"),
            column_chart(f"Error rate per {bucket}", report.timeline, "error_rate"),
            bar_chart("Cost by tenant (top)", report.tenants, "cost_usd"),
            bar_chart("Cost by model", report.models, "cost_usd"),
        ]
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>Claude calls report</title>",
            f"<style>{_STYLE}</style></head>",
            '<body data-charts="0">',
            "<h1>Claude calls report</h1>",
            f'<ul class="facts">{facts}</ul>',
            f'<div class="charts">{"".join(charts)}</div>',
            *_tables(report),
            f"<script>{_SCRIPT}</script>",
            "</body></html>",
        ]
    )
