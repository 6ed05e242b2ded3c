"""Model ids as each platform spells them -> the one name the price table and dashboards use.

The same model is `claude-sonnet-4-6` on the Claude API, `us.anthropic.claude-sonnet-4-6-v1:0`
(or an inference-profile ARN ending in it) on Bedrock, `claude-sonnet-4-6@20260101` on Vertex AI
and a deployment of `claude-sonnet-4-6` on Foundry. `parse()` strips the platform's wrapping and
says what the id itself reveals: the platform, and for Bedrock whether the endpoint is global.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

_BEDROCK: Final = re.compile(
    r"(?:(?P<scope>[a-z]{2,4}(?:-gov)?|global)\.)?anthropic\.(?P<name>claude-[a-z0-9.-]+?)(?:-v\d+(?::\d+)?)?"
)
_VERTEX: Final = re.compile(r"(?P<name>claude-[a-z0-9.-]+)@(?P<version>[0-9a-z-]+)")
_DATE_SUFFIX: Final = re.compile(r"-\d{8}$")


@dataclass(frozen=True, slots=True)
class ModelId:
    """What a model id says: the bare model name and, when the id shows it, the platform and scope."""

    name: str
    """The id without platform wrapping or a date (`claude-sonnet-4-6`)."""
    platform: str | None = None
    """`bedrock` or `vertex` when the id has that platform's form; None for a plain id."""
    bedrock_scope: str | None = None
    """Bedrock only: `global`, a geography (`us`, `eu`, `apac`, ...) or `in-region`."""


@lru_cache(maxsize=512)  # a process calls few models; every call parses its id
def parse(model: str) -> ModelId:
    """The parts of a model id of any platform (see module docstring); a plain id comes back as it is."""
    tail = model.rsplit("/", 1)[-1] if model.startswith("arn:") else model
    bedrock = _BEDROCK.fullmatch(tail)
    if bedrock is not None:
        scope = bedrock.group("scope") or "in-region"
        return ModelId(_undated(bedrock.group("name")), "bedrock", scope)
    vertex = _VERTEX.fullmatch(tail)
    if vertex is not None:
        return ModelId(_undated(vertex.group("name")), "vertex")
    return ModelId(_undated(model))


def _undated(name: str) -> str:
    return _DATE_SUFFIX.sub("", name)
