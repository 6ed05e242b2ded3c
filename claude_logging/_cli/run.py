"""`claude-logging run -- python app.py`: run a command with every Claude call it makes logged.

The command runs in place of this one (same process id, signals and exit status) with the bootstrap
folder first on PYTHONPATH and CLAUDE_LOGGING_INSTRUMENT=1, so each Python process it starts calls
`claude_logging.instrument()` before the application's code: every Anthropic client, those built by
frameworks included, writes one event per call. Settings come from the environment as usual
(CLAUDE_LOGGING_SCHEMA=datadog, ...). Without the wrapper: `python -m claude_logging.bootstrap`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from claude_logging import bootstrap


def add_parser(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `run` and its command."""
    parser = subcommands.add_parser(
        "run",
        help="run a command with every Claude call of its Python processes logged",
        description=__doc__,
        usage="claude-logging run [--] COMMAND [ARG ...]",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run, e.g. python app.py")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Replace this process with the command, instrumented; the status if it cannot start."""
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        print("claude-logging run: no command; e.g. claude-logging run -- python app.py", file=sys.stderr)
        return 2
    env = bootstrap.environment(os.environ)
    try:
        if os.name == "nt":  # no exec on Windows: run it as a child and pass its status on
            return subprocess.call(command, env=env)  # noqa: S603 - the user's own command
        sys.stdout.flush()
        sys.stderr.flush()
        os.execvpe(command[0], command, env)  # noqa: S606 - the user's own command
    except FileNotFoundError:
        print(f"claude-logging run: command not found: {command[0]}", file=sys.stderr)
        return 127
    except PermissionError:
        print(f"claude-logging run: permission denied: {command[0]}", file=sys.stderr)
        return 126
