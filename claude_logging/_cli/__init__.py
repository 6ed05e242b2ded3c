"""The `claude-logging` command: `demo`, `report`, `dashboards`, `run` (and what other features add)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from claude_logging._cli import dashboards, demo, report, run

Command = Callable[[argparse.Namespace], int]

_COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    demo.add_parser,
    report.add_parser,
    dashboards.add_parser,
    run.add_parser,
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="claude-logging",
        description="One structured JSON log event for every Claude API call.",
    )
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in _COMMANDS:
        add(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Command = args.run
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): not an error of ours, and nothing left to say.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
