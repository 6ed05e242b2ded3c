"""Run the anthropic SDK's own test suite plain and with claude_logging active; fail on any difference.

    python sdk_suite/run.py --subset                       # plain, then client, global and scope
    python sdk_suite/run.py --subset --mode global         # plain, then global only
    python sdk_suite/run.py --all --mode client --workers 2 --report report.md

The tests are those of the installed `anthropic` version's PyPI sdist (downloaded once into
`.cache/anthropic-sdist/`). Every mode's run is compared with the plain run of the same tests:
each test that passes plain but not in the mode is listed, grouped by its failure's first line,
and the exit status is 1 if there is any. Runs with the Python that runs this script, or the one
given by `--python` (its environment is the one tested, and receives the tests' packages). Method
and numbers: docs/sdk-suite.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _junit
import _report
import _sdist

HERE = Path(__file__).resolve().parent
CACHE = HERE.parent / ".cache" / "anthropic-sdist"
MODES = ("client", "global", "scope")
# The files issue 9 names: the SDK's client, middleware, copy, streaming, tracing and error paths.
SUBSET = (
    "tests/test_client.py",
    "tests/test_middleware.py",
    "tests/lib/test_client_copy.py",
    "tests/test_streaming.py",
    "tests/test_open_telemetry.py",
    "tests/test_tracing.py",
    "tests/test_exceptions.py",
    "tests/test_prepare.py",
)
# The whole suite but what needs a server: api_resources talks to a Prism mock on 127.0.0.1:4010,
# and the live Google Cloud test to Google.
ALL = ("tests", "--ignore=tests/api_resources", "--ignore=tests/lib/test_google_cloud_live.py")
USAGE_ERROR = 4  # pytest's exit status for a usage error, which the plugin raises for a missing API


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--subset", action="store_true", help="the files issue 9 names (minutes)")
    which.add_argument("--all", action="store_true", help="the whole offline suite (about 6,300 tests)")
    parser.add_argument(
        "--mode",
        action="append",
        choices=(*MODES, "client-noop"),
        help="repeat for several; default: client, global and scope",
    )
    parser.add_argument("--python", default=sys.executable, help="interpreter whose environment is tested")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the sdist and results go")
    parser.add_argument("--no-install", action="store_true", help="do not pip-install the tests' packages")
    parser.add_argument(
        "--reuse-plain",
        action="store_true",
        help="reuse the last plain run of the same tests and SDK (plain never imports us)",
    )
    parser.add_argument("--workers", type=int, default=0, help="pytest-xdist workers (0: none)")
    parser.add_argument("--test-timeout", type=int, default=120, help="seconds per test (pytest-timeout)")
    parser.add_argument("--run-timeout", type=int, default=3600, help="seconds per pytest run")
    parser.add_argument("--report", type=Path, help="also write the comparison as Markdown here")
    parser.add_argument("pytest_args", nargs="*", help="after --: extra pytest arguments (e.g. -k)")
    return parser.parse_args(argv)


def pytest_command(args: argparse.Namespace, mode: str, out: Path) -> list[str]:
    """One pytest run of the selection in `mode`, writing junit XML and events under `out`."""
    command = [
        args.python,
        "-m",
        "pytest",
        *(SUBSET if args.subset else ALL),
        # The SDK's own configuration, named: without it an xdist worker once took the enclosing
        # checkout's pyproject.toml (when the cache is inside it) and its asyncio loop scope.
        "-c",
        "pyproject.toml",
        "--rootdir",
        ".",
        "-o",
        "addopts=",
        "-p",
        "no:cacheprovider",
        "-q",
        "--tb=short",
        "-rN",
        "-p",
        "tests._alias_httpx",
        "-p",
        "sdk_suite_plugin",
        "--claude-logging-mode",
        mode,
        "--claude-logging-events",
        str(out / f"events-{mode}"),
        f"--junitxml={out / f'{mode}.xml'}",
        f"--timeout={args.test_timeout}",
    ]
    if args.workers:
        command += ["-n", str(args.workers)]
    return [*command, *args.pytest_args]


def run_pytest(args: argparse.Namespace, tree: Path, mode: str, out: Path) -> tuple[int, str, float]:
    """Run one mode; returns pytest's exit status, its output's tail, and the seconds it took."""
    shutil.rmtree(out / f"events-{mode}", ignore_errors=True)
    (out / f"{mode}.xml").unlink(missing_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLAUDE_LOGGING_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    print(f"sdk-suite: {mode}: running ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        done = subprocess.run(
            pytest_command(args, mode, out),
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=args.run_timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {args.run_timeout} s", time.monotonic() - started
    seconds = time.monotonic() - started
    (out / f"{mode}.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
    print(f"sdk-suite: {mode}: exit {done.returncode} in {seconds:.0f} s", file=sys.stderr, flush=True)
    return done.returncode, tail, seconds


def main(argv: list[str] | None = None) -> int:
    """Run plain and each mode, print the comparison; 0 only when no mode loses a passing test."""
    args = parse_args(argv)
    modes = args.mode or list(MODES)
    tree = _sdist.sdk_tree(args.python, args.cache)
    if not args.no_install:
        _sdist.install_test_requirements(args.python, tree)
    selection = "subset" if args.subset else "all"
    out = args.cache / "results" / f"{tree.name}-{selection}"
    out.mkdir(parents=True, exist_ok=True)
    runs: dict[str, _report.Run] = {}
    plain_xml = out / "plain.xml"
    if args.reuse_plain and plain_xml.is_file():
        print(f"sdk-suite: plain: reusing {plain_xml}", file=sys.stderr)
        runs["plain"] = _report.Run("plain", 0, "", 0.0, _junit.read(plain_xml), out)
    for mode in ["plain", *modes] if "plain" not in runs else modes:
        status, tail, seconds = run_pytest(args, tree, mode, out)
        xml = out / f"{mode}.xml"
        results = _junit.read(xml) if xml.is_file() and status != USAGE_ERROR else None
        runs[mode] = _report.Run(mode, status, tail, seconds, results, out)
    _report.write_lost_lists(runs)
    text = _report.render(runs, _report.describe(args.python, tree, selection))
    print(text)
    if args.report:
        args.report.write_text(text, encoding="utf-8")
    return _report.exit_status(runs)


if __name__ == "__main__":
    sys.exit(main())
