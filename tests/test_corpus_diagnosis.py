"""Every case of ../shared/corpus/EXPECTED.md, diagnosed end to end.

The corpus holds real logs with real host names and unclear licences, so the files are copied
into the test's temporary folder at run time (never into the repository); the tests skip when
the corpus is not beside the clone.
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from knowledge.api import diagnose_path
from knowledge.models import Diagnosis

NOT_FAILURE = ("healthy", "inconclusive")


@dataclass(frozen=True)
class Case:
    name: str
    files: tuple[str, ...]  # paths under corpus/; a folder means every file in it
    verdicts: tuple[str, ...]  # any of these is right
    stages: tuple[str | None, ...] = (None,)  # when the verdict is a failure
    wrong_causes: tuple[str, ...] = ()
    as_zip: bool = False


# The healthy ConfigMgr client's folder is found by what it holds, not named: its name is one of
# the real sources this repository must not mention.
CCM_LOGS_FOLDER = "<the corpus folder holding UpdatesDeployment.log>"


CASES = [
    Case("healthy client, folder", (CCM_LOGS_FOLDER,), ("healthy",)),
    Case("healthy client, zip", (CCM_LOGS_FOLDER,), ("healthy",), as_zip=True),
    Case(
        "client install cannot download its files",
        ("jimbocalvo-reddit/ccmsetup.log",),
        ("failure",),
        ("client", "download"),
    ),
    Case(
        "scan fails the applicability check",
        (
            "trentent-theorypc-blog/WindowsUpdate-excerpt-scan.log",
            "trentent-theorypc-blog/CBS-excerpt-applicability.log",
        ),
        ("failure",),
        ("scan",),
        wrong_causes=("scan.wsus_unreachable",),
    ),
    Case(
        "install rolled back by the component store",
        (
            "trentent-theorypc-blog/WindowsUpdate-excerpt-install.log",
            "trentent-theorypc-blog/CBS-excerpt-install-rollback.log",
        ),
        ("failure",),
        ("install",),
    ),
    Case(
        "WSUS not reachable",
        ("cloudbase-issue53/WindowsUpdate-excerpt.log",),
        ("failure",),
        ("scan",),
    ),
    Case(
        "component store repair failed",
        ("alborz25-logs/CBS.log",),
        ("failure", "inconclusive"),
        ("install",),
    ),
    Case("CBS info lines that say Failed", ("loghub-windows/Windows_2k.log",), NOT_FAILURE),
    Case("Windows 7 home PC", ("rkudache31-log/WindowsUpdate.log",), NOT_FAILURE),
    Case("Windows 10 home PC", ("lee7723-git/WindowsUpdate.log",), NOT_FAILURE),
    Case("Windows 11 home PC", ("zayrexdev-stuff/WindowsUpdate.log",), NOT_FAILURE),
    Case("documented healthy flow, all files", ("msdocs-supportarticles",), ("healthy",)),
    Case(
        "documented healthy download",
        ("msdocs-supportarticles/DataTransferService-excerpt.log",),
        ("healthy",),
    ),
    Case(
        "documented healthy install (WUAHandler)",
        ("msdocs-supportarticles/WUAHandler-excerpt-install.log",),
        ("healthy",),
    ),
    Case(
        "documented healthy install (WindowsUpdate.log)",
        ("msdocs-supportarticles/WindowsUpdate-excerpt-ccmexec-install.log",),
        ("healthy",),
    ),
    Case("application-deployment lines only", ("plaso-testdata/sccm_various.log",), NOT_FAILURE),
]


def _source_files(corpus_dir: Path, entries: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for entry in entries:
        path = _ccm_logs_folder(corpus_dir) if entry == CCM_LOGS_FOLDER else corpus_dir / entry
        files += sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    return files


def _ccm_logs_folder(corpus_dir: Path) -> Path:
    (folder,) = {path.parent for path in corpus_dir.glob("*/UpdatesDeployment.log")}
    return folder


def _upload(case: Case, corpus_dir: Path, tmp_path: Path) -> Path:
    files = _source_files(corpus_dir, case.files)
    assert files, f"{case.name}: nothing found under {case.files}"
    if case.as_zip:
        upload = tmp_path / "logs.zip"
        with zipfile.ZipFile(upload, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, f"Logs/{path.name}")
        return upload
    if len(files) == 1:
        upload = tmp_path / files[0].name
        shutil.copyfile(files[0], upload)
        return upload
    upload = tmp_path / "Logs"
    upload.mkdir()
    for path in files:
        shutil.copyfile(path, upload / path.name)
    return upload


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_corpus_case(case: Case, corpus_dir, tmp_path):
    diagnosis: Diagnosis = diagnose_path(_upload(case, corpus_dir, tmp_path))
    assert diagnosis.verdict in case.verdicts, diagnosis.summary
    if diagnosis.verdict == "failure":
        assert diagnosis.stage in case.stages, diagnosis.summary
        assert diagnosis.cause not in case.wrong_causes, diagnosis.summary
        assert any(e.outcome == "failed" for e in diagnosis.evidence)
    else:
        assert diagnosis.stage is None
