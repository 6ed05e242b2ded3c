"""Where one logged call's time goes between real SDK calls: parts switched off, in one process.

`stages.py` times each stage alone in a tight loop, where its code and data stay in the CPU caches.
This tool measures the same parts where they really run, between SDK calls: an instrumented client
makes batches of calls with a part of the pipeline replaced by a no-op, interleaved with the bare
SDK call and the whole pipeline in shuffled rounds, and each row is its process CPU per call
(writer thread included) minus the bare call's. The differences between rows are what each part
costs in place. A diagnostic, not a variant of ours: the switched-off rows write nothing.

    python benchmarks/in_situ.py [--rounds 8] [--calls 1000]
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
from typing import Any

import _canned
from _timing import Variant, interleave, stdout_to_devnull

import claude_logging
from claude_logging import _api_calls, _calls, _config, _outputs, _render, _responses, _schemas
from claude_logging._writer import WORKER


def _nothing(*_args: Any, **_kwargs: Any) -> None:
    """A part switched off."""


def _render_only(event: Any) -> None:
    settings = _config.current()
    _schemas.render(_render.facts(event, settings), settings)


_PARTS: dict[str, tuple[Any, str, Any]] = {
    "write": (WORKER, "write", _nothing),
    "encode": (_outputs, "_emit_one", _render_only),
    "emit": (_outputs, "_emit_one", _nothing),
    "request": (_api_calls, "request_fields", _nothing),
    "headers": (_api_calls, "record_headers", _nothing),
    "message": (_responses, "record_message", _nothing),
    "cost": (_calls.Call, "_price", _nothing),
    "open": (_api_calls, "start_call", _nothing),
}
"""Each part that can be switched off: where it lives, and its stand-in."""
_ORIGINALS: dict[str, Any] = {name: getattr(part[0], part[1]) for name, part in _PARTS.items()}

BARE = "the bare SDK call"
ROWS: dict[str, tuple[str, ...]] = {
    BARE: (),
    "the whole pipeline (instrument, stdout, flat)": (),
    "without the write (the line is encoded)": ("write",),
    "without encoding and write (facts and schema kept)": ("encode",),
    "capture only (nothing rendered or written)": ("emit",),
    "capture only, without the request's fields": ("emit", "request"),
    "capture only, without the response headers": ("emit", "headers"),
    "capture only, without reading the Message": ("emit", "message"),
    "capture only, without cost_usd": ("emit", "cost"),
    "the seams only (no call opened)": ("open",),
}
"""Each row: the parts switched off."""


def switch(off: tuple[str, ...]) -> None:
    """Switch every part back on, then the parts in `off` off ("emit" and "encode" share a place)."""
    for name, (owner, attribute, _) in _PARTS.items():
        setattr(owner, attribute, _ORIGINALS[name])
    for name in off:
        owner, attribute, stand_in = _PARTS[name]
        setattr(owner, attribute, stand_in)


def variants(bare: Any, instrumented: Any) -> list[Variant]:
    """One variant per row: the bare client for the floor, else the instrumented one with parts off."""
    return [
        Variant(
            row,
            "in situ",
            functools.partial((bare if row == BARE else instrumented).messages.create, **_canned.REQUEST),
            enter=functools.partial(switch, off),
            leave=functools.partial(switch, ()),
            drain=claude_logging.flush,
        )
        for row, off in ROWS.items()
    ]


def main() -> None:
    """Run the rounds and print one row per part."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    with stdout_to_devnull():  # the events go nowhere
        rows = variants(_canned.client(), claude_logging.instrument(_canned.client()))
        interleave(rows, args.rounds, args.calls, warmup=args.calls // 20)
    floor = statistics.median(rows[0].round_cpu)
    print(
        f"CPU per call over the bare SDK call ({floor:.0f} us), median of {args.rounds} rounds; load "
        f"{os.getloadavg()[0]:.1f}; Python {sys.version.split()[0]}"
    )
    for row in rows:
        cpu = row.round_cpu
        print(
            f"  {row.name:55s} {statistics.median(cpu) - floor:7.1f} us  (rounds {min(cpu) - floor:.0f} to "
            f"{max(cpu) - floor:.0f})"
        )


if __name__ == "__main__":
    main()
