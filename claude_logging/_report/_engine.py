"""The figures, computed by DuckDB from the normalised event file.

One `Report` holds every section as plain rows (numbers unformatted), so each output format is a
rendering of the same figures. Percentiles are exact and interpolated (`quantile_cont`, the same
definition as numpy's default and `statistics.quantiles(method="inclusive")`). A call is an error
when its outcome is error, cancelled or interrupted (`level` is `error` exactly then).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final

from claude_logging._report._verify import IS_EVENT

if TYPE_CHECKING:
    from pathlib import Path

    from claude_logging._report._reader import LineCounts

TS: Final = '"__claude_logging_started"'
"""The parsed start time: a name no event field can take (a user field may be called `ts`)."""
_IS_EVENT_COLUMN: Final = '"__claude_logging_is_event"'

CORE_COLUMNS: Final = (
    "timestamp",
    "outcome",
    "level",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "latency_ms",
    "time_to_first_token_ms",
    "status_code",
    "error_type",
    "tenant_id",
    "user_id",
    "cost_usd",
    "canonical_model",
    "stop_reason",
    "thinking_output_tokens",
    "ratelimit_requests_remaining",
    "ratelimit_input_tokens_remaining",
    "ratelimit_output_tokens_remaining",
    "cost_incomplete",
)
_BUCKETS_S: Final = (1, 5, 10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)
_MAX_BUCKETS: Final = 36
_IS_ERROR: Final = (
    "(outcome IN ('error', 'cancelled', 'interrupted') OR (outcome IS NULL AND level = 'error'))"
)
_PROMPT: Final = " + ".join(
    f"coalesce({name}, 0)"
    for name in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
)
"""The prompt's tokens: Anthropic's input count excludes cache reads and writes."""
_TOKENS: Final = (
    "coalesce(input_tokens, 0) + coalesce(output_tokens, 0)"
    " + coalesce(cache_read_input_tokens, 0) + coalesce(cache_creation_input_tokens, 0)"
)


@dataclass(frozen=True, slots=True)
class Options:
    """What to report on: filters, the extra grouping and the length of the top lists."""

    by: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    where: tuple[tuple[str, str], ...] = ()
    top: int = 10


@dataclass(slots=True)
class Report:
    """Every figure of a report; sections are lists of rows (dicts), numbers unformatted."""

    lines: dict[str, int]
    summary: dict[str, Any]
    models: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    tenants: list[dict[str, Any]] = field(default_factory=list)
    tenant_count: int = 0
    groups: list[dict[str, Any]] = field(default_factory=list)
    group_field: str | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)
    bucket_s: int | None = None
    projection: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (timestamps as ISO 8601 strings)."""
        data: dict[str, Any] = _jsonable(
            {
                "lines": self.lines,
                "summary": self.summary,
                "models": self.models,
                "errors": self.errors,
                "tenants": {"top": self.tenants, "count": self.tenant_count},
                "groups": {"field": self.group_field, "rows": self.groups},
                "timeline": {"bucket_s": self.bucket_s, "rows": self.timeline},
                "projection": self.projection,
            }
        )
        return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def quote(name: str) -> str:
    """A SQL identifier for a field name (any characters)."""
    return '"' + name.replace('"', '""') + '"'


def _extra_columns(options: Options) -> list[str]:
    names = [options.by] if options.by else []
    names += [name for name, _ in options.where]
    return [name for name in dict.fromkeys(names) if name not in CORE_COLUMNS]


def read_columns(options: Options) -> frozenset[str]:
    """The fields `load` reads: a line holding one of them twice is malformed (DuckDB refuses it)."""
    return frozenset((*CORE_COLUMNS, *_extra_columns(options)))


def load(con: Any, files: list[Path], options: Options, *, check_events: bool = False) -> None:
    """Create the `events` table from the normalised files, typed, with the filters applied.

    `check_events` also reads each line's `event` (`_verify.IS_EVENT`), for files DuckDB reads as
    they are: every line that is not an event is kept, whatever the filters, for `non_events`.
    """
    columns = dict.fromkeys((*CORE_COLUMNS, *_extra_columns(options)), "VARCHAR")
    if check_events:
        columns["event"] = "VARCHAR"
    numeric = {
        "input_tokens": "BIGINT",
        "output_tokens": "BIGINT",
        "cache_read_input_tokens": "BIGINT",
        "cache_creation_input_tokens": "BIGINT",
        "latency_ms": "DOUBLE",
        "time_to_first_token_ms": "DOUBLE",
        "status_code": "INTEGER",
        "cost_usd": "DOUBLE",
        "thinking_output_tokens": "BIGINT",
        "ratelimit_requests_remaining": "BIGINT",
        "ratelimit_input_tokens_remaining": "BIGINT",
        "ratelimit_output_tokens_remaining": "BIGINT",
        "cost_incomplete": "BOOLEAN",
    }
    started = "TRY_CAST(rtrim(\"timestamp\", 'Z') AS TIMESTAMP)"
    select = [f"{started} AS {TS}"]
    for name in CORE_COLUMNS[1:]:
        kind = numeric.get(name)
        if kind == "DOUBLE":
            # 1e999 is read as infinity: a figure that is not finite is treated as missing.
            value = f"TRY_CAST({quote(name)} AS DOUBLE)"
            select.append(f"CASE WHEN isfinite({value}) THEN {value} END AS {name}")
        else:
            select.append(f"TRY_CAST({quote(name)} AS {kind}) AS {name}" if kind else quote(name))
    select += [quote(name) for name in _extra_columns(options)]
    if check_events:
        select.append(f"{IS_EVENT} AS {_IS_EVENT_COLUMN}")
    conditions: list[str] = ["TRUE"]
    parameters: list[object] = [[str(path) for path in files], columns]
    if options.since is not None:
        conditions.append(f"{started} >= ?")
        parameters.append(options.since)
    if options.until is not None:
        conditions.append(f"{started} < ?")
        parameters.append(options.until)
    for name, value in options.where:
        conditions.append(f"CAST({quote(name)} AS VARCHAR) = ?")
        parameters.append(value)
    # One pass, the text columns never stored: `raw` is the file's fields as text, as read. Every
    # line is an object (`records=true`), which DuckDB would otherwise sample each file to find.
    raw = (
        "SELECT * FROM read_json(?, format='newline_delimited', records=true, columns=?, "
        "maximum_object_size=16777216)"
    )
    kept = " AND ".join(conditions)
    if check_events:
        kept = f"({kept}) OR NOT {IS_EVENT}"
    con.execute(
        f"CREATE TABLE events AS SELECT {', '.join(select)} FROM ({raw}) AS raw WHERE {kept}",  # noqa: S608 - identifiers quoted, values bound
        parameters,
    )


def non_events(con: Any) -> int:
    """Lines of the `events` table, loaded with `check_events`, that are not flat events."""
    count: int = con.execute(f"SELECT count(*) FROM events WHERE NOT {_IS_EVENT_COLUMN}").fetchone()[0]  # noqa: S608 - constant SQL
    return count


_QUANTILES: Final = {
    "latency_quantiles": ("p50_latency_ms", "p95_latency_ms", "p99_latency_ms"),
    "ttft_quantiles": ("p50_ttft_ms", "p95_ttft_ms"),
}
"""Columns of several percentiles of one field, computed from one sorted copy of its values."""
_LATENCY_QUANTILES: Final = "quantile_cont(latency_ms, [0.5, 0.95, 0.99]) AS latency_quantiles"


def _rows(con: Any, sql: str, parameters: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, parameters or [])
    names = [column[0] for column in cursor.description]
    return [_spread(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def _spread(row: dict[str, Any]) -> dict[str, Any]:
    """The row with each list of percentiles (`_QUANTILES`) as columns of their own, in its place."""
    if not _QUANTILES.keys() & row.keys():
        return row
    spread: dict[str, Any] = {}
    for name, value in row.items():
        if name in _QUANTILES:
            spread.update(zip(_QUANTILES[name], value or [None] * len(_QUANTILES[name]), strict=True))
        else:
            spread[name] = value
    return spread


_GROUP_METRICS: Final = f"""
    count(*) AS calls,
    count_if({_IS_ERROR}) AS errors,
    count_if({_IS_ERROR}) / count(*) AS error_rate,
    {_LATENCY_QUANTILES},
    quantile_cont(time_to_first_token_ms, [0.5, 0.95]) AS ttft_quantiles,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_input_tokens) AS cache_read_input_tokens,
    sum(cache_creation_input_tokens) AS cache_creation_input_tokens,
    sum({_TOKENS}) AS tokens,
    sum(cost_usd) AS cost_usd,
    sum(thinking_output_tokens) AS thinking_output_tokens,
    sum(coalesce(cache_read_input_tokens, 0)) / nullif(sum({_PROMPT}), 0) AS cache_hit_rate,
    sum(coalesce(thinking_output_tokens, 0)) / nullif(sum(output_tokens), 0) AS thinking_share,
    count_if(stop_reason = 'max_tokens') / nullif(count(stop_reason), 0) AS truncation_rate,
    count_if(stop_reason = 'refusal') / nullif(count(stop_reason), 0) AS refusal_rate,
    count_if(cost_incomplete) AS cost_incomplete_calls,
    min(ratelimit_requests_remaining) AS min_requests_remaining,
    min(ratelimit_input_tokens_remaining) AS min_input_tokens_remaining,
    min(ratelimit_output_tokens_remaining) AS min_output_tokens_remaining
"""


def _summary(con: Any) -> dict[str, Any]:
    (row,) = _rows(
        con,
        f"""SELECT {_GROUP_METRICS},
            min({TS}) AS first, max({TS}) AS last,
            count_if(cost_usd IS NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL))
                AS unpriced_calls,
            count_if(status_code = 429) / count(*) AS share_429,
            count_if(status_code = 529) / count(*) AS share_529
        FROM events""",  # noqa: S608 - constant SQL
    )
    first, last = row["first"], row["last"]
    row["span_s"] = (last - first).total_seconds() if first is not None and last is not None else 0.0
    return dict(row)


def _grouped(con: Any, key_sql: str, order: str, limit: int | None = None) -> list[dict[str, Any]]:
    tail = f" LIMIT {int(limit)}" if limit is not None else ""
    return _rows(
        con,
        f"SELECT {key_sql} AS key, {_GROUP_METRICS} FROM events GROUP BY 1 ORDER BY {order}{tail}",  # noqa: S608 - identifiers quoted
    )


def _errors(con: Any) -> list[dict[str, Any]]:
    return _rows(
        con,
        f"""SELECT coalesce(error_type, '(none)') AS error_type, status_code, count(*) AS calls,
            count(*) / sum(count(*)) OVER () AS share_of_errors
        FROM events WHERE {_IS_ERROR} GROUP BY 1, 2 ORDER BY calls DESC, 1, 2""",  # noqa: S608 - constant SQL
    )


def bucket_seconds(span_s: float) -> int:
    """The smallest bucket width from a fixed ladder that covers `span_s` in at most 36 buckets."""
    for width in _BUCKETS_S:
        if span_s / width < _MAX_BUCKETS:
            return width
    return _BUCKETS_S[-1] * math.ceil(span_s / _BUCKETS_S[-1] / _MAX_BUCKETS)


def _timeline(con: Any, width: int) -> list[dict[str, Any]]:
    return _rows(
        con,
        f"""SELECT time_bucket(INTERVAL '{width} seconds', {TS}, TIMESTAMP '2000-01-01') AS bucket,
            count(*) AS calls, count_if({_IS_ERROR}) AS errors,
            count_if({_IS_ERROR}) / count(*) AS error_rate,
            {_LATENCY_QUANTILES},
            sum(cost_usd) AS cost_usd
        FROM events WHERE {TS} IS NOT NULL GROUP BY 1 ORDER BY 1""",  # noqa: S608 - width is an int
    )


def _projection(summary: dict[str, Any]) -> dict[str, Any]:
    cost, span_s = summary.get("cost_usd"), summary.get("span_s") or 0.0
    if cost is None or span_s <= 0:
        return {"span_s": span_s, "per_day_usd": None, "per_month_usd": None}
    per_day = cost / span_s * 86400
    return {"span_s": span_s, "per_day_usd": per_day, "per_month_usd": per_day * 30}


def summarise(con: Any, counts: LineCounts, options: Options) -> Report:
    """Every section of the report from the loaded `events` table."""
    lines = {
        "lines": counts.lines,
        "events": counts.events,
        "other": counts.other,
        "malformed": counts.malformed,
        "blank": counts.blank,
        "runs": counts.runs,
    }
    summary = _summary(con)
    report = Report(lines=lines, summary=summary)
    if not summary["calls"]:
        return report
    # One model whatever id a platform used: the canonical name the price table gives, else the id
    # without its date (`claude-haiku-4-5`, `claude-haiku-4-5-20251001`).
    model = "coalesce(canonical_model, regexp_replace(model, '-[0-9]{8}$', ''), '(unknown)')"
    report.models = _grouped(con, model, "cost_usd DESC NULLS LAST, calls DESC, 1")
    report.errors = _errors(con)
    report.tenant_count = con.execute("SELECT count(DISTINCT tenant_id) FROM events").fetchone()[0]
    report.tenants = _grouped(
        con, "coalesce(tenant_id, '(none)')", "cost_usd DESC NULLS LAST, calls DESC, 1", options.top
    )
    if options.by:
        report.group_field = options.by
        key = f"coalesce(CAST({quote(options.by)} AS VARCHAR), '(none)')"
        report.groups = _grouped(con, key, "cost_usd DESC NULLS LAST, calls DESC, 1", options.top)
    report.bucket_s = bucket_seconds(summary["span_s"])
    report.timeline = _timeline(con, report.bucket_s)
    report.projection = _projection(summary)
    return report


def empty_report(counts: LineCounts) -> Report:
    """The report of an input with no event lines."""
    lines = {
        "lines": counts.lines,
        "events": 0,
        "other": counts.other,
        "malformed": counts.malformed,
        "blank": counts.blank,
        "runs": counts.runs,
    }
    return Report(lines=lines, summary={"calls": 0, "span_s": 0.0})


def since_until(text: str, now: datetime) -> datetime:
    """An ISO 8601 time (UTC), or a duration before `now` such as `30m`, `2h`, `7d`."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    value = text.strip()
    if value[-1:] in units and value[:-1].replace(".", "", 1).isdigit():
        return now - timedelta(seconds=float(value[:-1]) * units[value[-1]])
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)  # the table holds naive UTC
    return parsed
