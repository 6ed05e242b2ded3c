"""One report, end to end: read the lines, load the events into DuckDB, summarise.

Reading has a fast way and an exact one, and the figures never depend on which was taken. Python
(`_reader`) is the exact reader; DuckDB reads a file of flat event lines itself, many times
faster, once `_verify` has shown that it sees the same events there:

1. A plain file whose first lines are all flat events is read by DuckDB as it is, if it passes.
2. Every other file, share or stream goes through Python, which copies lines that look like flat
   events unparsed (`defer`) and parses the rest, in worker processes for big plain files.
3. DuckDB checks those copied lines; a share that fails is read again by Python, every line parsed.

Standard input is first copied to a file, so that it can be read again.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_logging._report._engine import (
    Options,
    Report,
    empty_report,
    load,
    non_events,
    read_columns,
    summarise,
)
from claude_logging._report._reader import (
    GZIP_MAGIC,
    MAX_UNPACKED,
    LineCounts,
    chunks,
    looks_flat,
    normalise_chunk,
    unpack,
)
from claude_logging._report._verify import blank_count, ends_with_newline, line_count, read_events, scan

CHUNK_BYTES = 32 * 1024 * 1024
"""A worker's share of a big file: small enough to balance the workers and show progress."""
ROW_GROUP_ROWS = 122_880
"""DuckDB's rows per row group: a table of one is summed on one thread, in the rows' order."""

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

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


def connect(duckdb: Any) -> Any:
    """An in-memory DuckDB database that draws no progress bar (DuckDB draws it on stdout)."""
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    return con


def build(
    paths: Sequence[str],
    options: Options,
    progress: Callable[[int], None] | None = None,
    *,
    fast: bool = True,
    max_unpacked: int | None = MAX_UNPACKED,
) -> Report:
    """The report of the event lines in `paths` (`-` or none: stdin; `.gz` files too).

    `fast=False` parses every line in Python; the report is the same (the tests hold them equal).
    Standard input and gzip files are copied to temporary files of at most `max_unpacked` bytes
    together (None: no limit); past it `InputTooLargeError` is raised.
    """
    duckdb = engine()  # fail before reading anything when the extra is missing
    watch = read_columns(options)
    with tempfile.TemporaryDirectory(prefix="claude-logging-report-") as scratch:
        inputs = _plain_inputs(list(paths) or ["-"], Path(scratch), max_unpacked)
        tick = progress or _silent

        def exact() -> Report:
            counts, files, _ = _read_all(inputs, Path(scratch) / "exact", None, tick, watch)
            return _summarise(duckdb, counts, files, options)

        if not fast:
            return exact()
        counts, files, read_as_is = _read_all(inputs, Path(scratch) / "read", duckdb, tick, watch)
        report = _summarise_or(exact, duckdb, counts, files, options, check=bool(read_as_is))
        if report is not None and _snapshot(read_as_is) == read_as_is:
            return report
        # A file DuckDB read as it is held a line that is not a flat event, or changed meanwhile (a
        # log being written), so its line counts may not be its events': read the files again
        # through Python, which reads each line once.
        counts, files, _ = _read_all(inputs, Path(scratch) / "read-again", duckdb, tick, watch, as_is=False)
        return _summarise_or(exact, duckdb, counts, files, options) or exact()


def _summarise_or(
    exact: Callable[[], Report],
    duckdb: Any,
    counts: LineCounts,
    files: list[Path],
    options: Options,
    *,
    check: bool = False,
) -> Report | None:
    """`_summarise`, or the `exact` report when DuckDB refuses a line it was handed unparsed.

    DuckDB fails on a line that holds a field the report reads twice (the exact reader counts
    such a line as malformed); rare, so it is cheaper to read again than to check every line.
    With `check` (files read as they are among `files`), None instead, and when not every line
    is an event.
    """
    try:
        return _summarise(duckdb, counts, files, options, check=check)
    except (duckdb.InvalidInputException, _NotAllEventsError):
        return None if check else exact()


class _NotAllEventsError(Exception):
    """A file read as it is holds a line that is not a flat event."""


def _summarise(
    duckdb: Any, counts: LineCounts, files: list[Path], options: Options, *, check: bool = False
) -> Report:
    if counts.events == 0:
        return empty_report(counts)
    with connect(duckdb) as con:  # after the workers: no engine threads when they fork
        if counts.events > ROW_GROUP_ROWS:
            # Past one row group, DuckDB aggregates on several threads, so the last digit of a
            # float sum depends on their timing whatever the rows' order: keeping it only costs.
            con.execute("SET preserve_insertion_order = false")
        load(con, files, options, check_events=check)
        if check and non_events(con):
            raise _NotAllEventsError
        return summarise(con, counts, options)


def _snapshot(paths: Iterable[Path]) -> dict[Path, tuple[int, int]]:
    """Each file's size and modification time."""
    return {path: (path.stat().st_size, path.stat().st_mtime_ns) for path in paths}


def _silent(_done: int) -> None:
    pass


@dataclass(frozen=True, slots=True)
class _Input:
    """A plain file to read, and how many bytes of the user's input it stands for (progress)."""

    path: Path
    weight: int


def _plain_inputs(paths: list[str], scratch: Path, max_unpacked: int | None) -> list[_Input]:
    """Every input as a plain file: stdin copied, gzip unpacked, in the exact reader's order.

    That order (plain files first, then gzip files and stdin, each group as given) is the order
    of the rows DuckDB sums, so even a float sum's last digit does not depend on the way taken.
    """
    plain = [path for path in paths if path != "-" and _is_plain_file(path)]
    inputs = [_Input(Path(path), Path(path).stat().st_size) for path in plain]
    left = max_unpacked
    for index, path in enumerate(paths):
        if path not in plain:
            target = scratch / f"input-{index}"
            inputs.append(_Input(target, unpack(path, target, left)))
            if left is not None:
                left -= target.stat().st_size
    return inputs


def _is_plain_file(path: str) -> bool:
    with Path(path).open("rb") as source:
        return source.read(2) != GZIP_MAGIC


@dataclass(slots=True)
class _Share:
    """A byte range of a plain file, read by Python, and the file its event lines go to."""

    path: Path
    start: int
    end: int
    out: Path
    counts: LineCounts = field(default_factory=LineCounts)


def _read_all(
    inputs: list[_Input],
    scratch: Path,
    duckdb: Any,
    progress: Callable[[int], None],
    watch: frozenset[str],
    *,
    as_is: bool = True,
) -> tuple[LineCounts, list[Path], dict[Path, tuple[int, int]]]:
    """The inputs' line counts, the files of their event lines (in the inputs' order), and more.

    The third item is a `_snapshot` of the files DuckDB reads as they are (`as_is`), taken before
    it read them. Without `duckdb`, every line is parsed in Python. A line holding a `watch`
    field twice is malformed.
    """
    scratch.mkdir()
    paths = [item.path for item in inputs]
    before = _snapshot(paths) if duckdb and as_is else {}
    direct = _read_directly(paths, before, scratch, duckdb) if duckdb and as_is else {}
    done = sum(inputs[index].weight for index in direct)
    progress(done)
    shares: dict[int, list[_Share]] = {}
    for index, item in enumerate(inputs):
        if index not in direct:
            spans = chunks(str(item.path), CHUNK_BYTES)
            outs = [scratch / f"lines-{index}-{part}.ndjson" for part in range(len(spans))]
            shares[index] = [_Share(item.path, *span, out) for span, out in zip(spans, outs, strict=True)]
    every_share = [share for group in shares.values() for share in group]
    weights = {share.out: _scaled(share, inputs[index]) for index, group in shares.items() for share in group}

    def advance(share: _Share) -> None:
        nonlocal done
        done += weights[share.out]
        progress(done)

    _normalise(every_share, watch, defer=duckdb is not None, progress=advance)
    _normalise(_unconfirmed(every_share, duckdb), watch, defer=False)
    counts = LineCounts()
    files: list[Path] = []
    for index in range(len(inputs)):
        if index in direct:
            counts.add(direct[index][0])
            files.append(direct[index][1])
        else:
            for share in shares[index]:
                counts.add(share.counts)
                files.append(share.out)
    return counts, files, {paths[index]: before[paths[index]] for index in direct}


def _scaled(share: _Share, item: _Input) -> int:
    size = item.path.stat().st_size
    return (share.end - share.start) * item.weight // size if size else 0


def _read_directly(
    paths: list[Path], snapshot: dict[Path, tuple[int, int]], scratch: Path, duckdb: Any
) -> dict[int, tuple[LineCounts, Path]]:
    """The plain files DuckDB reads as they are: their counts and the path DuckDB reads them by.

    The text of their lines passes `_verify`'s check here; that every line is an event is checked
    as the events are loaded (`load(check_events=True)`). DuckDB reads each through a link of our
    own naming (a user's file name may hold glob characters that DuckDB would expand).
    """
    links: dict[int, Path] = {}
    for index, path in enumerate(paths):
        if looks_flat(str(path)):
            link = scratch / f"direct-{index}.ndjson"
            try:
                link.symlink_to(path.absolute())
            except OSError:
                continue
            links[index] = link
    if not links:
        return {}
    try:
        with connect(duckdb) as con:  # closed before any worker forks
            scans = scan(con, list(links.values()))
    except duckdb.Error:
        return {}
    direct: dict[int, tuple[LineCounts, Path]] = {}
    for index, link in links.items():
        read = scans[link]
        if read.refused:
            continue
        size = snapshot[paths[index]][0]  # as it was before DuckDB read it
        if read.covers(size) and ends_with_newline(link, size):
            direct[index] = (LineCounts(events=read.lines), link)
            continue
        # DuckDB skips blank lines: the others must be exactly the lines DuckDB read (blank: rare)
        lines = line_count(link)
        if read.lines == lines or read.lines == lines - blank_count(link):  # counted only if needed
            direct[index] = (LineCounts(events=read.lines, blank=lines - read.lines), link)
    return direct


def _unconfirmed(shares: list[_Share], duckdb: Any) -> list[_Share]:
    """The shares whose deferred lines DuckDB does not confirm as events; the others take them as such."""
    checked = [share for share in shares if share.counts.deferred]
    if not checked:
        return []
    try:
        with connect(duckdb) as con:  # closed before any worker forks
            read = read_events(con, [share.out for share in checked])
    except duckdb.Error:
        return checked
    failed = []
    for share in checked:
        written = share.counts.events + share.counts.deferred
        if read[share.out] == (written, written):
            share.counts.events = written
            share.counts.deferred = 0
        else:
            failed.append(share)
    return failed


def _normalise(
    shares: list[_Share],
    watch: frozenset[str],
    *,
    defer: bool,
    progress: Callable[[_Share], None] | None = None,
) -> None:
    """Read each share with the exact reader (`defer`: flat-looking lines copied unparsed).

    Parsing is the slow part: several shares go to worker processes, one per core.
    """
    workers = _workers()
    if workers > 1 and len(shares) > 1:
        # imported here: a file DuckDB reads as it is needs no workers, and the command starts sooner
        import multiprocessing  # noqa: PLC0415
        from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

        # fork starts a worker with nothing to import again, but only a single-threaded process
        # may fork safely; anywhere else (an app, a test runner) the workers are spawned.
        single = threading.active_count() == 1
        method = "fork" if single and "fork" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [
                pool.submit(
                    normalise_chunk,
                    str(share.path),
                    share.start,
                    share.end,
                    str(share.out),
                    defer=defer,
                    watch=watch,
                )
                for share in shares
            ]
            for future, share in zip(futures, shares, strict=True):
                share.counts = future.result()
                if progress is not None:
                    progress(share)
        return
    for share in shares:
        share.counts = normalise_chunk(
            str(share.path), share.start, share.end, str(share.out), defer=defer, watch=watch
        )
        if progress is not None:
            progress(share)


def _workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
