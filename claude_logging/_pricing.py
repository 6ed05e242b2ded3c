"""Cost: the price table (package data `prices.json`, as data) and the arithmetic on one API call.

`price(event)` sets `event.cost_usd` for one API-level part from its own model and usage: input,
output, cache writes (5-minute and 1-hour, from the split when the API reports it), cache reads,
then the long-context band, fast mode and the batch tier. A model the table does not know gives
no cost and one warning per model per process; a price the sources did not publish (null in the
table) gives no cost for a call that needs it, never a guess. The table is resolved once per
settings snapshot; the hot path is a dict lookup.

Users override or extend rows with `configure(prices=...)` (a mapping of model id to row, or the
path of a JSON file shaped like `prices.json`) or a file named by `CLAUDE_LOGGING_PRICES`.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from claude_logging import _charges, _config, _guard, _models

if TYPE_CHECKING:
    from collections.abc import Mapping

    from claude_logging._config import Settings
    from claude_logging._event import Event

ENV_FILE: Final = "CLAUDE_LOGGING_PRICES"
COMPONENTS: Final = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
_MULTIPLIERS: Final = ("batch_multiplier", "fast_multiplier")
_ROW_KEYS: Final = frozenset({*COMPONENTS, *_MULTIPLIERS, "long_context", "aliases", "source", "checked"})
_MTOK: Final = 1_000_000
MAX_PRICE_FILE_BYTES: Final = 1024 * 1024
"""A price file is a few KiB; a bigger one is refused rather than read into memory."""


@dataclass(frozen=True, slots=True)
class Band:
    """Prices per MTok of the five token kinds; None where no price was published."""

    input: float | None
    output: float | None
    cache_write_5m: float | None
    cache_write_1h: float | None
    cache_read: float | None


@dataclass(frozen=True, slots=True)
class Price:
    """One model's row: the base band, the optional long-context band and the multipliers."""

    model: str
    base: Band
    batch_multiplier: float | None = None
    fast_multiplier: float | None = None
    long_context: Band | None = None
    threshold_tokens: int | None = None
    source: str | None = None
    checked: str | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """Rows by model id (aliases included), the models deliberately left unpriced (with why), the charges."""

    rows: dict[str, Price]
    unpriced: dict[str, str]
    charges: _charges.Charges = field(default_factory=_charges.Charges)
    _resolved: dict[str, Price | None] = field(default_factory=dict)

    def lookup(self, model: str) -> Price | None:
        """The row for `model`: its id, alias, id without `-YYYYMMDD`, or its platform form (memoised).

        Bedrock ids (`us.anthropic.claude-sonnet-4-6-v1:0`, `global.` ones, ARNs), Vertex ids
        (`claude-sonnet-4-6@20260101`) and Foundry's plain ids all find the model's row.
        """
        resolved = self._resolved
        if model in resolved:
            return resolved[model]
        row = self.rows.get(model)
        if row is None:
            row = self.rows.get(_models.parse(model).name)
        if len(resolved) < 4096:
            resolved[model] = row
        return row

    def canonical(self, model: str) -> str:
        """One name for the model whatever id a platform used: the row's id, else the bare id."""
        row = self.lookup(model)
        return row.model if row is not None else _models.parse(model).name


# -- reading rows ------------------------------------------------------------------------------------


def _band(model: str, row: Mapping[str, Any], base: Band | None = None) -> Band:
    def component(key: str) -> float | None:
        if key in row:
            return _charges.number(model, key, row[key])
        return getattr(base, key) if base is not None else None

    return Band(*(component(key) for key in COMPONENTS))


def _long_context(model: str, value: object) -> tuple[Band | None, int | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise TypeError(f"prices: {model}.long_context must be an object or null, not {value!r}")
    threshold = value.get("threshold_tokens")
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ValueError(f"prices: {model}.long_context.threshold_tokens must be a positive int")
    return _band(model, value), threshold


def parse_row(model: str, row: object, base: Price | None = None) -> Price:
    """A validated row for `model`; keys it omits keep `base`'s values (an override)."""
    if not isinstance(model, str) or not model:
        raise TypeError(f"prices: a model id must be a non-empty str, not {model!r}")
    if not isinstance(row, dict):
        raise TypeError(f"prices: the row for {model!r} must be a dict, not {type(row).__name__}")
    unknown = sorted(set(row) - _ROW_KEYS)
    if unknown:
        allowed = ", ".join(sorted(_ROW_KEYS))
        raise ValueError(f"prices: unknown key(s) {', '.join(unknown)} for {model!r}; allowed: {allowed}")
    if base is None and ("input" not in row or "output" not in row):
        raise ValueError(f"prices: a new model ({model!r}) needs at least 'input' and 'output'")
    long_band, threshold = (
        _long_context(model, row["long_context"])
        if "long_context" in row
        else (base.long_context, base.threshold_tokens)
        if base is not None
        else (None, None)
    )

    def multiplier(key: str) -> float | None:
        if key in row:
            return _charges.number(model, key, row[key])
        return getattr(base, key) if base is not None else None

    return Price(
        model=model,
        base=_band(model, row, base.base if base is not None else None),
        batch_multiplier=multiplier("batch_multiplier"),
        fast_multiplier=multiplier("fast_multiplier"),
        long_context=long_band,
        threshold_tokens=threshold,
        source=str(row.get("source", base.source if base is not None else "configure(prices=...)")),
        checked=str(row["checked"]) if "checked" in row else base.checked if base is not None else None,
    )


def _add(rows: dict[str, Price], model: str, row: dict[str, Any]) -> None:
    price = parse_row(model, row, rows.get(model))
    rows[model] = price
    aliases = row.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(alias, str) for alias in aliases):
        raise TypeError(f"prices: {model}.aliases must be a list of model ids")
    for alias in aliases:
        rows[alias] = price


def build_table(document: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> Table:
    """The table of a `prices.json`-shaped document, with `overrides` (model id -> row) applied.

    `overrides` may also hold the sections `server_tools`, `inference_geo` and
    `regional_endpoints`, whose entries replace the document's.
    """
    overrides = dict(overrides or {})
    sections = {
        name: {**document.get(name, {}), **(overrides.pop(name, None) or {})} for name in _charges.SECTIONS
    }
    rows: dict[str, Price] = {}
    for model, row in document.get("models", {}).items():
        _add(rows, model, row)
    unpriced = {model: str(entry.get("reason", "")) for model, entry in document.get("unpriced", {}).items()}
    for model, row in overrides.items():
        _add(rows, model, row)
        unpriced.pop(model, None)
    return Table(rows, unpriced, _charges.charges_of(sections))


def packaged_document() -> dict[str, Any]:
    """The price table shipped with the package, as parsed JSON."""
    text = resources.files("claude_logging").joinpath("prices.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def read_price_file(path: str | os.PathLike[str]) -> str:
    """The text of a price file: a regular file of at most `MAX_PRICE_FILE_BYTES`, read without waiting.

    Opened non-blocking and checked before reading, so a FIFO, a device (`/dev/zero`) or a huge
    file is refused at once instead of blocking the caller or filling memory.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        data = b""
        while len(data) <= MAX_PRICE_FILE_BYTES and info.st_size <= MAX_PRICE_FILE_BYTES:
            block = os.read(descriptor, MAX_PRICE_FILE_BYTES + 1 - len(data))
            if not block:
                break
            data += block
    finally:
        os.close(descriptor)
    if info.st_size > MAX_PRICE_FILE_BYTES or len(data) > MAX_PRICE_FILE_BYTES:
        raise ValueError(f"larger than {MAX_PRICE_FILE_BYTES // 1024} KiB")
    return data.decode("utf-8")


def load_overrides(value: object) -> dict[str, Any]:
    """The rows of `configure(prices=...)`: a mapping, or the path of a JSON file like prices.json.

    Validated now, so a bad value raises here with the reason, never when a call is priced.
    """
    if isinstance(value, (str, os.PathLike)):
        try:
            document = json.loads(read_price_file(value))
        except (OSError, ValueError) as exc:
            raise ValueError(f"prices: cannot read the price file {os.fspath(value)!r}: {exc}") from exc
        if isinstance(document, dict) and "models" in document:
            value = {
                **document["models"],
                **{key: document[key] for key in _charges.SECTIONS if key in document},
            }
        else:
            value = document
    if not isinstance(value, dict):
        raise TypeError(
            f"prices must be a dict of model id -> row, or a path to a JSON file, not {type(value).__name__}"
        )
    build_table(packaged_document(), value)  # raises on the first bad row
    return dict(value)


def _validate_option(value: object) -> dict[str, Any] | None:
    return None if value is None else load_overrides(value)


_config.register_option("prices", _validate_option)


# -- the table in force ------------------------------------------------------------------------------

_cache: tuple[Settings, Table] | None = None


def table(settings: Settings | None = None) -> Table:
    """The price table for these settings (the current ones by default), built once per snapshot."""
    global _cache  # noqa: PLW0603 - rebuilt only when the settings object changes
    settings = settings or _config.current()
    cached = _cache
    if cached is not None and cached[0] is settings:
        return cached[1]
    overrides = (settings.extensions or {}).get("prices")
    if overrides is None:
        overrides = _environment_overrides()
    built = build_table(packaged_document(), overrides)
    _cache = (settings, built)
    return built


_environment_cache: tuple[tuple[object, ...], dict[str, Any] | None] | None = None


def _environment_overrides() -> dict[str, Any] | None:
    """The rows of the `CLAUDE_LOGGING_PRICES` file, read once per file (path, identity, size, time).

    Runs on the first priced call of a settings snapshot, on the caller's thread: the read is
    bounded and never waits (`read_price_file`); a bad file is reported once and ignored.
    """
    global _environment_cache  # noqa: PLW0603 - one read per file, not per settings snapshot
    path = os.environ.get(ENV_FILE)
    if not path:
        return None
    try:
        info = Path(path).stat()  # never blocks, even on a FIFO
        key: tuple[object, ...] = (path, info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
    except OSError:
        key = (path,)
    cached = _environment_cache
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        overrides: dict[str, Any] | None = load_overrides(path)
    except (TypeError, ValueError) as exc:
        _guard.warn_once(f"prices-env:{path}", "claude_logging: ignoring %s=%r: %s", ENV_FILE, path, exc)
        overrides = None
    _environment_cache = (key, overrides)
    return overrides


# -- the arithmetic ----------------------------------------------------------------------------------


def cost(price: Price, event: Event, charges: _charges.Charges | None = None) -> float | None:
    """USD for one API call of `price`'s model with `event`'s usage; None when a needed price is unknown.

    With `charges`, also the geo multiplier, the regional-endpoint premium and the server-tool
    fees; a charge the table cannot price sets `event.cost_incomplete` (the cost is a lower bound).
    """
    total = _token_cost(price, event)
    if total is None:
        return None
    if event.speed == "fast":
        if price.fast_multiplier is None:
            return None
        total *= price.fast_multiplier
    if event.service_tier == "batch":
        if price.batch_multiplier is None:
            return None
        total *= price.batch_multiplier
    elif event.service_tier == "priority":
        event.cost_incomplete = True  # billed by contract: list prices are a floor
    if charges is not None:
        total = _charges.apply(total, event, charges)
    return total


def _token_cost(price: Price, event: Event) -> float | None:
    uncached = event.input_tokens or 0
    output = event.output_tokens or 0
    read = event.cache_read_input_tokens or 0
    five = event.cache_creation_5m_input_tokens or 0
    hour = event.cache_creation_1h_input_tokens or 0
    written = event.cache_creation_input_tokens or 0
    five += max(written - five - hour, 0)  # unsplit writes use the default 5-minute TTL
    band = price.base
    threshold = price.threshold_tokens
    if price.long_context is not None and threshold is not None and uncached + read + five + hour > threshold:
        band = price.long_context
    total = 0.0
    for tokens, rate in (
        (uncached, band.input),
        (output, band.output),
        (five, band.cache_write_5m),
        (hour, band.cache_write_1h),
        (read, band.cache_read),
    ):
        if tokens:
            if rate is None:
                return None
            total += tokens * rate
    return total / _MTOK


def price(event: Event) -> None:
    """Set `event.cost_usd` and `event.canonical_model` for one API-level part (see module doc)."""
    model = event.response_model or event.request_model
    if model is None:
        return
    prices = table()
    event.canonical_model = prices.canonical(model)
    if event.input_tokens is None and event.output_tokens is None:
        return  # no usage reported (a failed call, a token count): nothing billed that we can see
    row = prices.lookup(model)
    if row is None:
        reason = prices.unpriced.get(model) or "not in the price table"
        _guard.warn_once(
            f"price:{model}",
            "claude_logging: no price for model %r (%s); its events have no cost_usd. "
            "Add it with configure(prices={...}) or %s.",
            model,
            reason,
            ENV_FILE,
        )
        return
    event.cost_usd = cost(row, event, prices.charges)
