"""The one generic renderer: a declarative table applied to the flat view, forwards and backwards.

A `FieldMap` is compiled once from `Field` and `Fixed` entries; `render()` walks the compiled
steps (no reflection per event) and `read()` walks the same table backwards, units converted
back, so a log line of any schema reads as the flat view again.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from claude_logging._fields import ALWAYS_FIELDS
from claude_logging._line import timestamp

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from claude_logging._config import Settings

ALWAYS: Final = ALWAYS_FIELDS
"""The flat fields that are always present (`null` when unknown); `read()` restores them."""

EVENT_NAME: Final = "claude.call"


@dataclass(frozen=True, slots=True)
class Unit:
    """How a value changes between the flat view and a vendor: `out` there, `back` here.

    Both take the value and, for conversions that need a sibling field, the whole flat view
    (`out`) or the whole vendor record, flattened (`back`).
    """

    out: Callable[[Any, dict[str, Any]], Any]
    back: Callable[[Any, dict[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Field:
    """A flat field written under a vendor name, optionally converted and placed in an object."""

    flat: str
    name: str
    unit: Unit | None = None
    into: str | None = None
    """The object it goes in (OTel's `Attributes`, `Resource`); None for the top level."""
    default: Any = None
    """Written when the flat value is absent (a vendor-required attribute); read back as given."""
    fallback: str | None = None
    """The flat key `read()` copies when this one comes back absent (a value written only once)."""
    fill: Callable[[dict[str, Any]], Any] | None = None
    """Computes the value written when the flat value is absent (`["error"]` for no stop reason)."""


@dataclass(frozen=True, slots=True)
class Fixed:
    """A vendor field that is not a flat field: a constant, or computed from the flat view.

    Never read back: the flat view already holds what it was made from.
    """

    name: str
    value: Any = None
    compute: Callable[[dict[str, Any]], Any] | None = None
    into: str | None = None


if TYPE_CHECKING:
    _Step = tuple[str | None, str, str | None, Callable[[Any, dict[str, Any]], Any] | None, Any, Any]
    """(flat key, vendor name, object, conversion, default or constant, computation when absent)"""


class FieldMap:
    """A schema compiled from its table; calling it renders a flat view (the `Renderer` protocol)."""

    __slots__ = (
        "_by_name",
        "_containers",
        "_extras_into",
        "_fallbacks",
        "_finish",
        "_finish_names",
        "_fixed_names",
        "_known",
        "_leading",
        "_leading_plan",
        "_names",
        "_namespace",
        "_taken",
        "_trailing",
        "_trailing_plan",
        "identify",
        "name",
    )

    def __init__(
        self,
        name: str,
        entries: Sequence[Field | Fixed],
        *,
        trailing: Sequence[Field] = (),
        identify: Callable[[dict[str, Any]], bool],
        namespace: str = "claude.",
        extras_into: str | None = None,
        unmapped: Iterable[str] = (),
        finish: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
        finish_names: Iterable[str] = (),
    ) -> None:
        """Compile `entries` (in output order) and `trailing` (written after extra fields).

        `unmapped` lists flat keys this schema deliberately does not write (they are not extra
        fields); `finish(flat, out)` may add fields last (`finish_names`, never read back).
        """
        self.name = name
        self.identify = identify
        self._namespace = namespace
        self._extras_into = extras_into
        self._finish = finish
        self._finish_names = frozenset(finish_names)
        self._leading: tuple[_Step, ...] = tuple(_compile(entry) for entry in entries)
        self._trailing: tuple[_Step, ...] = tuple(_compile(entry) for entry in trailing)
        self._leading_plan = _Plan(self._leading)
        self._trailing_plan = _Plan(self._trailing)
        fields = [entry for entry in (*entries, *trailing) if isinstance(entry, Field)]
        fixed = [entry for entry in entries if isinstance(entry, Fixed)]
        self._known = frozenset({field.flat for field in fields} | set(unmapped))
        self._fallbacks = tuple((field.flat, field.fallback) for field in fields if field.fallback)
        self._by_name = {
            field.name: (field.flat, field.unit.back if field.unit else None) for field in fields
        }
        self._fixed_names = frozenset({entry.name for entry in fixed} | set(finish_names))
        self._containers = frozenset(entry.into for entry in (*entries, *trailing) if entry.into)
        # Every name counts, whatever object holds it: `read()` looks names up across objects.
        self._names = frozenset(entry.name for entry in (*entries, *trailing)) | {
            *finish_names,
            *self._containers,
        }
        self._taken = self._names | {
            ".".join(parts[:end])
            for parts in (n.split(".") for n in self._names)
            for end in range(1, len(parts))
        }

    def __call__(self, facts: dict[str, Any], _settings: Settings | None = None) -> dict[str, Any]:
        """The flat view `facts` named, converted and placed as this schema says."""
        out: dict[str, Any] = {}
        self._leading_plan.place(out, facts)
        known = self._known
        extras = [key for key in facts if key not in known]
        if extras:
            self._place_extras(out, facts, extras)
        self._trailing_plan.place(out, facts)
        if self._finish is not None:
            self._finish(facts, out)
        return out

    def _place_extras(self, out: dict[str, Any], facts: dict[str, Any], extras: list[str]) -> None:
        box = out if self._extras_into is None else out.setdefault(self._extras_into, {})
        for key in extras:
            box[self._extra_name(key)] = facts[key]

    def _extra_name(self, key: str) -> str:
        """The key itself, or under our namespace when it would clash with a name of the schema."""
        namespace = self._namespace
        if key in self._taken or key.startswith(namespace):
            return namespace + key
        if "." in key:
            parts = key.split(".")
            if any(".".join(parts[:end]) in self._names for end in range(1, len(parts))):
                return namespace + key
        return key

    def read(self, record: dict[str, Any]) -> dict[str, Any]:
        """A record of this schema back in flat names and units (`ALWAYS` keys restored as null)."""
        view: dict[str, Any] = {}
        for key, value in record.items():
            if key in self._containers and isinstance(value, dict):
                view.update(value)
            else:
                view[key] = value
        flat: dict[str, Any] = dict.fromkeys(ALWAYS)
        flat["event"] = EVENT_NAME
        namespace = self._namespace
        for key, value in view.items():
            spec = self._by_name.get(key)
            if spec is not None:
                flat_key, back = spec
                read = value if back is None or value is None else back(value, view)
                if read is not None or flat_key in flat:  # a unit may say "not a value" (`["error"]`)
                    flat[flat_key] = read
            elif key not in self._fixed_names:
                flat[key.removeprefix(namespace)] = value
        for flat_key, source in self._fallbacks:
            if flat.get(flat_key) is None:
                flat[flat_key] = flat.get(source)
        return flat

    def names(self) -> frozenset[str]:
        """Every vendor name this schema can write, in dotted form (`Attributes.x` for objects)."""
        names = {
            f"{into}.{name}" if into else name for _, name, into, *_ in (*self._leading, *self._trailing)
        }
        return frozenset(names | self._finish_names)


def _compile(entry: Field | Fixed) -> _Step:
    if isinstance(entry, Fixed):
        return (None, entry.name, entry.into, None, entry.value, entry.compute)
    return (
        entry.flat,
        entry.name,
        entry.into,
        entry.unit.out if entry.unit else None,
        entry.default,
        entry.fill,
    )


class _Plan:
    """Compiled steps, and which of them an event needs: those its flat keys name, those always run.

    A schema has some eighty steps and an event some thirty facts, so each event walks only the
    steps of its own keys (in the schema's order) instead of asking for every key it lacks.
    """

    __slots__ = ("_always", "_by_flat", "steps")

    def __init__(self, steps: tuple[_Step, ...]) -> None:
        self.steps = steps
        always: list[int] = []
        by_flat: dict[str, list[int]] = {}
        for index, (flat, _name, _into, _convert, default, compute) in enumerate(steps):
            if flat is None or default is not None or compute is not None:
                always.append(index)  # writes something even when its flat key is absent
            else:
                by_flat.setdefault(flat, []).append(index)
        self._always = tuple(always)
        self._by_flat = {flat: tuple(indices) for flat, indices in by_flat.items()}

    def place(self, out: dict[str, Any], facts: dict[str, Any]) -> None:
        """Write the steps `facts` needs, in the schema's order."""
        by_flat = self._by_flat
        chosen = list(self._always)
        for key in facts:
            found = by_flat.get(key)
            if found is not None:
                chosen += found
        chosen.sort()
        steps = self.steps
        _place_all(out, [steps[index] for index in chosen], facts)


def _place_all(out: dict[str, Any], steps: Sequence[_Step], facts: dict[str, Any]) -> None:
    for flat, name, into, convert, default, compute in steps:
        value = None if flat is None else facts.get(flat)
        if value is None:
            value = default if compute is None else compute(facts)
        elif convert is not None:
            value = convert(value, facts)
        if value is None:
            continue
        if into is None:
            out[name] = value
        else:
            box = out.get(into)
            if box is None:
                box = out[into] = {}
            box[name] = value


# -- units -----------------------------------------------------------------------------------------


def _ns_from_ms(ms: float, _flat: dict[str, Any]) -> int:
    return round(ms * 1_000_000)


def _ms_from_ns(ns: float, _view: dict[str, Any]) -> float:
    return round(ns / 1_000_000, 3)


def _s_from_ms(ms: float, _flat: dict[str, Any]) -> float:
    return ms / 1000


def _ms_from_s(seconds: float, _view: dict[str, Any]) -> float:
    return round(seconds * 1000, 3)


def _one_item_list(value: Any, _flat: dict[str, Any]) -> list[Any]:
    return [value]


def _first_item(value: Any, _view: dict[str, Any]) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


NANOSECONDS: Final = Unit(_ns_from_ms, _ms_from_ns)
"""Flat milliseconds (float) <-> integer nanoseconds (Datadog `duration`, ECS `event.duration`)."""
SECONDS: Final = Unit(_s_from_ms, _ms_from_s)
"""Flat milliseconds <-> seconds (OTel GenAI durations)."""
ONE_ITEM_LIST: Final = Unit(_one_item_list, _first_item)
"""A scalar <-> a one-item list (`gen_ai.response.finish_reasons` is a string array)."""

_second_cache: tuple[str, int] = ("", 0)


def unix_nanos(timestamp: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 UTC timestamp as `_line.timestamp` writes it."""
    global _second_cache  # noqa: PLW0603 - a one-entry cache; events arrive in time order
    head = timestamp[:19]
    cached_head, seconds = _second_cache
    if head != cached_head:
        seconds = calendar.timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S"))
        _second_cache = (head, seconds)
    fraction = timestamp[20:].rstrip("Z")
    return seconds * 1_000_000_000 + int((fraction + "000000000")[:9])


def _nanos_text(timestamp: str, _flat: dict[str, Any]) -> str:
    # OTLP JSON writes 64-bit integers as decimal strings: a JSON number loses nanoseconds in
    # any reader that decodes numbers as float64.
    return str(unix_nanos(timestamp))


def _rfc3339(nanos: str | int, _view: dict[str, Any]) -> str:
    return timestamp(int(nanos))


UNIX_NANOS_TEXT: Final = Unit(_nanos_text, _rfc3339)
"""The flat RFC 3339 timestamp <-> nanoseconds since the epoch as a decimal string (OTLP JSON)."""
