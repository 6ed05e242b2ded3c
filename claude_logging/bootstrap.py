"""Log every Claude call of a Python process without changing its code.

`claude-logging run -- python app.py` is the short way. Without the wrapper (a container's
entrypoint, a process manager), put the bootstrap folder first on PYTHONPATH and turn the switch on:

    export PYTHONPATH="$(python -m claude_logging.bootstrap)${PYTHONPATH:+:$PYTHONPATH}"
    export CLAUDE_LOGGING_INSTRUMENT=1

Every Python process started with both (and its Python children, which inherit them) calls
`claude_logging.instrument()` at startup; `CLAUDE_LOGGING_INSTRUMENT=0` turns it off again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Final

from claude_logging import _bootstrap

if TYPE_CHECKING:
    from collections.abc import Mapping

SWITCH: Final = "CLAUDE_LOGGING_INSTRUMENT"
"""The environment switch the bootstrap honours: `1` instruments, unset or `0` does nothing."""


def directory() -> str:
    """The folder to put first on PYTHONPATH: it holds only the bootstrap `sitecustomize.py`."""
    return str(Path(_bootstrap.__file__).resolve().parent)


def environment(base: Mapping[str, str]) -> dict[str, str]:
    """`base` (e.g. `os.environ`) with the bootstrap folder first on PYTHONPATH and the switch on."""
    env = dict(base)
    folder = directory()
    rest = [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry and entry != folder]
    env["PYTHONPATH"] = os.pathsep.join([folder, *rest])
    env[SWITCH] = "1"
    return env


if __name__ == "__main__":
    print(directory())  # noqa: T201 - the command's output
