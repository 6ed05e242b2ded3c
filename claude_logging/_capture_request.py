"""Request body and client -> fields of the event record: the settings that shape a bill, and where it went.

`record_settings` reads a Messages request body (a dict, as the SDK sends it): thinking, effort,
structured output, stop sequences, tools, attribution ids, and the sampling parameters a request
still carries (the 2.x SDK no longer takes them; `extra_body` and older SDKs may). `record_endpoint`
reads an SDK client: its platform, host and cloud region. Unset SDK parameters arrive as `Omit`
markers, which no reader mistakes for a value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from claude_logging._models import parse
from claude_logging._readers import count, get, is_mapping, number, text

if TYPE_CHECKING:
    from collections.abc import Mapping

    from claude_logging._event import Event

MAX_ID_CHARS: Final = 256
_PLATFORM_HOSTS: Final = (
    ("bedrock-runtime", "bedrock"),
    ("aiplatform.googleapis.com", "vertex"),
    ("aiplatform.", "vertex"),
    ("services.ai.azure.com", "foundry"),
)


_SETTINGS: Final = frozenset(
    {
        "thinking",
        "output_config",
        "output_format",
        "stop_sequences",
        "tools",
        "tool_choice",
        "workspace_id",
        "user_profile_id",
        "temperature",
        "top_p",
        "top_k",
    }
)
"""The body keys `record_settings` reads besides the model."""
_VALUES: Final = (str, int, float, list, tuple)


def record_settings(event: Event, body: Mapping[str, object]) -> None:
    """The request's bill-shaping settings (see module docstring); absent or odd values leave fields unset."""
    if not _sets_any(body):
        _record_model_platform(event, body.get("model"))
        return
    thinking = body.get("thinking")
    kind = text(get(thinking, "type")) if is_mapping(thinking) else None
    if kind is not None:
        event.thinking_type = kind
        event.thinking_budget_tokens = count(get(thinking, "budget_tokens"))
    output_config = body.get("output_config")
    if is_mapping(output_config):
        event.effort = text(output_config.get("effort"))
    formats = (
        get(output_config, "format") if is_mapping(output_config) else None,
        body.get("output_format"),
    )
    if any(is_mapping(item) and item.get("type") is not None for item in formats):
        event.structured_output = True
    stops = body.get("stop_sequences")
    if isinstance(stops, (list, tuple)):
        event.stop_sequence_count = len(stops)
    _record_tools(event, body)
    for key in ("workspace_id", "user_profile_id"):
        value = text(body.get(key))
        if value is not None:
            setattr(event, key, value[:MAX_ID_CHARS])
    _record_sampling(event, body)
    _record_model_platform(event, body.get("model"))


def _sets_any(body: Mapping[str, object]) -> bool:
    """Whether a setting in `body` holds a value: most requests carry the SDK's `Omit` markers only."""
    for key in body.keys() & _SETTINGS:
        value = body[key]
        if isinstance(value, _VALUES) or is_mapping(value):
            return True
    return False


_REQUEST_HEADERS: Final = (
    ("anthropic-workspace-id", "workspace_id"),
    ("anthropic-user-profile-id", "user_profile_id"),
)
"""The 2.x SDK sends `workspace_id=` and `user_profile_id=` as these request headers."""


def record_request_headers(event: Event, headers: object) -> None:
    """`workspace_id` and `user_profile_id` from the headers a request carries (a mapping)."""
    if not is_mapping(headers):
        return
    for header, attribute in _REQUEST_HEADERS:
        value = text(headers.get(header))
        if value:
            setattr(event, attribute, value[:MAX_ID_CHARS])


def record_extra_body(event: Event, extra_body: object) -> None:
    """The sampling parameters a 2.x request can carry only through `extra_body`."""
    if is_mapping(extra_body):
        _record_sampling(event, extra_body)


def _record_tools(event: Event, body: Mapping[str, object]) -> None:
    tools = body.get("tools")
    if isinstance(tools, (list, tuple)):
        event.tool_count = len(tools)
    choice = body.get("tool_choice")
    if is_mapping(choice):
        event.tool_choice = text(choice.get("type"))


def _record_sampling(event: Event, body: Mapping[str, object]) -> None:
    temperature = number(body.get("temperature"))
    if temperature is not None:
        event.temperature = temperature
    top_p = number(body.get("top_p"))
    if top_p is not None:
        event.top_p = top_p
    top_k = count(body.get("top_k"))
    if top_k is not None:
        event.top_k = top_k


def _record_model_platform(event: Event, model: object) -> None:
    """What the model id alone reveals: a Bedrock or Vertex id names its platform (a client may say more)."""
    if isinstance(model, str) and event.platform is None:
        platform = parse(model).platform
        if platform is not None:
            event.platform = platform


Endpoint = tuple[str | None, str | None, str | None]
"""(server host, platform, cloud region) of a client; None where the client does not say."""

_endpoints: dict[int, tuple[object, Endpoint]] = {}
_MAX_ENDPOINTS: Final = 1024


def record_endpoint(event: Event, client: object) -> None:
    """Platform, server host and cloud region of the SDK client that makes the call.

    The platform is the SDK's own (`bedrock`, `vertex`, `foundry`, `aws`, `google_cloud`), else
    read from the host (a proxy in front of Bedrock), else `anthropic`. Worked out once per client
    and base URL: kept by the client's `id()` with its `base_url` object, which a new client (or a
    changed base URL) never shares.
    """
    base_url = get(client, "base_url")
    known = _endpoints.get(id(client))
    if known is not None and known[0] is base_url and base_url is not None:
        host, platform, region = known[1]
    else:
        host, platform, region = endpoint = _endpoint(client, base_url)
        if len(_endpoints) >= _MAX_ENDPOINTS:
            _endpoints.clear()
        _endpoints[id(client)] = (base_url, endpoint)
    if host is not None:
        event.server_address = host
    event.platform = platform or event.platform or "anthropic"
    if region is not None:
        event.cloud_region = region


def _endpoint(client: object, base_url: object) -> Endpoint:
    host = _host(base_url)
    platform = text(get(client, "_otel_platform")) or _platform_of_host(host)
    region = text(get(client, "aws_region")) or text(get(client, "region"))
    if region is None and platform == "vertex" and host is not None:
        region = _vertex_region(host)
    return host, platform, None if region is None else region[:64]


def _host(base_url: object) -> str | None:
    try:
        host = urlsplit(str(base_url)).hostname if base_url is not None else None
    except ValueError:
        return None
    return host[:MAX_ID_CHARS] if host else None


def _platform_of_host(host: str | None) -> str | None:
    if host is None:
        return None
    for fragment, platform in _PLATFORM_HOSTS:
        if fragment in host:
            return platform
    return None


def _vertex_region(host: str) -> str:
    """`us-east5-aiplatform.googleapis.com` -> `us-east5`; the bare host is the global endpoint."""
    if host.startswith("aiplatform."):
        return "global" if host == "aiplatform.googleapis.com" else host.split(".")[1]
    return host.split("-aiplatform.", 1)[0]
