"""`claude-logging report [FILE ...]`: what the Claude calls in a log file cost, who spent it, how they went.

Reads event lines of any of the library's schemas (detected per line) from files, `.gz` files
or stdin (`-`, or no file), skips other application log lines, counts malformed ones, and prints
per model, per error, per tenant and over-time figures with the cost projected per day and month.
Needs the `report` extra: pip install 'claude-logging[report]'.

Examples:
  claude-logging demo --calls 500 | claude-logging report
  claude-logging report app.log.gz --by user_id --since 24h --where service=checkout
  claude-logging report app.log --format json > report.json
  claude-logging report app.log --html report.html
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from claude_logging._report._engine import Options, since_until
from claude_logging._report._reader import MAX_UNPACKED, InputTooLargeError, ProgressBar, input_size
from claude_logging._report._run import ReportUnavailableError, build
from claude_logging._report._text import RENDERERS
from claude_logging._sanitize import show_controls


def add_parser(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `report` and its options."""
    parser = subcommands.add_parser(
        "report",
        help="summarise event lines: cost, errors, latency per model, tenant and time (DuckDB)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="log files (.gz too); '-' or none: stdin")
    parser.add_argument(
        "--by", metavar="FIELD", help="also group by this field (user_id, service, a custom one)"
    )
    parser.add_argument("--since", metavar="TIME", help="from this time: ISO 8601 (UTC) or 30m, 2h, 7d ago")
    parser.add_argument("--until", metavar="TIME", help="before this time: ISO 8601 (UTC) or 30m, 2h, 7d ago")
    parser.add_argument(
        "--where", metavar="FIELD=VALUE", action="append", default=[], type=_condition,
        help="keep events whose FIELD equals VALUE (repeatable; all must hold)",
    )  # fmt: skip
    parser.add_argument("--top", type=_positive, default=10, help="rows in the top lists (default 10)")
    parser.add_argument("--format", choices=sorted(RENDERERS), default="table", help="output format")
    parser.add_argument("--html", metavar="FILE", help="also write a self-contained HTML page with charts")
    parser.add_argument(
        "--max-unpacked", metavar="SIZE", type=_size, default=MAX_UNPACKED,
        help="most that stdin and .gz inputs may unpack to, together, in the temporary directory: "
        "500M, 4G, or 0 for no limit (default 1G)",
    )  # fmt: skip
    parser.set_defaults(run=run)


def _condition(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected FIELD=VALUE, not {text!r}")
    return name.strip(), value


def _size(text: str) -> int | None:
    units = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
    value = text.strip().upper().removesuffix("IB").removesuffix("B")
    number, unit = (value[:-1], value[-1]) if value[-1:] in units else (value, "")
    try:
        size = int(float(number) * units[unit])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size such as 500M or 4G, not {text!r}") from None
    if size < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {text!r}")
    return size or None


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _time(text: str | None, now: datetime) -> datetime | None:
    if text is None:
        return None
    try:
        return since_until(text, now)
    except ValueError as exc:
        raise SystemExit(
            f"claude-logging report: bad time {text!r} (ISO 8601 or 30m, 2h, 7d): {exc}"
        ) from exc


def run(args: argparse.Namespace) -> int:
    """Build the report and write it to stdout (and the HTML page if asked)."""
    paths = list(args.files) or ["-"]
    missing = [path for path in paths if path != "-" and not Path(path).is_file()]
    if missing:
        names = ", ".join(show_controls(repr(path)) for path in missing)
        print(f"claude-logging report: no such file: {names}", file=sys.stderr)
        return 2
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    options = Options(
        by=args.by,
        since=_time(args.since, now),
        until=_time(args.until, now),
        where=tuple(args.where),
        top=args.top,
    )
    bar = ProgressBar(input_size(paths))
    try:
        report = build(paths, options, bar, max_unpacked=args.max_unpacked)
    except ReportUnavailableError as exc:
        print(f"claude-logging report: {exc}", file=sys.stderr)
        return 3
    except InputTooLargeError as exc:
        print(f"claude-logging report: {exc}", file=sys.stderr)
        return 2
    finally:
        bar.close()
    sys.stdout.write(RENDERERS[args.format](report))
    if args.html:
        from claude_logging._report._html import page  # noqa: PLC0415 - only when asked

        Path(args.html).write_text(page(report), encoding="utf-8")
        print(f"claude-logging report: wrote {show_controls(repr(args.html))}", file=sys.stderr)
    if report.lines["malformed"]:
        print(
            f"claude-logging report: {report.lines['malformed']:,} malformed lines ignored", file=sys.stderr
        )
    return 0
