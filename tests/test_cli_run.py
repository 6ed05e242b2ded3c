"""`claude-logging run` and the bootstrap: an unchanged script's calls logged, in real subprocesses.

The script under test builds a plain `anthropic.Anthropic()` from the environment (API key and
base URL, pointed at the fake API served over HTTP by the test) and never imports claude_logging:
whatever is logged comes from the bootstrap `sitecustomize` alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from claude_logging import bootstrap

if TYPE_CHECKING:
    from claude_logging.testing import FakeAnthropicAPI

APP = """
import anthropic

client = anthropic.Anthropic(max_retries=0)
client.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": "Hi"}])
with client.messages.stream(
    model="claude-sonnet-4-6", max_tokens=32, messages=[{"role": "user", "content": "Hi"}]
) as stream:
    stream.get_final_message()
print("app finished", type(anthropic.__loader__).__name__, type(anthropic.__spec__.loader).__name__)
"""

IS_IMPORTED = "import sys; print('claude_logging' in sys.modules)"


def child_env(server: FakeAnthropicAPI | None = None, **extra: str) -> dict[str, str]:
    """The environment of a child: ours without any bootstrap, plus the fake API's address."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", bootstrap.SWITCH)}
    env["CLAUDE_LOGGING_STRICT"] = "1"
    env["ANTHROPIC_API_KEY"] = "sk-ant-test-key"
    if server is not None:
        env["ANTHROPIC_BASE_URL"] = server.url
    env.update(extra)
    return env


def run(*command: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command to its end (bounded), capturing its output.

    `cwd` is a test's own folder: `python -c` puts the working directory first on `sys.path`, and
    this checkout's `claude_logging` must not shadow the installed one (or a test's stand-in).
    """
    return subprocess.run(
        list(command), capture_output=True, text=True, timeout=120, env=env, cwd=cwd, check=False
    )


def wrapped(*command: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`claude-logging run -- COMMAND` (as the console script runs it)."""
    return run(sys.executable, "-m", "claude_logging", "run", "--", *command, env=env, cwd=cwd)


def events_of(stdout: str) -> list[dict[str, Any]]:
    """The JSON events among a child's stdout lines."""
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def check_app_events(result: subprocess.CompletedProcess[str]) -> None:
    """The APP script ran unchanged and each of its two calls gave one full event."""
    assert (result.returncode, result.stderr) == (0, "")
    # The SDK module keeps its own loader: the bootstrap's import watch leaves no trace on it.
    assert "app finished SourceFileLoader SourceFileLoader" in result.stdout.splitlines()
    events = events_of(result.stdout)
    assert [(e["outcome"], e["request_model"], e["max_tokens"]) for e in events] == [
        ("success", "claude-sonnet-4-6", 64),
        ("success", "claude-sonnet-4-6", 32),
    ]
    assert [bool(e.get("stream")) for e in events] == [False, True]
    assert all(e["input_tokens"] > 0 and e["output_tokens"] > 0 and e["status_code"] == 200 for e in events)


def test_the_switch_and_pythonpath_log_without_the_wrapper(server, tmp_path) -> None:
    """The container way: PYTHONPATH from `python -m claude_logging.bootstrap` and the switch on."""
    folder = run(
        sys.executable, "-m", "claude_logging.bootstrap", env=child_env(), cwd=tmp_path
    ).stdout.strip()
    app = tmp_path / "app.py"
    app.write_text(APP)
    env = child_env(server, PYTHONPATH=folder, CLAUDE_LOGGING_INSTRUMENT="1")
    check_app_events(run(sys.executable, str(app), env=env, cwd=tmp_path))


def test_run_logs_an_unchanged_script_and_keeps_its_own_sitecustomize(server, tmp_path) -> None:
    """`claude-logging run -- python app.py`: one event per call; a sitecustomize ours hides still runs."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nprint('own sitecustomize', __name__, flush=True)\n")
    app = tmp_path / "app.py"
    app.write_text(APP)
    result = wrapped(sys.executable, str(app), env=child_env(server, PYTHONPATH=str(site)), cwd=tmp_path)
    assert result.stdout.splitlines()[0] == "own sitecustomize sitecustomize"
    check_app_events(result)


def test_run_passes_the_exit_status_and_output_through(tmp_path) -> None:
    """The command replaces `claude-logging run`: its stdout, stderr and exit status are the result."""
    code = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"
    result = wrapped(sys.executable, "-c", code, env=child_env(), cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")


def test_run_sets_the_bootstrap_for_the_command_and_its_children(tmp_path) -> None:
    """The command gets the bootstrap folder first on PYTHONPATH and the switch on."""
    code = "import os; print(os.environ['PYTHONPATH']); print(os.environ['CLAUDE_LOGGING_INSTRUMENT'])"
    result = wrapped(sys.executable, "-c", code, env=child_env(PYTHONPATH="/elsewhere"), cwd=tmp_path)
    assert result.stdout.splitlines() == [f"{bootstrap.directory()}{os.pathsep}/elsewhere", "1"]


def test_run_reports_a_command_that_does_not_exist(tmp_path) -> None:
    """A missing program: the shell's status 127 and one line naming it."""
    result = wrapped("no-such-program-3f9a", env=child_env(), cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        127,
        "claude-logging run: command not found: no-such-program-3f9a\n",
    )


def test_run_without_a_command_is_a_usage_error(tmp_path) -> None:
    """`claude-logging run` alone says what to write."""
    result = run(sys.executable, "-m", "claude_logging", "run", env=child_env(), cwd=tmp_path)
    assert result.returncode == 2
    assert "claude-logging run -- python app.py" in result.stderr


def test_a_process_that_never_imports_the_sdk_never_imports_us(tmp_path) -> None:
    """Under `run`, nothing of ours is imported until the process imports `anthropic`."""
    result = wrapped(sys.executable, "-c", IS_IMPORTED, env=child_env(), cwd=tmp_path)
    assert (result.stdout, result.stderr) == ("False\n", "")


@pytest.mark.parametrize("switch", [None, "0", "off"])
def test_the_bootstrap_with_the_switch_off_imports_nothing(switch, tmp_path) -> None:
    """On PYTHONPATH but switched off (unset, 0, off): the process never imports claude_logging."""
    extra = {"PYTHONPATH": bootstrap.directory()}
    if switch is not None:
        extra[bootstrap.SWITCH] = switch
    result = run(sys.executable, "-c", IS_IMPORTED, env=child_env(**extra), cwd=tmp_path)
    assert (result.stdout, result.stderr) == ("False\n", "")


def test_a_bad_switch_value_is_one_line_on_stderr_and_the_app_runs(tmp_path) -> None:
    """`CLAUDE_LOGGING_INSTRUMENT=maybe`: the allowed values on stderr, nothing instrumented."""
    env = child_env(PYTHONPATH=bootstrap.directory(), CLAUDE_LOGGING_INSTRUMENT="maybe")
    result = run(sys.executable, "-c", IS_IMPORTED, env=env, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "False\n")
    assert result.stderr == (
        "claude-logging: CLAUDE_LOGGING_INSTRUMENT='maybe' is not one of: "
        "1, true, yes, on, 0, false, no, off; not instrumenting\n"
    )


def test_a_python_without_claude_logging_starts_anyway(tmp_path) -> None:
    """A child whose Python cannot import claude_logging: one line on stderr, the app runs.

    Stand-ins on PYTHONPATH: a `claude_logging` that fails to import, an empty `anthropic`.
    """
    shadow = tmp_path / "shadow"
    (shadow / "claude_logging").mkdir(parents=True)
    (shadow / "claude_logging" / "__init__.py").write_text("raise ImportError('not installed here')\n")
    (shadow / "anthropic.py").write_text("")
    env = bootstrap.environment(child_env(PYTHONPATH=str(shadow)))
    result = run(sys.executable, "-c", "import anthropic; print('app ran')", env=env, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "app ran\n")
    assert "claude_logging cannot be imported (not installed here)" in result.stderr


def test_the_bootstrap_module_prints_the_folder_to_put_on_pythonpath(tmp_path) -> None:
    """`python -m claude_logging.bootstrap`: the folder, holding our sitecustomize.py."""
    folder = Path(
        run(sys.executable, "-m", "claude_logging.bootstrap", env=child_env(), cwd=tmp_path).stdout.strip()
    )
    assert str(folder) == bootstrap.directory()
    assert (folder / "sitecustomize.py").is_file()
