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
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from bot.downloads import neutralised
from bot.fleet_text import group_title, headline
from bot.text import decisive_evidence, short_source, short_time
from knowledge import api
from knowledge.models import STAGE_IDS, Alternative, Diagnosis, ErrorInfo, Evidence

if TYPE_CHECKING:
    from knowledge.models import FleetGroup, FleetReport

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_CONTEXT_TEXT = 2000
MAX_BUTTON_VALUE = 2000
MAX_FALLBACK = 1000
EVIDENCE_LINES = 3  # the decisive lines of the short answer; the rest under Show everything
EVIDENCE_TEXT = 300  # characters of one log line shown

FEEDBACK_RIGHT = "feedback_right"
FEEDBACK_WRONG = "feedback_wrong"
SHOW_EVERYTHING = "show_everything"
UNMASKED_IN_DM = "unmasked_in_dm"
FLEET_MASKED_NOTE = (
    "Machine, host, user and network names are masked (host-1, user-1, ip-1 …) in this "
    "channel; run `sccm fleet` on the logs for the real names."
)
MASKED_NOTE = (
    "Host, user and network names are masked (host-1, user-1, ip-1 …); the person who "
    "uploaded the logs can get the unmasked answer in a DM."
)
PICK_MACHINE = "fleet_machine"  # the menu of machines under a fleet's summary
MAX_OPTIONS = 100  # Slack's limit for a static menu
MAX_OPTION_TEXT = 75
NAMES_SHOWN = 40  # machine names listed in one group's line; the menu has them all
SHORT_STEPS = 3
SHORT_CODES = 3

LEDGER_MARK = {"ok": "✓", "failed": "✗", "not_reached": "–", "no_evidence": "?"}
LEDGER_LEGEND = "✓ ok · ✗ failed · – not reached · ? no evidence"
UPLOAD_TYPES = ".zip, .log, .lo_ or .txt"

USAGE = (
    "`/sccm diagnose <symptom>` the likely failing stage from a description or error code\n"
    "`/sccm diagnose` (no text) opens a form to upload a logs zip (up to 10 MB)\n"
    "`/sccm error <code>` what an error code means (0x87D00692, 87d00692, -2016410990)\n"
    "`/sccm stages` the ten stages of the software-update pipeline\n"
    "`/sccm steps <stage>` the troubleshooting steps for a stage (e.g. `scan`)\n"
    "`/sccm auto on` / `off` read every logs upload in this channel, or only when asked\n"
    "`/sccm help` this list"
)


@dataclass(frozen=True)
class Message:
    """What chat.postMessage, chat.update and response_url calls need."""

    text: str
    blocks: list[dict]
    # The diagnosis an answer shows (as shown: masked where it was masked), so that its
    # journey picture can follow it into the thread (handlers/journey.py); never posted.
    diagnosis: Diagnosis | None = field(default=None, compare=False, repr=False)

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


def ready_notice(user: str, what: str, answer: Message) -> str:
    """The new message that tells someone who waited in the queue that the answer is in
    (mrkdwn: the mention notifies them; `answer.text` is already escaped)."""
    return f"<@{user}> the answer for {escape(what)} is ready above: {clip(answer.text, 300)}"


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


OUTCOME_MARK = {"failed": "✗ failed", "ok": "✓ ok", "reached": "started", "info": "info"}


def _split_long(line: str, limit: int) -> list[str]:
    """A line longer than `limit` as pieces that each fit, parted at spaces where it can:
    a long text continues in the next piece instead of being cut."""
    pieces = []
    while len(line) > limit:
        cut = line.rfind(" ", limit // 2, limit)
        cut = cut if cut > 0 else limit
        while re.search(r"&[a-z]{0,3}$", line[:cut]):  # never inside &amp; &lt; &gt;
            cut -= 1
        pieces.append(line[:cut])
        line = line[cut:].lstrip(" ")
    return [*pieces, line] if line else pieces


def _continued_sections(title: str, lines: Iterable[str], code: bool = False) -> list[Block]:
    """`title` and its lines in as many sections as the 3000-character limit needs; each
    later section says it continues. In a ``` block each section has its own fence."""
    fence = "```" if code else ""
    sections: list[Block] = []
    head = f"*{title}*\n"
    current: list[str] = []
    size = 0

    def flush() -> None:
        body = "\n".join(current)
        sections.append(SectionBlock(text=MarkdownTextObject(text=f"{head}{fence}{body}{fence}")))

    room = MAX_SECTION - len(f"*{title} (continued)*\n") - 2 * len(fence)
    for line in lines:
        for piece in _split_long(line, room):
            if current and size + 1 + len(piece) > room:
                flush()
                head, current, size = f"*{title} (continued)*\n", [], 0
            current.append(piece)
            size += len(piece) + (1 if size else 0)
    if current:
        flush()
    return sections


def _evidence_lines(items: Sequence[Evidence], *, whole: bool = False) -> list[str]:
    """Each line keeps its stage and outcome, so a success never reads as the failure."""
    rows = []
    for item in items:
        where = f"{item.file}:{item.line}" if item.line else (item.file or "?")
        tag = f"[{item.stage or '?'} {OUTCOME_MARK.get(item.outcome or '', '')}]".replace(" ]", "]")
        repeat = f" ({item.count}x)" if item.count > 1 else ""
        rows.append(f"{tag} {where}  {short_time(item.time)}{repeat}")
        shown = item.text.strip()
        rows.append("  " + (shown if whole else clip(shown, EVIDENCE_TEXT)))
    return rows


def _evidence_blocks(diagnosis: Diagnosis, *, full: bool) -> list[Block]:
    if not diagnosis.evidence:
        return []
    items = diagnosis.evidence if full else decisive_evidence(diagnosis, EVIDENCE_LINES)
    blocks = _continued_sections(
        "Evidence", [_code(r) for r in _evidence_lines(items, whole=full)], code=True
    )
    more = len(diagnosis.evidence) - len(items)
    if more > 0:
        blocks.append(_context(f"_{more} more line(s) under *Show everything*_"))
    return blocks


def _codes_blocks(diagnosis: Diagnosis, *, full: bool) -> list[Block]:
    refs = diagnosis.error_codes if full else diagnosis.error_codes[:SHORT_CODES]
    lines = []
    for ref in refs:
        symbol = f" {escape(ref.symbol)}" if ref.symbol else ""
        count = f" ({ref.count}x)" if ref.count > 1 else ""
        lines.append(
            f"`{escape(ref.code)}`{symbol}{count}: {escape(ref.meaning or 'unknown code')}"
        )
    return _continued_sections("Error codes", lines) if lines else []


def source_link(source: str) -> str:
    """A step's source as one short mrkdwn link (or its first words when it has no address)."""
    label, url = short_source(source)
    if not url:
        return f"_{escape(label)}_"
    host, _, rest = label.partition("/")
    page = rest.rstrip("/").rsplit("/", 1)[-1]
    shown = f"{host} › {page}" if page else host
    return f"<{escape(url)}|{escape(shown).replace('|', '¦')}>"


def _steps_blocks(diagnosis: Diagnosis, *, full: bool) -> list[Block]:
    steps = diagnosis.next_steps if full else diagnosis.next_steps[:SHORT_STEPS]
    lines = []
    for number, step in enumerate(steps, 1):
        lines.append(f"{number}. {escape(step.text)}")
        if full:
            lines.append(f"      _{escape(step.source)}_ ({source_link(step.source)})")
        else:
            lines.append(f"      {source_link(step.source)}")
    blocks = _continued_sections("Next steps", lines) if lines else []
    if not full and len(diagnosis.next_steps) > len(steps):
        more = len(diagnosis.next_steps) - len(steps)
        blocks.append(_context(f"_{more} more step(s) under *Show everything*_"))
    return blocks


def other_stages(diagnosis: Diagnosis) -> list[Alternative]:
    """Alternatives that name another stage: the chosen stage is never offered as its own
    alternative (the core may list another cause at the same stage; that belongs to the
    full answer, said as such)."""
    return [alt for alt in diagnosis.alternatives if alt.stage != diagnosis.stage]


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


def pressed_value(action: dict) -> dict:
    """The JSON object a button of ours carries in its value ({} for anything else)."""
    try:
        value = json.loads(action.get("value") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


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


def diagnosis_message(
    diagnosis: Diagnosis,
    upload_names: Sequence[str] = (),
    answer_key: str | None = None,
    symptom: str | None = None,
    *,
    masked: bool = False,
    unmasked_key: str | None = None,
) -> Message:
    """The short answer to an upload or a symptom, in the CLI's order: verdict and cause,
    the decisive evidence, three next steps with a link each, what to send next; then the
    buttons. `answer_key` (see bot/answers.py) adds "Show everything"; `symptom`, the text
    a symptom answer came from, lets that button answer even once the key is forgotten.
    `masked` says the names in it were masked; `unmasked_key`, the kept unmasked answer,
    adds the button that sends it to the uploader in a DM."""
    blocks: list[Block] = [_header(_headline(diagnosis))]
    lines = []
    facts = []
    if diagnosis.cause:
        facts.append(f"*Cause:* {escape(diagnosis.cause_title or diagnosis.cause)}")
    if diagnosis.verdict != "inconclusive" or diagnosis.stage:
        facts.append(f"*Confidence:* {round(diagnosis.confidence * 100)}%")
    if facts:
        lines.append(" · ".join(facts))
    if not diagnosis.cause or diagnosis.source == "symptom":
        lines.append(escape(diagnosis.summary))
    blocks += _plain_sections(lines)
    if diagnosis.ledger and diagnosis.source == "logs":
        blocks.append(_context(f"*Stages:* {ledger_line(diagnosis)}", LEDGER_LEGEND))
    blocks += _evidence_blocks(diagnosis, full=False)
    blocks += _steps_blocks(diagnosis, full=False)
    upload_next = _upload_next_block(diagnosis)
    if upload_next is not None:
        blocks.append(upload_next)
    considered = other_stages(diagnosis)
    if considered:
        shown = ", ".join(f"{alt.stage} ({round(alt.confidence * 100)}%)" for alt in considered[:4])
        blocks.append(_context(f"Also considered: {shown}"))
    files = _files_line(diagnosis, upload_names)
    if files:
        blocks.append(_context(files))
    if masked:
        blocks.append(_context(MASKED_NOTE))
    value = feedback_value(diagnosis, upload_names)
    buttons = _answer_buttons(value, answer_key, symptom)
    if unmasked_key:
        buttons.elements.append(
            ButtonElement(
                text=PlainTextObject(text="Unmasked answer by DM", emoji=True),
                action_id=UNMASKED_IN_DM,
                value=json.dumps({"k": unmasked_key}, separators=(",", ":")),
            )
        )
    blocks.append(buttons)
    return replace(_message(_fallback(diagnosis), blocks), diagnosis=diagnosis)


def _plain_sections(lines: Sequence[str]) -> list[Block]:
    """Untitled text in sections of at most 3000 characters, continued rather than cut."""
    pieces = [p for line in lines for p in _split_long(line, MAX_SECTION)]
    return list(_packed_sections(pieces))


def show_everything_value(answer_key: str, symptom: str | None = None) -> str:
    """The key of the kept answer; a symptom also carries its text (cut to fit the button),
    so a press can still answer after a restart."""
    text = symptom or ""
    while True:
        value = {"k": answer_key, "sym": text} if text else {"k": answer_key}
        packed = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        if len(packed) <= MAX_BUTTON_VALUE:
            return packed
        text = text[: len(text) * 3 // 4]  # quotes and backslashes grow when escaped


def _answer_buttons(value: str, answer_key: str | None, symptom: str | None) -> ActionsBlock:
    buttons = _feedback_buttons(value)
    if answer_key:
        buttons.elements.append(
            ButtonElement(
                text=PlainTextObject(text="Show everything", emoji=True),
                action_id=SHOW_EVERYTHING,
                value=show_everything_value(answer_key, symptom),
            )
        )
    return buttons


def full_answer_messages(diagnosis: Diagnosis, upload_names: Sequence[str] = ()) -> list[Message]:
    """Everything the core said, as many messages as Slack's 50-block limit needs; long
    sections continue in the next block, nothing is cut."""
    blocks: list[Block] = [_header("Everything: " + _headline(diagnosis))]
    lines = []
    if diagnosis.cause:
        lines.append(
            f"*Cause:* {escape(diagnosis.cause_title or diagnosis.cause)} "
            f"(`{escape(diagnosis.cause)}`) · *Confidence:* {round(diagnosis.confidence * 100)}%"
        )
    lines.append(escape(diagnosis.summary))
    blocks += _plain_sections(lines)
    if diagnosis.ledger and diagnosis.source == "logs":
        blocks.append(_context(f"*Stages:* {ledger_line(diagnosis)}", LEDGER_LEGEND))
    blocks += _evidence_blocks(diagnosis, full=True)
    blocks += _codes_blocks(diagnosis, full=True)
    blocks += _steps_blocks(diagnosis, full=True)
    if diagnosis.alternatives:
        alternatives = []
        for alt in diagnosis.alternatives:
            cause = f" `{escape(alt.cause)}`" if alt.cause else ""
            if alt.stage == diagnosis.stage:
                what = f"another cause at this stage{cause}"
            else:
                what = f"*{alt.stage}*{cause}"
            alternatives.append(f"• {what} ({round(alt.confidence * 100)}%): {escape(alt.why_not)}")
        blocks += _continued_sections("Also considered", alternatives)
    if diagnosis.missing_logs:
        send = [", ".join(escape(n) for n in diagnosis.missing_logs)]
        send += [f"• {escape(how)}" for how in diagnosis.how_to_collect]
        blocks += _continued_sections("Upload next", send)
    stopped = [u for u in diagnosis.updates if u.status == "failed"]
    if stopped:
        blocks += _continued_sections(
            "Updates that stopped",
            [
                f"{escape(u.update)}: stopped at {u.stopped_at}"
                + (f" (`{escape(u.code)}`)" if u.code else "")
                for u in stopped
            ],
        )
    if diagnosis.source == "logs":
        files = [f"{diagnosis.files.read} log file(s) read"]
        files += [
            f"• skipped {escape(s.name)} ({escape(s.reason)})" for s in diagnosis.files.skipped
        ]
        if upload_names:
            files.insert(0, "from " + ", ".join(escape(n) for n in upload_names))
        blocks += _continued_sections("Files", files)
    fallback = "Everything: " + _fallback(diagnosis)
    per_message = MAX_BLOCKS
    return [
        Message(
            clip(escape(fallback), MAX_FALLBACK), [b.to_dict() for b in blocks[i : i + per_message]]
        )
        for i in range(0, len(blocks), per_message)
    ]


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
        title = api.knowledge_base().stage_title(info.stage) or ""
        facts.insert(0, f"*Stage:* {escape(title)} (`{info.stage}`)")
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
    knowledge = api.knowledge_base()
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
    procedure = api.knowledge_base().procedure_for(name)
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
            f"*In a support thread:* upload the client's logs ({UPLOAD_TYPES}) and mention me "
            "in the same message, or use the *Triage logs* message shortcut on a message "
            "with a file. In channels where `/sccm auto on` was said, and in direct messages, "
            "I read every upload. I reply in the thread with the failing stage, the evidence "
            "and the next step."
        ),
        _context("Slash commands cannot be used inside threads; uploads and the shortcut can."),
    ]
    return _message("SCCM triage: /sccm diagnose, error, stages, steps, help", blocks)


# --- a fleet: several machines in one upload ---------------------------------------------


def _group_lines(group: FleetGroup) -> list[str]:
    title = f"*{escape(group_title(group))}* · {group.count} machine{'s' * (group.count != 1)}"
    lines = [title]
    if group.cause_title or group.cause:
        lines.append(f"Cause: {escape(group.cause_title or group.cause or '')}")
    names = group.machines[:NAMES_SHOWN]
    more = (
        f" and {len(group.machines) - len(names)} more" if len(group.machines) > len(names) else ""
    )
    lines.append(f"Machines: {escape(', '.join(names))}{more}")
    if group.next_step and group.verdict != "healthy":
        step = clip(escape(group.next_step.text), 600)
        lines.append(f"Next step: {step} ({source_link(group.next_step.source)})")
    return lines


def _option(name: str, verdict: str, key: str) -> Option:
    label = clip(f"{name} · {verdict}", MAX_OPTION_TEXT)
    return Option(text=PlainTextObject(text=label), value=key)


def fleet_message(
    report: FleetReport,
    keys: dict[str, str],
    upload_names: Sequence[str] = (),
    *,
    masked: bool = False,
) -> Message:
    """The summary of a fleet: counts, the groups, what was not read, and the menu of
    machines (`keys`: machine name -> kept answer key; failing machines listed first)."""
    blocks: list[Block] = [_header(f"{headline(report)}")]
    group_blocks: list[Block] = []
    for group in report.groups:
        group_blocks += _packed_sections(_group_lines(group))
    room = MAX_BLOCKS - 5  # header, skipped, files, menu, and a note when cut
    if len(group_blocks) > room:
        cut = len(group_blocks) - room + 1
        group_blocks = group_blocks[: room - 1]
        group_blocks.append(_context(f"_{cut} more groups: run `sccm fleet` on the upload._"))
    blocks += group_blocks
    if report.skipped:
        listed = "; ".join(f"{item.name}: {item.reason}" for item in report.skipped[:5])
        more = f" and {len(report.skipped) - 5} more" if len(report.skipped) > 5 else ""
        blocks.append(_context(escape(f"Not read: {listed}{more}")))
    if upload_names:
        blocks.append(_context(escape("Read: " + ", ".join(upload_names))))
    order = {"failure": 0, "inconclusive": 1, "healthy": 2}
    rows = sorted(report.machines, key=lambda row: order.get(row.verdict, 3))
    options = [
        _option(row.machine, row.verdict, keys[row.machine]) for row in rows if row.machine in keys
    ]
    if options:
        blocks.append(
            ActionsBlock(
                block_id="fleet_machines",
                elements=[
                    StaticSelectElement(
                        placeholder=PlainTextObject(text="Show one machine's diagnosis"),
                        action_id=PICK_MACHINE,
                        options=options[:MAX_OPTIONS],
                    )
                ],
            )
        )
        if len(options) > MAX_OPTIONS:
            blocks.append(
                _context(f"The menu lists the first {MAX_OPTIONS} machines, failing ones first.")
            )
    fallback = headline(report)
    if report.groups and report.groups[0].verdict == "failure":
        top = report.groups[0]
        fallback += f"; most at {top.stage_title or top.stage}: {top.cause_title or top.cause}"
    if masked:
        blocks.append(_context(FLEET_MASKED_NOTE))
    return _message(fallback, blocks)
