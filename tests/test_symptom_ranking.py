"""Issue 13, item 3: how `diagnose --symptom` weighs what an admin writes.

The question an admin asks outweighs the context around it; restart complaints reach the
reboot stage; error codes count in every spelling, inside a sentence too; a quoted log line
counts as that line's signature.
"""

from __future__ import annotations

import pytest

from knowledge.symptoms import codes_in, diagnose_text, main_clause


@pytest.mark.parametrize(
    "text",
    [
        "why aren't my updates installing in the maintenance window ... servers in reboot pending",
        "Why aren't all my updates installing during the maintenance window? Why do I have "
        "servers in a reboot pending state after the patch weekend?",
        "some servers sit in reboot pending. why arent updates installing in the service window?",
    ],
)
def test_the_question_outweighs_a_side_clause(text):
    assert diagnose_text(text).stage == "evaluate"


def test_the_side_clause_alone_still_decides_without_a_question():
    assert diagnose_text("servers in reboot pending").stage == "reboot"


def test_main_clause_is_the_question_and_needs_one():
    main, side = main_clause("Patch weekend went badly. Why are servers not patched in the MW?")
    assert main.startswith("Why") and side == "Patch weekend went badly."
    assert main_clause("scan fails with 0x80244010, all clients") == (
        "scan fails with 0x80244010, all clients",
        "",
    )


@pytest.mark.parametrize(
    "text",
    [
        "machines keep asking for restart",
        "hundreds of outstanding restarts after patch tuesday",
        "pending reboot",
        "the server keeps prompting to reboot every day",
        "users complain they keep getting restart notifications after updates",
    ],
)
def test_restart_complaints_reach_the_reboot_stage(text):
    assert diagnose_text(text).stage == "reboot"


@pytest.mark.parametrize(
    "text",
    [
        "clients fail with 0x80244010",
        "clients fail with 80244010",
        "clients fail with -2145107952",
        "clients fail with 2149859344",
        "WUAHandler: Scan failed with error = 0x80244010.",
    ],
)
def test_error_codes_count_in_every_spelling_inside_a_sentence(text):
    answer = diagnose_text(text)
    assert "0x80244010" in [code.code for code in answer.error_codes]
    assert answer.stage == "scan"


def test_a_long_decimal_that_is_no_known_code_is_not_read_as_one():
    assert codes_in("ticket 123456789 and kb 5034441 broken", {"0x80244010"}) == []


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        (
            "WUAHandler keeps logging 'Failed to Add Update Source for WUAgent of type (2) and "
            "id ({3C4D5E6F-7A8B-4C9D-8E0F-1A2B3C4D5E6F}). Error = 0x87d00692.'",
            "scan.gpo_conflict",
        ),
        ("CAS.log says Not enough space in Cache", "cache.full"),
    ],
)
def test_a_quoted_log_line_gets_its_signature(text, cause):
    answer = diagnose_text(text)
    assert answer.cause == cause
    assert answer.confidence > 0.8  # a signature vote; words alone stop at 0.8
