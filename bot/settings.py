"""The Slack app's settings, read from the environment (CONTRACT.md section 4).

Everything is checked before anything connects: a missing or malformed value becomes one
`SettingsError` sentence naming the environment variable, which `sccm serve` prints as
`error: ...` and exits 2.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Mode = Literal["http", "socket"]

EVERY_CHANNEL = "*"
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")  # public (C) and private (G) channels

# What each variable is, for error messages a person can act on.
_WHAT = {
    "slack_bot_token": "the bot token (xoxb-...) from OAuth & Permissions",
    "slack_signing_secret": "the signing secret from Basic Information > App Credentials",
    "slack_app_token": "an app-level token (xapp-...) with connections:write",
    "slack_api_url": "the Slack Web API base URL",
    "sccm_bot_file_origins": "comma-separated origins such as https://files.slack.com",
    "sccm_bot_max_upload_mb": "a whole number of megabytes",
    "sccm_bot_workers": "a whole number of analyses that may run at once",
    "sccm_bot_max_queued": "a whole number of analyses that may wait for a worker",
    "sccm_bot_feedback_db": "a path for the SQLite file of feedback and accepted uploads",
    "sccm_bot_download_timeout_seconds": "whole seconds one download may take, 5 to 3600",
    "sccm_bot_analysis_timeout_seconds": "whole seconds one analysis may take, 5 to 3600",
    "sccm_bot_stop_seconds": "a whole number of seconds analyses may take to finish on SIGTERM",
    "sccm_bot_http_threads": "a whole number of threads answering HTTP requests",
    "sccm_bot_max_request_kb": "a whole number of kilobytes",
    "sccm_bot_http_timeout_seconds": "whole seconds, 1 to 600",
    "sccm_bot_auto_triage_channels": "comma-separated channel ids such as C0123ABCD, or *",
    "sccm_bot_redact_in_channels": "true or false (1/0, yes/no, on/off)",
    "sccm_bot_database_url": "sqlite:///path/bot.sqlite3 or postgresql://user@host:5432/db",
    "sccm_bot_lease_seconds": "whole seconds a replica holds an upload without renewing, 3 to 600",
    "slack_client_id": "the client id from Basic Information > App Credentials",
    "slack_client_secret": "the client secret from Basic Information > App Credentials",
    "slack_scopes": "comma-separated bot scopes such as commands,chat:write",
    "sccm_bot_oauth_state_seconds": "whole seconds an install link stays valid, 60 to 3600",
}

# The bot scopes of manifest.yml: what an OAuth install asks each workspace for.
BOT_SCOPES = (
    "commands",
    "chat:write",
    "files:read",
    "channels:history",
    "groups:history",
    "im:history",
)


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable and the fix."""


def origin_of(url: str) -> str | None:
    """`scheme://host:port` with the port always written, or None when `url` has no host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    port = port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{parts.hostname.lower()}:{port}"


class Settings(BaseSettings):
    """One field per environment variable; the variable is the field name in upper case."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    # One workspace: its bot token. Many: leave it unset and set the client id and secret,
    # and each workspace installs the app at /slack/install (tokens kept in the store).
    slack_bot_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_scopes: Annotated[tuple[str, ...], NoDecode] = BOT_SCOPES
    sccm_bot_oauth_state_seconds: int = Field(default=600, ge=60, le=3600)
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    sccm_bot_file_origins: Annotated[tuple[str, ...], NoDecode] = ("https://files.slack.com",)
    sccm_bot_max_upload_mb: int = Field(default=200, ge=1, le=4096)
    sccm_bot_workers: int = Field(default=4, ge=1, le=64)
    sccm_bot_max_queued: int = Field(default=100, ge=0, le=10_000)
    sccm_bot_feedback_db: Path = Path("sccm-feedback.sqlite3")
    # The store's database; unset: the SQLite file SCCM_BOT_FEEDBACK_DB (one process).
    # PostgreSQL lets replicas share work, dedupe, settings, feedback and installs.
    sccm_bot_database_url: str | None = None
    # A replica renews the leases of its uploads every third of this; one that dies
    # holds them this long at most before another replica reads them again.
    sccm_bot_lease_seconds: int = Field(default=30, ge=3, le=600)
    # A whole download (a trickling server is abandoned, not only a silent one) and a
    # whole analysis; past either the user is told what was read and what to send.
    sccm_bot_download_timeout_seconds: int = Field(default=300, ge=5, le=3600)
    sccm_bot_analysis_timeout_seconds: int = Field(default=120, ge=5, le=3600)
    # `docker stop` waits 10 s before SIGKILL: finish (or hand back) analyses before that.
    sccm_bot_stop_seconds: int = Field(default=8, ge=0, le=3600)
    sccm_bot_http_threads: int = Field(default=16, ge=1, le=256)
    # Slack's requests are a few KB (a modal submission with its view, tens of KB).
    sccm_bot_max_request_kb: int = Field(default=1024, ge=16, le=65536)
    # Slack sends each request at once and seldom reuses a connection: one idle this long,
    # or a request still arriving after it, is a stuck or hostile client.
    sccm_bot_http_timeout_seconds: int = Field(default=15, ge=1, le=600)
    # Channels whose uploads are triaged without being asked until someone turns it off
    # there (`/sccm auto off`); `*` for every channel the app is in, the default because
    # the contract reads uploads in any channel the app is in; empty: only channels that
    # opted in with `/sccm auto on`. DMs always are.
    sccm_bot_auto_triage_channels: Annotated[frozenset[str], NoDecode] = frozenset({"*"})
    # Answers to uploads posted where more than the uploader reads them have host, user
    # and network names masked (knowledge/redact.py); the uploader can ask for the
    # unmasked answer in a DM. The app's own DMs are never masked.
    sccm_bot_redact_in_channels: bool = True

    @field_validator("slack_bot_token", "slack_signing_secret", "slack_app_token", mode="before")
    @classmethod
    def _one_clean_word(cls, value):
        """Surrounding whitespace (a secret file's final newline) is dropped; anything else
        that cannot travel in an HTTP header is refused without echoing the secret (a
        token with a line break was printed in the error of the failed request)."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str):
            return value
        value = value.strip()
        if any(not ("!" <= ch <= "~") for ch in value):
            raise ValueError(
                "contains a space, a line break or another character a token never has; "
                "copy it again from the app's settings"
            )
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "slack_client_id",
        "slack_client_secret",
        "sccm_bot_database_url",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if origin_of(value) is None:
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("sccm_bot_file_origins", mode="before")
    @classmethod
    def _origins(cls, value) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value)
        origins = []
        for item in (str(i).strip() for i in items):
            if not item:
                continue
            origin = origin_of(item)
            if origin is None or urlsplit(item).path not in ("", "/"):
                raise ValueError(f"{item!r} is not an origin like https://files.slack.com")
            origins.append(origin)
        if not origins:
            raise ValueError("must name at least one origin")
        return tuple(origins)

    @field_validator("sccm_bot_database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is not None:
            from .store import database_url  # SQLAlchemy: only when a URL is given

            database_url(value)  # raises ValueError saying what to write instead
        return value

    @field_validator("slack_scopes", mode="before")
    @classmethod
    def _scopes(cls, value) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value)
        scopes = tuple(str(i).strip() for i in items if str(i).strip())
        if not scopes:
            raise ValueError("must name at least one scope")
        return scopes

    @field_validator("sccm_bot_auto_triage_channels", mode="before")
    @classmethod
    def _channels(cls, value) -> frozenset[str]:
        items = value.split(",") if isinstance(value, str) else list(value)
        channels = set()
        for item in (str(i).strip() for i in items):
            if not item:
                continue
            if item != EVERY_CHANNEL and not _CHANNEL_ID.fullmatch(item):
                raise ValueError(
                    f"{item!r} is not a channel id (copy it from the channel's details, "
                    "e.g. C0123ABCD)"
                )
            channels.add(item)
        return frozenset(channels)

    def masks_answers_in(self, channel: str) -> bool:
        """Whether an upload's answer in `channel` has its names masked: in every
        conversation but a DM with the app (D...), unless turned off."""
        return self.sccm_bot_redact_in_channels and not channel.startswith("D")

    def auto_triage_by_default(self, channel: str) -> bool:
        """Whether uploads in `channel` are triaged when nobody has said otherwise there."""
        listed = self.sccm_bot_auto_triage_channels
        return EVERY_CHANNEL in listed or channel in listed

    @property
    def oauth(self) -> bool:
        """Many workspaces install the app (OAuth) rather than one bot token."""
        return self.slack_client_id is not None

    @property
    def database(self) -> str:
        """The store's URL: SCCM_BOT_DATABASE_URL, else the SQLite file."""
        if self.sccm_bot_database_url is not None:
            return self.sccm_bot_database_url
        return f"sqlite:///{self.sccm_bot_feedback_db}"

    @property
    def database_setting(self) -> str:
        """What to name in an error about the store: the variable and its value."""
        if self.sccm_bot_database_url is not None:
            from .store import database_url

            return f"SCCM_BOT_DATABASE_URL {database_url(self.database).render_as_string()}"
        return f"SCCM_BOT_FEEDBACK_DB {self.sccm_bot_feedback_db}"

    @property
    def max_upload_bytes(self) -> int:
        return self.sccm_bot_max_upload_mb * 1024 * 1024

    @property
    def max_request_bytes(self) -> int:
        return self.sccm_bot_max_request_kb * 1024


def resolve_mode(settings: Settings, mode: Mode | None) -> Mode:
    """The flag wins; with none, Socket Mode when an app token is set, else HTTP."""
    if mode is not None:
        return mode
    return "socket" if settings.slack_app_token is not None else "http"


def load_settings(mode: Mode | None = None) -> tuple[Settings, Mode]:
    """Settings from the environment, checked for the mode; raises SettingsError."""
    try:
        settings = Settings()
    except ValidationError as problem:
        raise SettingsError(_one_line(problem)) from None
    mode = resolve_mode(settings, mode)
    _check_credentials(settings, mode)
    if mode == "http" and settings.slack_signing_secret is None:
        raise SettingsError(
            f"SLACK_SIGNING_SECRET is required in HTTP mode ({_WHAT['slack_signing_secret']})"
        )
    if mode == "socket" and settings.slack_app_token is None:
        raise SettingsError(
            f"SLACK_APP_TOKEN is required in Socket Mode ({_WHAT['slack_app_token']})"
        )
    return settings, mode


def _check_credentials(settings: Settings, mode: Mode) -> None:
    """One workspace (SLACK_BOT_TOKEN) or many (the client id and secret), not both."""
    if not settings.oauth:
        if settings.slack_client_secret is not None:
            raise SettingsError(
                f"SLACK_CLIENT_ID is not set ({_WHAT['slack_client_id']}); it goes with "
                "SLACK_CLIENT_SECRET"
            )
        if settings.slack_bot_token is None:
            raise SettingsError(f"SLACK_BOT_TOKEN is not set ({_WHAT['slack_bot_token']})")
        return
    if settings.slack_client_secret is None:
        raise SettingsError(
            f"SLACK_CLIENT_SECRET is not set ({_WHAT['slack_client_secret']}); it goes with "
            "SLACK_CLIENT_ID"
        )
    if settings.slack_bot_token is not None:
        raise SettingsError(
            "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set: set the bot token for one "
            "workspace, or the client id and secret for installs by many, not both"
        )
    if mode != "http":
        raise SettingsError(
            "SLACK_CLIENT_ID is set but the app runs in Socket Mode: installs by many "
            "workspaces need HTTP mode (sccm serve --http), where /slack/install is served"
        )


def _one_line(problem: ValidationError) -> str:
    """The first problem, named by its environment variable; others are counted."""
    errors = problem.errors()
    first = errors[0]
    field = str(first["loc"][0]) if first["loc"] else "settings"
    variable = field.upper()
    if first["type"] == "missing":
        text = f"{variable} is not set ({_WHAT.get(field, 'required')})"
    else:
        reason = first["msg"].removeprefix("Value error, ")
        text = f"{variable} is malformed: {reason} (expected {_WHAT.get(field, 'a valid value')})"
    if len(errors) > 1:
        text += f"; and {len(errors) - 1} more setting(s) to fix"
    return text
