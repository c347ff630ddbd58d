"""The journey picture: what it must show, checked on the figure's artists, not its pixels."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from matplotlib import dates as mdates

from bot import picture
from bot.cli import main
from knowledge.api import diagnose_path
from knowledge.models import STAGE_IDS, Diagnosis, Evidence, LedgerRow, UpdateProgress, UpdateStep
from tests.logbuilder import zip_bytes
from tests.scenarios import ERROR, UPDATE_A, healthy_until

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_ZIP = REPO / "examples" / "ccm-logs-example.zip"
TITLES = {
    "client": "Client health",
    "policy": "Policy retrieval",
    "scan": "Compliance scan",
    "evaluate": "Deployment evaluation",
    "locate": "Content location",
    "download": "Content download",
    "cache": "Client cache",
    "install": "Installation",
    "reboot": "Restart",
    "report": "State reporting",
}


def _ledger(failed: str | None = None, reached_to: str = "report") -> list[LedgerRow]:
    rows = []
    for stage in STAGE_IDS:
        if stage == failed:
            status = "failed"
        elif STAGE_IDS.index(stage) <= STAGE_IDS.index(reached_to):
            status = "ok"
        else:
            status = "not_reached"
        rows.append(LedgerRow(stage=stage, status=status, title=TITLES[stage]))
    return rows


def _axes(diagnosis: Diagnosis):
    fig = picture.figure(picture.journey(diagnosis))
    (ax,) = fig.axes
    return ax


def _by_gid(ax, gid: str):
    return [line for line in ax.get_lines() if line.get_gid() == gid]


def _code_labels(ax) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_gid() == "failure-code"]


def _x_of(line) -> datetime:
    return mdates.num2date(mdates.date2num(line.get_xdata()[0])).replace(tzinfo=None)


@pytest.fixture(scope="module")
def example() -> Diagnosis:
    return diagnose_path(EXAMPLE_ZIP)


def test_one_track_per_stage_in_pipeline_order(example):
    ax = _axes(example)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 10
    for label, stage in zip(labels, STAGE_IDS, strict=True):
        assert label.startswith(TITLES[stage])
    # The ledger shows on each track: the failed stage says so, the later ones too.
    assert labels[STAGE_IDS.index("download")] == "Content download (FAILED)"
    assert labels[STAGE_IDS.index("cache")] == "Client cache (not reached)"
    low, high = ax.get_ylim()
    assert low > high, "the pipeline's first stage is at the top"


def test_the_example_marks_its_failure_with_its_code_on_the_download_track(example):
    ax = _axes(example)
    crosses = _by_gid(ax, "failure")
    failed = [e for e in example.evidence if e.outcome == "failed"]
    assert len(crosses) >= len(failed)
    assert {STAGE_IDS[round(line.get_ydata()[0])] for line in crosses} == {"download"}
    assert any(label.startswith("0x80190194") for label in _code_labels(ax))
    assert _by_gid(ax, "success"), "the stages that worked show their successes"


def test_the_axis_names_the_machines_zone_and_times_are_on_its_clock(example):
    assert example.time_zone == "UTC-04:00" and example.utc_offset_minutes == -240
    ax = _axes(example)
    assert "UTC-04:00" in ax.get_xlabel()
    # The failure's latest line is 12:26:32 UTC: 08:26 on a UTC-04:00 machine.
    crosses = _by_gid(ax, "failure")
    latest = max(_x_of(line) for line in crosses)
    assert latest.strftime("%H:%M") == "08:26"


def test_each_update_has_a_path_ending_where_it_stopped(example):
    ax = _axes(example)
    for update in example.updates:
        (path,) = _by_gid(ax, f"update:{update.update}")
        last_row = round(path.get_ydata()[-1])
        assert STAGE_IDS[last_row] == update.stopped_at == "download"


def _made_up(evidence, updates=(), *, zone=None, offset=None, failed="install") -> Diagnosis:
    return Diagnosis(
        verdict="failure",
        stage=failed,
        stage_title=TITLES[failed],
        summary="made up",
        evidence=list(evidence),
        ledger=_ledger(failed=failed, reached_to=failed),
        updates=list(updates),
        time_zone=zone,
        utc_offset_minutes=offset,
    )


def test_every_failure_code_gets_its_mark_and_retries_show_as_a_bar():
    evidence = [
        Evidence(
            file="a.log",
            line=1,
            time="2024-03-12T08:30:00.000Z",
            text="fail 0x80070643",
            stage="install",
            outcome="failed",
            count=3,
            first_time="2024-03-12T08:10:00.000Z",
            last_time="2024-03-12T08:30:00.000Z",
        ),
        Evidence(
            file="b.log",
            line=2,
            time="2024-03-12T08:05:00.000Z",
            text="Failed 0x80190194",
            stage="download",
            outcome="failed",
        ),
        Evidence(
            file="c.log",
            line=3,
            time="2024-03-12T08:06:00.000Z",
            text="downloaded",
            stage="download",
            outcome="ok",
        ),
    ]
    ax = _axes(_made_up(evidence))
    labels = _code_labels(ax)
    assert any(label.startswith("0x80070643") and "×3" in label for label in labels)
    assert any(label.startswith("0x80190194") for label in labels)
    (bar,) = _by_gid(ax, "retries")
    assert round(bar.get_ydata()[0]) == STAGE_IDS.index("install")
    assert _by_gid(ax, "success")


def test_a_retry_that_worked_shows_the_failure_then_the_success_on_the_update_path():
    steps = [
        UpdateStep(stage="download", outcome="ok", time="2024-03-12T08:00:00Z"),
        UpdateStep(
            stage="install", outcome="failed", time="2024-03-12T08:10:00Z", code="0x80070643"
        ),
        UpdateStep(stage="install", outcome="ok", time="2024-03-12T09:10:00Z"),
    ]
    update = UpdateProgress(update="KB5034441", status="ok", furthest_stage="install", steps=steps)
    ax = _axes(_made_up([], [update]))
    (path,) = _by_gid(ax, "update:KB5034441")
    rows = [STAGE_IDS[round(y)] for y in path.get_ydata()]
    assert rows == ["download", "install", "install"]
    assert _code_labels(ax) == ["0x80070643"]


def test_local_times_without_a_zone_say_so_on_the_axis():
    evidence = [
        Evidence(
            file="a.log",
            line=1,
            time="2024-03-12T08:30:00.000",
            text="x 0x80070643",
            stage="install",
            outcome="failed",
        )
    ]
    ax = _axes(_made_up(evidence))
    assert "zone is not in the logs" in ax.get_xlabel()
    assert _x_of(_by_gid(ax, "failure")[0]).strftime("%H:%M") == "08:30"


def test_daylight_saving_inside_the_logs_draws_utc_and_names_both_zones():
    evidence = [
        Evidence(
            file="a.log",
            line=1,
            time="2024-03-12T08:30:00.000Z",
            text="0x80070643",
            stage="install",
            outcome="failed",
        )
    ]
    ax = _axes(_made_up(evidence, zone="UTC-05:00, UTC-04:00"))
    assert "UTC-05:00, UTC-04:00" in ax.get_xlabel() and "UTC" in ax.get_xlabel()
    assert _x_of(_by_gid(ax, "failure")[0]).strftime("%H:%M") == "08:30"


def test_nothing_timed_still_draws_the_ten_tracks():
    diagnosis = Diagnosis(verdict="inconclusive", summary="nothing", ledger=_ledger())
    png = picture.render_png(diagnosis)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    ax = _axes(diagnosis)
    assert len(ax.get_yticklabels()) == 10
    assert any("no timed evidence" in t.get_text() for t in ax.texts)


def test_the_engine_records_when_an_update_failed_and_then_succeeded(tmp_path):
    # As in the scenario file install.msi_1603.yaml, the update fails to install at
    # minute 25; here it installs at minute 40.
    logs = healthy_until(7)
    logs.add("WUAHandler.log", 20, "Async installation of updates started.")
    logs.add(
        "WUAHandler.log",
        25,
        f"Update 1 ({UPDATE_A}) finished installing (0x80070643), Reboot Required? No",
        ERROR,
    )
    logs.add("WUAHandler.log", 25.1, "Async install completed.")
    logs.add(
        "WUAHandler.log",
        40,
        f"Update 1 ({UPDATE_A}) finished installing (0x00000000), Reboot Required? No",
    )
    upload = tmp_path / "retry.zip"
    upload.write_bytes(zip_bytes(logs.files()))
    diagnosis = diagnose_path(upload)
    (update,) = [u for u in diagnosis.updates if u.update == UPDATE_A]
    install = [(s.outcome, s.code) for s in update.steps if s.stage == "install"]
    assert install == [("failed", "0x80070643"), ("ok", None)]
    times = [s.time for s in update.steps if s.stage == "install"]
    assert all(t and t.endswith("Z") for t in times) and times == sorted(times)


def test_the_engine_names_the_zone_of_healthy_logs(tmp_path):
    upload = tmp_path / "healthy.zip"
    upload.write_bytes(zip_bytes(healthy_until(10).files()))
    diagnosis = diagnose_path(upload)
    assert diagnosis.time_zone and diagnosis.time_zone.startswith("UTC")
    assert diagnosis.utc_offset_minutes is not None


def test_cli_writes_the_picture(tmp_path, capsys):
    out = tmp_path / "journey.png"
    assert main(["diagnose", str(EXAMPLE_ZIP), "--picture", str(out)]) == 0
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "Content download" in capsys.readouterr().out  # the answer is still printed


def test_cli_refuses_an_unwritable_picture_path_with_one_error_line(tmp_path, capsys):
    code = main(["diagnose", str(EXAMPLE_ZIP), "--picture", str(tmp_path / "no" / "x.png")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write") and err.count("\n") == 1


def test_cli_refuses_a_picture_of_a_symptom(capsys):
    assert main(["diagnose", "--symptom", "stuck at 0%", "--picture", "x.png"]) == 2
    assert "give a PATH" in capsys.readouterr().err


def test_the_cli_does_not_import_matplotlib_unless_asked():
    probe = (
        "import sys; from bot.cli import main; "
        f"main(['diagnose', {str(EXAMPLE_ZIP)!r}, '--json']); "
        "print('matplotlib' in sys.modules, 'jinja2' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "False False"


def test_the_docs_show_a_rendering_of_the_bundled_example():
    """docs/journey-example.png (shown in the README) is a picture as `--picture` draws it:
    regenerate it with `sccm diagnose examples/ccm-logs-example.zip --picture
    docs/journey-example.png` when the drawing changes."""
    import struct

    shown = REPO / "docs" / "journey-example.png"
    data = shown.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    fresh = picture.render_png(diagnose_path(EXAMPLE_ZIP))
    assert (width, height) == struct.unpack(">II", fresh[16:24])
    assert "docs/journey-example.png" in (REPO / "README.md").read_text("utf-8")


def test_has_marks_tells_a_picture_worth_posting():
    assert picture.has_marks(diagnose_path(EXAMPLE_ZIP))
    untimed = Evidence(file="a.log", line=1, time=None, text="x", stage="scan", outcome="ok")
    assert not picture.has_marks(_made_up([untimed]))
    assert not picture.has_marks(Diagnosis(verdict="inconclusive", summary="-", ledger=_ledger()))


def test_codes_on_one_track_share_one_label_that_names_each():
    def failure(minute: int, code: str, count: int) -> Evidence:
        return Evidence(
            file="WUAHandler.log",
            line=minute,
            time=f"2024-03-12T08:{minute:02d}:00Z",
            text=f"Scan failed, error = {code}",
            stage="scan",
            outcome="failed",
            count=count,
        )

    codes = ["0x80244022", "0x80072EE2", "0x8024401C", "0x80244010"]
    evidence = [failure(i, code, 10 - i) for i, code in enumerate(codes)]
    ax = _axes(_made_up(evidence, failed="scan"))
    (label,) = _code_labels(ax)
    assert label.startswith("0x80244022 ×10, 0x80072EE2 ×9, 0x8024401C ×8")
    assert label.endswith("+1 more")  # the rarest, past three
    assert len(_by_gid(ax, "failure")) == 4, "a cross for every failure"


def test_an_update_seen_at_one_stage_only_is_still_marked():
    step = UpdateStep(
        stage="install", outcome="failed", time="2024-03-12T08:10:00Z", code="0x80240022"
    )
    update = UpdateProgress(update="KB5034441", status="failed", stopped_at="install", steps=[step])
    ax = _axes(_made_up([], [update]))
    (cross,) = _by_gid(ax, "update-failed")
    assert STAGE_IDS[round(cross.get_ydata()[0])] == "install"
    assert _code_labels(ax) == ["0x80240022"]


def test_dollar_signs_and_long_titles_draw_as_plain_text():
    step = UpdateStep(stage="install", outcome="ok", time="2024-03-12T08:10:00Z")
    update = UpdateProgress(update="KB$\\frac$", status="ok", steps=[step])
    diagnosis = _made_up([], [update])
    diagnosis.cause_title = "a $\\frac{$ cause " + "long " * 40  # broken math notation
    assert picture.render_png(diagnosis).startswith(b"\x89PNG")  # mathtext would raise
    ax = _axes(diagnosis)
    assert len(ax.get_title(loc="left")) <= 102 and ax.get_title(loc="left").endswith("…")
