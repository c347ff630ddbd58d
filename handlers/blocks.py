"""Block Kit messages for the core's answers: diagnoses, error codes, stages, steps, help.

Built from slack_sdk's block classes (which check Slack's limits when serialised) and kept
inside those limits here: at most 50 blocks, 3000 characters of section text, 150 of a
header, 2000 of a button value. Text that comes from people or logs is escaped (& < >
only, as Slack asks), which also defuses `<!channel>` written into a log. Every message
carries a plain `text` fallback for notifications and screen readers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.downloads import neutralised
from knowledge.kb import kb
from knowledge.models import STAGE_IDS, Diagnosis, ErrorInfo

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_CONTEXT_TEXT = 2000
MAX_BUTTON_VALUE = 2000
MAX_FALLBACK = 1000
EVIDENCE_LINES = 5
EVIDENCE_TEXT = 300  # characters of one log line shown

FEEDBACK_RIGHT = "feedback_right"
FEEDBACK_WRONG = "feedback_wrong"

LEDGER_MARK = {"ok": "✓", "failed": "✗", "not_reached": "–", "no_evidence": "?"}
LEDGER_LEGEND = "✓ ok · ✗ failed · – not reached · ? no evidence"
UPLOAD_TYPES = ".zip, .log, .lo_ or .txt"

USAGE = (
    "`/sccm diagnose <symptom>` the likely failing stage from a description or error code\n"
    "`/sccm diagnose` (no text) opens a form to upload a logs zip (up to 10 MB)\n"
    "`/sccm error <code>` what an error code means (0x87D00692, 87d00692, -2016410990)\n"
    "`/sccm stages` the ten stages of the software-update pipeline\n"
    "`/sccm steps <stage>` the troubleshooting steps for a stage (e.g. `scan`)\n"
    "`/sccm help` this list"
)


@dataclass(frozen=True)
class Message:
    """What chat.postMessage, chat.update and response_url calls need."""

    text: str
    blocks: list[dict]

    def as_kwargs(self) -> dict:
        return {"text": self.text, "blocks": self.blocks}


# --- text helpers ---------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's own escaping (only &, < and >), with control and bidirectional characters
    neutralised (line breaks and tabs kept)."""
    text = neutralised(text, keep="\n\t")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, ending in … when cut, never inside an &entity;."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    cut = re.sub(r"&[a-z]{0,3}$", "", cut)  # a half-written &amp; &lt; &gt;
    return cut + "…"


def _code(text: str) -> str:
    """Text safe inside a ``` block: escaped, and unable to close the block early."""
    return escape(text).replace("```", "'''")


def _section(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(mrkdwn, MAX_SECTION)))


def _context(*mrkdwn: str) -> ContextBlock:
    return ContextBlock(
        elements=[MarkdownTextObject(text=clip(t, MAX_CONTEXT_TEXT)) for t in mrkdwn if t][:10]
    )


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=clip(text, MAX_HEADER), emoji=True))


def _packed_sections(lines: Iterable[str]) -> list[SectionBlock]:
    """Lines (already mrkdwn) packed into as few sections as the 3000-character limit allows."""
    sections: list[SectionBlock] = []
    current = ""
    for line in lines:
        line = clip(line, MAX_SECTION)
        if current and len(current) + 1 + len(line) > MAX_SECTION:
            sections.append(_section(current))
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        sections.append(_section(current))
    return sections


def _message(text: str, blocks: Sequence[Block]) -> Message:
    """`text` is the plain fallback: escaped here, since Slack parses it for mentions too."""
    blocks = list(blocks)
    if len(blocks) > MAX_BLOCKS:
        keep = [b for b in blocks if isinstance(b, ActionsBlock)][:1]
        blocks = blocks[: MAX_BLOCKS - 1 - len(keep)]
        blocks.append(_context("_Shortened: Slack shows at most 50 blocks in a message._"))
        blocks += keep
    return Message(clip(escape(text), MAX_FALLBACK), [block.to_dict() for block in blocks])


def notice(text: str) -> Message:
    """A one-paragraph message (problems, queue notes, thanks); `text` is plain, not mrkdwn."""
    return _message(text, [_section(escape(text))])


# --- diagnosis ------------------------------------------------------------------------


def ledger_line(diagnosis: Diagnosis) -> str:
    return " · ".join(f"{row.stage} {LEDGER_MARK[row.status]}" for row in diagnosis.ledger)


def _headline(diagnosis: Diagnosis) -> str:
    stage = f"{diagnosis.stage_title or diagnosis.stage} ({diagnosis.stage})"
    if diagnosis.verdict == "failure":
        if diagnosis.source == "symptom":
            return f":mag: Likely failing stage: {stage}"
        return f":x: Failure at {stage}"
    if diagnosis.verdict == "healthy":
        return ":white_check_mark: Healthy: the logs show updates flowing"
    if diagnosis.stage:
        return f":grey_question: Inconclusive, leaning to {stage}"
    return ":grey_question: Inconclusive: not enough evidence to name a stage"


def _evidence_block(diagnosis: Diagnosis) -> SectionBlock | None:
    if not diagnosis.evidence:
        return None
    rows = []
    for item in diagnosis.evidence[:EVIDENCE_LINES]:
        where = f"{item.file}:{item.line}" if item.line else (item.file or "?")
        repeat = f" ({item.count}x)" if item.count > 1 else ""
        rows.append(f"{where}  {item.time or 'no time'}{repeat}")
        rows.append("  " + clip(item.text.strip(), EVIDENCE_TEXT))
    more = len(diagnosis.evidence) - EVIDENCE_LINES
    tail = f"\n_and {more} more line(s)_" if more > 0 else ""
    body = _code("\n".join(rows))
    budget = MAX_SECTION - len("*Evidence*\n``````") - len(tail)
    body = clip(body, budget)
    return _section(f"*Evidence*\n```{body}```{tail}")


def _codes_block(diagnosis: Diagnosis) -> SectionBlock | None:
    if not diagnosis.error_codes:
        return None
    lines = []
    for ref in diagnosis.error_codes[:5]:
        symbol = f" {escape(ref.symbol)}" if ref.symbol else ""
        count = f" ({ref.count}x)" if ref.count > 1 else ""
        lines.append(
            f"`{escape(ref.code)}`{symbol}{count}: {escape(ref.meaning or 'unknown code')}"
        )
    return _section("*Error codes*\n" + "\n".join(lines))


def _steps_block(diagnosis: Diagnosis) -> SectionBlock | None:
    if not diagnosis.next_steps:
        return None
    lines = [
        f"{number}. {escape(step.text)}\n      _{escape(step.source)}_"
        for number, step in enumerate(diagnosis.next_steps, 1)
    ]
    return _section("*Next steps*\n" + "\n".join(lines))


def _upload_next_block(diagnosis: Diagnosis) -> SectionBlock | None:
    lines = []
    if diagnosis.missing_logs:
        lines.append("*Upload next:* " + ", ".join(escape(n) for n in diagnosis.missing_logs))
        lines += [f"• {escape(how)}" for how in diagnosis.how_to_collect]
    elif diagnosis.source == "symptom":
        lines.append(
            "*To confirm:* collect the client's logs with our script (`sccm script collect`, "
            "run elevated on the client; or the console's Client Diagnostics > Collect client "
            "logs) and upload the zip in a thread here (or run `/sccm diagnose` with no text)."
        )
    return _section("\n".join(lines)) if lines else None


def _files_line(diagnosis: Diagnosis, upload_names: Sequence[str]) -> str:
    parts = []
    if upload_names:
        parts.append("from " + ", ".join(escape(n) for n in upload_names))
    if diagnosis.source == "logs":
        parts.append(f"{diagnosis.files.read} log file(s) read")
        skipped = diagnosis.files.skipped
        if skipped:
            shown = ", ".join(f"{escape(s.name)} ({escape(s.reason)})" for s in skipped[:3])
            more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
            parts.append(f"{len(skipped)} skipped: {shown}{more}")
    return " · ".join(parts)


def feedback_value(diagnosis: Diagnosis, upload_names: Sequence[str]) -> str:
    """What a feedback press must record, as compact JSON within the button's 2000 chars."""
    names = list(upload_names)
    while True:
        value = json.dumps(
            {
                "v": diagnosis.verdict,
                "s": diagnosis.stage,
                "c": diagnosis.cause,
                "src": diagnosis.source,
                "f": names,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )
        if len(value) <= MAX_BUTTON_VALUE or not names:
            return value
        names = [n[:100] for n in names[:-1]]


def _feedback_buttons(value: str) -> ActionsBlock:
    return ActionsBlock(
        block_id="feedback",
        elements=[
            ButtonElement(
                text=PlainTextObject(text=":thumbsup: Right", emoji=True),
                action_id=FEEDBACK_RIGHT,
                value=value,
                style="primary",
            ),
            ButtonElement(
                text=PlainTextObject(text=":thumbsdown: Wrong", emoji=True),
                action_id=FEEDBACK_WRONG,
                value=value,
            ),
        ],
    )


def diagnosis_message(diagnosis: Diagnosis, upload_names: Sequence[str] = ()) -> Message:
    """The answer to an upload or a symptom: verdict and stage first, buttons last."""
    blocks: list[Block] = [_header(_headline(diagnosis))]
    lines = [escape(diagnosis.summary)]
    facts = []
    if diagnosis.cause:
        facts.append(
            f"*Cause:* {escape(diagnosis.cause_title or diagnosis.cause)} "
            f"(`{escape(diagnosis.cause)}`)"
        )
    if diagnosis.verdict != "inconclusive" or diagnosis.stage:
        facts.append(f"*Confidence:* {round(diagnosis.confidence * 100)}%")
    if facts:
        lines.append(" · ".join(facts))
    blocks.append(_section("\n".join(lines)))
    if diagnosis.ledger and diagnosis.source == "logs":
        blocks.append(_context(f"*Stages:* {ledger_line(diagnosis)}", LEDGER_LEGEND))
    for block in (
        _evidence_block(diagnosis),
        _codes_block(diagnosis),
        _steps_block(diagnosis),
        _upload_next_block(diagnosis),
    ):
        if block is not None:
            blocks.append(block)
    if diagnosis.alternatives:
        considered = ", ".join(
            f"{alt.stage} ({round(alt.confidence * 100)}%)" for alt in diagnosis.alternatives[:4]
        )
        blocks.append(_context(f"Also considered: {considered}"))
    files = _files_line(diagnosis, upload_names)
    if files:
        blocks.append(_context(files))
    blocks.append(_feedback_buttons(feedback_value(diagnosis, upload_names)))
    return _message(_fallback(diagnosis), blocks)


def _fallback(diagnosis: Diagnosis) -> str:
    head = re.sub(r"^:[a-z_]+: ", "", _headline(diagnosis))
    cause = f" Cause: {diagnosis.cause_title or diagnosis.cause}." if diagnosis.cause else ""
    return f"{head}.{cause} {diagnosis.summary}"


# --- knowledge answers ----------------------------------------------------------------


def error_message(info: ErrorInfo) -> Message:
    title = f"{info.code} {info.symbol}" if info.symbol else info.code
    blocks: list[Block] = [_header(title)]
    facts = [f"*Family:* {escape(info.family)}", f"*Decimal:* {info.decimal} / {info.unsigned}"]
    if info.stage:
        facts.insert(0, f"*Stage:* {escape(kb().stage_title(info.stage) or '')} (`{info.stage}`)")
    blocks.append(_section("\n".join(facts)))
    if info.meaning:
        blocks.append(_section(f"*Meaning:* {escape(info.meaning)}"))
    if info.next_step:
        blocks.append(_section(f"*Next step:* {escape(info.next_step)}"))
    notes = []
    if info.routine:
        notes.append("Seen on healthy clients too; not a failure by itself.")
    if not info.known:
        notes.append("Not in our table: decoded from its family.")
    if info.source:
        notes.append(f"Source: {escape(info.source)}")
    if notes:
        blocks.append(_context(*notes))
    text = f"{title}: {info.meaning or info.family}"
    return _message(text, blocks)


def stages_message() -> Message:
    knowledge = kb()
    lines = [
        f"{number}. *{stage}* {escape(knowledge.stages[stage].title)}: "
        f"{escape(knowledge.stages[stage].what)}"
        for number, stage in enumerate(STAGE_IDS, 1)
    ]
    blocks: list[Block] = [_header("The software-update pipeline, stage by stage")]
    blocks += _packed_sections(lines)
    blocks.append(_context("`/sccm steps <stage>` shows what to do when a stage fails."))
    return _message("The ten stages: " + ", ".join(STAGE_IDS), blocks)


def steps_message(name: str) -> Message:
    """The troubleshooting procedure of a stage (or a procedure id). Raises InputError."""
    procedure = kb().procedure_for(name)
    blocks: list[Block] = [
        _header(procedure.title),
        _context(f"Stage `{procedure.stage}` · source: {escape(procedure.source)}"),
    ]
    if procedure.note:
        blocks.append(_section(escape(procedure.note)))
    lines = []
    for number, step in enumerate(procedure.steps, 1):
        source = f"\n      _{escape(step.source)}_" if step.source else ""
        lines.append(f"{number}. {escape(step.text)}{source}")
    blocks += _packed_sections(lines)
    return _message(f"{procedure.title}: {len(procedure.steps)} steps", blocks)


def help_message() -> Message:
    blocks: list[Block] = [
        _header("SCCM triage"),
        _section(USAGE),
        _section(
            f"*In a support thread:* upload the client's logs ({UPLOAD_TYPES}) in a channel "
            "I am in, or use the *Triage logs* message shortcut on a message with a file. "
            "I reply in the thread with the failing stage, the evidence and the next step."
        ),
        _context("Slash commands cannot be used inside threads; uploads and the shortcut can."),
    ]
    return _message("SCCM triage: /sccm diagnose, error, stages, steps, help", blocks)
