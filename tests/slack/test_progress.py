"""The progress message is edited at most once per interval, and never back to "queued"
once the analysis has started."""

from __future__ import annotations

from handlers.uploads import PROGRESS_INTERVAL, ProgressMessage
from knowledge.api import Progress


class RecordingClient:
    """Just enough of WebClient for ProgressMessage: it keeps the edits."""

    def __init__(self):
        self.edits: list[str] = []

    def chat_update(self, *, channel, ts, text, blocks):
        self.edits.append(text)


def test_progress_edits_are_throttled(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("handlers.uploads.time.monotonic", lambda: clock[0])
    client = RecordingClient()
    message = ProgressMessage(client, "C0", "1.0", "logs.zip (3 MB)")
    for n in range(1, 6):
        message.update(Progress(n, 40, f"Logs/{n}.log", None))
    assert len(client.edits) == 1 and "1 of 40 files read" in client.edits[0]
    clock[0] += PROGRESS_INTERVAL
    message.update(Progress(30, 40, "Logs/WUAHandler.log", "scan"))
    assert len(client.edits) == 2 and "stage scan" in client.edits[1]


def test_a_started_analysis_is_never_shown_as_queued_again():
    client = RecordingClient()
    message = ProgressMessage(client, "C0", "1.0", "logs.zip")
    message.queued(2)
    assert "2 uploads ahead of yours" in client.edits[-1]
    message.started()
    message.queued(0)
    assert len(client.edits) == 1
