"""Log lines in, flat event lines out: every schema, mixed application logs, broken lines.

Each line that parses as a JSON object goes through `_schemas.to_flat`, which detects its schema
and returns it in flat names and units (or None: not one of our events). Event lines are written
to one newline-delimited JSON file for DuckDB; a flat line is copied as it is. Lines that are not
JSON objects are application logs and are skipped; lines that start like one but do not parse
(truncated, split by Docker at 16 KiB) are counted as malformed, and so are lines that are not
strict RFC 8259 JSON (`NaN`, `Infinity`), hold a key twice at the top level (DuckDB refuses them),
or are longer than DuckDB's object limit (`MAX_LINE_BYTES`; the library's own lines stay under
16,000 bytes). Nothing here raises on content, and no line is held in memory past that limit.

Parsing is the slow part. With `defer`, a line that looks like a flat event (an object holding
`"event":"claude.call"`) is copied unparsed and counted as `deferred`: DuckDB checks it later
(`_verify`), and only a file that fails that check is read again with `defer` off.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from claude_logging._event import RUN_EVENT_NAME
from claude_logging._sanitize import fix_unicode, show_controls
from claude_logging._schemas import to_flat

if TYPE_CHECKING:
    import io
    from collections.abc import Callable, Iterator, Sequence

GZIP_MAGIC = b"\x1f\x8b"
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
FLAT_MARKS = (b'"event":"claude.call"', b'"event": "claude.call"')
"""A flat event's name as the library writes it, and as json.dumps does (structlog's renderer).

Only lines holding one of these are deferred; any other line is parsed here, as always."""
SAMPLE_BYTES = 64 * 1024
MAX_LINE_BYTES = 16 * 1024 * 1024
"""DuckDB's `maximum_object_size` for our reads: a longer line is counted as malformed."""
MAX_UNPACKED = 1024**3
"""Default bound on what stdin and gzip inputs may unpack to, together (`--max-unpacked`)."""
FREE_RESERVE = 256 * 1024**2
"""Unpacking stops before the temporary directory has less than this left free."""
_BLOCK = 1024 * 1024
_encode = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


@dataclass(slots=True)
class LineCounts:
    """What the reader saw: events kept, other log lines skipped, malformed lines counted."""

    events: int = 0
    other: int = 0
    malformed: int = 0
    blank: int = 0
    deferred: int = 0
    """Lines copied unparsed for DuckDB to check (`defer`); events once the check has passed."""
    runs: int = 0
    """`claude.run` rollups of agent runs: their calls are events of their own, so they are not counted."""

    def add(self, other: LineCounts) -> None:
        """Add another reader's counts to these."""
        self.events += other.events
        self.other += other.other
        self.malformed += other.malformed
        self.blank += other.blank
        self.deferred += other.deferred
        self.runs += other.runs

    @property
    def lines(self) -> int:
        """Every line read."""
        return self.events + self.other + self.malformed + self.blank + self.deferred + self.runs


class InputTooLargeError(ValueError):
    """Standard input or a gzip file unpacks past the limit, or would fill the temporary directory."""


class _TopLevelKeys:
    """An `object_pairs_hook` noting the keys that the last object built (the outermost) repeats."""

    __slots__ = ("repeated",)

    def __init__(self) -> None:
        self.repeated: set[str] = set()

    def __call__(self, pairs: list[tuple[str, object]]) -> dict[str, object]:
        record = dict(pairs)
        if len(record) == len(pairs):
            self.repeated = set()
        else:
            seen: set[str] = set()
            repeated: set[str] = set()
            for key, _ in pairs:
                (repeated if key in seen else seen).add(key)
            self.repeated = repeated
        return record


def _refuse_constant(name: str) -> object:
    raise ValueError(f"not RFC 8259 JSON: {name}")


def input_size(paths: Sequence[str]) -> int | None:
    """Total bytes of the named files (compressed size for .gz); None when a path is stdin."""
    total = 0
    for path in paths:
        if path == "-":
            return None
        total += Path(path).stat().st_size
    return total


def _open(path: str) -> tuple[IO[bytes], IO[bytes]]:
    """(lines, raw): the line source, gunzipped when the bytes are gzip, and the raw file."""
    raw: io.BufferedReader = (
        sys.stdin.buffer  # type: ignore[assignment]
        if path == "-"
        else Path(path).open("rb")  # noqa: SIM115 - closed by the caller, after the last line
    )
    if raw.peek(2)[:2] == GZIP_MAGIC:
        return gzip.open(raw), raw  # type: ignore[return-value]
    return raw, raw


def _read_line(source: IO[bytes]) -> tuple[bytes, int]:
    """The next line, cut after `MAX_LINE_BYTES + 1` bytes (the rest skipped), and its full length."""
    line = source.readline(MAX_LINE_BYTES + 1)
    if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
        return line, len(line)
    length = len(line)
    while True:
        rest = source.readline(_BLOCK)
        length += len(rest)
        if not rest or rest.endswith(b"\n"):
            return line, length


def _bounded_lines(source: IO[bytes]) -> Iterator[bytes]:
    """Every line of `source`, an overlong one cut short (it is counted as malformed)."""
    while True:
        line, _ = _read_line(source)
        if not line:
            return
        yield line


def _lines(paths: Sequence[str], progress: Callable[[int], None] | None) -> Iterator[bytes]:
    done_before = 0
    for path in paths or ["-"]:
        lines, raw = _open(path)
        is_file = path != "-"
        try:
            for count, line in enumerate(_bounded_lines(lines)):
                yield line
                if progress is not None and is_file and count & 0xFFFF == 0:
                    progress(done_before + raw.tell())
        finally:
            if is_file:
                done_before += raw.tell()
                lines.close()
                raw.close()
    if progress is not None:
        progress(done_before)


def unpack(path: str, target: Path, max_bytes: int | None = MAX_UNPACKED) -> int:
    """Copy an input (`-`: stdin; gzip unpacked) to `target` as the bytes this reader would see.

    Returns the bytes of the input it stands for: its size on disk, or for stdin what was read.
    Raises `InputTooLargeError` once more than `max_bytes` (None: no limit) would be written, or
    when the temporary directory would keep less than `FREE_RESERVE` free.
    """
    lines, raw = _open(path)
    try:
        with target.open("wb") as out:
            copied = 0
            while block := lines.read(_BLOCK):
                copied += len(block)
                if max_bytes is not None and copied > max_bytes:
                    raise InputTooLargeError(_too_large(path, max_bytes))
                if shutil.disk_usage(target.parent).free - len(block) < FREE_RESERVE:
                    raise InputTooLargeError(_no_space(path, target.parent))
                out.write(block)
        return raw.tell() if path != "-" else target.stat().st_size
    finally:
        if path != "-":
            lines.close()
            raw.close()


def size_text(size: int) -> str:
    """`512 MiB`, `1 GiB`, `1.5 GiB`."""
    if size >= 1024**3:
        return f"{size / 1024**3:g} GiB"
    return f"{size / 1024**2:g} MiB"


def _too_large(path: str, max_bytes: int) -> str:
    name = "standard input" if path == "-" else show_controls(repr(path))
    return (
        f"{name} unpacks to more than {size_text(max_bytes)} (the --max-unpacked limit on stdin and "
        f"gzip inputs, which are copied to a temporary file); raise it, e.g. --max-unpacked "
        f"{max(max_bytes * 4 // 1024**3, 4)}G, or 0 for no limit"
    )


def _no_space(path: str, folder: Path) -> str:
    name = "standard input" if path == "-" else show_controls(repr(path))
    return (
        f"copying {name} would leave less than {size_text(FREE_RESERVE)} free in the temporary "
        f"directory {show_controls(str(folder.parent))}; set TMPDIR to a folder with more space"
    )


def normalise(
    paths: Sequence[str],
    out: IO[bytes],
    progress: Callable[[int], None] | None = None,
    *,
    defer: bool = False,
    watch: frozenset[str] | None = None,
) -> LineCounts:
    """Write the flat form of every event line in `paths` (or stdin) to `out`; count the rest.

    A line with a `watch` key twice (None: any key) is malformed.
    """
    return _normalise_lines(_lines(paths, progress), out, defer=defer, watch=watch)


def chunks(path: str, size: int) -> list[tuple[int, int]]:
    """Byte ranges of about `size` bytes covering a plain file; each line belongs to one range."""
    total = Path(path).stat().st_size
    return [(start, min(start + size, total)) for start in range(0, total, size)] or [(0, 0)]


def _range_lines(path: str, start: int, end: int) -> Iterator[bytes]:
    """The lines that start inside [start, end) of the file."""
    with Path(path).open("rb") as source:
        if start > 0:
            source.seek(start - 1)
            source.readline()  # the end of a line that started in the previous range
        position = source.tell()
        while position < end:
            line, length = _read_line(source)
            if not line:
                return
            position += length
            yield line


def normalise_chunk(
    path: str,
    start: int,
    end: int,
    out_path: str,
    *,
    defer: bool = False,
    watch: frozenset[str] | None = None,
) -> LineCounts:
    """`normalise` for the lines starting in one byte range of a plain file (a worker's share)."""
    with Path(out_path).open("wb") as out:
        return _normalise_lines(_range_lines(path, start, end), out, defer=defer, watch=watch)


def looks_flat(path: str) -> bool:
    """Whether the first lines of a plain file are all flat events (or blank): worth a direct read."""
    with Path(path).open("rb") as source:
        sample = source.read(SAMPLE_BYTES)
        if source.read(1):
            sample = sample[: sample.rfind(b"\n") + 1]  # whole lines only
    lines = [line.strip() for line in sample.split(b"\n")]
    return bool(sample) and all(_is_deferrable(line) for line in lines if line)


def _is_deferrable(stripped: bytes) -> bool:
    return stripped[:1] == b"{" and stripped[-1:] == b"}" and _has_mark(stripped)


def _has_mark(stripped: bytes, compact: bytes = FLAT_MARKS[0], spaced: bytes = FLAT_MARKS[1]) -> bool:
    return compact in stripped or spaced in stripped


def _parse(
    stripped: bytes, decode: Callable[[str], object], keys: _TopLevelKeys, watch: frozenset[str] | None
) -> tuple[object, object]:
    """A line's JSON value and its flat event (None: another log line); raises when it is malformed.

    Malformed too: a line with a `watch` key twice at the top level (None: any key).
    """
    record = decode(stripped.decode("utf-8", "surrogatepass"))
    if keys.repeated and (watch is None or not keys.repeated.isdisjoint(watch)):
        raise ValueError("a key appears twice")
    return record, to_flat(record) if type(record) is dict else None


def _normalise_lines(
    lines: Iterator[bytes], out: IO[bytes], *, defer: bool = False, watch: frozenset[str] | None = None
) -> LineCounts:
    counts = LineCounts()
    keys = _TopLevelKeys()
    decode = json.JSONDecoder(object_pairs_hook=keys, parse_constant=_refuse_constant).decode
    write = out.write
    has_mark = _has_mark
    for line in lines:
        stripped = line.strip()
        if not stripped:
            counts.blank += 1
            continue
        if stripped[:1] != b"{":
            counts.other += 1
            continue
        if len(stripped) > MAX_LINE_BYTES:
            counts.malformed += 1
            continue
        if defer and stripped[-1:] == b"}" and has_mark(stripped):
            counts.deferred += 1
            write(stripped)
            write(b"\n")
            continue
        try:
            record, flat = _parse(stripped, decode, keys, watch)
        except Exception:
            counts.malformed += 1
            continue
        if flat is None:
            counts.other += 1
            continue
        if isinstance(flat, dict) and flat.get("event") == RUN_EVENT_NAME:
            counts.runs += 1
            continue
        counts.events += 1
        _write_event(write, stripped, record, flat)
    return counts


def _write_event(write: Callable[[bytes], object], stripped: bytes, record: object, flat: object) -> None:
    if flat is record and _SURROGATE_ESCAPE.search(stripped) is None:
        write(stripped)
    elif flat is record:
        # A lone surrogate (`\ud800`) is valid JSON but not Unicode, and DuckDB refuses the whole
        # file for it: write the event again with U+FFFD in its place.
        write(fix_unicode(json.dumps(record, ensure_ascii=False)).encode("utf-8"))
    else:
        write(_encode(flat).encode("ascii"))
    write(b"\n")


class ProgressBar:
    """A one-line bar on stderr for inputs that take more than a moment; silent when not a tty."""

    def __init__(self, total: int | None, stream: IO[str] | None = None, delay_s: float = 0.5) -> None:
        """Show progress towards `total` bytes once `delay_s` has passed (and stderr is a tty)."""
        self._stream = stream if stream is not None else sys.stderr
        self._total = total
        self._started = time.monotonic()
        self._delay_s = delay_s
        self._enabled = total is not None and total > 0 and self._stream.isatty()
        self._shown = False

    def __call__(self, done: int) -> None:
        """Report `done` bytes read."""
        if not self._enabled or self._total is None:
            return
        elapsed = time.monotonic() - self._started
        if elapsed < self._delay_s:
            return
        share = min(done / self._total, 1.0)
        width = 30
        filled = int(share * width)
        rate = done / elapsed / 1e6 if elapsed > 0 else 0.0
        self._stream.write(
            f"\rreading [{'#' * filled}{'.' * (width - filled)}] {share:6.1%} {rate:6.1f} MB/s"
        )
        self._stream.flush()
        self._shown = True

    def close(self) -> None:
        """Clear the bar's line if it was shown."""
        if self._shown:
            self._stream.write("\r" + " " * 70 + "\r")
            self._stream.flush()
