"""The HTML report for a ticket: self-contained, every section, escaped, printable."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.cli import main
from bot.report import linked, render_html
from knowledge.api import diagnose_path
from knowledge.models import Diagnosis, Evidence, FilesSummary, SkippedFile

EXAMPLE_ZIP = Path(__file__).resolve().parents[1] / "examples" / "ccm-logs-example.zip"
SECTIONS = ("verdict", "picture", "ledger", "evidence", "next-steps", "files")


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of <style> blocks."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def _parse(html: str) -> _Tags:
    tags = _Tags()
    tags.feed(html)
    return tags


@pytest.fixture(scope="module")
def example_html(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["diagnose", str(EXAMPLE_ZIP), "--html", str(out)]) == 0
    return out.read_text("utf-8")


def test_the_example_report_loads_nothing_from_outside(example_html):
    parsed = _parse(example_html)
    names = {tag for tag, _ in parsed.tags}
    assert not names & {"script", "link", "iframe", "object", "embed", "base", "form"}
    for tag, attrs in parsed.tags:
        for name in ("src", "srcset", "poster", "data", "action"):
            assert name not in attrs or attrs[name].startswith("data:"), (tag, attrs)
        if "href" in attrs:  # only a reader's links, never a resource the page loads
            assert tag == "a", (tag, attrs)
        assert "style" not in attrs or "url(" not in attrs["style"]
    css = "".join(parsed.styles)
    assert "url(" not in css and "@import" not in css
    policy = [
        a["content"] for t, a in parsed.tags if a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert policy and "default-src 'none'" in policy[0]


def test_the_example_report_has_every_section(example_html):
    ids = {attrs.get("id") for _, attrs in _parse(example_html).tags}
    assert set(SECTIONS) <= ids
    assert "Failure at Content download" in example_html
    assert "download.http_404" in example_html  # the cause
    assert "ContentTransferManager.log" in example_html  # evidence and files read
    assert "0x80190194" in example_html
    assert "Logs/screenshot.png" in example_html and "not a log file" in example_html
    for stage in (
        "client",
        "policy",
        "scan",
        "evaluate",
        "locate",
        "download",
        "cache",
        "install",
        "reboot",
        "report",
    ):
        assert f"<code>{stage}</code>" in example_html


def test_the_picture_is_embedded_as_a_png(example_html):
    images = [a for t, a in _parse(example_html).tags if t == "img"]
    assert len(images) == 1
    prefix = "data:image/png;base64,"
    assert images[0]["src"].startswith(prefix)
    png = base64.b64decode(images[0]["src"][len(prefix) :], validate=True)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert "Content download failed" in images[0]["alt"]


def test_next_steps_link_to_their_sources(example_html):
    links = [a["href"] for t, a in _parse(example_html).tags if t == "a"]
    assert any(link.startswith("https://learn.microsoft.com/") for link in links)
    assert all(link.startswith("https://") for link in links)


def test_it_prints_well(example_html):
    css = "".join(_parse(example_html).styles)
    assert "@media print" in css
    print_rules = css[css.index("@media print") :]
    assert "break-inside: avoid" in print_rules  # a table row or the picture is never cut
    assert "@page" in print_rules
    # On paper a link must still say where it goes: its text is its address.
    for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', example_html):
        assert href.removeprefix("https://") == text.removeprefix("https://")


def test_log_text_cannot_become_markup():
    hostile = '<script>alert(1)</script><img src="https://evil.example/x.png">'
    diagnosis = Diagnosis(
        verdict="failure",
        stage="scan",
        summary=hostile,
        evidence=[Evidence(file=hostile, line=1, time=None, text=hostile, stage="scan")],
        files=FilesSummary(read=1, skipped=[SkippedFile(name=hostile, reason=hostile)]),
    )
    html = render_html(diagnosis, source_name=hostile)
    assert "<script>" not in html and "evil.example" not in _attribute_values(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def _attribute_values(html: str) -> str:
    return " ".join(v or "" for _, attrs in _parse(html).tags for v in attrs.values())


def test_linked_makes_links_of_addresses_only():
    text = (
        'Microsoft Learn: Deploy (https://learn.microsoft.com/mem/x); "a" <b> '
        "learn.microsoft.com/y."
    )
    html = str(linked(text))
    assert (
        '<a href="https://learn.microsoft.com/mem/x">https://learn.microsoft.com/mem/x</a>' in html
    )
    assert '<a href="https://learn.microsoft.com/y">learn.microsoft.com/y</a>.' in html
    assert "&lt;b&gt;" in html and "&#34;a&#34;" in html


def test_a_report_of_a_symptom_is_refused_with_one_error_line(capsys):
    assert main(["diagnose", "--symptom", "stuck at 0%", "--html", "x.html"]) == 2
    assert capsys.readouterr().err.startswith("error: --picture and --html")


def test_the_report_names_the_upload_by_its_file_name_only(example_html):
    footer = re.search(r"<footer>(.*?)</footer>", example_html, re.S).group(1)
    assert "ccm-logs-example.zip" in footer and str(EXAMPLE_ZIP.parent) not in footer


def test_a_healthy_report_still_has_every_section(tmp_path):
    from tests.logbuilder import zip_bytes
    from tests.scenarios import healthy_until

    upload = tmp_path / "healthy.zip"
    upload.write_bytes(zip_bytes(healthy_until(10).files()))
    html = render_html(diagnose_path(upload), picture_png=b"\x89PNG fake")
    ids = {attrs.get("id") for _, attrs in _parse(html).tags}
    assert set(SECTIONS) <= ids and "Healthy" in html


def test_the_docs_example_report_is_self_contained_too():
    shown = EXAMPLE_ZIP.parents[1] / "docs" / "report-example.html"
    html = shown.read_text("utf-8")
    parsed = _parse(html)
    assert set(SECTIONS) <= {attrs.get("id") for _, attrs in parsed.tags}
    assert all(
        attrs.get("src", "data:").startswith("data:") and ("href" not in attrs or tag == "a")
        for tag, attrs in parsed.tags
    )
