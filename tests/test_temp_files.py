"""`sccm diagnose` and `sccm logs` leave no file of an upload behind (issue 17 item 4):
a zip inside the zip is unpacked into a temporary folder that goes when the reading ends,
whether it answered, refused the input, failed or was interrupted.
(The Slack app's side: tests/slack/test_no_leftovers.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from knowledge import api
from tests.conftest import REPO_ROOT
from tests.logbuilder import zip_bytes
from tests.named_uploads import named_zip


def nested(tmp_path: Path, inner: bytes) -> Path:
    path = tmp_path / "helpdesk.zip"
    path.write_bytes(zip_bytes({"from-helpdesk/client-logs.zip": inner}))
    return path


@pytest.fixture
def temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def sccm(temporary: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        env={**os.environ, "TMPDIR": str(temporary)},
    )


@pytest.mark.parametrize("command", ["diagnose", "logs"])
def test_the_commands_remove_what_they_unpacked(tmp_path: Path, temporary: Path, command):
    result = sccm(temporary, command, str(nested(tmp_path, named_zip())), "--json")
    assert result.returncode == 0, result.stderr
    assert "ContentTransferManager.log" in result.stdout  # the inner zip was read
    assert list(temporary.iterdir()) == []


def test_bad_input_leaves_nothing(tmp_path: Path, temporary: Path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(named_zip()[:300])  # cut off: not a readable zip
    for upload in (broken, nested(tmp_path, named_zip()[:300])):
        result = sccm(temporary, "diagnose", str(upload))
        assert result.returncode in (0, 2) and "Traceback" not in result.stderr
        assert list(temporary.iterdir()) == []


@pytest.mark.parametrize("problem", [RuntimeError("a bug"), KeyboardInterrupt()])
def test_a_failure_or_an_interrupt_while_reading_leaves_nothing(
    tmp_path: Path, temporary: Path, problem: BaseException
):
    held: list[Path] = []

    def stop_while_reading(step: api.Progress) -> None:
        held.extend(temporary.rglob("*"))
        raise problem

    with pytest.raises(type(problem)):
        api.diagnose_path(nested(tmp_path, named_zip()), progress=stop_while_reading)
    assert any(p.suffix == ".zip" for p in held), "the inner zip was unpacked by then"
    assert list(temporary.iterdir()) == []
