"""Downloads: the token only goes to allowed origins, sizes are capped, sign-in pages are
recognised. Served by FakeSlack over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.downloads import FILES_READ_FIX, Downloader, DownloadRefused, safe_file_name

from .fake_slack import FakeSlack

TOKEN = "xoxb-0000-1111-testtoken"
CMTRACE = b'<![LOG[Scan completed]LOG]!><time="09:00:00.000+240" date="03-05-2024" component="x">'


def downloader(fake: FakeSlack, max_bytes: int = 1 << 20) -> Downloader:
    return Downloader(token=TOKEN, allowed_origins=(fake.origin,), max_bytes=max_bytes)


def test_a_log_is_saved_under_its_own_name_with_the_token(fake_slack: FakeSlack, tmp_path):
    file = fake_slack.add_file("WUAHandler.log", CMTRACE, content_type="text/plain")
    saved = downloader(fake_slack).fetch(file, tmp_path)
    assert saved == tmp_path / "WUAHandler.log" and saved.read_bytes() == CMTRACE
    assert fake_slack.file_requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "url",
    [
        "https://files.slack.com.evil.example/files-pri/T0/F0/logs.zip",
        "http://files.slack.com/files-pri/T0/F0/logs.zip",
        "https://files.slack.com:8443/files-pri/T0/F0/logs.zip",
        "https://slack.com/api/api.test",
        "file:///etc/passwd",
    ],
)
def test_only_exact_allowed_origins_are_fetched(tmp_path, url):
    slack_only = Downloader(TOKEN, ("https://files.slack.com:443",), 1 << 20)
    with pytest.raises(DownloadRefused, match="not an allowed file origin"):
        slack_only.fetch({"name": "logs.zip", "url_private_download": url}, tmp_path)


def test_a_redirect_inside_the_allowed_origins_is_followed(fake_slack: FakeSlack, tmp_path):
    target = fake_slack.add_file("logs.log", CMTRACE)
    hop = fake_slack.add_file("logs.log", b"", location=target["url_private_download"])
    assert downloader(fake_slack).fetch(hop, tmp_path).read_bytes() == CMTRACE
    assert len(fake_slack.file_requests) == 2


def test_an_announced_size_over_the_cap_is_refused_before_asking(fake_slack, tmp_path):
    file = fake_slack.add_file("logs.zip", b"PK\x03\x04", size=5 << 20)
    with pytest.raises(DownloadRefused, match="up to 1 MB"):
        downloader(fake_slack).fetch(file, tmp_path)
    assert fake_slack.file_requests == []


def test_a_file_larger_than_announced_is_cut_off_while_streaming(fake_slack, tmp_path):
    file = fake_slack.add_file("logs.zip", b"PK\x03\x04" + b"\0" * (2 << 20), size=100)
    with pytest.raises(DownloadRefused, match="larger than 1 MB"):
        downloader(fake_slack).fetch(file, tmp_path)


def test_a_sign_in_page_is_recognised_whatever_its_content_type(fake_slack, tmp_path):
    page = b"\n  <!DOCTYPE html>\n<html lang='en'><body>Sign in to Contoso</body></html>"
    file = fake_slack.add_file("logs.zip", page, content_type="application/octet-stream")
    with pytest.raises(DownloadRefused) as refused:
        downloader(fake_slack).fetch(file, tmp_path)
    assert refused.value.message == FILES_READ_FIX


def test_an_error_status_names_the_likely_fix(fake_slack, tmp_path):
    file = fake_slack.add_file("logs.zip", b"denied", status=403)
    with pytest.raises(DownloadRefused, match="403.*files:read"):
        downloader(fake_slack).fetch(file, tmp_path)


def test_local_names_cannot_escape_the_folder():
    assert safe_file_name("../../etc/cron.d/x.log") == "x.log"
    assert safe_file_name("..\\..\\Windows\\evil.zip") == "evil.zip"
    assert safe_file_name("..") == "upload"
    assert Path(safe_file_name("a<b>|c?.log")).suffix == ".log"
