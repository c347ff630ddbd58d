"""What the Slack listeners share, in a module of its own: `bot.slack_app` builds it and
registers the listeners of `handlers/`, and the listeners import it from here, so neither
side imports the other back."""

from __future__ import annotations

from dataclasses import dataclass, field

from .answers import AnswerCache
from .downloads import Downloader
from .settings import Settings
from .store import Store
from .work import SeenRecently, WorkPool


@dataclass
class Services:
    """What the listeners share: settings, the worker pool, the dedupe memory, storage."""

    settings: Settings
    pool: WorkPool
    seen: SeenRecently
    store: Store
    downloader: Downloader
    work_prefix: str  # folder names of this store's downloads, under the temporary folder
    answers: AnswerCache = field(default_factory=AnswerCache)  # behind "Show everything"
