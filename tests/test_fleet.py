"""Fleet triage (issue 15): the machines of an upload found, each diagnosed exactly as alone,
grouped by cause; `sccm diagnose` refuses to merge several machines."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from knowledge import api
from knowledge.errors import InputError
from knowledge.reading.fleet import Fleet
from tests import scenarios
from tests.archive_builders import write_zip, zip_bytes

# Two machines share a cause (the DP's 404), one has another, one is healthy.
FLEET = {
    "PC01": "download.http_404",
    "PC02": "healthy",
    "PC03": "download.http_404",
    "PC04": "scan.gpo_conflict",
}
OTHER_ID = "GUID:9A8B7C6D-5E4F-4A3B-8C2D-1E0F9A8B7C6D"


def machine_files(name: str) -> dict[str, str]:
    return scenarios.scenario_upload(FLEET[name])


def write_folder(root: Path, files: dict[str, str]) -> Path:
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return root


def folder_per_machine(tmp_path: Path) -> Path:
    """fleet/PC01/Logs/..., one folder per machine."""
    for name in FLEET:
        write_folder(tmp_path / "fleet" / name, machine_files(name))
    return tmp_path / "fleet"


def zip_of_zips(tmp_path: Path) -> Path:
    return write_zip(
        tmp_path / "fleet.zip",
        {f"{name}.zip": zip_bytes(machine_files(name)) for name in FLEET},
    )


def folder_of_zips(tmp_path: Path) -> Path:
    folder = tmp_path / "zips"
    folder.mkdir()
    for name in FLEET:
        write_zip(folder / f"{name}.zip", machine_files(name))
    return folder


def site_server_layout(tmp_path: Path) -> Path:
    """The site server keeps collected files per client under Inboxes\\sinv.box\\FileCol."""
    members = {}
    for number, name in enumerate(FLEET, 16777220):
        for relative, content in machine_files(name).items():
            members[f"Inboxes/sinv.box/FileCol/{number}/CCMClientLogs/{relative}"] = content
    return write_zip(tmp_path / "collected.zip", members)


def alone(tmp_path: Path, name: str) -> dict:
    """`sccm diagnose` of the machine's own folder."""
    folder = write_folder(tmp_path / "alone" / name, machine_files(name))
    return api.diagnose_path(folder).model_dump(mode="json")


def fleet_of(paths: list[Path], **options) -> tuple[dict, dict[str, dict]]:
    full: dict[str, dict] = {}
    report = api.diagnose_fleet(
        paths, keep=lambda row, diagnosis: full.__setitem__(row.machine, diagnosis), **options
    )
    return report.model_dump(mode="json"), {
        name: diagnosis.model_dump(mode="json") for name, diagnosis in full.items()
    }


@pytest.mark.parametrize(
    "build",
    [folder_per_machine, zip_of_zips, folder_of_zips],
    ids=["folders", "zip-of-zips", "folder-of-zips"],
)
def test_each_machine_is_diagnosed_as_alone(tmp_path, build):
    upload = build(tmp_path)
    report, full = fleet_of([upload])
    assert [row["machine"] for row in report["machines"]] == list(FLEET)
    for row in report["machines"]:
        expected = alone(tmp_path, row["machine"])
        assert full[row["machine"]] == expected  # the whole diagnosis, not only the verdict
        assert (row["verdict"], row["stage"], row["cause"]) == (
            expected["verdict"],
            expected["stage"],
            expected["cause"],
        )
        assert row["error_codes"] == [code["code"] for code in expected["error_codes"]]


def test_groups_put_the_largest_failing_cause_first(tmp_path):
    report, _ = fleet_of([zip_of_zips(tmp_path)])
    groups = [(g["verdict"], g["stage"], g["cause"], g["machines"]) for g in report["groups"]]
    assert groups == [
        ("failure", "download", "download.http_404", ["PC01", "PC03"]),
        ("failure", "scan", "scan.gpo_conflict", ["PC04"]),
        ("healthy", None, None, ["PC02"]),
    ]
    assert [g["count"] for g in report["groups"]] == [2, 1, 1]
    shared = report["groups"][0]["next_step"]
    assert shared == alone(tmp_path, "PC01")["next_steps"][0]
    assert report["groups"][2]["next_step"] is None  # nothing to do for healthy machines
    assert report["skipped"] == []


def test_site_server_collected_files_layout(tmp_path):
    report, _ = fleet_of([site_server_layout(tmp_path)])
    rows = report["machines"]
    assert [row["machine"] for row in rows] == ["16777220", "16777221", "16777222", "16777223"]
    assert [row["cause"] for row in rows] == [
        "download.http_404",
        None,
        "download.http_404",
        "scan.gpo_conflict",
    ]
    assert all(row["client_id"] == "GUID:0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0" for row in rows)


def test_several_paths_together_are_one_fleet(tmp_path):
    paths = [write_zip(tmp_path / f"{name}.zip", machine_files(name)) for name in ("PC04", "PC02")]
    paths.append(write_folder(tmp_path / "PC03", machine_files("PC03")))
    report, full = fleet_of(paths)
    assert [row["machine"] for row in report["machines"]] == ["PC04", "PC02", "PC03"]
    assert full["PC03"] == alone(tmp_path, "PC03")
    assert report["machines"][0]["source"] == str(paths[0])


def test_parallel_and_serial_give_the_same_answers(tmp_path):
    upload = zip_of_zips(tmp_path)
    answers = []
    for workers in (1, 2):
        with Fleet([upload]) as fleet:
            answers.append(
                [
                    (row.model_dump(), diagnosis.model_dump())
                    for row, diagnosis in fleet.diagnoses(workers=workers)
                ]
            )
    assert answers[0] == answers[1]


def test_progress_counts_machines(tmp_path):
    seen = []
    api.diagnose_fleet([zip_of_zips(tmp_path)], progress=seen.append)
    assert [(step.done, step.total) for step in seen] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert seen[-1].failing == 3


def test_one_machine_with_logs_in_several_folders_stays_one(tmp_path):
    files = machine_files("PC01")
    files["Windows/Logs/CBS/CBS.log"] = (
        "2024-03-12 08:00:00, Info  CBS  Starting TrustedInstaller\n"
    )
    upload = write_folder(tmp_path / "PC01", files)
    with Fleet([upload]) as fleet:
        assert fleet.names == ["PC01"]
    assert api.diagnose_path(upload).cause == "download.http_404"


def test_a_damaged_machine_is_skipped_and_the_others_read(tmp_path):
    members = {f"{name}.zip": zip_bytes(machine_files(name)) for name in ("PC01", "PC02")}
    members["PC09.zip"] = b"PK\x03\x04 this is not a whole zip"
    upload = write_zip(tmp_path / "fleet.zip", members)
    report, _ = fleet_of([upload])
    assert [row["machine"] for row in report["machines"]] == ["PC01", "PC02"]
    assert [item["name"] for item in report["skipped"]] == [f"{upload}/PC09.zip"]
    assert "not a complete zip" in report["skipped"][0]["reason"]


def two_clients_in_one_folder(tmp_path: Path) -> Path:
    files = machine_files("PC01")
    own = files["Logs/ClientIDManagerStartup.log"]
    files["Logs/ClientIDManagerStartup (2).log"] = own.replace(
        "GUID:0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", OTHER_ID
    )
    return write_folder(tmp_path / "mixed", files)


def test_two_clients_in_one_folder_are_noticed_and_named(tmp_path, capsys):
    upload = two_clients_in_one_folder(tmp_path)
    with pytest.raises(InputError) as refused:
        api.diagnose_path(upload)
    assert OTHER_ID in refused.value.message
    assert "GUID:0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0" in refused.value.message
    with pytest.raises(InputError, match="no machine's logs|holds the logs of 2 machines"):
        api.diagnose_fleet([upload])
    # beside a readable machine, the mixed folder is listed as skipped, with both ids
    other = write_folder(tmp_path / "PC02", machine_files("PC02"))
    report = api.diagnose_fleet([upload, other])
    assert [row.machine for row in report.machines] == ["PC02"]
    assert OTHER_ID in report.skipped[0].reason


def test_single_machine_uploads_are_not_affected(tmp_path):
    zipped = write_zip(tmp_path / "one.zip", machine_files("PC04"))
    assert api.diagnose_path(zipped).cause == "scan.gpo_conflict"


# --- the command line ---------------------------------------------------------------


def test_diagnose_refuses_several_machines_naming_them(tmp_path, capsys):
    upload = zip_of_zips(tmp_path)
    assert main(["diagnose", str(upload)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert all(name in lines[0] for name in FLEET)
    assert "sccm fleet" in lines[0]
    assert captured.out == ""


def test_fleet_json_and_csv_match(tmp_path, capsys):
    upload = folder_per_machine(tmp_path)
    table = tmp_path / "fleet.csv"
    assert main(["fleet", str(upload), "--json", "--csv", str(table)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) >= {"machines", "groups", "skipped"}
    rows = list(csv.DictReader(io.StringIO(table.read_text(encoding="utf-8"))))
    assert len(rows) == len(report["machines"]) == 4
    for row, machine in zip(rows, report["machines"], strict=True):
        for field in ("machine", "source", "verdict", "summary"):
            assert row[field] == machine[field]
        assert row["stage"] == (machine["stage"] or "")
        assert row["cause"] == (machine["cause"] or "")
        assert float(row["confidence"]) == machine["confidence"]
        assert row["error_codes"].split() == machine["error_codes"]


def test_fleet_text_groups_with_shared_next_step(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["fleet", str(zip_of_zips(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert out.startswith("4 machines: 3 failing, 1 healthy")
    download = out.index("FAILURE at Content download (download) · 2 machines")
    scan = out.index("FAILURE at Compliance scan (scan) · 1 machine")
    assert download < scan < out.index("HEALTHY · 1 machine")
    assert "Machines: PC01, PC03" in out
    assert out.count("Next step:") == 2
    assert "--machine PC01" in out


def test_fleet_redact_masks_the_machine_names_and_keeps_the_groups(tmp_path, capsys):
    upload = zip_of_zips(tmp_path)
    assert main(["fleet", str(upload), "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert {"PC01", "PC04"} <= {row["machine"] for row in plain["machines"]}
    assert main(["fleet", str(upload), "--json", "--redact"]) == 0
    masked_text = capsys.readouterr().out
    masked = json.loads(masked_text)
    for name in FLEET:
        assert name.lower() not in masked_text.lower()
    assert "contoso" not in masked_text.lower()  # the scenarios' hosts
    assert [(g["verdict"], g["stage"], g["cause"], g["count"]) for g in masked["groups"]] == [
        (g["verdict"], g["stage"], g["cause"], g["count"]) for g in plain["groups"]
    ]
    assert main(["fleet", str(upload), "--redact"]) == 0
    text = capsys.readouterr().out
    assert "PC0" not in text and "--machine NAME" in text


def test_fleet_machine_prints_that_machines_diagnosis(tmp_path, capsys):
    upload = zip_of_zips(tmp_path)
    assert main(["fleet", str(upload), "--machine", "pc04", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == alone(tmp_path, "PC04")
    assert main(["fleet", str(upload), "--machine", "PC99"]) == 2
    assert "PC01" in capsys.readouterr().err


def test_fleet_bad_input_is_one_error_line(tmp_path, capsys):
    assert main(["fleet", str(tmp_path / "missing.zip")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_machines_are_found_at_any_depth(tmp_path):
    """Batches of machines: the split goes on inside each batch."""
    root = tmp_path / "export"
    write_folder(root / "batch1" / "PC01", machine_files("PC01"))
    write_folder(root / "batch1" / "PC02", machine_files("PC02"))
    write_folder(root / "batch2" / "PC03", machine_files("PC03"))
    with Fleet([root]) as fleet:
        assert fleet.names == ["PC01", "PC02", "PC03"]
        assert [item.machine.source for item in fleet.found] == [
            "batch1/PC01",
            "batch1/PC02",
            "batch2/PC03",
        ]


def test_csv_to_stdout_replaces_the_text(tmp_path, capsys):
    assert main(["fleet", str(zip_of_zips(tmp_path)), "--csv", "-"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["machine"] for row in rows] == list(FLEET)


def test_loose_files_beside_machine_folders_are_a_machine_of_their_own(tmp_path):
    members = {
        f"{name}/{path}": text
        for name in ("PC01", "PC02")
        for path, text in machine_files(name).items()
    }
    members["WUAHandler.log"] = machine_files("PC04")["Logs/WUAHandler.log"]
    members["notes.pdf"] = b"%PDF-1.4"
    upload = write_zip(tmp_path / "mixed.zip", members)
    report, full = fleet_of([upload])
    assert [row["machine"] for row in report["machines"]] == ["mixed", "PC01", "PC02"]
    assert full["mixed"]["files"]["read"] == 1  # only the loose log, not the machines' logs
    assert full["mixed"]["cause"] == "scan.gpo_conflict"
    assert [item["name"] for item in full["mixed"]["files"]["skipped"]] == ["notes.pdf"]
    assert full["PC01"] == alone(tmp_path, "PC01")
    assert report["skipped"] == []


def test_the_same_upload_named_twice_is_read_once(tmp_path, capsys):
    upload = folder_per_machine(tmp_path)
    assert main(["fleet", str(upload), f"{upload}/", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["machines"]) == len(FLEET)


def test_fleet_redact_masks_a_path_it_could_not_read(tmp_path, capsys):
    upload = folder_per_machine(tmp_path)
    missing = tmp_path / "WS-FIN-099"
    assert main(["fleet", str(upload), str(missing), "--redact"]) == 0
    out = capsys.readouterr().out
    assert "Not read" in out and "WS-FIN-099" not in out


def test_fleet_machine_redact_names_no_machine_when_the_name_is_wrong(tmp_path, capsys):
    upload = folder_per_machine(tmp_path)
    assert main(["fleet", str(upload), "--machine", "host-1", "--redact"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no machine called 'host-1'")
    assert not [name for name in FLEET if name in err]


def test_a_one_machine_fleet_still_says_what_it_did_not_read(tmp_path, capsys):
    folder = write_folder(tmp_path / "one", scenarios.scenario_upload("healthy"))
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4 not a log")
    assert main(["fleet", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["machines"]) == 1
    assert [item["name"].rsplit("/", 1)[-1] for item in report["skipped"]] == ["notes.pdf"]


def test_diagnose_redact_refuses_several_machines_without_naming_them(tmp_path, capsys):
    assert main(["diagnose", str(zip_of_zips(tmp_path)), "--redact"]) == 2
    err = capsys.readouterr().err
    assert "4 machines" in err and "sccm fleet --redact" in err
    assert not [name for name in FLEET if name in err]
