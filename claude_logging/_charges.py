"""The charges beyond token rates: server-tool fees, data-residency multipliers, the regional premium.

They are sections of `prices.json` beside the model rows (`server_tools`, `inference_geo`,
`regional_endpoints`), each entry with its source and date, and overridable like rows. `apply()`
adds them to a call's token cost; a charge the table cannot price marks the cost incomplete
(`event.cost_incomplete`), so a lower bound is never silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from claude_logging import _models

if TYPE_CHECKING:
    from collections.abc import Mapping

    from claude_logging._event import Event


@dataclass(frozen=True, slots=True)
class Charges:
    """The charges beyond token rates: server-tool fees, the geo multipliers, the regional premium."""

    server_tool_fees: dict[str, float] = field(default_factory=dict)
    """USD per request by `usage.server_tool_use` key (`web_search_requests`)."""
    geo_multipliers: dict[str, float] = field(default_factory=dict)
    """By `usage.inference_geo` value (`us`: 1.1)."""
    regional_multiplier: float | None = None
    """Bedrock and Vertex regional (not global) endpoints; None when not published."""


SECTIONS: Final = ("server_tools", "inference_geo", "regional_endpoints")
"""The charges beyond token rates; an override mapping may replace entries of each by these keys."""


def number(model: str, key: str, value: object) -> float | None:
    """`value` as a price or multiplier: a non-negative number, or None for null; else a ValueError."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e6:
        raise ValueError(f"prices: {model}.{key} must be a non-negative number or null, not {value!r}")
    return float(value)


def charges_of(sections: Mapping[str, Mapping[str, Any]]) -> Charges:
    """The charges of the document's sections, validated (a bad entry raises, naming it)."""
    fees = {
        key: _required(f"server_tools.{key}", entry, "usd_per_request")
        for key, entry in sections["server_tools"].items()
    }
    geos = {
        geo: _required(f"inference_geo.{geo}", entry, "multiplier")
        for geo, entry in sections["inference_geo"].items()
    }
    regional = sections["regional_endpoints"]
    multiplier = number("regional_endpoints", "multiplier", regional.get("multiplier")) if regional else None
    return Charges(fees, geos, multiplier)


def _required(where: str, entry: object, key: str) -> float:
    if not isinstance(entry, dict) or key not in entry:
        raise ValueError(f"prices: {where} must be an object with {key!r}")
    value = number(where, key, entry[key])
    if value is None:
        raise ValueError(f"prices: {where}.{key} must be a number")
    return value


def apply(total: float, event: Event, charges: Charges) -> float:
    """`total` (a call's token cost) times the geo and regional multipliers, plus the server-tool fees."""
    return total * _multiplier(event, charges) + _server_tool_fees(event, charges)


def _multiplier(event: Event, charges: Charges) -> float:
    """Data residency (`inference_geo`) times the regional-endpoint premium; 1.0 when neither applies."""
    factor = 1.0
    geo = event.inference_geo
    if geo is not None:
        geo_factor = charges.geo_multipliers.get(geo)
        if geo_factor is None:
            event.cost_incomplete = True
        else:
            factor *= geo_factor
    if _is_regional(event):
        if charges.regional_multiplier is None:
            event.cost_incomplete = True
        else:
            factor *= charges.regional_multiplier
    return factor


def _is_regional(event: Event) -> bool | None:
    """Whether a Bedrock or Vertex call used a regional endpoint (priced above the global one).

    Bedrock: the model id says (`global.` is global; a geography prefix or none is regional).
    Vertex: the client's region says (`global` or not); unknown, the cost is marked incomplete.
    """
    model = event.request_model or event.response_model
    parsed = _models.parse(model) if model is not None else None
    if event.platform == "bedrock" or (parsed is not None and parsed.platform == "bedrock"):
        scope = parsed.bedrock_scope if parsed is not None else None
        return scope is not None and scope != "global"
    if event.platform == "vertex" or (parsed is not None and parsed.platform == "vertex"):
        if event.cloud_region is None:
            event.cost_incomplete = True
            return False
        return event.cloud_region != "global"
    return False


def _server_tool_fees(event: Event, charges: Charges) -> float:
    fees = charges.server_tool_fees
    total = 0.0
    for key, requests in (
        ("web_search_requests", event.web_search_requests),
        ("web_fetch_requests", event.web_fetch_requests),
    ):
        if requests:
            fee = fees.get(key)
            if fee is None:
                event.cost_incomplete = True
            else:
                total += requests * fee
    if event.unpriced_server_tools:
        event.cost_incomplete = True
    return total
