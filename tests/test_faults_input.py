"""Fault matrix, group C: bad input and sizes.

Whatever a user passes as a field value, a field name or an identity, and whatever size it has, the
event is written, on one line, under the cap, as strict JSON. The property versions (P1, P2, P8)
are in test_properties.py.

Already covered elsewhere, and not repeated here:
- C2 a reserved LogRecord name (`name`) through `output="logging"`: test_outputs.py
  `test_logging_output_uses_the_claude_logging_logger_with_fields_as_attributes`.
- C2 core names and bad names rejected by `log_call()` and dropped by `set()`: test_scope.py
  `test_bad_arguments_fail_at_configuration_time`, `test_set_cannot_overwrite_event_fields`.
- C3 in process (newline, U+2028, lone surrogate): test_outputs.py `test_lines_are_bounded_ascii_and_single`.
- C6 a missing `max_tokens`, with and without a scope: test_instrument.py
  `test_client_side_argument_errors_are_not_api_calls`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from typing import TYPE_CHECKING

import anthropic
import pytest
from harness import PROMPT, clients, request, strict_json

import claude_logging
from claude_logging import _config, _render
from claude_logging._event import Event
from claude_logging.testing import FakeAnthropicAPI, error, message

if TYPE_CHECKING:
    from pathlib import Path


class Unprintable:
    """An object whose `__str__` and `__repr__` both raise."""

    def __str__(self):
        """Refuse."""
        raise RuntimeError("no str")

    def __repr__(self):
        """Refuse too."""
        raise RuntimeError("no repr")


class BadMapping(dict):
    """A dict whose items cannot be listed."""

    def items(self):
        """Fail when read."""
        raise RuntimeError("items")


def circular_dict():
    value = {"name": "loop"}
    value["self"] = value
    return value


def circular_list():
    value = [1]
    value.append(value)
    return value


def deep(depth):
    value: object = "bottom"
    for _ in range(depth):
        value = {"next": [value]}
    return value


HOSTILE_VALUES = {
    "circular-dict": circular_dict,
    "circular-list": circular_list,
    "tuple-keys": lambda: {(1, 2): "a", 3: "b", None: "c", frozenset({1}): "d"},
    "unprintable": Unprintable,
    "unprintable-key": lambda: {Unprintable(): 1},
    "bad-mapping": lambda: BadMapping(a=1),
    "nan": lambda: math.nan,
    "inf": lambda: -math.inf,
    "nested-nan": lambda: {"a": [math.nan, math.inf, {"b": -math.inf}]},
    "bytes": lambda: b"\xff\xfe\x00binary\n",
    "bytearray": lambda: bytearray(b"\x80" * 5000),
    "decimal": lambda: Decimal("3.14159"),
    "decimal-nan": lambda: Decimal("NaN"),
    "decimal-huge": lambda: Decimal("1e400"),
    "datetime": lambda: dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
    "date": lambda: dt.date(2026, 1, 2),
    "set": lambda: {1, 2, 3},
    "frozenset-of-bytes": lambda: frozenset({b"a", b"b"}),
    "huge-int": lambda: 10**5000,
    "big-int": lambda: 2**70,
    "complex": lambda: complex(1, math.nan),
    "deep-10k": lambda: deep(10_000),
    "deep-list-10k": lambda: [[[]]] * 3 + [deep(10_000)],
    "generator": lambda: (i for i in range(3)),
    "type": lambda: type,
    "exception-with-prompt": lambda: ValueError("x"),
    "many-items": lambda: {f"k{i}": i for i in range(10_000)},
    "long-list": lambda: list(range(100_000)),
}


def assert_placeholder_free_json(event):
    """The event went through the encoder: strict JSON, no internal error."""
    line = json.dumps(event, allow_nan=False)
    strict_json(line)
    assert "internal_error" not in event


@pytest.mark.parametrize("make", HOSTILE_VALUES.values(), ids=HOSTILE_VALUES.keys())
def test_unserialisable_extra_values_never_lose_the_event(make, out):
    """Row C1: each hostile value, through log_call, context() and set(): one full event, strict JSON."""
    value = make()

    with claude_logging.context(ctx_value=value), claude_logging.log_call(scope_value=value) as call:
        call.set(set_value=value)

    event = out.one("success")
    assert_placeholder_free_json(event)
    assert {"scope_value", "ctx_value", "set_value"} <= set(event)
    assert event["event"] == "claude.call"
    assert event["level"] == "info"


def test_hostile_values_become_readable_placeholders(out):
    """Row C1: what each kind of value becomes: null for non-finite, text or a marker for the rest."""
    with claude_logging.log_call(
        nan=math.nan,
        decimal=Decimal("2.5"),
        decimal_huge=Decimal("1e400"),
        when=dt.date(2026, 1, 2),
        blob=b"ab\xff",
        huge=10**5000,
        unprintable=Unprintable(),
        cycle=circular_dict(),
        tuple_keys={(1, 2): "a"},
    ):
        pass

    event = out.one("success")
    assert event["nan"] is None
    assert event["decimal"] == 2.5
    assert event["decimal_huge"] == "1E+400"
    assert event["when"] == "2026-01-02"
    assert event["blob"] == "ab\ufffd"
    assert event["huge"].startswith("<")
    assert event["unprintable"] == "<unrepresentable Unprintable>"
    assert event["tuple_keys"] == {"(1, 2)": "a"}
    assert json.dumps(event["cycle"]).count("<max depth>") == 1


# -- C2: reserved and hostile key names -----------------------------------------------------------------


RESERVED_NAMES = [
    "message",
    "name",
    "args",
    "msg",
    "taskName",
    "levelname",
    "asctime",
    "exc_info",
    "stack_info",
]
HOSTILE_NAMES = ["level", "outcome", "@timestamp", "a\nb", "a b", "k" * 10_000, "", "1abc", "é", "a\x00"]


@pytest.mark.parametrize("name", RESERVED_NAMES)
def test_logrecord_reserved_names_are_plain_fields_and_never_a_key_error(name, out):
    """Row C2: `message`, `args`, `taskName`...: kept on stdout, prefixed in a LogRecord, no KeyError."""
    with claude_logging.log_call(**{name: "v"}):
        pass
    assert out.one("success")[name] == "v"

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("claude_logging")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        claude_logging.configure(output="logging")
        with claude_logging.context(**{name: "ctx"}), claude_logging.log_call() as call:
            call.set(**{name: "set"})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)

    (record,) = records
    assert getattr(record, f"claude_{name}", getattr(record, name, None)) == "set"
    assert record.getMessage() == "claude.call"
    assert record.exc_info is None


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=lambda name: repr(name[:12]))
def test_hostile_names_fail_at_configuration_and_are_dropped_at_run_time(name, out):
    """Row C2 (decision): log_call()/context() raise ValueError; set() drops the name; one event."""
    with pytest.raises(ValueError, match="field"):
        claude_logging.log_call(**{name: 1})
    with pytest.raises(ValueError, match="field"):
        claude_logging.context(**{name: 1})

    with claude_logging.log_call() as call:
        call.set(**{name: "dropped"}, kept="yes")

    event = out.one("success")
    assert event["kept"] == "yes"
    assert "dropped" not in json.dumps(event)


def test_non_string_keys_can_only_arrive_inside_values_and_become_text(out):
    """Row C2: Python itself rejects non-str keyword names; inside a value they become strings."""
    with pytest.raises(TypeError):
        claude_logging.log_call(**{1: "x"})  # type: ignore[misc]

    with claude_logging.log_call(data={1: "int", (2, 3): "tuple", None: "none", b"k": "bytes"}):
        pass

    assert out.one("success")["data"] == {"1": "int", "(2, 3)": "tuple", "None": "none", "b'k'": "bytes"}


# -- C3: hostile identities on a real stdout --------------------------------------------------------------

HOSTILE_SCRIPT = r"""
import claude_logging
from claude_logging.testing import FakeAnthropicAPI
api = FakeAnthropicAPI()
client = claude_logging.instrument(api.client(max_retries=0))
HOSTILE = "a\r\nb\x00c\x1b[31md\u2028e\u2029f\ud800g\u202eh\x85i\tj"
# The SDK cannot encode a lone surrogate in a request body, so metadata gets the rest.
SENDABLE = HOSTILE.replace("\ud800", "")
request = dict(model="claude-sonnet-4-6", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
with claude_logging.log_call(tenant_id=HOSTILE, note=HOSTILE):
    client.messages.create(**request)
with claude_logging.context(user_id=HOSTILE):
    client.messages.create(metadata={"user_id": SENDABLE}, **request)
client.messages.create(metadata={"user_id": SENDABLE}, **request)
"""


def test_hostile_identities_stay_on_one_physical_line_each():
    """Row C3 (SP): CR LF, NUL, ESC, U+2028/9, a lone surrogate, RTL override: one ASCII line per event."""
    env = {**os.environ, "CLAUDE_LOGGING_STRICT": "1"}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(HOSTILE_SCRIPT)],
        capture_output=True,
        timeout=60,
        env=env,
        check=False,
    )

    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""
    assert result.stdout.count(b"\n") == 3
    assert result.stdout.endswith(b"\n")
    text = result.stdout.decode("utf-8", errors="strict")
    assert text.isascii()
    events = [strict_json(line) for line in text.split("\n")[:-1]]
    clean = "a\ufffd\ufffdb\ufffdc\ufffd[31md\ufffde\ufffdf\ufffdg\ufffdh\ufffdi\ufffdj"
    assert events[0]["tenant_id"] == clean
    assert events[1]["user_id"] == clean
    assert events[2]["user_id"] == clean.replace("f\ufffdg", "fg")  # from the request's metadata
    # A plain extra field keeps its text: the JSON escapes keep it on the line all the same.
    assert events[0]["note"] == "a\r\nb\x00c\x1b[31md\u2028e\u2029f\ufffdg\u202eh\x85i\tj"


# -- C4, C5: sizes ---------------------------------------------------------------------------------------


def test_ten_megabyte_tenant_is_truncated_with_a_marker(out):
    """Row C4: a 10 MB tenant id is cut to its cap with a marker; the line stays under the cap."""
    settings = _config.current()
    api = FakeAnthropicAPI()
    _, client = clients(api)

    with claude_logging.log_call(tenant_id="t" * 10_000_000, blob="b" * 10_000_000):
        client.messages.create(**request())

    event = out.one("success")
    assert len(event["tenant_id"]) == settings.max_field_chars
    assert event["tenant_id"].endswith("\u2026")
    assert {"tenant_id", "blob"} <= set(event["truncated"])
    assert len(_render.encode_line(event, settings.max_line_bytes)) <= settings.max_line_bytes


def test_truncating_a_huge_identity_costs_the_cap_not_the_size():
    """Row C4 (cost): rendering a 20 MB tenant takes about as long as a 1 KB one (O(cap), not O(n))."""
    settings = _config.current()
    huge = "\u00e9" * 20_000_000  # one pass over it (isprintable, encode) would take ~10 ms or more
    small = "\u00e9" * 1_000

    def render_time(tenant):
        event = Event(start_wall_ns=time.time_ns(), start_mono_ns=0, end_mono_ns=1, tenant_id=tenant)
        best = math.inf
        for _ in range(3):
            started = time.perf_counter()
            _render.encode_line(_render.facts(event, settings), settings.max_line_bytes)
            best = min(best, time.perf_counter() - started)
        return best

    assert render_time(huge) < render_time(small) * 20 + 0.005


def test_ten_megabyte_prompt_with_content_capture_is_capped(out):
    """Row C4 (content capture on): a 10 MB prompt is cut to `max_content_chars`, the line to its cap."""
    claude_logging.configure(capture_content=True, max_content_chars=2_048)
    api = FakeAnthropicAPI()
    client = claude_logging.instrument(api.client(max_retries=0))
    huge = "p" * 10_000_000

    client.messages.create(
        model="claude-sonnet-4-6", max_tokens=8, messages=[{"role": "user", "content": huge}]
    )

    event = out.one("success")
    assert len(event["prompt"]) == 2_048
    assert event["prompt"].endswith("\u2026")
    assert "prompt" in event["truncated"]
    assert len(json.dumps(event)) <= _config.current().max_line_bytes


def test_megabyte_html_error_body_is_not_written(out):
    """Row C5: a 1 MB HTML 502 from a proxy: the SDK's error unchanged; the body never in the event.

    Only the API's own `error.message` is error text we write; a non-JSON body may be anything.
    """
    page = b"<html><body>" + b"Bad gateway " * 90_000 + PROMPT.encode() + b"</body></html>"
    api = FakeAnthropicAPI([error(502, body=page), error(502, body=page)])
    plain, client = clients(api)

    with pytest.raises(anthropic.InternalServerError) as bare:
        plain.messages.create(**request())
    with pytest.raises(anthropic.InternalServerError) as caught:
        client.messages.create(**request())

    assert str(caught.value) == str(bare.value)
    assert len(str(caught.value)) > 1_000_000
    event = out.one("error")
    assert event["status_code"] == 502
    assert "error_message" not in event
    assert event["error_type"] == "anthropic.InternalServerError"


# -- C6: bad request arguments (decision: client-side validation errors are not API calls) --------------


@pytest.mark.parametrize(
    "overrides",
    [{"model": ...}, {"max_tokens": ...}, {"messages": ...}, {"max_tokens": "100"}, {"max_tokens": None}],
    ids=["no-model", "no-max_tokens", "no-messages", "max_tokens-str", "max_tokens-None"],
)
def test_arguments_the_sdk_rejects_before_any_request_write_no_event_of_their_own(overrides, out):
    """Row C6: the SDK's own TypeError reaches the caller; no request, no event; a scope records it."""
    api = FakeAnthropicAPI()
    plain, client = clients(api)
    kwargs = {key: value for key, value in request(**overrides).items() if value is not ...}

    with pytest.raises(TypeError) as bare:
        plain.messages.create(**kwargs)
    with pytest.raises(TypeError) as caught:
        client.messages.create(**kwargs)

    assert (type(caught.value), str(caught.value)) == (type(bare.value), str(bare.value))
    assert api.requests == []
    assert out.settle() == []

    with pytest.raises(TypeError), claude_logging.log_call():
        client.messages.create(**kwargs)
    event = out.one("error")
    assert event["error_type"] == "TypeError"
    assert "api_calls" not in event


async def test_async_arguments_the_sdk_rejects_write_no_event(out):
    """Row C6 (async): the same for `AsyncAnthropic`."""
    api = FakeAnthropicAPI()
    _, client = clients(api, asynchronous=True)

    with pytest.raises(TypeError):
        await client.messages.create(model="claude-sonnet-4-6", messages=[])

    assert api.requests == []
    assert out.settle() == []


@pytest.mark.parametrize(
    ("overrides", "logged"),
    [
        ({"max_tokens": -1}, {"max_tokens": None}),
        ({"max_tokens": 1.5}, {"max_tokens": None}),
        ({"model": 123}, {"model": "claude-sonnet-4-5-20250929"}),
        ({"messages": "not a list"}, {"max_tokens": 256}),
    ],
    ids=["max_tokens-negative", "max_tokens-float", "model-int", "messages-str"],
)
def test_wrongly_typed_arguments_the_sdk_sends_are_one_api_call(overrides, logged, out):
    """Row C6 (decision): values the SDK sends anyway are an API call: one event, insane values null."""
    api = FakeAnthropicAPI([message(model="claude-sonnet-4-5-20250929")])
    _, client = clients(api)

    result = client.messages.create(**request(**overrides))

    assert len(api.requests) == 1
    event = out.one("success")
    assert event["message_id"] == result.id
    for key, value in logged.items():
        assert event[key] == value


# -- C7: a hostile CLAUDE_LOGGING_PRICES file ------------------------------------------------------

PRICED_CALL = textwrap.dedent(
    """
    import json, sys, time
    import claude_logging
    from claude_logging.testing import FakeAnthropicAPI, capture_events
    client = claude_logging.instrument(FakeAnthropicAPI().client(max_retries=0))
    started = time.monotonic()
    with capture_events() as events:
        client.messages.create(model="claude-sonnet-4-6", max_tokens=8,
                               messages=[{"role": "user", "content": "hi"}])
    print(json.dumps({"seconds": time.monotonic() - started, "cost_usd": events[0].get("cost_usd")}))
    """
)


def price_file(kind: str, tmp_path: Path) -> str:
    """A path for CLAUDE_LOGGING_PRICES that is not a small regular file."""
    if kind == "fifo":
        path = tmp_path / "prices.fifo"
        os.mkfifo(path)  # nobody ever writes to it: opening it for reading would wait forever
        return str(path)
    if kind == "device":
        return "/dev/zero"
    path = tmp_path / "huge.json"
    with path.open("wb") as file:
        file.truncate(64 * 1024 * 1024)  # sparse: 64 MiB to read, nothing on disk
    return str(path)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("fifo", "not a regular file"), ("device", "not a regular file"), ("huge", "larger than 1024 KiB")],
)
def test_a_price_file_that_would_block_or_fill_memory_is_refused_at_once(kind, reason, tmp_path):
    """Row C7: CLAUDE_LOGGING_PRICES naming a FIFO, /dev/zero or a huge file: the call goes on at once.

    It is priced from the packaged table, with one warning; the file is never read past its cap.
    """
    path = price_file(kind, tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", PRICED_CALL],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "CLAUDE_LOGGING_PRICES": path, "CLAUDE_LOGGING_STRICT": "0"},
        check=False,
    )

    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["seconds"] < 15  # a blocked read never returns; a loaded 2-core machine is slow
    assert outcome["cost_usd"] > 0
    assert reason in result.stderr
    assert result.stderr.count("ignoring CLAUDE_LOGGING_PRICES") == 1


def test_configure_refuses_a_price_file_that_would_block_with_the_reason(tmp_path):
    """Row C7: configure(prices=<a FIFO>) raises ValueError at once, naming the file and the reason."""
    code = textwrap.dedent(
        f"""
        import claude_logging
        try:
            claude_logging.configure(prices={price_file("fifo", tmp_path)!r})
        except ValueError as exc:
            print(exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )

    assert result.returncode == 0, result.stderr
    assert "cannot read the price file" in result.stdout
    assert "prices.fifo" in result.stdout
    assert "not a regular file" in result.stdout
