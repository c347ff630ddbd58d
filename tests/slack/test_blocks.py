"""Block Kit rendering stays inside Slack's limits, escapes what people and logs wrote,
and always carries fallback text."""

from __future__ import annotations

import json

import pytest

from handlers import blocks
from knowledge.errors import InputError
from knowledge.kb import kb
from knowledge.models import (
    STAGE_IDS,
    Alternative,
    CodeRef,
    Diagnosis,
    ErrorInfo,
    Evidence,
    FilesSummary,
    LedgerRow,
    NextStep,
    SkippedFile,
)

INJECTED = "<!channel> <@U0BOSS> & <https://evil.example|click>"


def oversized_diagnosis() -> Diagnosis:
    """Every list and string far beyond what one Slack message can show."""
    return Diagnosis(
        verdict="failure",
        stage="download",
        stage_title="Content download",
        cause="download.dp_unreachable",
        cause_title="x" * 400 + INJECTED,
        confidence=0.87,
        summary=("The DP refused the client. " + INJECTED + " ") * 200,
        next_steps=[
            NextStep(text=f"step {n} " + "y" * 900 + INJECTED, source="z" * 300) for n in range(60)
        ],
        evidence=[
            Evidence(
                file="Logs/DataTransferService.log",
                line=n,
                time="2024-03-05T13:00:02.000Z",
                text="```" + INJECTED + " " + "w" * 2000,
                count=3,
            )
            for n in range(120)
        ],
        error_codes=[CodeRef(code=f"0x8019019{n % 10}", meaning=INJECTED * 40) for n in range(30)],
        ledger=[LedgerRow(stage=stage, status="ok") for stage in STAGE_IDS],
        alternatives=[Alternative(stage="locate", confidence=0.2, why_not="w") for _ in range(30)],
        missing_logs=[f"Log{n}.log" for n in range(200)],
        how_to_collect=["collect " + "v" * 500 for _ in range(40)],
        files=FilesSummary(
            read=400, skipped=[SkippedFile(name=f"{n}.bin", reason="not a log") for n in range(90)]
        ),
    )


def section_texts(message: blocks.Message) -> list[str]:
    return [b["text"]["text"] for b in message.blocks if b["type"] == "section"]


def assert_within_limits(message: blocks.Message) -> None:
    assert message.text.strip(), "fallback text is always set"
    assert len(message.text) <= blocks.MAX_FALLBACK
    assert 1 <= len(message.blocks) <= blocks.MAX_BLOCKS
    for block in message.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= blocks.MAX_SECTION
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= blocks.MAX_HEADER
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
        if block["type"] == "actions":
            for element in block["elements"]:
                assert len(element["value"]) <= blocks.MAX_BUTTON_VALUE


def test_an_oversized_diagnosis_fits_in_one_message():
    message = blocks.diagnosis_message(oversized_diagnosis(), ["logs.zip"] * 300)
    assert_within_limits(message)
    assert message.blocks[0]["type"] == "header"
    assert message.blocks[-1]["type"] == "actions", "the feedback buttons survive trimming"


def test_text_from_people_and_logs_is_escaped():
    message = blocks.diagnosis_message(oversized_diagnosis(), [INJECTED])
    shown = [b for b in message.blocks if b["type"] != "actions"]  # button values are data
    rendered = json.dumps(shown) + message.text
    assert "<!channel>" not in rendered and "<@U0BOSS>" not in rendered
    assert "&lt;!channel&gt;" in rendered and "&amp;" in rendered
    evidence = next(t for t in section_texts(message) if t.startswith("*Evidence*"))
    assert evidence.count("```") == 2, "a ``` in a log line cannot close the code block"


def test_cut_text_never_ends_inside_an_entity():
    for limit in range(2, 30):
        clipped = blocks.clip(blocks.escape("<" * 40), limit)
        assert len(clipped) <= limit
        assert clipped.endswith("…")
        assert clipped[:-1].replace("&lt;", "") == ""


def test_the_ledger_is_one_line_in_pipeline_order():
    diagnosis = Diagnosis(
        verdict="failure",
        stage="scan",
        summary="s",
        ledger=[
            LedgerRow(stage="client", status="ok"),
            LedgerRow(stage="policy", status="ok"),
            LedgerRow(stage="scan", status="failed"),
            LedgerRow(stage="evaluate", status="not_reached"),
            LedgerRow(stage="report", status="no_evidence"),
        ],
    )
    assert blocks.ledger_line(diagnosis) == "client ✓ · policy ✓ · scan ✗ · evaluate – · report ?"
    message = blocks.diagnosis_message(diagnosis)
    assert "scan ✗" in json.dumps(message.blocks, ensure_ascii=False)


def test_feedback_value_keeps_what_is_judged_within_2000_characters():
    diagnosis = oversized_diagnosis()
    value = json.loads(blocks.feedback_value(diagnosis, [f"logs-{n}.zip" * 20 for n in range(50)]))
    assert (value["v"], value["s"], value["c"]) == ("failure", "download", diagnosis.cause)
    assert len(json.dumps(value, separators=(",", ":"))) <= blocks.MAX_BUTTON_VALUE


def test_a_symptom_diagnosis_asks_for_the_logs():
    diagnosis = Diagnosis(verdict="failure", stage="scan", summary="s", source="symptom")
    text = "\n".join(section_texts(blocks.diagnosis_message(diagnosis)))
    assert "upload" in text.lower()


def test_healthy_and_inconclusive_headlines_name_no_failure():
    for verdict in ("healthy", "inconclusive"):
        message = blocks.diagnosis_message(Diagnosis(verdict=verdict, summary="s"))
        assert "Failure" not in message.blocks[0]["text"]["text"]
        assert_within_limits(message)


def test_error_info_renders_within_limits():
    info = ErrorInfo(
        code="0x80244010",
        known=True,
        symbol="WU_E_PT_EXCEEDED_MAX_SERVER_TRIPS" * 10,
        decimal=-2145107952,
        unsigned=2149859344,
        stage="scan",
        meaning=INJECTED * 200,
        next_step="n",
        family="f",
        source="s",
    )
    message = blocks.error_message(info)
    assert_within_limits(message)
    assert "<!channel>" not in json.dumps(message.blocks)


@pytest.mark.parametrize("stage", STAGE_IDS)
def test_every_stage_has_steps_that_render_within_limits(stage):
    message = blocks.steps_message(stage)
    assert_within_limits(message)
    procedure = kb().procedures[kb().stages[stage].procedure]
    assert message.blocks[0]["text"]["text"] == procedure.title[: blocks.MAX_HEADER]


def test_unknown_steps_say_which_stages_exist():
    with pytest.raises(InputError, match="scan"):
        blocks.steps_message("nowhere")


def test_stages_and_help_render_within_limits():
    for message in (blocks.stages_message(), blocks.help_message(), blocks.notice(INJECTED)):
        assert_within_limits(message)


# --- issue 16: short answer, full answer --------------------------------------------------


def _all_sections(messages) -> str:
    return "\n".join(t for m in messages for t in section_texts(m))


def test_the_full_answer_continues_long_sections_instead_of_cutting_them():
    diagnosis = oversized_diagnosis()
    messages = blocks.full_answer_messages(diagnosis, ["logs.zip"])
    for message in messages:
        assert_within_limits(message)
    shown = "".join(_all_sections(messages).split())
    for step in diagnosis.next_steps:
        assert "".join(blocks.escape(step.text).split()) in shown, "a step was cut"
    for item in diagnosis.evidence:
        assert "".join(blocks._code(item.text).split()) in shown, "a log line was cut"
    assert any("(continued)" in t for m in messages for t in section_texts(m))


def test_evidence_keeps_its_stage_tag():
    diagnosis = Diagnosis(
        verdict="failure",
        stage="download",
        summary="s",
        evidence=[
            Evidence(
                file="CAS.log",
                line=3,
                time=None,
                text="Download failed",
                stage="download",
                outcome="failed",
            ),
            Evidence(
                file="CcmMessaging.log",
                line=6,
                time=None,
                text="Delivered successfully",
                stage="client",
                outcome="ok",
            ),
        ],
    )
    short = "\n".join(section_texts(blocks.diagnosis_message(diagnosis)))
    assert "[download ✗ failed] CAS.log:3" in short
    assert "Delivered successfully" not in short, "a fine stage is not the failure's evidence"
    full = _all_sections(blocks.full_answer_messages(diagnosis))
    assert "[client ✓ ok] CcmMessaging.log:6" in full


def test_alternatives_never_offer_the_chosen_stage_again():
    diagnosis = Diagnosis(
        verdict="failure",
        stage="download",
        cause="download.http_404",
        summary="s",
        alternatives=[
            Alternative(stage="download", cause="download.failed", confidence=0.4, why_not="same"),
            Alternative(stage="locate", confidence=0.2, why_not="less specific"),
        ],
    )
    message = blocks.diagnosis_message(diagnosis)
    considered = [
        e["text"]
        for b in message.blocks
        if b["type"] == "context"
        for e in b["elements"]
        if "Also considered" in e["text"]
    ]
    assert considered == ["Also considered: locate (20%)"]
    full = _all_sections(blocks.full_answer_messages(diagnosis))
    assert "another cause at this stage `download.failed`" in full
    assert "*download*" not in full


def test_sources_are_links_and_show_everything_carries_its_key():
    diagnosis = Diagnosis(
        verdict="failure",
        stage="scan",
        summary="s",
        next_steps=[
            NextStep(
                text="Check the GPO",
                source="Microsoft Learn: T (https://learn.microsoft.com/a/b-c)",
            )
        ],
    )
    message = blocks.diagnosis_message(diagnosis, answer_key="K1", symptom='"' * 3000)
    steps = next(t for t in section_texts(message) if t.startswith("*Next steps*"))
    assert "<https://learn.microsoft.com/a/b-c|learn.microsoft.com › b-c>" in steps
    assert_within_limits(message)
    actions = message.blocks[-1]["elements"]
    button = next(e for e in actions if e["action_id"] == blocks.SHOW_EVERYTHING)
    assert json.loads(button["value"])["k"] == "K1"
