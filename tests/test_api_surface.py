"""The public surface: what the package exports, ships and documents."""

from __future__ import annotations

import importlib.resources
import inspect

import claude_logging
from claude_logging import testing


def test_the_public_names_are_pinned():
    """The package root re-exports exactly these names (sorted), nothing by accident."""
    assert claude_logging.__all__ == [
        "JsonFormatter",
        "LogCall",
        "Scope",
        "Stats",
        "__version__",
        "configure",
        "context",
        "flush",
        "instrument",
        "log_call",
        "stats",
        "uninstrument",
    ]
    assert claude_logging.__all__ == sorted(claude_logging.__all__)


def test_the_package_ships_py_typed():
    """Type checkers see our annotations (PEP 561)."""
    assert importlib.resources.files("claude_logging").joinpath("py.typed").is_file()


def test_every_public_object_has_a_docstring_and_annotations():
    """Public functions and classes of the package and of `testing` are documented and typed."""
    for module in (claude_logging, testing):
        for name in module.__all__:
            obj = getattr(module, name)
            if name.isupper() or name.startswith("__"):
                continue
            assert inspect.getdoc(obj), f"{module.__name__}.{name} has no docstring"
            if inspect.isfunction(obj):
                hints = inspect.signature(obj)
                assert hints.return_annotation is not inspect.Signature.empty, name


def test_stats_counts_emitted_events(events):
    """stats() reports what the library has done."""
    with claude_logging.log_call():
        pass

    assert claude_logging.stats().internal_errors == 0
