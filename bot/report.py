"""The report for a ticket: one self-contained HTML file of a Diagnosis.

Everything is in the file (styles inline, the journey picture as a data: URI) and a
Content-Security-Policy forbids loading anything else, so it opens the same offline and
tells no server that someone read it. The only web addresses are links a reader may
follow: the next steps' sources. Jinja2 autoescapes every value, so log text from an
untrusted upload cannot become markup.
"""

from __future__ import annotations

import base64
import re
from importlib import metadata

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from knowledge.models import Diagnosis

# A web address in a citation, or one written without its scheme (learn.microsoft.com/...).
_LINK = re.compile(r"https?://[^\s()<>\"']+|\b(?:[a-z0-9-]+\.)+(?:com|org|net|io)/[^\s()<>\"']*")
_TRAILING = ".,;:'\""


def linked(text: str) -> Markup:
    """Text with its web addresses made links; everything else escaped."""
    out = []
    at = 0
    for found in _LINK.finditer(text):
        address = found.group(0).rstrip(_TRAILING)
        end = found.start() + len(address)
        url = address if address.startswith(("http://", "https://")) else "https://" + address
        out.append(escape(text[at : found.start()]))
        out.append(Markup('<a href="{}">{}</a>').format(url, address))
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)


_ENVIRONMENT = Environment(
    loader=PackageLoader("bot", "templates"),
    autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
    trim_blocks=False,
)
_ENVIRONMENT.filters["linked"] = linked


def _version() -> str:
    try:
        return metadata.version("sccm-triage")
    except metadata.PackageNotFoundError:  # a checkout that was never installed
        return "(unknown version)"


def render_html(
    diagnosis: Diagnosis, *, picture_png: bytes | None = None, source_name: str = "an upload"
) -> str:
    """The report as HTML text. `picture_png` is embedded; without it the report says why."""
    picture = None
    if picture_png:
        picture = "data:image/png;base64," + base64.b64encode(picture_png).decode("ascii")
    if diagnosis.verdict == "failure":
        heading = f"Failure at {diagnosis.stage_title or diagnosis.stage}"
    else:
        heading = f"{diagnosis.verdict.capitalize()} software-update pipeline"
    ledger_words = "; ".join(
        f"{row.title or row.stage} {row.status.replace('_', ' ')}" for row in diagnosis.ledger
    )
    return _ENVIRONMENT.get_template("report.html.j2").render(
        d=diagnosis,
        heading=f"{heading} - sccm-triage",
        picture=picture,
        picture_missing="a typed description has no timeline to draw.",
        ledger_words=ledger_words,
        failed_updates=[u for u in diagnosis.updates if u.status == "failed"],
        source_name=source_name,
        version=_version(),
    )
