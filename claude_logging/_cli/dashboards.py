"""`claude-logging dashboards export`: a backend's dashboard, metrics, alerts and queries, as files.

The files ship inside the package (`claude_logging/dashboards/<backend>/`) and target one schema
each: Datadog the `datadog` schema, Elastic the `ecs` schema, Grafana Loki and ClickHouse the
default `flat` schema. docs/backends/<backend>.md says how to import each file.
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Final

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
    export.set_defaults(run=run_export)


def backend_files(backend: str) -> list[Traversable]:
    """The package-data files of `backend`, sorted by name."""
    folder = resources.files("claude_logging") / "dashboards" / backend
    return sorted((item for item in folder.iterdir() if item.is_file()), key=lambda item: item.name)


def run_export(args: argparse.Namespace) -> int:
    """Copy the backend's files into `--out`; print each path written, then the schema to use."""
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for item in backend_files(args.backend):
        target = out / item.name
        target.write_bytes(item.read_bytes())
        print(target)
    schema = BACKEND_SCHEMAS[args.backend]
    print(
        f"claude-logging: these files read events written with schema {schema!r} "
        f"(configure(schema={schema!r}) or CLAUDE_LOGGING_SCHEMA={schema}); "
        f"see docs/backends/ for how to import them.",
        file=sys.stderr,
    )
    return 0
