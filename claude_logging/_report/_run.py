"""One report, end to end: normalise the lines, load them into DuckDB, summarise."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_logging._report._engine import Options, Report, empty_report, load, summarise
from claude_logging._report._reader import normalise

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

MISSING_DUCKDB = (
    "claude-logging report needs DuckDB, which comes with the 'report' extra: "
    "pip install 'claude-logging[report]'"
)


class ReportUnavailableError(RuntimeError):
    """The optional engine (DuckDB) is not installed."""


def connect() -> Any:
    """An in-memory DuckDB connection; raises `ReportUnavailableError` naming the extra."""
    try:
        import duckdb  # noqa: PLC0415 - optional dependency, the `report` extra
    except ImportError as exc:
        raise ReportUnavailableError(MISSING_DUCKDB) from exc
    return duckdb.connect(":memory:")


def build(paths: Sequence[str], options: Options, progress: Callable[[int], None] | None = None) -> Report:
    """The report of the event lines in `paths` (`-` or none: stdin; `.gz` files too)."""
    con = connect()
    with tempfile.TemporaryDirectory(prefix="claude-logging-report-") as scratch:
        events_file = Path(scratch) / "events.ndjson"
        with events_file.open("wb") as out:
            counts = normalise(paths, out, progress)
        if counts.events == 0:
            return empty_report(counts)
        load(con, events_file, options)
        return summarise(con, counts, options)
