"""The process's life around the writer: interpreter exit, fork, multiprocessing children, SIGTERM.

- **Exit** (`atexit`, registered after `logging`'s, so before `logging.shutdown()`): calls still
  in flight are written as `incomplete`, then the queue is written in the exiting thread within
  `flush_timeout_s`; what stdout did not take is counted and reported once.
- **Fork**: the child forgets the parent's queue, thread, calls and counters, and re-creates every
  lock (another thread may have held one at the fork).
- **multiprocessing children** (fork and forkserver start methods; Pool and ProcessPoolExecutor
  workers) leave by `os._exit`, which skips `atexit`: a `multiprocessing.util.Finalize` with a low
  exit priority runs the same exit drain in the child's `_exit_function`. Spawned children exit
  normally and drain at exit. Celery's prefork children (billiard) leave by `os._exit` from inside
  their loop, skipping those finalisers: there the drain runs on Celery's `worker_process_shutdown`
  signal, sent just before.
- **SIGTERM**, with `configure(handle_sigterm=True)`: write what is queued within a short deadline,
  then hand the signal on (the previous Python handler, or the default action). The handler takes
  no lock the interrupted code may hold.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
from typing import TYPE_CHECKING, Any, Final

from claude_logging import _calls, _config, _guard
from claude_logging._writer import WORKER

if TYPE_CHECKING:
    from types import FrameType

SIGNAL_DRAIN_S: Final = 1.0
"""The most a SIGTERM waits for stdout before the signal is handed on."""
FINALISER_PRIORITY: Final = -1_000
"""multiprocessing runs finalisers from the highest priority down: ours after the application's."""
_MULTIPROCESSING: Final = ("multiprocessing.util", "billiard.util")
"""The standard library's and Celery's (billiard) process packages share this finaliser API."""

_finalisers: dict[str, Any] = {}
_previous_sigterm: Any = None


def drain_at_exit() -> None:
    """Write calls in flight as `incomplete`, then every queued line; count what stdout refuses."""
    try:
        _calls.sweep()
        WORKER.close(_config.current().flush_timeout_s)
    except Exception:
        pass


# -- multiprocessing children -------------------------------------------------------------------


def _loaded_utils() -> dict[str, Any]:
    """Each loaded multiprocessing package's `util`, by name, once per finaliser registry.

    billiard 4 re-exports the standard library's `Finalize` and registries: armed through both
    names, the drain would be registered, and run, twice.
    """
    loaded: dict[str, Any] = {}
    registries: list[object] = []
    for name in _MULTIPROCESSING:
        util = sys.modules.get(name)
        finalize = getattr(util, "Finalize", None)
        if util is not None and not any(finalize is seen for seen in registries):
            loaded[name] = util
            registries.append(finalize)
    return loaded


def _arm(_worker: object = None) -> None:
    """Register the exit drain with each loaded multiprocessing package of this (child) process."""
    for name, util in _loaded_utils().items():
        finaliser = _finalisers.get(name)
        if finaliser is not None and finaliser.still_active():
            continue
        try:
            _finalisers[name] = util.Finalize(None, drain_at_exit, exitpriority=FINALISER_PRIORITY)
        except Exception:
            pass
    _connect_celery()


def _connect_celery() -> None:
    """Drain on Celery's `worker_process_shutdown` when Celery is loaded (a prefork child's last act)."""
    signals = sys.modules.get("celery.signals")
    if signals is None:
        return
    try:
        signals.worker_process_shutdown.connect(
            _on_worker_process_shutdown, weak=False, dispatch_uid="claude_logging.drain_at_exit"
        )
    except Exception:
        pass


def _on_worker_process_shutdown(**_details: object) -> None:
    """Celery's receiver signature: keyword arguments only (`sender`, `signal`, `pid`, `exitcode`)."""
    drain_at_exit()


def _arm_after_bootstrap() -> None:
    """Have multiprocessing arm the drain in each child, after the bootstrap clears its finalisers."""
    for util in _loaded_utils().values():
        try:
            util.register_after_fork(WORKER, _arm)
        except Exception:
            pass


def _after_fork_in_child() -> None:
    WORKER.after_fork_in_child()
    _arm_after_bootstrap()


def _in_a_child_process() -> bool:
    """Whether this interpreter is a multiprocessing child (imported us after its fork or spawn)."""
    process = sys.modules.get("multiprocessing.process")
    return process is not None and getattr(process, "parent_process", lambda: None)() is not None


# -- SIGTERM ------------------------------------------------------------------------------------


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Write what is queued within a short deadline, then pass the signal on."""
    previous = _previous_sigterm
    try:
        timeout = min(_config.current().flush_timeout_s, SIGNAL_DRAIN_S)
        left = WORKER.drain_in_signal_handler(timeout)
        if left and not callable(previous) and previous != signal.SIG_IGN:
            WORKER.drop_queued("shutdown")
            _guard.warn_once(
                "sigterm",
                "claude_logging: stdout did not accept %d queued events before SIGTERM ended the "
                "process; dropped.",
                left,
            )
    except Exception:
        pass
    if callable(previous):
        previous(signum, frame)
    elif previous != signal.SIG_IGN:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _set_sigterm(enabled: object) -> bool:
    """`configure(handle_sigterm=...)`: install or remove the SIGTERM drain (main thread only)."""
    global _previous_sigterm  # noqa: PLW0603 - the handler we chain to
    if not isinstance(enabled, bool):
        raise TypeError(f"handle_sigterm must be True or False, not {enabled!r}")
    current = signal.getsignal(signal.SIGTERM)
    try:
        if enabled and current is not _on_sigterm:
            signal.signal(signal.SIGTERM, _on_sigterm)
            _previous_sigterm = current
        elif not enabled and current is _on_sigterm:
            signal.signal(signal.SIGTERM, _previous_sigterm or signal.SIG_DFL)
    except ValueError as exc:  # not the main thread
        raise ValueError(f"handle_sigterm can only be set from the main thread: {exc}") from None
    return enabled


_installed = False


def install() -> None:
    """Install the exit, fork and multiprocessing hooks, and the `handle_sigterm` option (once)."""
    global _installed  # noqa: PLW0603 - hooks are process-wide and installed once
    if _installed:
        return
    _installed = True
    _config.register_option("handle_sigterm", _set_sigterm)
    atexit.register(drain_at_exit)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
    _arm_after_bootstrap()
    if _in_a_child_process():
        _arm()  # imported inside a child that has already bootstrapped
