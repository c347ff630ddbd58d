"""Shared test fixtures.

The real-log corpus lives outside the repository (../shared/corpus beside the clone):
its files have unknown licences and real host names, so it is read in place and the
tests that need it skip when it is absent.
"""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = REPO_ROOT.parent / "shared" / "corpus"


@pytest.fixture
def corpus_dir() -> Path:
    if not CORPUS_DIR.is_dir():
        pytest.skip("../shared/corpus is not present beside the repository")
    return CORPUS_DIR
