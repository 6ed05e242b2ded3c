"""When DuckDB may read event lines itself: a check that keeps its answer the Python reader's.

The exact reader (`_reader`) parses every line with Python's `json` and `_schemas.to_flat`, about
7 us a line. DuckDB's own JSON reader (yyjson, on every core) is several times faster, and it
reads a flat event line to the same values either way: the exact reader hands DuckDB that line's
text unchanged. What can differ is which lines are events, and the check has two halves:

- In the text (`scan`, one pass of `read_json_objects`): DuckDB's parser is more lenient than
  Python's. It accepts trailing commas, `nan` and `inf` in any case, nesting deeper than Python's
  recursion limit and integers longer than Python's digit limit, and the exact reader counts a
  line over `MAX_LINE_BYTES` as malformed, which DuckDB may read. `_refused` flags a line where
  any of that can apply, conservatively: a false alarm costs a slower read, never a different
  figure. Each pattern starts with one literal character, which the regex engine finds with
  `memchr`; one pattern of alternatives would be scanned byte by byte, several times slower.
- In the values (`IS_EVENT`, evaluated by the load itself, `_engine.load`): a line `_schemas.detect`
  calls flat is exactly one whose top-level `event` is `claude.call`, whatever other schemas it
  learns. DuckDB's `read_json` decodes escaped keys and fails on a line holding a key it reads
  twice, where Python keeps the last value; reading `event` makes that key one of them.

DuckDB may stand in for the exact reader on a file when no line it reads is refused, every line
is an event, and it reads all the file's lines but blank ones. DuckDB skips whitespace-only lines;
`scan` returns the bytes of the text it read, and when those plus one newline per line are the
whole file, ending in a newline, the file is exactly its lines, one after another, with nothing
skipped. Otherwise (CRLF, indented or blank lines) the lines are counted here: `line_count` splits
a file as the exact reader does, and `blank_count` counts lines that are surely blank, never more.
(Had DuckDB skipped a line that is not blank, the counts could only agree if it had read a blank
one, and a blank line is not an event.)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from claude_logging._report._reader import MAX_LINE_BYTES

if TYPE_CHECKING:
    from collections.abc import Sequence

_BLOCK: Final = 16 * 1024 * 1024

IS_EVENT: Final = "(\"event\" IS NOT DISTINCT FROM 'claude.call')"
"""True for a line `_schemas.detect` calls flat, from the `event` column `read_json` gives."""

_WS: Final = r"[ \t\r]*"
"""JSON's whitespace within a line."""
_NAN_OR_INF: Final = rf"-?{_WS}(?:[nN][aA][nN]|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?){_WS}[,}}\]]"
"""yyjson's extra literals (any case); Python takes only NaN, Infinity, -Infinity: all refused.

Spelled with classes: RE2 runs `(?i:...)` a third slower here."""
_TRAILING_COMMA: Final = rf",{_WS}[\]}}]"
_MEMBER_NAN_OR_INF: Final = rf":{_WS}{_NAN_OR_INF}"
_ELEMENT_NAN_OR_INF: Final = (rf"\[{_WS}{_NAN_OR_INF}", rf",{_WS}{_NAN_OR_INF}")
"""In an array: first, or after a comma (only a line holding `[` can have one)."""


def _refused() -> str:
    # Python refuses an int of more digits than its limit (0: none) and nesting deeper than its
    # recursion limit; only a line long enough for either is counted through.
    digits = getattr(sys, "get_int_max_str_digits", lambda: 0)()
    depth = sys.getrecursionlimit() // 2  # the parser shares the limit with its callers' frames
    long_line = min(digits or 2 * depth, 2 * depth)
    too_big = f"strlen(json) - strlen(replace(replace(json, '[', ''), '{{', '')) > {depth}"
    # A line over DuckDB's object limit, which DuckDB may still read, is malformed to the exact reader.
    too_big += f" OR strlen(json) > {MAX_LINE_BYTES}"
    if digits:
        too_big += f" OR regexp_matches(json, '[0-9]{{{min(digits, 1000)}}}')"
    # A line DuckDB could not parse is NULL (ignore_errors); CASE keeps the costly checks to the
    # long lines they concern.
    in_array = " OR ".join(f"regexp_matches(json, '{pattern}')" for pattern in _ELEMENT_NAN_OR_INF)
    checks = [
        "json IS NULL",
        f"regexp_matches(json, '{_TRAILING_COMMA}')",
        f"regexp_matches(json, '{_MEMBER_NAN_OR_INF}')",
        f"CASE WHEN contains(json, '[') THEN {in_array} ELSE false END",
        f"CASE WHEN strlen(json) > {long_line} THEN {too_big} ELSE false END",
    ]
    return " OR ".join(checks)


@dataclass(frozen=True, slots=True)
class Scan:
    """What DuckDB read of one file: lines (blank ones skipped), refused lines, bytes of text."""

    lines: int = 0
    refused: int = 0
    text_bytes: int = 0

    def covers(self, size: int) -> bool:
        """Whether the lines read, each and one more byte, add up to `size` bytes."""
        return self.text_bytes + self.lines == size


def scan(con: Any, files: Sequence[Path]) -> dict[Path, Scan]:
    """For each plain file, DuckDB's `Scan` of its lines.

    Whitespace-only lines are not read. Files are read as they are (`compression='none'`); their
    names must be free of glob characters.
    """
    if not files:
        return {}
    cursor = con.execute(
        f"SELECT filename, count(*), count_if({_refused()}), sum(strlen(json)) FROM read_json_objects(?, "  # noqa: S608 - constant SQL
        "format='newline_delimited', ignore_errors=true, maximum_object_size=16777216, "
        "compression='none', filename=true) GROUP BY filename",
        [[str(path) for path in files]],
    )
    read = {
        Path(name): Scan(lines, refused, int(size or 0)) for name, lines, refused, size in cursor.fetchall()
    }
    return {path: read.get(path, Scan()) for path in files}


def events_read(con: Any, files: Sequence[Path]) -> dict[Path, int | None]:
    """How many lines of each plain file are flat events to DuckDB; None for a file it refuses.

    One query reads them all; if DuckDB refuses one (a key read twice, where Python keeps the last
    `event`), each file is read on its own to tell which. Every line is an object (`records=true`):
    left to find that out, DuckDB samples each file, which costs more than reading one column.
    """
    import duckdb  # noqa: PLC0415 - optional dependency, present once a connection is

    def count(paths: list[str]) -> dict[Path, int | None]:
        cursor = con.execute(
            f"SELECT filename, count_if({IS_EVENT}) FROM read_json(?, format='newline_delimited', "  # noqa: S608 - constant SQL
            "records=true, columns={'event': 'VARCHAR'}, maximum_object_size=16777216, "
            "compression='none', filename=true) GROUP BY filename",
            [paths],
        )
        return {Path(name): int(events) for name, events in cursor.fetchall()}

    try:
        read = count([str(path) for path in files])
    except duckdb.Error:
        read = {}
        for path in files:
            try:
                read.update(count([str(path)]))
            except duckdb.Error:
                read[path] = None
    return {path: read.get(path, 0) for path in files}


def read_events(con: Any, files: Sequence[Path]) -> dict[Path, tuple[int, int]]:
    """For each plain file, DuckDB's (lines read, lines that are surely flat events).

    Whitespace-only lines are not read. A file is all events when both numbers are its number of
    lines but blank ones.
    """
    if not files:
        return {}
    scans = scan(con, files)
    events = events_read(con, files)
    read = {}
    for path in files:
        found = events[path]
        sure = 0 if found is None else max(0, found - scans[path].refused)
        read[path] = (scans[path].lines, sure)
    return read


def line_count(path: Path) -> int:
    r"""Lines of a plain file as the exact reader splits them: on b"\n", a last unended one too."""
    buffer = bytearray(_BLOCK)
    lines = 0
    last = b"\n"
    with path.open("rb", buffering=0) as source:
        while size := source.readinto(buffer):
            lines += buffer.count(b"\n", 0, size)
            last = bytes(buffer[size - 1 : size])
    return lines + (last != b"\n")


def ends_with_newline(path: Path, size: int) -> bool:
    """Whether the first `size` bytes of a file end with a newline."""
    if size == 0:
        return False
    with path.open("rb") as source:
        source.seek(size - 1)
        return source.read(1) == b"\n"


def blank_count(path: Path) -> int:
    r"""Lines of a plain file that are exactly b"\n" or b"\r\n"; never more than there are.

    (Runs of them count short: `bytes.count` does not overlap matches.)
    """
    blank = 0
    tails = {b"\n\n": b"\n", b"\n\r\n": b"\n"}  # the line before the first one has ended
    with path.open("rb") as source:
        while block := source.read(_BLOCK):
            for pattern, tail in tails.items():
                data = tail + block
                blank += data.count(pattern)
                tails[pattern] = data[1 - len(pattern) :]  # too short to hold a whole match again
    return blank
