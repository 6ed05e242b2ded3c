"""Run at the start of every Python process that has this folder on PYTHONPATH.

With `CLAUDE_LOGGING_INSTRUMENT=1` (what `claude-logging run` sets) it calls
`claude_logging.instrument()` right after the process imports `anthropic`, so every Anthropic
client of the process is logged with no change to the code, and a process that never imports the
SDK (a tool the application starts, a test runner) pays nothing: not even our import. With the
switch unset or off it does nothing. Either way it then runs the `sitecustomize` that it hides
further along `sys.path` (a distribution's, or the application's own), as `opentelemetry-instrument`
does. It never stops the process from starting: a problem is one line on stderr.
"""

from __future__ import annotations

import importlib.util
import os
import sys

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing would cost every process
if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Final

SWITCH: Final = "CLAUDE_LOGGING_INSTRUMENT"
SDK: Final = "anthropic"
_ON: Final = ("1", "true", "yes", "on")
_OFF: Final = ("", "0", "false", "no", "off")


def _say(message: str) -> None:
    try:
        sys.stderr.write(f"claude-logging: {message}\n")
    except Exception:
        pass  # no stderr (a detached daemon): nothing else to tell


def _switched_on() -> bool:
    value = os.environ.get(SWITCH, "").strip().lower()
    if value in _ON:
        return True
    if value not in _OFF:
        _say(f"{SWITCH}={value!r} is not one of: {', '.join(_ON + _OFF[1:])}; not instrumenting")
    return False


def _instrument() -> None:
    try:
        import claude_logging  # noqa: PLC0415 - only once the SDK is there to observe
    except ImportError as exc:
        _say(f"not instrumenting {sys.executable}: claude_logging cannot be imported ({exc})")
        return
    try:
        claude_logging.instrument()
    except Exception as exc:
        _say(f"not instrumenting: {type(exc).__name__}: {exc}")


class _Loader:
    """The SDK's own loader, then `instrument()`; the module keeps the SDK's loader afterwards."""

    def __init__(self, loader: object) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        create = getattr(self.loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        try:
            self.loader.exec_module(module)  # type: ignore[attr-defined]
        finally:
            # No trace of us in the SDK's module: resources and source are read through its own loader.
            module.__loader__ = self.loader  # type: ignore[assignment]
            if module.__spec__ is not None:
                module.__spec__.loader = self.loader  # type: ignore[assignment]
        _instrument()


class _Watch:
    """On `sys.meta_path` until the SDK is imported: then `instrument()` runs right after it loads."""

    def find_spec(
        self,
        name: str,
        path: Sequence[str] | None = None,  # noqa: ARG002 - the meta path finder protocol
        target: ModuleType | None = None,  # noqa: ARG002 - the same
    ) -> ModuleSpec | None:
        if name != SDK:
            return None
        try:
            sys.meta_path.remove(self)  # once, and not for the look-up below
        except ValueError:
            return None
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)  # type: ignore[assignment]
        return spec


def _run_hidden_sitecustomize() -> None:
    """Run the next `sitecustomize` on `sys.path` after this folder, under its own name."""
    import importlib.machinery  # noqa: PLC0415 - already loaded by the interpreter's start

    # os.path, not pathlib: this runs in every process at startup, before pathlib is imported.
    # Real paths: this folder may be on sys.path under another name (a symlink, a relative entry).
    here = os.path.dirname(os.path.realpath(__file__))  # noqa: PTH120
    rest = [entry for entry in sys.path if os.path.realpath(entry or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        # What Python itself prints when a sitecustomize fails; the process goes on.
        sys.stderr.write(f"Error in sitecustomize; set PYTHONVERBOSE for traceback:\n{exc!r}\n")


if _switched_on():
    if SDK in sys.modules:
        _instrument()
    else:
        sys.meta_path.insert(0, _Watch())
_run_hidden_sitecustomize()
