"""Fault matrix, groups F and G: nothing secret leaks; our own bugs never reach the application."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
import textwrap

import anthropic
import pytest
import structlog
from conftest import MESSAGES, MODEL, ask
from harness import PROMPT, start_event
from harness import request as harness_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import claude_logging
from claude_logging import _capture, testing
from claude_logging.testing import error, message, stream

LOCATIONS = (
    "api_key",
    "extra_headers",
    "default_headers",
    "system",
    "messages",
    "tool_input",
    "error_body_key",
    "exception_args",
)
PATHS = ("sync", "async", "stream", "error", "cancel")


def make_secret(token: str) -> str:
    """A recognisable secret; `token` keeps examples apart."""
    return f"SENTINEL{token}"


def request_with(location: str, secret: str) -> dict[str, object]:
    """A create() request with the secret where `location` says."""
    request: dict[str, object] = {"model": MODEL, "max_tokens": 16, "messages": MESSAGES}
    if location == "extra_headers":
        request["extra_headers"] = {"x-custom-token": secret}
    elif location == "system":
        request["system"] = f"You are a bank. Account password: {secret}"
    elif location == "messages":
        request["messages"] = [{"role": "user", "content": f"my card number is {secret}"}]
    elif location == "tool_input":
        request["messages"] = [
            {"role": "user", "content": "look it up"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "toolu_1", "name": "db", "input": {"q": secret}}],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": secret}],
            },
        ]
    return request


def client_with(api: testing.FakeAnthropicAPI, location: str, secret: str, *, use_async: bool) -> object:
    """An instrumented client; the secret in its key or default headers when `location` says."""
    options: dict[str, object] = {"max_retries": 0}
    if location == "api_key":
        options["api_key"] = f"sk-ant-api03-{secret}"
    if location == "default_headers":
        options["default_headers"] = {"authorization": f"Bearer {secret}"}
    client = api.async_client(**options) if use_async else api.client(**options)
    return claude_logging.instrument(client)


def exercise(api: testing.FakeAnthropicAPI, location: str, path: str, secret: str) -> None:
    """Run one call along `path` with the secret placed at `location`; swallow what it raises."""
    if location == "error_body_key" or path == "error":
        detail = f"invalid x-api-key sk-ant-api03-{secret}" if location == "error_body_key" else "bad request"
        api.enqueue(error(401 if location == "error_body_key" else 400, message=detail))
    elif path in ("stream", "cancel"):
        api.enqueue(stream("a b c d e f g h i j", chunk_delay_s=0.02 if path == "cancel" else 0.0))
    request = request_with(location, secret)

    def app_code(client: object) -> None:
        if location == "exception_args":
            with claude_logging.log_call():
                ask(client, **{k: v for k, v in request.items() if k != "model"})
                raise ValueError(f"lookup failed for {secret}")
        if path == "stream":
            for _ in client.messages.create(stream=True, **request):  # type: ignore[attr-defined]
                pass
        else:
            client.messages.create(**request)  # type: ignore[attr-defined]

    async def async_app_code(client: object) -> None:
        if path == "cancel":
            chunks = await client.messages.create(stream=True, **request)  # type: ignore[attr-defined]

            async def consume() -> None:
                async for _ in chunks:
                    pass

            task = asyncio.ensure_future(consume())
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return
        await client.messages.create(**request)  # type: ignore[attr-defined]

    try:
        if path in ("async", "cancel"):
            asyncio.run(async_app_code(client_with(api, location, secret, use_async=True)))
        else:
            app_code(client_with(api, location, secret, use_async=False))
    except (anthropic.APIError, ValueError):
        pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    location=st.sampled_from(LOCATIONS),
    path=st.sampled_from(PATHS),
    token=st.text("ABCDEF0123456789", min_size=12, max_size=12),
)
def test_no_secret_reaches_stdout_or_stderr_on_any_path(location, path, token, capfd):
    """Rows F1 and property P7: a secret never appears in stdout or stderr (default settings).

    Places: the key, extra and default headers, system, messages, tool input, a key-shaped secret
    in an API error body, and an application exception's arguments.
    """
    capfd.readouterr()
    secret = make_secret(token)
    api = testing.FakeAnthropicAPI()
    with testing.capture_events(passthrough=True) as events:
        exercise(api, location, path, secret)
    claude_logging.flush()
    out, err = capfd.readouterr()

    assert events, "every path writes its event"
    assert secret not in out
    assert secret not in err
    assert secret not in json.dumps(events)


def test_user_tracebacks_and_locals_never_enter_our_events(api):
    """Row F2: an app with structlog dict_tracebacks (which renders frame locals) logs no prompt of ours."""
    buffer = io.StringIO()
    structlog.configure(
        processors=[structlog.processors.dict_tracebacks, structlog.processors.JSONRenderer()],
        logger_factory=structlog.WriteLoggerFactory(file=buffer),
    )
    try:
        claude_logging.configure(output="structlog")
        client = claude_logging.instrument(api.client(max_retries=0))
        api.enqueue(error(401))
        with pytest.raises(anthropic.AuthenticationError):
            ask(client, messages=[{"role": "user", "content": "PROMPT-SENTINEL"}])
    finally:
        structlog.reset_defaults()

    (line,) = buffer.getvalue().splitlines()
    assert "PROMPT-SENTINEL" not in line
    assert "exception" not in json.loads(line)
    assert json.loads(line)["error_type"] == "anthropic.AuthenticationError"


def test_our_log_records_carry_no_exc_info(api):
    """Row F2: with output="logging", our records never carry exc_info, so no formatter prints a traceback."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("claude_logging")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        claude_logging.configure(output="logging")
        client = claude_logging.instrument(api.client(max_retries=0))
        api.enqueue(error(500))
        with pytest.raises(anthropic.InternalServerError):
            ask(client, messages=[{"role": "user", "content": "PROMPT-SENTINEL"}])
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)

    assert buffer.getvalue() == "claude.call\n"


def test_sdk_debug_logging_never_reaches_our_output():
    """Row F3: ANTHROPIC_LOG=debug and a DEBUG root logger: stdout holds only our events, no prompt."""
    code = textwrap.dedent(
        """
        import logging, sys
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
        import claude_logging
        from claude_logging.testing import FakeAnthropicAPI
        client = claude_logging.instrument(FakeAnthropicAPI().client(max_retries=0))
        client.messages.create(model="claude-sonnet-4-6", max_tokens=8,
                               messages=[{"role": "user", "content": "PROMPT-SENTINEL"}])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ANTHROPIC_LOG": "debug"},
        check=False,
    )

    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["event"] == "claude.call"
    assert "PROMPT-SENTINEL" not in result.stdout
    assert "Request options" in result.stderr  # the SDK's own debug log went where the app sent it
    assert not logging.getLogger("claude_logging").handlers


def test_content_capture_is_opt_in_capped_and_redacted(api, events):
    """Row F4: capture_content=True adds prompt and completion, capped, through the redact hook."""
    ask(claude_logging.instrument(api.client()), messages=[{"role": "user", "content": "secret-1234"}])
    assert "prompt" not in events[0]
    assert "completion" not in events[0]

    claude_logging.configure(
        capture_content=True,
        max_content_chars=64,
        redact=lambda _field, text: text.replace("1234", "****"),
    )
    api.enqueue(message("the answer is 1234 " * 20))
    ask(claude_logging.instrument(api.client()), messages=[{"role": "user", "content": "secret-1234"}])

    event = events[1]
    assert "secret-****" in event["prompt"]
    assert "1234" not in event["prompt"]
    assert len(event["completion"]) == 64
    assert event["completion"].endswith("\u2026")
    assert "completion" in event["truncated"]


def test_a_redact_hook_that_raises_drops_its_field_not_the_event(api, events):
    """Row F4: a failing redactor removes the content field; the event is still written."""

    def broken(field: str, text: str) -> str:
        raise RuntimeError("redactor bug")

    claude_logging.configure(capture_content=True, redact=broken)
    api.enqueue(stream("streamed text"))
    for _ in ask(claude_logging.instrument(api.client()), stream=True):
        pass

    (event,) = events
    assert event["outcome"] == "success"
    assert "prompt" not in event
    assert "completion" not in event


def test_an_internal_capture_error_keeps_the_users_result_and_marks_the_event(api, events, monkeypatch):
    """Row G1 (fault injection into our own extractor): the caller's result is untouched.

    The event is written with internal_error=true; in strict mode the error is raised instead.
    """
    client = claude_logging.instrument(api.client())

    def broken(event: object, message: object) -> None:
        raise RuntimeError("extractor bug")

    monkeypatch.setattr(_capture, "record_message", broken)
    monkeypatch.setattr("claude_logging._responses.record_message", broken)

    with pytest.raises(RuntimeError, match="extractor bug"):
        ask(client)  # strict mode (our test suite): our bug is loud

    events.clear()
    claude_logging.configure(strict=False)
    result = ask(client)
    second = ask(client)

    assert result.type == "message"
    assert second.type == "message"
    assert [e["internal_error"] for e in events] == [True, True]
    assert [e["outcome"] for e in events] == ["success", "success"]
    assert claude_logging.stats().internal_errors == 3


def test_a_handler_that_makes_a_logged_call_does_not_recurse(api):
    """Row G3: a logging handler that itself calls Claude (instrumented): both events, no recursion."""
    client = claude_logging.instrument(api.client())
    seen: list[str] = []

    class CallsBack(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())
            if len(seen) == 1:
                ask(client)  # emits an event while we are inside the emit of the first one

    logger = logging.getLogger("claude_logging")
    handler = CallsBack()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        claude_logging.configure(output="logging")
        ask(client)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)

    assert seen == ["claude.call", "claude.call"]


def test_our_logger_never_hangs_off_the_root_logger(events):
    """Row F3/G3: importing and using the library attaches no handler anywhere."""
    with claude_logging.log_call():
        pass

    assert logging.getLogger("claude_logging").handlers == []
    assert not any(type(h).__module__.startswith("claude_logging") for h in logging.root.handlers)


def test_importing_the_library_needs_neither_the_sdk_nor_its_http_client():
    """Row G5: the SDK and httpx2 are imported on first use; without them log_call still works."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["anthropic"] = None   # an import of these now raises ImportError
        sys.modules["httpx2"] = None
        import claude_logging
        with claude_logging.log_call(model="m", tenant_id="t"):
            pass
        claude_logging.flush()
        assert "anthropic" not in [name for name, module in sys.modules.items() if module is not None]
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tenant_id"] == "t"


# -- F5 to F8: secrets and prompts in error texts and warnings -------------------------------------

TOKEN = "tok9SENTINEL7f3a2c"  # noqa: S105 - a sentinel that must never be written
"""A credential of no known vendor's shape: only its place in the text can tell it is one."""


@pytest.mark.parametrize(
    "quoted",
    [
        f"Authorization: Bearer {TOKEN}",
        f"authorization: Basic {TOKEN}==",
        f'{{"authorization": "Bearer {TOKEN}"}}',
        f"proxy said Bearer {TOKEN} is expired",
    ],
)
def test_an_error_quoting_an_authorization_header_keeps_no_token(quoted, out):
    """Row F5: `Authorization: Bearer <token>` in an app error's text: the token is masked, never kept."""
    claude_logging.configure(capture_error_message="all")
    with pytest.raises(ValueError), claude_logging.log_call():
        raise ValueError(f"gateway refused: {quoted}")

    event = out.one("error")
    assert TOKEN not in event["error_message"]
    assert TOKEN not in out.stdout
    assert "***" in event["error_message"]


@pytest.mark.parametrize(
    ("wording", "masked"),
    [
        ("Invalid API key: abcd1234efgh5678", "Invalid API key: ***"),
        ("invalid x-api-key gwtok_abcdefgh12345678", "invalid x-api-key ***"),
        ("api_key=prx-0a1b2c3d4e5f rejected by the proxy", "api_key=*** rejected by the proxy"),
        ("expired credential AKIAIOSFODNN7EXAMPLE", "expired credential ***"),
        ("invalid x-api-key", "invalid x-api-key"),
    ],
)
def test_keys_of_any_shape_in_an_api_error_are_masked(wording, masked, api, out):
    """Row F6: gateway, proxy and cloud keys that do not start with `sk-` are masked in the API's text."""
    client = claude_logging.instrument(api.client(max_retries=0))
    api.enqueue(error(401, message=wording))
    with pytest.raises(anthropic.AuthenticationError):
        ask(client)

    assert out.one("error")["error_message"] == masked


ECHOES = {
    "quoted value": f'messages.0.content.0.text: "{PROMPT}" is not valid UTF-8',
    "content path": f"messages.0.content.0.text: {PROMPT} must not be empty",
    "system": f"system: You are terse. {PROMPT} is too long",
    "request JSON": json.dumps({"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]}),
    "pydantic repr": f"Input should be a valid list [type=list_type, input_value='{PROMPT}']",
    "unclosed quote": f"invalid request near '{PROMPT}",
    "long echo": "request was: " + f"Summarise this: {PROMPT} " * 40,
    "two lines": f"bad request\n{PROMPT}",
}


@pytest.mark.parametrize("echo", sorted(ECHOES))
def test_an_api_error_echoing_the_request_writes_no_prompt(echo, api, out):
    """Row F7: an API error message that quotes request content: the content is withheld."""
    client = claude_logging.instrument(api.client(max_retries=0))
    api.enqueue(error(400, message=ECHOES[echo]))
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(**harness_request())

    event = out.one("error")
    assert PROMPT not in event["error_message"]
    assert event["api_error_type"] == "invalid_request_error"


def test_a_mid_stream_error_echoing_the_request_writes_no_prompt(api, out):
    """Row F7: an SSE `error` event whose message quotes the prompt: the prompt is withheld."""
    echo = {"type": "error", "error": {"type": "invalid_request_error", "message": f"bad: '{PROMPT}'"}}
    api.enqueue(stream(events=[start_event(), echo]))
    client = claude_logging.instrument(api.client(max_retries=0))
    with pytest.raises(anthropic.APIStatusError):
        for _ in client.messages.create(stream=True, **harness_request()):
            pass

    event = out.one("error")
    assert event["error_message"] == "bad: '\u2026'"


@pytest.mark.parametrize(
    ("status", "wording"),
    [
        (529, "Overloaded"),
        (429, "Number of request tokens has exceeded your per-minute rate limit"),
        (400, "max_tokens: must be less than or equal to 64000"),
        (400, "prompt is too long: 215000 tokens > 200000 maximum"),
        (400, "messages: roles must alternate between user and assistant"),
    ],
)
def test_the_apis_fixed_wording_is_kept(status, wording, api, out):
    """Row F7: messages that quote nothing of the request are written as the API wrote them."""
    client = claude_logging.instrument(api.client(max_retries=0))
    api.enqueue(error(status, message=wording))
    with pytest.raises(anthropic.APIStatusError):
        ask(client)

    assert out.one("error")["error_message"] == wording


def test_a_raising_redact_hook_reports_its_type_never_its_text(api, out, caplog):
    """Row F8: a redact hook that raises with the content in its message: stderr names only the type."""

    def leaky(field: str, text: str) -> str:
        raise RuntimeError(f"cannot redact {field}: {text}")

    claude_logging.configure(capture_content=True, redact=leaky)
    client = claude_logging.instrument(api.client(max_retries=0))
    client.messages.create(**harness_request())

    event = out.one("success")  # checks that no sentinel reached stdout or stderr
    assert "prompt" not in event
    warnings = [record.getMessage() for record in caplog.records if record.name == "claude_logging.internal"]
    assert warnings == ["claude_logging: redact hook raised RuntimeError; prompt dropped"]
