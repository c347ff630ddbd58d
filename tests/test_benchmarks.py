"""The benchmarks still reach the code they time: a module they import that was moved
or renamed would turn a column into "not measured" instead of failing."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.logbuilder import zip_bytes
from tests.scenarios import scenario_upload


def _bench_pipeline():
    spec = importlib.util.spec_from_file_location(
        "bench_pipeline", REPO_ROOT / "benchmarks" / "bench_pipeline.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("mode", ["read", "diagnose"])
def test_each_pipeline_mode_prepares_and_runs(mode, tmp_path):
    upload = tmp_path / "logs.zip"
    upload.write_bytes(zip_bytes(scenario_upload("download.http_404")))
    run = _bench_pipeline()._prepare(mode)
    assert run(upload)
