"""Installing without a compiler: every runtime dependency comes as a wheel.

Two checks, both against the real package index (they skip, saying so, when it cannot be
reached):

- for each platform and Python version admins use, pip resolves the runtime dependencies
  with `--only-binary=:all:` (a dry run: metadata and wheel names, nothing installed);
- a fresh virtual environment with no compiler on PATH runs the install script the
  Dockerfile runs, then the README's first command.

pip is run with this machine's pip configuration files and find-links set aside, so the
checks mean on a developer's machine what they mean in CI: the index is PIP_INDEX_URL when
set (a mirror of PyPI), else PyPI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
INSTALL_SCRIPT = "scripts/install-from-wheels.sh"
PYTHONS = ("3.11", "3.12", "3.13")

# What pip prints when it cannot reach the index at all (as opposed to finding no wheel).
UNREACHABLE = re.compile(
    r"NewConnectionError|Temporary failure in name resolution|Network is unreachable|"
    r"Connection refused|ConnectTimeoutError|Read timed out|ProxyError|"
    r"Could not fetch URL .*(connection|timed out)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Platform:
    """A platform as pip's --platform tags and as environment markers see it."""

    name: str
    tags: tuple[str, ...]
    markers: dict[str, str]


LINUX = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}
MACOS = {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"}
WINDOWS = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"}

# manylinux2014 = glibc 2.17 (RHEL/CentOS 7 and everything since); macOS 12 or later.
PLATFORMS = (
    Platform("Linux x86_64", ("manylinux2014_x86_64",), {**LINUX, "platform_machine": "x86_64"}),
    Platform("Linux aarch64", ("manylinux2014_aarch64",), {**LINUX, "platform_machine": "aarch64"}),
    Platform("macOS arm64", ("macosx_12_0_arm64",), {**MACOS, "platform_machine": "arm64"}),
    Platform("macOS x86_64", ("macosx_12_0_x86_64",), {**MACOS, "platform_machine": "x86_64"}),
    Platform("Windows amd64", ("win_amd64",), {**WINDOWS, "platform_machine": "AMD64"}),
)
# Where Hyperscan has no wheel and google-re2 stands in: only that package is checked
# there (the platform is not in the supported list, but its fallback must not compile).
FALLBACK_PLATFORMS = (
    Platform("Windows arm64", ("win_arm64",), {**WINDOWS, "platform_machine": "ARM64"}),
)


def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(text) for text in project["dependencies"]]


def requirements_for(platform: Platform, python: str) -> list[str]:
    """The runtime dependencies that platform installs, markers evaluated for it.

    pip evaluates markers for the machine it runs on even with --platform, so the
    project's own markers are applied here. (Markers inside dependencies are still pip's
    to evaluate; none of ours hides a package behind a platform today.)"""
    environment = {
        **platform.markers,
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }
    chosen = []
    for requirement in runtime_requirements():
        if requirement.marker is None or requirement.marker.evaluate(environment):
            chosen.append(f"{requirement.name}{requirement.specifier}")
    return chosen


def pip_environment(**extra: str) -> dict[str, str]:
    """This process's environment (certificates, proxies) without this machine's own pip
    configuration: no config files, no find-links or extra indexes, no constraints."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name
        not in (
            "PIP_FIND_LINKS",
            "PIP_EXTRA_INDEX_URL",
            "PIP_CONSTRAINT",
            "PIP_NO_INDEX",
            "PIP_REQUIRE_VIRTUALENV",
            "PIP_TARGET",
            "PIP_PREFIX",
        )
    }
    environment.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return environment


def skip_if_unreachable(output: str) -> None:
    if UNREACHABLE.search(output):
        line = next((ln for ln in output.splitlines() if UNREACHABLE.search(ln)), "")
        pytest.skip(f"the package index cannot be reached from here: {line.strip()[:200]}")


def resolve_wheels_only(platform: Platform, python: str, requirements: list[str], scratch: Path):
    """pip's binary-only dry run for one platform and Python; returns (ok, pip's output)."""
    folder = scratch / f"{platform.name.replace(' ', '-')}-{python}"
    folder.mkdir(parents=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--dry-run",
        "--ignore-installed",
        "--only-binary=:all:",
        *(f"--platform={tag}" for tag in platform.tags),
        f"--python-version={python}",
        "--implementation=cp",
        f"--target={folder / 'target'}",
        f"--report={folder / 'report.json'}",
        "--quiet",
        "--retries=1",
        "--timeout=20",
        *requirements,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, env=pip_environment(), timeout=300
    )
    return done.returncode == 0, done.stdout + done.stderr


@pytest.mark.network
def test_runtime_dependencies_resolve_to_wheels_on_every_supported_platform(tmp_path):
    cases = [(p, py, requirements_for(p, py)) for p in PLATFORMS for py in PYTHONS]
    cases += [
        (p, py, [r for r in requirements_for(p, py) if r.startswith("google-re2")])
        for p in FALLBACK_PLATFORMS
        for py in PYTHONS
    ]
    for platform, _python, requirements in cases:
        scanners = [r for r in requirements if r.startswith(("hyperscan", "google-re2"))]
        assert len(scanners) == 1, f"{platform.name} installs exactly one scanner: {scanners}"
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda case: resolve_wheels_only(*case, tmp_path), cases))
    if not any(ok for ok, _ in results):
        skip_if_unreachable(results[0][1])
    failures = [
        f"{platform.name}, Python {python}:\n{output.strip()[-1500:]}"
        for (platform, python, _), (ok, output) in zip(cases, results, strict=True)
        if not ok
    ]
    assert not failures, "no wheel-only install for:\n\n" + "\n\n".join(failures)


# --- a fresh install with no compiler -------------------------------------------------------

COMPILERS = ("cc", "gcc", "c++", "g++", "clang", "clang++", "cl")
PROJECT_FILES = ("pyproject.toml", "README.md", "bot", "handlers", "knowledge", "scripts")


def readme_first_command() -> list[str]:
    """The command the README's first code block ends with, after `.venv/bin/`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)\n```", readme, re.DOTALL)
    assert block, "the README opens with a sh block"
    last = block.group(1).split("&&")[-1].strip()
    assert last.startswith(".venv/bin/"), last
    return last.removeprefix(".venv/bin/").split()


@pytest.mark.network
@pytest.mark.skipif(os.name != "posix", reason="the install script is a POSIX shell script")
def test_a_fresh_venv_without_a_compiler_installs_and_runs_the_readme_command(tmp_path):
    # The Dockerfile's context: the same files, copied, so the build never touches ROOT.
    source = tmp_path / "source"
    source.mkdir()
    for name in PROJECT_FILES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, source / name)
    environment_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(environment_dir)
    bin_dir = environment_dir / ("Scripts" if os.name == "nt" else "bin")
    no_tools = tmp_path / "empty-bin"
    no_tools.mkdir()
    path = os.pathsep.join([str(bin_dir), str(no_tools)])
    for compiler in COMPILERS:
        assert shutil.which(compiler, path=path) is None, f"{compiler} is on the test's PATH"

    environment = pip_environment(PATH=path, CC="/bin/false", CXX="/bin/false")
    environment.pop("VIRTUAL_ENV", None)
    installed = subprocess.run(
        ["/bin/sh", INSTALL_SCRIPT, str(bin_dir / "python")],
        cwd=source,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = installed.stdout + installed.stderr
    if installed.returncode != 0:
        skip_if_unreachable(output)
    assert installed.returncode == 0, output[-3000:]
    assert not (source / "build").exists(), "the script leaves no build tree behind"

    program, *arguments = readme_first_command()
    answer = subprocess.run(
        [str(bin_dir / program), *arguments],
        cwd=ROOT,
        env={**environment, "XDG_CACHE_HOME": str(tmp_path / "cache")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    assert answer.stdout.splitlines()[0] == readme_example_verdict()


def readme_example_verdict() -> str:
    """The first line of the README's "What you get": the example's verdict."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"## What you get\n\n```text\n(.*?)\n", readme)
    assert shown, "the README shows what the example prints"
    return shown.group(1)


# --- the Dockerfile (this machine cannot build images: its steps are checked here) ----------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(
        r"\\\n", " ", "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))
    )
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, arguments = line.strip().partition(" ")
            pairs.append((instruction.upper(), " ".join(arguments.split())))
    return pairs


def test_the_image_installs_with_the_tested_script_on_a_pinned_base():
    instructions = dockerfile_instructions()
    (base,) = [arguments for instruction, arguments in instructions if instruction == "FROM"]
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base), base
    runs = [arguments for instruction, arguments in instructions if instruction == "RUN"]
    assert f"sh {INSTALL_SCRIPT} python" in runs, "the image runs the script the test runs"
    assert not any("pip install" in run for run in runs), "no install step the test skips"
    copied = " ".join(arguments for instruction, arguments in instructions if instruction == "COPY")
    for name in PROJECT_FILES:
        assert name in copied, f"the image gets {name}, as the install test's copy does"


def test_the_scan_cache_stays_out_of_the_data_volume():
    instructions = dockerfile_instructions()
    settings = dict(re.findall(r"(\w+)=(\S+)", " ".join(a for i, a in instructions if i == "ENV")))
    assert settings["SCCM_BOT_FEEDBACK_DB"].startswith("/data/")
    cache = settings["XDG_CACHE_HOME"]
    assert cache.startswith("/") and not cache.startswith("/data"), cache
