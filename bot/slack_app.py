"""Builds the Bolt app: its Web API client, its worker pool, its listeners.

The listeners live in `handlers/`; they get the app's shared pieces through `Services`
(bot/services.py, which they import instead of this module).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from .downloads import Downloader
from .leases import Leases
from .services import Services
from .settings import Settings, SettingsError
from .store import DatabaseStore, StoreError
from .work import SeenInStore, WorkPool

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
        jobs were still running at the end. Their leases are let go, so another replica
        (if any) reads them again at once."""
        self.services.leases.stop_taking()
        unfinished = self.services.pool.shutdown(wait=True, deadline=deadline)
        self.services.leases.release()
        return unfinished


def web_client(settings: Settings, token: str | None = None) -> WebClient:
    """A client on SLACK_API_URL that retries lost connections, 429s (after Retry-After)
    and 5xx answers; with `token`, or else SLACK_BOT_TOKEN (none in multi-workspace mode:
    Bolt gives each request a client with its workspace's token)."""
    if token is None and settings.slack_bot_token is not None:
        token = settings.slack_bot_token.get_secret_value()
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def open_store(settings: Settings) -> DatabaseStore:
    """The store, migrated and proved readable and writable, or a SettingsError naming
    the setting (the SQLite file or the database URL, without its password)."""
    try:
        return DatabaseStore(settings.database)
    except StoreError as problem:
        raise SettingsError(f"{settings.database_setting}: {problem}") from None


def oauth_settings(settings: Settings, store: DatabaseStore) -> OAuthSettings:
    """Installs by many workspaces: Bolt's OAuth flow at /slack/install and
    /slack/oauth_redirect, its installations and one-time states in the store's database
    (slack_sdk's SQLAlchemy stores; their tables come with migration 0002)."""
    # Imported here: only multi-workspace mode needs them, and they import SQLAlchemy's
    # asyncio layer (a third of a second).
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(settings.slack_scopes),
        installation_store=SQLAlchemyInstallationStore(
            client_id=settings.slack_client_id, engine=store.engine
        ),
        state_store=SQLAlchemyOAuthStateStore(
            expiration_seconds=settings.sccm_bot_oauth_state_seconds, engine=store.engine
        ),
    )


def clients_by_workspace(settings: Settings, bolt: App):
    """`client_for(team_id)`: the client that answers in a workspace. One workspace: the
    app's own; many: one with the bot token its installation stored, None when the
    workspace has uninstalled the app."""
    if bolt.oauth_flow is None:
        return lambda _team: bolt.client
    installations = bolt.oauth_flow.settings.installation_store

    def client_for(team_id: str | None) -> WebClient | None:
        bot = installations.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            return None
        return web_client(settings, token=bot.bot_token)

    return client_for


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
    from handlers.uploads import resume_taken, resume_unfinished, work_folder_prefix

    store = open_store(settings)  # local first: nothing connects on a bad path
    signing_secret = settings.slack_signing_secret
    bolt = App(
        client=web_client(settings),  # Bolt takes the token from it (one workspace)
        signing_secret=signing_secret.get_secret_value() if signing_secret else "",
        listener_executor=ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="sccm-listen"),
        oauth_settings=oauth_settings(settings, store) if settings.oauth else None,
    )
    if settings.oauth:
        # app_uninstalled and tokens_revoked delete the workspace's installation
        bolt.enable_token_revocation_listeners()
    token = settings.slack_bot_token
    services = Services(
        settings=settings,
        pool=WorkPool(settings.sccm_bot_workers, settings.sccm_bot_max_queued),
        seen=SeenInStore(store),
        store=store,
        downloader=Downloader(
            # many workspaces: each download gets its workspace's token (uploads.py)
            token=token.get_secret_value() if token else "",
            allowed_origins=settings.sccm_bot_file_origins,
            max_bytes=settings.max_upload_bytes,
            deadline_seconds=settings.sccm_bot_download_timeout_seconds,
        ),
        work_prefix=work_folder_prefix(store.identity),
        leases=Leases(store, settings.sccm_bot_lease_seconds),
        client_for=clients_by_workspace(settings, bolt),
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
    resume_unfinished(services)
    services.leases.keep(on_taken=lambda taken: resume_taken(services, taken))
    return SlackApp(bolt, services)
