"""The SDK's own test suite: its PyPI sdist, unpacked once, and the packages its tests import.

The sdist of exactly the installed `anthropic` version is downloaded with pip (so only the
package registry is needed) into the cache folder and unpacked there. The test dependencies come
from the sdist itself, so they follow the SDK version under test: its `dev` dependency group
(minus its linters and type checkers), pinned to the versions of its `requirements-dev.lock`
unless the package is already installed, plus the SDK extras whose clients the tests build.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    from pip._vendor import tomli as tomllib  # pip vendors it; no extra package needed

# The dev group's tools that no test imports.
NOT_FOR_TESTS = frozenset({"pyright", "ruff", "boto3-stubs", "griffe", "importlib-metadata"})
# The SDK extras whose clients and helpers the tests build (aiohttp client, Bedrock, Vertex, ...).
SDK_EXTRAS = "aiohttp,bedrock,vertex,aws,mcp,webhooks"
# Ours, the same in every mode: a hung test fails alone instead of stopping the whole run.
RUNNER_NEEDS = ("pytest-timeout>=2.3",)


def installed_version(python: str, distribution: str) -> str | None:
    """The version of `distribution` in `python`'s environment, or None."""
    code = (
        "import importlib.metadata as m, sys\n"
        "try: print(m.version(sys.argv[1]))\n"
        "except m.PackageNotFoundError: pass\n"
    )
    out = subprocess.run(
        [python, "-c", code, distribution], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    return out or None


def sdk_tree(python: str, cache: Path) -> Path:
    """The unpacked sdist of the `anthropic` installed in `python`'s environment (downloaded once)."""
    version = installed_version(python, "anthropic")
    if version is None:
        raise SystemExit(f"anthropic is not installed in {python}'s environment")
    root = cache / f"anthropic-{version}"
    if (root / "tests" / "conftest.py").is_file():
        return root
    archive = cache / f"anthropic-{version}.tar.gz"
    if not archive.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                python,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"anthropic=={version}",
                "--dest",
                str(cache),
            ],
            check=True,
            timeout=600,
        )
    with tarfile.open(archive) as tar:
        try:
            tar.extractall(cache, filter="data")
        except TypeError:  # a Python without extraction filters: the archive is PyPI's own
            tar.extractall(cache)  # noqa: S202
    if not (root / "tests" / "conftest.py").is_file():
        raise SystemExit(f"{archive} has no tests/ folder: this SDK version does not ship its tests")
    return root


def _name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return match.group(1).lower().replace("_", "-") if match else requirement


def _lock_pins(tree: Path) -> dict[str, str]:
    lock = tree / "requirements-dev.lock"
    if not lock.is_file():
        return {}
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        if match:
            pins[_name(match.group(1))] = match.group(2)
    return pins


def test_requirements(python: str, tree: Path) -> list[str]:
    """What pip must install for the SDK's tests, pinned where the SDK's lock pins it."""
    project = tomllib.loads((tree / "pyproject.toml").read_text(encoding="utf-8"))
    dev = project.get("dependency-groups", {}).get("dev", [])
    pins = _lock_pins(tree)
    version = installed_version(python, "anthropic")
    wanted = [f"anthropic[{SDK_EXTRAS}]=={version}", *RUNNER_NEEDS]
    for requirement in dev:
        if not isinstance(requirement, str):
            continue  # an include-group table
        name = _name(requirement)
        if name in NOT_FOR_TESTS:
            continue
        if installed_version(python, name) is None and name in pins and ";" not in requirement:
            extras = re.match(r"[^\[<>=~!;]*(\[[^\]]*\])?", requirement)
            wanted.append(f"{name}{extras.group(1) or '' if extras else ''}=={pins[name]}")
        else:
            wanted.append(requirement)
    return wanted


def install_test_requirements(python: str, tree: Path) -> None:
    """Install the SDK tests' packages into `python`'s environment (already installed ones stay)."""
    requirements = test_requirements(python, tree)
    print(
        f"sdk-suite: installing the SDK tests' packages into {python}: {' '.join(requirements)}",
        file=sys.stderr,
    )
    subprocess.run([python, "-m", "pip", "install", "--quiet", *requirements], check=True, timeout=1200)
