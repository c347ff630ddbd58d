"""The "Right" / "Wrong" presses under a diagnosis (kept by `bot.store`).

A row says what was judged (verdict, stage, cause, the names of the uploaded files) and
by whom; never a line of the logs themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Judgement = Literal["right", "wrong"]


@dataclass(frozen=True)
class FeedbackRow:
    judgement: Judgement
    verdict: str | None
    stage: str | None
    cause: str | None
    files: list[str]
    source: str | None
    user_id: str | None
    team_id: str | None = None
    channel_id: str | None = None
    message_ts: str | None = None
