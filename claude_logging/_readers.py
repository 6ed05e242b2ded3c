"""Defensive readers of SDK objects and JSON bodies: one attribute or key at a time, never trusting a shape.

Every capture module reads through these, so a pydantic model from the SDK and the plain dict of
a JSON body read alike, and a value of the wrong type reads as absent (never as zero).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeGuard

MAX_COUNT: Final = 2**53
_mapping_types: dict[type, bool] = {dict: True, str: False, int: False, float: False, list: False}


def get(obj: object, name: str) -> Any:
    """`obj[name]` for a dict, `obj.name` for anything else; `None` when missing or unreadable."""
    if obj is None:
        return None
    if type(obj) is dict:
        return obj.get(name)
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def is_mapping(value: object) -> TypeGuard[Mapping[Any, Any]]:
    """`isinstance(value, Mapping)`, answered once per type.

    The SDK fills unset parameters with `Omit` markers; the ABC check of each costs a few hundred
    nanoseconds, a dictionary look-up a tenth of that.
    """
    kind = type(value)
    known = _mapping_types.get(kind)
    if known is None:
        known = isinstance(value, Mapping)
        if len(_mapping_types) < 256:
            _mapping_types[kind] = known
    return known


def private(obj: object, name: str) -> Any:
    """A pydantic private attribute (`_request_id`), read from pydantic's own dict.

    A plain `getattr` of one goes through pydantic's `__getattr__` and costs about 2 us.
    """
    try:
        attributes = getattr(obj, "__pydantic_private__", None)
    except Exception:
        return None
    if type(attributes) is dict:
        return attributes.get(name)
    return get(obj, name)


def count(value: object) -> int | None:
    """`value` if it is a sane token count (a non-negative int, not a bool), else None."""
    if type(value) is int and 0 <= value < MAX_COUNT:
        return value
    return None


def text(value: object) -> str | None:
    """`value` if it is a string, else None."""
    return value if isinstance(value, str) else None


def number(value: object) -> float | None:
    """`value` as a float if it is a finite int or float (not a bool), else None."""
    if (type(value) is int or type(value) is float) and -1e15 < value < 1e15:  # excludes inf and NaN too
        return float(value)
    return None
