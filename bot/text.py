"""Text renderings of the core's answers, for a person at a terminal.

`diagnose` has two shapes. The default fits one screen: verdict and cause, the decisive
evidence (three lines at most), three next steps with one short link each, and what to send
next. `--full` prints everything the core said. Both are laid out by rich, which wraps to the
terminal's width (or `COLUMNS` when piped), colours failures on a terminal and writes plain
text, without escape codes, anywhere else.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Iterator
from importlib import resources

from rich.console import Console, Group, RenderableType
from rich.text import Text

from knowledge import api
from knowledge.errors import InputError
from knowledge.models import STAGE_IDS, Diagnosis, ErrorInfo, Evidence, NextStep, ReadReport

STATUS_WORD = {"ok": "ok", "failed": "FAILED", "not_reached": "-", "no_evidence": "?"}
STATUS_PHRASE = {"ok": "ok", "failed": "FAILED", "not_reached": "not reached", "no_evidence": "?"}
SHORT_EVIDENCE = 3
SHORT_STEPS = 3
SHORT_STEP_LINES = 3

VERDICT_STYLE = {"failure": "bold red", "healthy": "bold green", "inconclusive": "bold yellow"}
STATUS_STYLE = {"failed": "bold red", "ok": "green", "not_reached": "dim", "no_evidence": "yellow"}
LOCATION_STYLE = "cyan"
HEADING_STYLE = "bold"

# Sources are citations ("Microsoft Learn: Title (https://...); per ..."). The short answer
# shows one link: a Microsoft Learn page first, then any web address, then a bare host/path.
_URL = re.compile(r"https?://[^\s)\];,]+")
_BARE_URL = re.compile(r"\b(?:[a-z0-9-]+\.)+(?:com|org|net|io)/[^\s)\];,]+", re.I)


def console(width: int | None = None) -> Console:
    """The CLI's console: rich finds the terminal's width, or reads `COLUMNS` when piped, and
    writes colour only to a terminal (it honours NO_COLOR and FORCE_COLOR too)."""
    return Console(width=width, highlight=False, markup=False, emoji=False)


def _width() -> int:
    return console().width


def to_plain(renderable: RenderableType, width: int) -> str:
    """What `renderable` prints as on a non-terminal `width` columns wide: no escape codes."""
    buffer = io.StringIO()
    Console(
        file=buffer,
        width=width,
        color_system=None,
        force_terminal=False,
        highlight=False,
        markup=False,
        emoji=False,
    ).print(renderable, crop=False)
    return buffer.getvalue().rstrip("\n")


class _Hang:
    """`marker` then `body`, the body's wrapped lines indented under its first word.

    rich wraps the body to whatever width is left; unlike a table cell, no line is padded
    with trailing spaces, so a copied answer stays clean."""

    def __init__(
        self,
        marker: str | Text,
        body: str | Text,
        indent: int | None = None,
        max_lines: int | None = None,
    ):
        self.marker = marker if isinstance(marker, Text) else Text(marker)
        self.body = body if isinstance(body, Text) else Text(body)
        self.indent = indent if indent is not None else len(self.marker.plain)
        self.max_lines = max_lines

    def __rich_console__(self, console: Console, options):
        # a marker wider than the indent (`Send next: `) narrows every line alike
        room = max(20, options.max_width - max(self.indent, len(self.marker.plain)))
        lines = list(self.body.wrap(console, room, overflow="fold"))
        if self.max_lines and len(lines) > self.max_lines:
            lines = lines[: self.max_lines]
            lines[-1].rstrip()
            lines[-1].truncate(room - 1)
            lines[-1].append("…")
        for number, line in enumerate(lines):
            line.rstrip()
            lead = self.marker.copy() if number == 0 else Text("")
            lead.pad_right(self.indent - len(lead.plain))
            yield lead + line


def _hang(
    marker: str | Text, body: str | Text, indent: int | None = None, max_lines: int | None = None
) -> _Hang:
    return _Hang(marker, body, indent, max_lines)


def _wrapped(parts: list[RenderableType]) -> list[RenderableType]:
    """Free-running lines wrapped without trailing spaces (a no_wrap line stays whole)."""
    return [_Hang("", p, 0) if isinstance(p, Text) and not p.no_wrap else p for p in parts]


def _wrap(text: str, indent: str = "  ", first: str | None = None) -> str:
    """Plain wrapped text for the knowledge commands (stages, steps, log, error)."""
    first = first if first is not None else indent
    width = max(len(first), len(indent))
    return to_plain(_hang(first, text, width), _width())


# --- diagnose ---------------------------------------------------------------------------


def ledger_line(diagnosis: Diagnosis) -> str:
    return " > ".join(f"{row.stage} {STATUS_WORD[row.status]}" for row in diagnosis.ledger)


def _ledger_runs(diagnosis: Diagnosis, width: int) -> list[Text]:
    """The ledger with neighbouring stages of one status joined (`client..locate ok`), laid
    out in lines of whole runs so that no stage is parted from its status."""
    runs: list[tuple[str, str, str]] = []  # (first stage, last stage, status)
    for row in diagnosis.ledger:
        if runs and runs[-1][2] == row.status:
            runs[-1] = (runs[-1][0], row.stage, row.status)
        else:
            runs.append((row.stage, row.stage, row.status))
    lines = [Text("Stages: ", no_wrap=True)]
    for first, last, status in runs:
        span = first if first == last else f"{first}..{last}"
        piece = Text(f"{span} {STATUS_PHRASE[status]}", style=STATUS_STYLE[status])
        line = lines[-1]
        if len(line.plain) > len("Stages: "):
            if len(line.plain) + 3 + len(piece.plain) > width:
                lines.append(Text(" " * len("Stages: "), no_wrap=True))
                line = lines[-1]
            else:
                line.append(" · ")
        line.append_text(piece)
    return lines


def _headline(diagnosis: Diagnosis) -> Text:
    style = VERDICT_STYLE[diagnosis.verdict]
    if diagnosis.verdict == "failure":
        word = "LIKELY FAILING:" if diagnosis.source == "symptom" else "FAILURE at"
        head = Text(f"{word} {diagnosis.stage_title} ({diagnosis.stage})", style=style)
        head.append(f", confidence {diagnosis.confidence:.2f}")
        return head
    if diagnosis.verdict == "healthy":
        return Text(f"HEALTHY, confidence {diagnosis.confidence:.2f}", style=style)
    if diagnosis.stage:
        return Text(
            f"INCONCLUSIVE, leaning to {diagnosis.stage_title} ({diagnosis.stage})", style=style
        )
    return Text("INCONCLUSIVE: not enough evidence to name a stage", style=style)


def _cause(diagnosis: Diagnosis, with_id: bool = True) -> Text | None:
    if not diagnosis.cause:
        return None
    line = Text("Cause: ", style=HEADING_STYLE)
    line.append(diagnosis.cause_title or diagnosis.cause)
    if with_id:  # the id is for scripts and feedback: --full and --json carry it
        line.append(f" [{diagnosis.cause}]", style="dim")
    return line


def short_time(iso: str | None) -> str:
    """`2023-10-18T12:26:31.911Z` as `2023-10-18 12:26:31Z`; local times say so."""
    if not iso:
        return "no time"
    match = re.match(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?(Z?)", iso)
    if not match:
        return iso
    day, clock, zone = match.groups()
    return f"{day} {clock}{zone}" if zone else f"{day} {clock} (local)"


def _file_name(path: str | None) -> str:
    return (path or "?").replace("\\", "/").rsplit("/", 1)[-1]


def decisive_evidence(diagnosis: Diagnosis, limit: int = SHORT_EVIDENCE) -> list[Evidence]:
    """The lines that decide the verdict: failures at the named stage first, then other
    failures; a healthy verdict's lines are its successes. Stages that were fine stay out
    of a failure's short answer."""
    items = diagnosis.evidence
    if diagnosis.verdict == "healthy":
        chosen = [e for e in items if e.outcome == "ok"] or list(items)
    else:
        at_stage = [e for e in items if e.outcome == "failed" and e.stage == diagnosis.stage]
        elsewhere = [e for e in items if e.outcome == "failed" and e.stage != diagnosis.stage]
        chosen = at_stage + elsewhere or [e for e in items if e.outcome != "ok"] or list(items)
    return chosen[:limit]


def short_source(source: str) -> tuple[str, str | None]:
    """(label, url) for a citation: its one best web address, or its first words."""
    urls = _URL.findall(source) or [
        "https://" + u if u.lower().startswith("learn.microsoft.com") else u
        for u in _BARE_URL.findall(source)
    ]
    urls = [u.rstrip(".'\"") for u in urls]
    learn = [u for u in urls if "learn.microsoft.com" in u]
    url = (learn or urls or [None])[0]
    if url:
        return re.sub(r"^https?://", "", url), url
    title = re.split(r"\s*[(;]", source, maxsplit=1)[0].strip()
    return (title[:77] + "...") if len(title) > 80 else title, None


def _link_line(source: str, indent: int, width: int, terminal: bool, prefix: str = "") -> Text:
    """One line naming a step's source. A web address is never broken across lines: on a
    terminal a too-long one is shown by its last path part and stays clickable (OSC 8); in
    a pipe it is printed whole, past the width if it must, so it can still be copied."""
    label, url = short_source(source)
    room = width - indent - len(prefix)
    if url and terminal and len(label) > room:
        host, _, rest = label.partition("/")
        label = f"{host} › {rest.rstrip('/').rsplit('/', 1)[-1]}"
    style = f"link {url}" if url and terminal else "dim"
    line = Text(" " * indent + prefix, style="dim")
    line.append(label, style=style)
    line.no_wrap = True
    line.overflow = "ignore" if url else "ellipsis"
    return line


def _evidence_short(item: Evidence) -> list[RenderableType]:
    where = Text(f"  {_file_name(item.file)}", style=LOCATION_STYLE)
    if item.line:
        where.append(f":{item.line}", style=LOCATION_STYLE)
    where.append(f"  {short_time(item.time)}")
    if item.count > 1:
        where.append(f"  ({item.count} lines like it)", style="dim")
    return [where, _hang("    ", " ".join(item.text.split()), max_lines=2)]


def _steps(steps: list[NextStep], width: int, terminal: bool, full: bool) -> Iterator:
    """Numbered steps. In full, each with its whole citation; in short, one link per run of
    steps that share it, under the run's last step (`steps 1-3:`), so a link is not repeated."""
    for number, step in enumerate(steps, 1):
        # short: at most three lines a step, its lead first; the whole step with --full
        limit = None if full else SHORT_STEP_LINES
        yield _hang(Text(f"  {number}. ", style=HEADING_STYLE), step.text, max_lines=limit)
        if full:
            yield _hang("     source: ", step.source)
            continue
        link = short_source(step.source)
        if number < len(steps) and short_source(steps[number].source) == link:
            continue  # the next step cites the same page: one line for both, below it
        first = number
        while first > 1 and short_source(steps[first - 2].source) == link:
            first -= 1
        label = "source: " if first == number else f"source of steps {first}-{number}: "
        yield _link_line(step.source, 5, width, terminal, label)


def _first_sentence(text: str) -> str:
    """Up to the first full stop that ends a sentence (the rest is detail for --full)."""
    found = re.search(r"(?<=[.)])\s+(?=[A-Z])", text)
    return text[: found.start()] if found else text


def _send_next(diagnosis: Diagnosis, *, short: bool = False) -> list[RenderableType]:
    """The logs to send next and how to collect them; the short answer keeps the first way's
    first sentence and leaves the details (and the other ways) to --full."""
    if not diagnosis.missing_logs:
        return []
    out: list[RenderableType] = [
        _hang(Text("Send next: ", style=HEADING_STYLE), ", ".join(diagnosis.missing_logs), 2)
    ]
    ways = list(diagnosis.how_to_collect)
    if short and ways:
        first = _first_sentence(ways[0])
        if first != ways[0] or len(ways) > 1:
            first += " (other ways with --full)"
        ways = [first]
    out += [_hang("  - ", how) for how in ways]
    return out


def diagnosis_renderables(
    diagnosis: Diagnosis,
    *,
    full: bool = False,
    width: int = 100,
    terminal: bool = False,
    more_hint: str | None = None,
) -> list[RenderableType]:
    """The answer as rich renderables, one per printed block of lines."""
    if full:
        return _full(diagnosis, width, terminal)
    out: list[RenderableType] = [_headline(diagnosis)]
    cause = _cause(diagnosis, with_id=False)
    if cause is not None:
        out.append(cause)
    if cause is None or diagnosis.source == "symptom":
        # the summary explains a verdict with no cause, and what a description cannot tell
        out.append(Text(diagnosis.summary))
    if diagnosis.ledger and diagnosis.source == "logs":
        out += _ledger_runs(diagnosis, width)
    shown = decisive_evidence(diagnosis)
    if shown:
        hidden = len(diagnosis.evidence) - len(shown)
        title = Text("Evidence", style=HEADING_STYLE)
        if hidden > 0:
            title.append(f" ({hidden} more line(s) with --full)", style="dim")
        out += [Text(""), title]
        for item in shown:
            out += _evidence_short(item)
    if diagnosis.next_steps:
        out += [Text(""), Text("Next steps", style=HEADING_STYLE)]
        out += list(_steps(list(diagnosis.next_steps[:SHORT_STEPS]), width, terminal, full=False))
    out += _send_next(diagnosis, short=True)  # right under the steps: it is the last of them
    if more_hint:
        out.append(Text(more_hint, style="dim"))
    return _wrapped(out)


def _full(diagnosis: Diagnosis, width: int, terminal: bool) -> list[RenderableType]:
    """Everything the core said, in the order of the short answer, then the rest."""
    out: list[RenderableType] = [_headline(diagnosis)]
    cause = _cause(diagnosis)
    if cause is not None:
        out.append(cause)
    out.append(Text(diagnosis.summary))
    if diagnosis.ledger and diagnosis.source == "logs":
        stages = Text("Stages: ")
        for number, row in enumerate(diagnosis.ledger):
            if number:
                stages.append(" > ")
            stages.append(f"{row.stage} {STATUS_WORD[row.status]}", style=STATUS_STYLE[row.status])
        out += [Text(""), stages, Text("        (ok, FAILED, - not reached, ? no evidence)")]
    if diagnosis.evidence:
        out += [Text(""), Text("Evidence:", style=HEADING_STYLE)]
        for item in diagnosis.evidence:
            where = f"{item.file}:{item.line}" if item.line else (item.file or "?")
            outcome = item.outcome or ""
            mark = {"failed": "FAILED", "ok": "ok", "reached": "started"}.get(outcome, "")
            head = Text(f"[{item.stage} {mark}] ", style=STATUS_STYLE.get(outcome, ""))
            head.append(where, style=LOCATION_STYLE)
            head.append(f"  {item.time or 'no time'}")
            if item.count > 1:
                head.append(f"  ({item.count} matching lines, first at {item.first_time})")
            out += [_hang("  ", head), _hang("      ", item.text)]
    if diagnosis.error_codes:
        out += [Text(""), Text("Error codes:", style=HEADING_STYLE)]
        for ref in diagnosis.error_codes:
            symbol = f" {ref.symbol}" if ref.symbol else ""
            count = f" ({ref.count}x)" if ref.count > 1 else ""
            out.append(_hang("  ", f"{ref.code}{symbol}{count}: {ref.meaning or 'unknown code'}"))
    if diagnosis.next_steps:
        out += [Text(""), Text("Next steps:", style=HEADING_STYLE)]
        out += list(_steps(list(diagnosis.next_steps), width, terminal, full=True))
    if diagnosis.alternatives:
        out += [Text(""), Text("Also considered:", style=HEADING_STYLE)]
        for alt in diagnosis.alternatives:
            cause = f" ({alt.cause})" if alt.cause else ""
            same = " (another cause at this stage)" if alt.stage == diagnosis.stage else ""
            out.append(
                _hang("  - ", f"{alt.stage}{cause}{same} ({alt.confidence:.2f}): {alt.why_not}")
            )
    send = _send_next(diagnosis)
    if send:
        out += [Text(""), *send]
    failed_updates = [u for u in diagnosis.updates if u.status == "failed"]
    if failed_updates:
        out += [Text(""), Text("Updates that stopped:", style=HEADING_STYLE)]
        for update in failed_updates:
            code = f" ({update.code})" if update.code else ""
            out.append(_hang("  ", f"{update.update}: stopped at {update.stopped_at}{code}"))
    if diagnosis.source == "logs":
        skipped = diagnosis.files.skipped
        line = f"Files: {diagnosis.files.read} read, {len(skipped)} skipped"
        if skipped:
            line += ": " + ", ".join(f"{s.name} ({s.reason})" for s in skipped)
        out += [Text(""), _hang("", line, 2)]
    return _wrapped(out)


def print_diagnosis(
    diagnosis: Diagnosis, out: Console, *, full: bool = False, more_hint: str | None = None
) -> None:
    out.print(
        Group(
            *diagnosis_renderables(
                diagnosis,
                full=full,
                width=out.width,
                terminal=out.is_terminal,
                more_hint=more_hint,
            )
        ),
        crop=False,  # a web address wider than the screen stays whole (see _link_line)
    )


def render_diagnosis(
    diagnosis: Diagnosis,
    *,
    full: bool = False,
    width: int | None = None,
    more_hint: str | None = None,
) -> str:
    """The answer as plain text, `width` columns wide (the terminal's by default)."""
    width = width or _width()
    parts = diagnosis_renderables(diagnosis, full=full, width=width, more_hint=more_hint)
    return to_plain(Group(*parts), width)


def render_read_report(report: ReadReport) -> str:
    out = []
    if report.files:
        name_width = min(48, max(len(f.path) for f in report.files))
        out.append(
            f"{'file':<{name_width}}  {'format':<12} {'entries':>8} {'errors':>6}  time range"
        )
        for f in report.files:
            span = f"{f.first or '-'} .. {f.last or '-'}"
            if f.time_zone == "local":
                span += " (local time)"
            elif f.time_zone == "inferred":
                span += " (zone from other logs)"
            out.append(
                f"{f.path:<{name_width}}  {f.format:<12} {f.entries:>8} {f.errors:>6}  {span}"
            )
            if f.rotated_into:
                out.append(f"{'':<{name_width}}  rotated; joins {f.rotated_into}")
            for note in f.notes:
                out.append(f"{'':<{name_width}}  note: {note}")
    else:
        out.append("No log file was read.")
    if report.skipped:
        out += ["", "Skipped:"]
        out += [f"  {s.name}: {s.reason}" for s in report.skipped]
    if report.notes:
        out += [""] + [f"note: {note}" for note in report.notes]
    return "\n".join(out)


def render_error(info: ErrorInfo) -> str:
    out = [f"{info.code}  ({info.decimal} signed, {info.unsigned} unsigned)"]
    if info.symbol:
        out.append(f"Symbol:   {info.symbol}")
    out.append(f"Family:   {info.family}")
    if info.stage:
        out.append(f"Stage:    {info.stage} ({api.knowledge_base().stage_title(info.stage)})")
    if info.meaning:
        out.append(_wrap(info.meaning, indent="          ", first="Meaning:  "))
    if info.next_step:
        out.append(_wrap(info.next_step, indent="          ", first="Next:     "))
    if info.source:
        out.append(_wrap(info.source, indent="          ", first="Source:   "))
    if not info.known:
        out.append("(not in our table: decoded from its family)")
    return "\n".join(out)


def render_stages() -> str:
    knowledge = api.knowledge_base()
    width = max(len(s) for s in STAGE_IDS)
    lines = []
    for number, stage in enumerate(STAGE_IDS, 1):
        info = knowledge.stages[stage]
        lines.append(f"{number:>2}. {stage:<{width}}  {info.title}: {info.what}")
    return "\n".join(_wrap(line, indent=" " * (width + 6), first="") for line in lines)


def render_steps(name: str) -> str:
    procedure = api.knowledge_base().procedure_for(name)
    out = [f"{procedure.title} (stage: {procedure.stage})", _wrap(f"source: {procedure.source}")]
    if procedure.note:
        out.append(_wrap(procedure.note))
    out.append("")
    for number, step in enumerate(procedure.steps, 1):
        out.append(_wrap(step.text, indent="    ", first=f"{number:>2}. "))
        if step.source:
            out.append(_wrap(f"source: {step.source}", indent="      ", first="    "))
    return "\n".join(out)


def render_step_choices() -> str:
    """What `sccm steps` accepts: each stage id, and each procedure id with its title."""
    knowledge = api.knowledge_base()
    width = max(len(key) for key in (*knowledge.stages, *knowledge.procedures))
    out = ["sccm steps STAGE shows the troubleshooting procedure for a stage. It accepts:", ""]
    out.append("Stages:")
    for stage in STAGE_IDS:
        out.append(_wrap(knowledge.stages[stage].title, " " * (width + 4), f"  {stage:<{width}}  "))
    out += ["", "Procedures (the same steps, by their own ids):"]
    for key, procedure in knowledge.procedures.items():
        out.append(_wrap(procedure.title, " " * (width + 4), f"  {key:<{width}}  "))
    return "\n".join(out)


def render_log(name: str) -> str:
    knowledge = api.knowledge_base()
    info = knowledge.log_by_name(name) or _close_log(name)
    if info is None:
        known = ", ".join(sorted(log.name for log in knowledge.logs))
        raise InputError(
            f"'{name}' is not a client log in our catalogue (site server logs such as "
            f"wsyncmgr.log are not); the catalogue has: {known}"
        )
    out = [info.name]
    if info.name.lower() != name.strip().lower():
        out[0] += f"   (you typed '{name.strip()}')"
    out.append(_wrap(info.records, first="  "))
    if info.stages:
        stages = ", ".join(f"{s} ({knowledge.stage_title(s)})" for s in info.stages)
        out.append(_wrap(f"stages: {stages}"))
    else:
        out.append("  stages: none of the software-update pipeline")
    if info.components:
        out.append(_wrap("component tags inside: " + ", ".join(info.components)))
    out.append(f"  where: {info.location}")
    if info.how_to_collect:
        out.append(_wrap(f"how to collect: {info.how_to_collect}"))
    if info.aliases:
        out.append(_wrap("also written as: " + ", ".join(info.aliases)))
    out.append(_wrap(f"source: {info.source}"))
    return "\n".join(out)


def _close_log(name: str):
    """A typo of a catalogue name (UpdatesDeployement.log), judged on base names only, so
    that unrelated logs that merely share `.log` or a few letters are not offered."""
    by_base = {}
    for log in api.knowledge_base().logs:
        for known in (log.name, *log.aliases):
            by_base.setdefault(_base(known), log)
    close = difflib.get_close_matches(_base(name), list(by_base), n=1, cutoff=0.85)
    return by_base[close[0]] if close else None


def _base(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return base.rsplit(".", 1)[0] if "." in base else base


def helper_script(name: str, *, vbs: bool = False) -> str:
    """The text of one of our helper scripts (knowledge/data/scripts)."""
    if name == "collect":
        if vbs:
            raise InputError("`sccm script collect` exists only in PowerShell; drop --vbs")
        file_name = "collect-logs.ps1"
    else:
        file_name = "clear-cache.vbs" if vbs else "clear-cache.ps1"
    return resources.files("knowledge").joinpath("data", "scripts", file_name).read_text("utf-8")


def clear_cache_script(*, vbs: bool) -> str:
    return helper_script("clear-cache", vbs=vbs)
