"""`claude-logging dashboards export`: a backend's dashboard, metrics, alerts and queries, as files.

The files ship inside the package (`claude_logging/dashboards/<backend>/`) and target one schema
each: Datadog the `datadog` schema, Elastic the `ecs` schema, Grafana Loki and ClickHouse the
default `flat` schema. docs/backends/<backend>.md says how to import each file.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Final

from claude_logging._sanitize import show_controls

if TYPE_CHECKING:
    from importlib.abc import Traversable

BACKEND_SCHEMAS: Final = {
    "datadog": "datadog",
    "grafana-loki": "flat",
    "elastic": "ecs",
    "clickhouse": "flat",
}
"""The schema the application must write for each backend's files to work."""


def add_parser(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `dashboards export` and its options."""
    parser = subcommands.add_parser(
        "dashboards",
        help="export dashboards, log-based metrics, alerts and queries for a log backend",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write one backend's files to a folder")
    export.add_argument("--backend", required=True, choices=sorted(BACKEND_SCHEMAS), help="the log backend")
    export.add_argument("--out", required=True, type=Path, help="folder to write into (created if missing)")
    export.add_argument(
        "--force", action="store_true", help="overwrite files already there (never through a symlink)"
    )
    export.set_defaults(run=run_export)


def backend_files(backend: str) -> list[Traversable]:
    """The package-data files of `backend`, sorted by name."""
    folder = resources.files("claude_logging") / "dashboards" / backend
    return sorted((item for item in folder.iterdir() if item.is_file()), key=lambda item: item.name)


def run_export(args: argparse.Namespace) -> int:
    """Copy the backend's files into `--out`; print each path written, then the schema to use.

    Nothing is written through a symbolic link, and no file already there is replaced without
    `--force`: every target is checked before the first is written, and each is opened with
    `O_NOFOLLOW` (and `O_EXCL` without `--force`), so a link planted meanwhile fails too.
    """
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    items = backend_files(args.backend)
    refused = _refusals([out / item.name for item in items], force=args.force)
    if refused:
        for message in refused:
            print(f"claude-logging dashboards export: {message}", file=sys.stderr)
        return 1
    for item in items:
        target = out / item.name
        try:
            _write_new(target, item.read_bytes(), force=args.force)
        except OSError as exc:
            message = f"cannot write {_shown(target)}: {exc.strerror}"
            print(f"claude-logging dashboards export: {message}", file=sys.stderr)
            return 1
        print(_shown(target))
    schema = BACKEND_SCHEMAS[args.backend]
    print(
        f"claude-logging: these files read events written with schema {schema!r} "
        f"(configure(schema={schema!r}) or CLAUDE_LOGGING_SCHEMA={schema}); "
        f"see docs/backends/ for how to import them.",
        file=sys.stderr,
    )
    return 0


def _shown(path: Path) -> str:
    return show_controls(str(path))


def _refusals(targets: list[Path], *, force: bool) -> list[str]:
    """Why each target that must not be written cannot be (a link; a file, without `force`)."""
    refused = []
    for target in targets:
        if target.is_symlink():
            refused.append(f"refusing to write through the symbolic link {_shown(target)}")
        elif target.exists() and (not force or not target.is_file()):
            what = "a file" if target.is_file() else "something that is not a file"
            refused.append(f"{_shown(target)} is already {what}; pass --force to overwrite files")
    return refused


def _write_new(target: Path, data: bytes, *, force: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | (os.O_TRUNC if force else os.O_EXCL)
    descriptor = os.open(target, flags, 0o644)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
