"""Diagnoses kept in memory for a while: behind the "Show everything" and "Unmasked
answer by DM" buttons, and for the same files shared again in another conversation.

A button's value holds at most 2000 characters, far less than a full diagnosis, so the
message carries a key and the answer waits here. Only in memory, and only for a day:
an answer quotes the logs, and nothing of an upload is written to disk (the store keeps
only each upload's state). After a restart a press on an older answer says so instead,
and the same files shared again are read again.
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
        self._by_files: OrderedDict[str, KeptAnswer] = OrderedDict()
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
        return self._fresh(self._answers, key)

    def keep_for_files(
        self, file_key: str, diagnosis: Diagnosis, upload_names: Sequence[str]
    ) -> None:
        """The diagnosis of these files (handlers/uploads.py `file_key`), for a re-share."""
        with self._lock:
            self._by_files.pop(file_key, None)
            self._by_files[file_key] = KeptAnswer(diagnosis, tuple(upload_names), time.monotonic())
            while len(self._by_files) > self.max_answers:
                self._by_files.popitem(last=False)

    def for_files(self, file_key: str) -> KeptAnswer | None:
        return self._fresh(self._by_files, file_key)

    def _fresh(self, kept_by: OrderedDict[str, KeptAnswer], key: str) -> KeptAnswer | None:
        with self._lock:
            kept = kept_by.get(key)
            if kept is None:
                return None
            if time.monotonic() - kept.kept_at > self.keep_seconds:
                del kept_by[key]
                return None
            return kept
