"""Defensive readers of SDK objects and JSON bodies: one attribute or key at a time, never trusting a shape.

Every capture module reads through these, so a pydantic model from the SDK and the plain dict of
a JSON body read alike, and a value of the wrong type reads as absent (never as zero).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, Final, Protocol, TypeGuard

MAX_COUNT: Final = 2**53
_mapping_types: dict[type, bool] = {dict: True, str: False, int: False, float: False, list: False}
_model_types: dict[type, bool] = {}
_NO_FIELDS: Final[dict[str, Any]] = {}


class Fields(Protocol):
    """What `fields()` returns: `.get(name)` of one field, `None` when missing or unreadable."""

    def get(self, name: str, /) -> Any:
        """The field's value, or `None`."""


class _Attributes:
    """The fields of an object that is neither a dict nor a pydantic model, read one by one."""

    __slots__ = ("_obj",)

    def __init__(self, obj: object) -> None:
        self._obj = obj

    def get(self, name: str, /) -> Any:
        return get(self._obj, name)


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


def fields(obj: object) -> Fields:
    """Every field of `obj` at once, to read several for the price of one look-up each.

    A dict is its own fields. A pydantic model (every SDK object) keeps its declared fields in its
    `__dict__`, and the fields the SDK does not declare (newer API fields) in `__pydantic_extra__`:
    reading that dict costs a tenth of a `get()` per field. Anything else is read with `get()`.
    """
    if type(obj) is dict:
        return obj
    if obj is None:
        return _NO_FIELDS
    kind = type(obj)
    model = _model_types.get(kind)
    if model is None:
        model = _is_model(kind)
        if len(_model_types) < 256:
            _model_types[kind] = model
    if model:
        try:
            declared = obj.__dict__
            extra = obj.__pydantic_extra__  # type: ignore[attr-defined]
        except Exception:  # an object that breaks this is read attribute by attribute
            pass
        else:
            if type(declared) is dict and extra is None:
                return declared
            if type(declared) is dict and type(extra) is dict:
                return {**extra, **declared} if extra else declared
    return _Attributes(obj)


def _is_model(kind: type) -> bool:
    """Whether `kind` is a pydantic v2 model (its fields in `__dict__`, extra ones beside)."""
    pydantic = sys.modules.get("pydantic")
    base = getattr(pydantic, "BaseModel", None)
    try:
        return (
            isinstance(base, type)
            and issubclass(kind, base)
            and isinstance(getattr(kind, "__pydantic_fields__", None), dict)
        )
    except Exception:  # a class whose checks raise is read attribute by attribute
        return False


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
