"""One report, end to end: normalise the lines, load them into DuckDB, summarise."""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_logging._report._engine import Options, Report, empty_report, load, summarise
from claude_logging._report._reader import GZIP_MAGIC, LineCounts, chunks, normalise, normalise_chunk

CHUNK_BYTES = 32 * 1024 * 1024
"""A worker's share of a big file: small enough to balance the workers and show progress."""

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

MISSING_DUCKDB = (
    "claude-logging report needs DuckDB, which comes with the 'report' extra: "
    "pip install 'claude-logging[report]'"
)


class ReportUnavailableError(RuntimeError):
    """The optional engine (DuckDB) is not installed."""


def engine() -> Any:
    """The `duckdb` module; raises `ReportUnavailableError` naming the extra when it is missing."""
    try:
        import duckdb  # noqa: PLC0415 - optional dependency, the `report` extra
    except ImportError as exc:
        raise ReportUnavailableError(MISSING_DUCKDB) from exc
    return duckdb


def build(paths: Sequence[str], options: Options, progress: Callable[[int], None] | None = None) -> Report:
    """The report of the event lines in `paths` (`-` or none: stdin; `.gz` files too)."""
    duckdb = engine()  # fail before reading anything when the extra is missing
    with tempfile.TemporaryDirectory(prefix="claude-logging-report-") as scratch:
        counts, files = _normalise_all(list(paths) or ["-"], Path(scratch), progress)
        if counts.events == 0:
            return empty_report(counts)
        con = duckdb.connect(":memory:")  # after the workers: no engine threads when they fork
        load(con, files, options)
        return summarise(con, counts, options)


def _is_plain_file(path: str) -> bool:
    if path == "-":
        return False
    with Path(path).open("rb") as source:
        return source.read(2) != GZIP_MAGIC


def _normalise_all(
    paths: list[str], scratch: Path, progress: Callable[[int], None] | None
) -> tuple[LineCounts, list[Path]]:
    """Normalise every input; big plain files are split by byte range across worker processes.

    Parsing is the slow part (Python's JSON decoder); each worker writes its own file for DuckDB.
    """
    counts = LineCounts()
    files: list[Path] = []
    streamed = [path for path in paths if not _is_plain_file(path)]
    plain = [path for path in paths if path not in streamed]
    jobs = [(path, *span) for path in plain for span in chunks(path, CHUNK_BYTES)]
    workers = _workers()
    if workers > 1 and len(jobs) > 1:
        # fork starts a worker with nothing to import again, but only a single-threaded process
        # may fork safely; anywhere else (an app, a test runner) the workers are spawned.
        single = threading.active_count() == 1
        method = "fork" if single and "fork" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [
                pool.submit(normalise_chunk, path, start, end, str(scratch / f"part-{index}.ndjson"))
                for index, (path, start, end) in enumerate(jobs)
            ]
            done = 0
            for future, (_path, start, end) in zip(futures, jobs, strict=True):
                counts.add(future.result())
                done += end - start
                if progress is not None:
                    progress(done)
        files += [scratch / f"part-{index}.ndjson" for index in range(len(jobs))]
    else:
        streamed = plain + streamed
    if streamed:
        target = scratch / "streamed.ndjson"
        with target.open("wb") as out:
            counts.add(normalise(streamed, out, progress))
        files.append(target)
    return counts, files


def _workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
