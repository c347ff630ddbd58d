"""What the Slack listeners share, in a module of its own: `bot.slack_app` builds it and
registers the listeners of `handlers/`, and the listeners import it from here, so neither
side imports the other back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from slack_sdk import WebClient

from .answers import AnswerCache
from .downloads import Downloader
from .leases import Leases
from .settings import Settings
from .store import Store
from .work import SeenInStore, SeenRecently, WorkPool


@dataclass
class Services:
    """What the listeners share: settings, the worker pool, the dedupe memory, storage."""

    settings: Settings
    pool: WorkPool
    seen: SeenRecently | SeenInStore
    store: Store
    downloader: Downloader
    work_prefix: str  # folder names of this store's downloads, under the temporary folder
    leases: Leases  # which uploads this replica runs (bot/leases.py)
    # A Web API client with the bot token of a workspace (None: not installed there).
    client_for: Callable[[str | None], WebClient | None]
    answers: AnswerCache = field(default_factory=AnswerCache)  # behind "Show everything"
