"""The line encoder: the compiled one (orjson, the `fast` extra) writes what the standard library writes.

Every event line goes through `_line.encode`. With orjson installed it encodes; the standard
library's encoder is the reference. Both must give one ASCII line holding the same JSON values,
for every record the renderers can produce (sanitised values of every kind, hostile text, every
schema's nesting), and the compiled one must hand anything it cannot write to the standard library.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_logging import _line
from claude_logging._sanitize import clean_value

orjson = pytest.importorskip("orjson")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(), inner, max_size=4)),
    max_leaves=12,
)
records = st.dictionaries(st.text(min_size=1), values, max_size=12)


def test_the_compiled_encoder_is_in_use() -> None:
    """With orjson installed (the test extra has it), `encode` takes the compiled way."""
    assert _line._dumps is orjson.dumps


@given(records)
@settings(max_examples=400)
def test_both_encoders_write_the_same_values_on_one_ascii_line(record: dict[str, object]) -> None:
    """Any sanitised record: the same values, ASCII, no line break, whichever encoder wrote it."""
    clean = clean_value(record, 10_000)
    fast, reference = _line.encode(clean), _line.encode_stdlib(clean)
    assert fast.isascii()
    assert "\n" not in fast
    assert json.loads(fast) == json.loads(reference)


def test_an_event_record_is_written_byte_for_byte_alike() -> None:
    """A typical event (no exponent floats) is the very same line either way."""
    record = {
        "timestamp": "2026-11-26T02:40:13.001518Z",
        "level": "info",
        "event": "claude.call",
        "model": "claude-sonnet-4-6",
        "input_tokens": 12,
        "latency_ms": 812.345,
        "error_type": None,
        "stream": True,
        "cost_usd": 0.000186,
        "tool_use_names": ["get_weather"],
    }
    assert _line.encode(record) == _line.encode_stdlib(record)


@pytest.mark.parametrize(
    "record",
    [
        {"big": 2**70},  # orjson refuses integers past 64 bits
        {"text": "caf\u00e9 \u2028 \U0001f600"},  # orjson writes UTF-8; the line must be ASCII
        {1: "a non-string key"},  # orjson refuses it; the standard library writes "1"
    ],
)
def test_what_orjson_cannot_write_goes_to_the_standard_library(record: dict[object, object]) -> None:
    """The standard library's line, exactly."""
    assert _line.encode(record) == _line.encode_stdlib(record)  # type: ignore[arg-type]
