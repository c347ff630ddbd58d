"""`sccm script collect`: the log collector for a live client (issue 13, item 4).

PowerShell cannot run here, so these tests read the script for the things that make it work on
a live client: it copies with shared read before it zips, never zips the live folder, keeps the
rotated files, and adds the logs that live outside CCM\\Logs.
"""

from __future__ import annotations

import re

import pytest

from bot.cli import main
from knowledge.diagnosis.advice import collect_advice
from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "knowledge" / "data" / "scripts" / "collect-logs.ps1"


def _code() -> str:
    """The script without comments, so a word in a comment proves nothing."""
    text = SCRIPT.read_text(encoding="utf-8")
    text = re.sub(r"<#.*?#>", "", text, flags=re.S)
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def test_script_copies_with_shared_read_not_copy_item():
    code = _code()
    assert "[System.IO.File]::Open(" in code
    assert "[System.IO.FileShare]::ReadWrite" in code
    assert "Copy-Item" not in code


def test_script_copies_the_ccm_logs_before_it_zips_the_copy():
    code = _code()
    copy = code.index('Copy-Folder -Source "$env:windir\\CCM\\Logs"')
    zip_at = code.index("Compress-Archive")
    assert copy < zip_at
    compress_line = next(line for line in code.splitlines() if "Compress-Archive" in line)
    assert "$staging" in compress_line
    assert "CCM\\Logs" not in compress_line  # never the live folder


def test_script_keeps_rotated_logs():
    code = _code()
    assert "'*.lo_'" in code and "'*.log'" in code  # X.lo_ and X-YYYYMMDD-HHMMSS.log
    assert "-Recurse" in code


def test_script_adds_windows_update_cbs_and_dism_logs_before_the_zip():
    code = _code()
    zip_at = code.index("Compress-Archive")
    for needle in ("Get-WindowsUpdateLog -LogPath", "Logs\\CBS\\CBS.log", "Logs\\DISM\\dism.log"):
        assert needle in code, needle
        assert code.index(needle) < zip_at, needle


def test_script_prints_where_the_zip_is_and_needs_elevation():
    code = _code()
    assert 'Write-Output "Logs collected in: $zip"' in code
    assert "WindowsBuiltInRole]::Administrator" in code


def test_script_balances_its_braces():
    code = _code()
    assert code.count("{") == code.count("}")
    assert code.count("(") == code.count(")")


def test_cli_prints_the_collect_script(capsys):
    assert main(["script", "collect"]) == 0
    assert capsys.readouterr().out == SCRIPT.read_text(encoding="utf-8")


def test_cli_refuses_a_vbs_collect_with_one_error_line(capsys):
    assert main(["script", "collect", "--vbs"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_help_and_readme_list_the_collect_script(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "sccm script collect" in capsys.readouterr().out
    assert "sccm script collect" in (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_collect_advice_names_the_script_and_the_console_action():
    advice = " ".join(collect_advice())
    assert "sccm script collect" in advice
    assert "Collect client logs" in advice and "Support Center" in advice
    assert "Compress-Archive" not in advice
