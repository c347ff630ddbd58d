"""What a description says, gathered before a cause is chosen, and the limits that apply."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.models import (
    CodeRef,
)

# Words are read from the start of the text only: a description is short, and a long
# paste is a log, whose codes and recognised lines are still read from all of it.
WORD_CHARS = 4000
# Lines of a description matched against every log's signatures (a quoted log message).
QUOTED_LINES = 40
QUOTED_LINE_CHARS = 2000
# A paste longer than this is cut before parsing; it is a description, not an upload.
PASTE_CHARS = 200_000
# Below this confidence the answer is inconclusive (tuned on tests/symptom_eval.yaml).
CONFIDENCE_THRESHOLD = 0.35
MAX_ALTERNATIVES = 3
# Words that only say "something is wrong" rank at this fraction of their BM25 weight.
WEAK_WEIGHT = 0.25
# Words of a side clause rank at this fraction: in "why aren't updates installing in the
# maintenance window? some servers are pending reboot" the question is about the window.
SIDE_WEIGHT = 0.4

EXAMPLE = 'e.g. "updates stuck at 0% downloading" or a code such as 0x87D00692'


@dataclass
class SymptomEvidence:
    """What the text says for each cause and stage, before the choice is made."""

    text_scores: dict[str, float] = field(default_factory=dict)  # cause -> BM25
    informative: set[str] = field(default_factory=set)  # query words the index knows
    reachable: float = 1.0  # BM25 score of a document that matched every query word
    cause_votes: dict[str, float] = field(default_factory=dict)  # from codes / lines
    stage_votes: dict[str, float] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)  # stage -> code/line that voted
    codes: list[CodeRef] = field(default_factory=list)
    code_ids: list[str] = field(default_factory=list)
    ok_stages: dict[str, str] = field(default_factory=dict)  # stage -> success line title
