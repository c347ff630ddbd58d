"""The whole answers behind the "Show everything" button, kept in memory for a while.

A button's value holds at most 2000 characters, far less than a full diagnosis, so the
message carries a key and the answer waits here. Only in memory, and only for a day: the
store on disk keeps the short message it posted (to deliver it again after a crash, or to
a second upload of the same files), never the whole diagnosis. After a restart a press on
an older answer says so instead.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.models import Diagnosis

KEEP_SECONDS = 24 * 3600
KEEP_ANSWERS = 500  # a day of a busy helpdesk; a few MB at most


@dataclass(frozen=True)
class KeptAnswer:
    diagnosis: Diagnosis
    upload_names: tuple[str, ...]
    kept_at: float
    owner: str | None = None  # who uploaded: only they get an unmasked answer in a DM


class AnswerCache:
    """Thread-safe, bounded and ageing: the oldest answer goes first."""

    def __init__(self, max_answers: int = KEEP_ANSWERS, keep_seconds: float = KEEP_SECONDS):
        self.max_answers = max_answers
        self.keep_seconds = keep_seconds
        self._answers: OrderedDict[str, KeptAnswer] = OrderedDict()
        self._lock = threading.Lock()

    def keep(
        self, diagnosis: Diagnosis, upload_names: Sequence[str] = (), owner: str | None = None
    ) -> str:
        key = secrets.token_urlsafe(12)
        with self._lock:
            kept = KeptAnswer(diagnosis, tuple(upload_names), time.monotonic(), owner)
            self._answers[key] = kept
            while len(self._answers) > self.max_answers:
                self._answers.popitem(last=False)
        return key

    def get(self, key: str) -> KeptAnswer | None:
        with self._lock:
            kept = self._answers.get(key)
            if kept is None:
                return None
            if time.monotonic() - kept.kept_at > self.keep_seconds:
                del self._answers[key]
                return None
            return kept
