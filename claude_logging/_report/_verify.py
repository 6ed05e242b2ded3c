"""When DuckDB may read event lines itself: a check that keeps its answer the Python reader's.

The exact reader (`_reader`) parses every line with Python's `json` and `_schemas.to_flat`, about
7 us a line. DuckDB's own JSON reader (yyjson, on every core) is several times faster, and it
reads a flat event line to the same values either way: the exact reader hands DuckDB that line's
text unchanged. What can differ is which lines are events. DuckDB's parser is more lenient than
Python's: it accepts trailing commas, `nan` and `inf` in any case, nesting deeper than Python's
recursion limit and integers longer than Python's digit limit, and of duplicate keys it keeps the
first value where Python keeps the last (and `"event"` decides what a line is; a key the report
reads twice makes DuckDB fail, and `_run` then reads every line in Python). The exact reader
counts a line over `MAX_LINE_BYTES` as malformed, which DuckDB may read. `_line_is_event` takes a
line only when none of that can apply, conservatively: a false alarm costs a slower exact read
of the file, never a different figure. A line `_schemas.detect` calls flat is exactly
one whose top-level `event` is `claude.call`, whatever other schemas it learns.

DuckDB may stand in for the exact reader on a file when every line it reads passes and it reads
all the file's lines but blank ones (`read_events`). DuckDB skips whitespace-only lines, so they
are counted here: `line_count` splits a file as the exact reader does, and `blank_count` counts
lines that are surely blank, never more. (Had DuckDB skipped a line that is not blank, the counts
could only agree if it had read a blank one, and a blank line fails the check.)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from claude_logging._report._reader import MAX_LINE_BYTES

if TYPE_CHECKING:
    from collections.abc import Sequence

_BLOCK: Final = 16 * 1024 * 1024

_WS: Final = r"[ \t\n\r]*"
_NAN_OR_INF: Final = rf"-?{_WS}(?i:nan|inf|infinity){_WS}[,}}\]]"
"""yyjson's extra literals (any case); Python takes only NaN, Infinity, -Infinity: all refused."""


def _line_is_event() -> str:
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
    in_array = f"regexp_matches(json, '[\\[,]{_WS}{_NAN_OR_INF}')"
    # Every check is evaluated on every line; CASE keeps the costly ones to the lines they concern.
    # A line DuckDB could not parse is NULL (ignore_errors), and so is its every check.
    checks = [
        "json_extract_string(json, '$.event') = 'claude.call'",  # an object, flat (_schemas.detect)
        # one "event" key: of duplicate keys DuckDB reads the first, Python keeps the last ...
        "strlen(json) - strlen(replace(json, '\"event\"', '')) = 7",
        # ... and none spelled with escapes
        rf"NOT regexp_matches(json, '\\u[0-9a-fA-F]{{4}}(?:[a-zA-Z]|\\u[0-9a-fA-F]{{4}})*\"{_WS}:')",
        rf"NOT regexp_matches(json, ',{_WS}[\]}}]')",  # a trailing comma
        f"NOT regexp_matches(json, ':{_WS}{_NAN_OR_INF}')",  # nan or inf as a member's value ...
        f"NOT CASE WHEN contains(json, '[') THEN {in_array} ELSE false END",  # ... or in an array
        f"NOT CASE WHEN strlen(json) > {long_line} THEN {too_big} ELSE false END",
    ]
    return " AND ".join(checks)


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


def read_events(con: Any, files: Sequence[Path]) -> dict[Path, tuple[int, int]]:
    """For each plain file, DuckDB's (lines read, lines that are surely flat events).

    Whitespace-only lines are not read. Files are read as they are (`compression='none'`); their
    names must be free of glob characters.
    """
    if not files:
        return {}
    cursor = con.execute(
        f"SELECT filename, count(*), count_if({_line_is_event()}) FROM read_json_objects(?, "  # noqa: S608 - constant SQL
        "format='newline_delimited', ignore_errors=true, maximum_object_size=16777216, "
        "compression='none', filename=true) GROUP BY filename",
        [[str(path) for path in files]],
    )
    read = {Path(name): (lines, events) for name, lines, events in cursor.fetchall()}
    return {path: read.get(path, (0, 0)) for path in files}
