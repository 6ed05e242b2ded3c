"""claude-logging report gives the same report whether DuckDB or Python reads the lines.

`build(..., fast=False)` parses every line in Python (the exact reader); the default lets DuckDB
read whole files of flat events, and lines that look like flat events, once `_verify` has checked
them. Every test here compares the two full reports, figure for figure, on the same files.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from claude_logging._render import encode_line
from claude_logging._report import _reader, _run
from claude_logging._report._engine import Options, load, read_columns
from claude_logging._report._reader import LineCounts, normalise
from claude_logging._report._run import build
from claude_logging._report._verify import blank_count, line_count, read_events
from claude_logging._schemas import to_flat

if TYPE_CHECKING:
    from pathlib import Path

MODELS = ("claude-sonnet-4-6", "claude-haiku-4-5-20251001", "claude-opus-4-6")


def record(index: int, **extra) -> dict:
    """A flat event as the library renders it (the fields the report reads, and a few more)."""
    failed = index % 7 == 3
    event = {
        "timestamp": f"2026-11-24T12:{index // 60 % 60:02d}:{index % 60:02d}.{index * 7919 % 10**6:06d}Z",
        "level": "error" if failed else "info",
        "event": "claude.call",
        "outcome": "error" if failed else "success",
        "model": MODELS[index % 3],
        "input_tokens": None if failed else 100 + index * 37 % 900,
        "output_tokens": None if failed else 10 + index * 13 % 300,
        "cache_read_input_tokens": None if failed else index * 101 % 5000,
        "cache_creation_input_tokens": None if failed else 0,
        "latency_ms": 20.0 + index * 17.3 % 1500,
        "status_code": 529 if failed else 200,
        "error_type": "anthropic.OverloadedError" if failed else None,
        "tenant_id": f"tenant-{index % 5}",
        "user_id": f"user-{index % 11}",
        "feature": ("search", "chat", None)[index % 3],
    }
    if not failed:
        event["cost_usd"] = round(0.0001 * (index * 7 % 97) + 1e-9 * index, 12)
        event["time_to_first_token_ms"] = 5.0 + index * 3.1 % 200
    event.update(extra)
    return event


def line(index: int, **extra) -> str:
    """The event's line exactly as the library writes it."""
    return encode_line(record(index, **extra), 1 << 20)


EVENTS = [line(index) for index in range(40)]
SPACED = [json.dumps(record(index)) for index in range(40)]  # json.dumps's separators (structlog)
APP_LOGS = [
    "2026-11-24 12:00:00 INFO starting worker",
    '{"level":"info","msg":"GET /health 200"}',
    '{"level":"info","event":"user.login","user":"u-1"}',
    "[1, 2, 3]",
    "Traceback (most recent call last):",
]
BROKEN = [EVENTS[0][:57], '{"event":"claude.call", "outcome": "succ', EVENTS[1][: len(EVENTS[1]) // 2] + "}"]


def write(path: Path, lines, *, end: str = "\n") -> Path:
    path.write_bytes(end.join(lines).encode("utf-8", "surrogatepass") + end.encode())
    return path


def both(paths, options: Options = Options()) -> tuple[dict, dict]:  # noqa: B008 - frozen dataclass
    """(exact, fast): the two full reports of the same inputs."""
    inputs = [str(path) for path in paths]
    return build(inputs, options, fast=False).as_dict(), build(inputs, options).as_dict()


def mixed() -> list[str]:
    lines = []
    for index, event in enumerate(EVENTS):
        lines.append(event)
        lines.append(APP_LOGS[index % len(APP_LOGS)])
        if index % 9 == 0:
            lines.extend(["", BROKEN[index % len(BROKEN)]])
    return lines


FILES = {
    "clean": (EVENTS, "\n"),
    "clean, json.dumps separators": (SPACED, "\n"),
    "clean, CRLF": (EVENTS, "\r\n"),
    "clean, blank lines": ([*EVENTS[:5], "", *EVENTS[5:9], "", "", *EVENTS[9:], "", "  ", "\t"], "\n"),
    "clean, CRLF and blank lines": ([*EVENTS[:5], "", *EVENTS[5:]], "\r\n"),
    "clean, indented": ([f"  {event}\t" for event in EVENTS], "\n"),
    "clean, vertical tabs and form feeds around": ([f"\x0b{event}\x0c" for event in EVENTS], "\n"),
    "mixed application logs": (mixed(), "\n"),
    "application logs after the first 64 KiB": ([*EVENTS * 5, *mixed()], "\n"),
    "malformed only": (BROKEN, "\n"),
    "no events": (APP_LOGS, "\n"),
    "blank only": (["", " ", "\r"], "\n"),
}


@pytest.mark.parametrize("name", FILES)
def test_fast_and_exact_reports_are_equal(tmp_path, name):
    """Clean, mixed, malformed and blank files: the same report, every figure and every count."""
    lines, end = FILES[name]
    path = write(tmp_path / "app.log", lines, end=end)

    exact, fast = both([path])

    assert exact == fast
    assert exact["lines"]["lines"] == len(lines)


def test_a_file_without_a_last_newline_and_an_empty_file(tmp_path):
    """The last line counts without its newline; an empty file is an empty report both ways."""
    unended = tmp_path / "unended.log"
    unended.write_text("\n".join(EVENTS))
    empty = tmp_path / "empty.log"
    empty.write_text("")

    for path in (unended, empty):
        exact, fast = both([path])
        assert exact == fast
    assert fast["lines"] == {"lines": 0, "events": 0, "other": 0, "malformed": 0, "blank": 0, "runs": 0}


def test_gzip_files_and_several_inputs_keep_their_order_and_figures(tmp_path):
    """Plain and gzip files together, clean and mixed: the same report, float sums to the last digit."""
    clean = write(tmp_path / "a.log", EVENTS[:20])
    packed = tmp_path / "b.log.gz"
    with gzip.open(packed, "wt") as out:
        out.write("\n".join(mixed()) + "\n")
    clean_packed = tmp_path / "c.gz"
    with gzip.open(clean_packed, "wt") as out:
        out.write("\n".join(EVENTS[20:]) + "\n")
    app = write(tmp_path / "d.log", mixed())

    exact, fast = both([packed, clean, clean_packed, app, clean])

    assert exact == fast
    assert fast["lines"]["events"] == 20 + 40 + 20 + 40 + 20


@pytest.mark.parametrize(
    "options",
    [
        Options(by="feature", top=2),
        Options(where=(("tenant_id", "tenant-1"), ("outcome", "success"))),
        Options(by="status_code", where=(("model", "claude-opus-4-6"),)),
    ],
)
def test_grouping_and_filters_agree(tmp_path, options):
    """--by, --where and --top over a mixed file and a clean one."""
    paths = [write(tmp_path / "mixed.log", mixed()), write(tmp_path / "clean.log", EVENTS)]

    exact, fast = both(paths, options)

    assert exact == fast


def test_byte_range_workers_agree(tmp_path, monkeypatch):
    """Shares of a few hundred bytes (many workers' files, some checked by DuckDB): the same report."""
    paths = [write(tmp_path / "mixed.log", mixed() * 3), write(tmp_path / "spaced.log", SPACED)]
    monkeypatch.setattr(_run, "CHUNK_BYTES", 4000)

    exact, fast = both(paths)

    assert exact == fast


# -- each way DuckDB's parser is more lenient than Python's ---------------------------------------

E = '"event":"claude.call"'


def obj(*members: str) -> str:
    """A JSON object's text from its members' texts (an empty last one: a trailing comma)."""
    return "{" + ",".join(members) + "}"


LENIENT = {
    "trailing comma in the object": obj(E, '"model":"m"', ""),
    "trailing comma in an array": obj(E, '"tags":[1,2, ]'),
    "nan": obj(E, '"latency_ms":nan'),
    "NaN (Python reads it too)": obj(E, '"latency_ms":NaN'),
    "-Infinity (Python reads it too)": obj(E, '"latency_ms":-Infinity'),
    "INF in an array": obj(E, '"x":[1, INF]'),
    "-nan": obj(E, '"latency_ms": -nan '),
    "a second event key": obj(E, '"model":"m"', '"event":"other"'),
    "an escaped second event key": obj(E, '"\\u0065vent":"other"'),
    "the first of two event keys": obj('"event":"other"', E),
    "nesting deeper than Python's limit": obj(E, '"x":' + "[" * 5000 + "1" + "]" * 5000),
    "an int longer than Python's limit": obj(E, '"x":' + "7" * 5000),
    "a lone surrogate escape": obj(E, '"model":"\\ud800"'),
    "an event nested, not at the top": obj('"event":' + obj(E)),
    "an event nested in another member": obj('"call":' + obj(E)),
    "an event in a string": obj(
        '"msg":"\\"event\\":\\"claude.call\\""', '"note":"' + E.replace('"', "'") + '"'
    ),
    "an array of events": "[" + obj(E) + "," + obj(E) + "]",
    "two objects on one line": obj(E) + obj(E),
    "a vertical tab inside": '{"event":\x0b"claude.call"}',
}


@pytest.mark.parametrize("name", LENIENT)
def test_lines_duckdb_reads_more_leniently_than_python_give_the_exact_report(tmp_path, name):
    """A file with one such line among clean ones: DuckDB's check refuses it; the report is exact."""
    path = write(tmp_path / "app.log", [*EVENTS[:10], LENIENT[name], *EVENTS[10:]])
    link = tmp_path / "link.ndjson"
    link.symlink_to(path)

    with duckdb.connect() as con:
        read, sure = read_events(con, [link])[link]

    assert sure < read or read < line_count(path)  # not taken for a file of events
    exact = build([str(path)], Options(), fast=False).as_dict()
    assert build([str(path)], Options()).as_dict() == exact


ALIKE = {
    "an escaped event key": obj('"\\u0065vent":"claude.call"', '"model":"m"'),
    "escaped keys the report reads": obj(E, '"\\u006dodel":"claude-opus-4-6"', '"cost\\u005fusd":0.5'),
    "an escaped value": obj(E, '"model":"claude-\\u006fpus-4-6"', '"tenant_id":"t\\u00e9"'),
}


@pytest.mark.parametrize("name", ALIKE)
def test_lines_both_readers_decode_alike_are_read_by_duckdb_as_they_are(tmp_path, monkeypatch, name):
    """Escapes in keys and values: DuckDB decodes them as Python does, so the file is read as it is.

    (Past the first 64 KiB, which only lines holding `"event":"claude.call"` as written may fill.)
    """
    path = write(tmp_path / "app.log", [*EVENTS * 5, ALIKE[name], *EVENTS])
    exact = build([str(path)], Options(), fast=False).as_dict()

    def not_called(*args, **kwargs):
        raise AssertionError(args)

    monkeypatch.setattr(_run, "normalise_chunk", not_called)
    fast = build([str(path)], Options()).as_dict()

    assert exact == fast
    assert fast["lines"]["events"] == 6 * len(EVENTS) + 1


def test_a_byte_order_mark_at_the_start_is_not_read_past(tmp_path):
    """DuckDB skips a leading BOM, Python's reader does not: the first line is another log line."""
    path = tmp_path / "bom.log"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(EVENTS).encode() + b"\n")

    exact, fast = both([path])

    assert exact == fast
    assert fast["lines"]["other"] == 1


# -- the fast way is taken ---------------------------------------------------------------------------


class CountingDecoder(json.JSONDecoder):
    """The reader's JSON decoder, counting the lines it decodes."""

    calls = 0

    def decode(self, s, *args, **kwargs):
        type(self).calls += 1
        return super().decode(s, *args, **kwargs)


def test_a_clean_file_is_not_parsed_in_python_and_other_lines_only_are(tmp_path, monkeypatch):
    """A clean file: no line decoded in Python; a mixed one: only the JSON lines that are not events."""
    loads = CountingDecoder
    monkeypatch.setattr(CountingDecoder, "calls", 0)
    monkeypatch.setattr(_reader, "json", SimpleNamespace(JSONDecoder=CountingDecoder, dumps=json.dumps))
    monkeypatch.setattr(_run, "_workers", lambda: 1)  # in this process, where the count is
    interleaved = [text for pair in zip(EVENTS, APP_LOGS * 8, strict=True) for text in pair]
    clean = write(tmp_path / "clean.log", EVENTS)
    app = write(tmp_path / "mixed.log", interleaved)

    report = build([str(clean)], Options()).as_dict()
    assert (report["lines"]["events"], loads.calls) == (len(EVENTS), 0)

    report = build([str(app)], Options()).as_dict()
    parsed = [text for text in interleaved if text.startswith("{") and "claude.call" not in text]
    assert (report["lines"]["events"], loads.calls) == (len(EVENTS), len(parsed))


def test_a_clean_file_is_read_by_duckdb_as_it_is(tmp_path, monkeypatch):
    """No share of a clean file (blank lines, CRLF, indented, json.dumps separators) goes to Python."""

    def not_called(*args, **kwargs):
        raise AssertionError(args)

    monkeypatch.setattr(_run, "normalise_chunk", not_called)
    for name in ("clean", "clean, json.dumps separators", "clean, CRLF and blank lines", "clean, indented"):
        lines, end = FILES[name]
        path = write(tmp_path / "clean.log", lines, end=end)
        assert build([str(path)], Options()).as_dict()["lines"]["events"] == len(EVENTS)


def test_a_file_of_exactly_its_lines_is_not_counted_in_python(tmp_path, monkeypatch):
    """Lines and newlines adding up to the file's size prove DuckDB read every line: no count in Python."""

    def not_called(*args, **kwargs):
        raise AssertionError(args)

    monkeypatch.setattr(_run, "line_count", not_called)
    monkeypatch.setattr(_run, "normalise_chunk", not_called)
    for name in ("clean", "clean, json.dumps separators"):
        lines, end = FILES[name]
        path = write(tmp_path / "clean.log", lines, end=end)
        assert build([str(path)], Options()).as_dict()["lines"]["events"] == len(EVENTS)


@pytest.mark.parametrize(
    "data",
    [
        "\n".join([*EVENTS[:5], "", *EVENTS[5:]]),  # one byte too many, and no last newline
        "\n".join(EVENTS) + "\n\n",
        "\n" + "\n".join(EVENTS) + "\n",
        " " + "\n".join(EVENTS),
        "\n".join(EVENTS).replace("\n", "\r", 1) + "\n",  # a carriage return that does not end a line
    ],
)
def test_a_file_that_is_not_exactly_its_lines_is_counted_as_the_exact_reader_counts(tmp_path, data):
    """Blank lines or whitespace the sizes could hide, and a lone CR: counts and figures stay exact."""
    path = tmp_path / "almost.log"
    path.write_text(data)

    exact, fast = both([path])

    assert exact == fast


def test_a_file_written_to_while_it_is_read_is_read_again_in_python(tmp_path):
    """A live log grows after DuckDB's check: the report is Python's, of the whole file, consistent."""
    path = write(tmp_path / "live.log", EVENTS[:30])
    appended = []

    def append_once(_done: int) -> None:  # first called once the check has passed, before the load
        if not appended:
            appended.append(EVENTS[30:])
            with path.open("a") as out:
                out.write("\n".join(EVENTS[30:]) + "\n")

    report = build([str(path)], Options(), append_once).as_dict()

    assert report == build([str(path)], Options(), fast=False).as_dict()
    assert report["lines"]["events"] == report["summary"]["calls"] == len(EVENTS)


def test_stdin_plain_or_gzip_gives_the_file_s_report(tmp_path):
    """`report -` spools stdin; plain or gzip, the report is the exact reader's report of the file."""
    path = write(tmp_path / "mixed.log", mixed())
    exact = build([str(path)], Options(), fast=False).as_dict()

    for data in (path.read_bytes(), gzip.compress(path.read_bytes())):
        result = subprocess.run(
            [sys.executable, "-m", "claude_logging", "report", "-", "--format", "json"],
            input=data,
            capture_output=True,
            check=True,
        )
        assert json.loads(result.stdout) == json.loads(json.dumps(exact))


def test_duckdb_draws_no_progress_bar_on_stdout(capfd):
    """A default DuckDB connection draws its bar on stdout during a long query; ours has it off."""
    default = duckdb.connect()
    default.execute("SET progress_bar_time = 0")  # draw at once (this also turns the bar on)
    default.execute("SELECT count(*) FROM range(30000000) t(i) WHERE hash(i) % 7 = 1").fetchall()
    default.close()
    assert "100%" in capfd.readouterr().out

    with _run.connect(duckdb) as con:
        assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)


# -- the check itself, on random lines --------------------------------------------------------------

FIELD = st.sampled_from(["model", "event", "\\u0065vent", "x", "latency_ms", "tags"])
VALUE = st.sampled_from(
    [
        '"claude.call"',
        '"other"',
        "1",
        "-0.5e3",
        "nan",
        "NaN",
        "-Infinity",
        "inf",
        "null",
        "true",
        "[1,2]",
        "[1,]",
        '{"a":1}',
        "[nan]",
        '"a\\"b"',
        '"\\ud800"',
        "9" * 700,
    ]
)
SPACE = st.sampled_from(["", " ", "\t", "\r", "\x0b"])


@st.composite
def lenient_lines(draw) -> str:
    """An object-like line: flat events with members and whitespace DuckDB may take and Python not."""
    members = [f'{draw(SPACE)}"event"{draw(SPACE)}:{draw(SPACE)}"claude.call"']
    members += [
        f'{draw(SPACE)}"{draw(FIELD)}"{draw(SPACE)}:{draw(SPACE)}{draw(VALUE)}{draw(SPACE)}'
        for _ in range(draw(st.integers(0, 4)))
    ]
    order = draw(st.permutations(members))
    trailing = draw(st.sampled_from(["", ",", ", "]))
    return draw(SPACE) + "{" + ",".join(order) + trailing + "}" + draw(SPACE)


def python_says(text: str) -> LineCounts:
    """How the exact reader counts one line (a field the report reads, twice: malformed)."""
    line = text.encode("utf-8", "surrogatepass") + b"\n"
    return _reader._normalise_lines(iter([line]), _Sink(), watch=read_columns(Options()))


def load_refuses(path: Path) -> bool:
    """Whether loading the file fails (a field the report reads is there twice): the report is then exact."""
    with duckdb.connect() as con:
        try:
            load(con, [path], Options())
        except duckdb.InvalidInputException:
            return True
    return False


class _Sink:
    def write(self, _data: bytes) -> int:
        return 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(lenient_lines(), min_size=1, max_size=12))
@example(lines=['{"event":"claude.call","model":"a","model":"b"}', '{"event":"claude.call","x":1,"x":2}'])
def test_a_line_duckdb_takes_for_an_event_is_one_for_python(tmp_path_factory, lines):
    """Soundness of the check: whatever DuckDB confirms, Python reads as a flat event too.

    Or the line holds a field the report reads twice: the check leaves that to the load, which
    fails on it, and the report is then read in Python.
    """
    folder = tmp_path_factory.mktemp("lines")
    files = [write(folder / f"{index}.ndjson", [text]) for index, text in enumerate(lines)]

    with duckdb.connect() as con:
        read = read_events(con, files)

    for text, path in zip(lines, files, strict=True):
        if read[path] == (1, 1):
            assert python_says(text).events == 1 or load_refuses(path), text


OTHER_SCHEMAS_KEYS = ["ddsource", "service", "status", "ecs.version", "event.action", "log.level"]
OTHER_SCHEMAS_KEYS += ["SeverityText", "Body", "Attributes", "Resource", "gen_ai.system", "message"]


@settings(max_examples=200)
@given(
    fields=st.dictionaries(
        st.sampled_from(OTHER_SCHEMAS_KEYS) | st.text(max_size=8),
        st.none() | st.integers() | st.text(max_size=8) | st.dictionaries(st.text(max_size=4), st.integers()),
        max_size=6,
    )
)
def test_a_record_whose_event_is_claude_call_is_flat_whatever_else_it_holds(fields):
    """The check takes `"event": "claude.call"` for flat: to_flat must return such a record as it is."""
    record = {**fields, "event": "claude.call"}

    assert to_flat(record) is record


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.lists(st.sampled_from([b"\n", b"\r", b"\r\n", b" ", b"x", b"{}", b"\t"]), max_size=40))
def test_line_and_blank_counts_match_the_exact_reader(tmp_path_factory, data):
    """`line_count` is the reader's count of lines; `blank_count` never exceeds its blank lines."""
    path = tmp_path_factory.mktemp("counts") / "lines.log"
    path.write_bytes(b"".join(data))

    counts = normalise([str(path)], _Sink())

    assert line_count(path) == counts.lines
    assert blank_count(path) <= counts.blank
