"""Builds the Bolt app: its Web API client, its worker pool, its listeners.

The listeners live in `handlers/`; they get the app's shared pieces through `Services`
(bot/services.py, which they import instead of this module).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from .downloads import Downloader
from .services import Services
from .settings import Settings, SettingsError
from .store import SqliteStore, Store, StoreError
from .work import SeenRecently, WorkPool

log = logging.getLogger(__name__)


class _QuietTokenNotice(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN "will be unused" when it is given a client too. The
    client carries that very token (with our base URL and retry handlers), so the warning
    would only alarm the admin reading the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


logging.getLogger("slack_bolt.App").addFilter(_QuietTokenNotice())

# Bolt runs listeners on its own pool (5 threads by default). Ours only ack, post a line
# and queue work, but a 429 makes a post sleep; more threads keep later acks on time.
LISTENER_THREADS = 16


@dataclass
class SlackApp:
    bolt: App
    services: Services

    def close(self, deadline: float | None = None) -> int:
        """Stop taking work; let running analyses finish for up to `deadline` seconds
        (None: as long as they take), then stop the rest within about a second and tell
        their users (see `WorkPool.shutdown` and `WorkPool.cancel_all`). Unfinished
        uploads stay recorded and are read again at the next start. Returns how many
        jobs were still running at the end."""
        return self.services.pool.shutdown(wait=True, deadline=deadline)


def web_client(settings: Settings) -> WebClient:
    """A client on SLACK_API_URL that retries lost connections, 429s (after Retry-After)
    and 5xx answers."""
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def open_store(settings: Settings) -> Store:
    """The store, proved readable and writable, or a SettingsError naming the file."""
    path = settings.sccm_bot_feedback_db
    try:
        return SqliteStore(path)
    except StoreError as problem:
        raise SettingsError(f"SCCM_BOT_FEEDBACK_DB {path}: {problem}") from None


def build_app(settings: Settings) -> SlackApp:
    """The Bolt app with every listener registered, and the uploads a crash cut off
    resumed. Raises SettingsError when the store cannot be opened; then calls auth.test
    once (Bolt checks the token), so a revoked token fails with slack_bolt.error.BoltError."""
    from handlers import (
        app_home,
        commands,
        feedback,
        fleet,
        full_answer,
        modal,
        shortcuts,
        unmasked,
        uploads,
    )
    from handlers.uploads import resume_unfinished, work_folder_prefix

    store = open_store(settings)  # local first: nothing connects on a bad path
    signing_secret = settings.slack_signing_secret
    bolt = App(
        client=web_client(settings),  # Bolt takes the token from it
        signing_secret=signing_secret.get_secret_value() if signing_secret else "",
        listener_executor=ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="sccm-listen"),
    )
    services = Services(
        settings=settings,
        pool=WorkPool(settings.sccm_bot_workers, settings.sccm_bot_max_queued),
        seen=SeenRecently(),
        store=store,
        downloader=Downloader(
            token=settings.slack_bot_token.get_secret_value(),
            allowed_origins=settings.sccm_bot_file_origins,
            max_bytes=settings.max_upload_bytes,
            deadline_seconds=settings.sccm_bot_download_timeout_seconds,
        ),
        work_prefix=work_folder_prefix(store.identity),
    )
    for module in (
        commands,
        modal,
        uploads,
        shortcuts,
        feedback,
        full_answer,
        fleet,
        app_home,
        unmasked,
    ):
        module.register(bolt, services)
    resume_unfinished(services, bolt.client)
    return SlackApp(bolt, services)
