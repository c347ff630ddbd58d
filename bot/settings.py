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
}


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

    slack_bot_token: SecretStr
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    sccm_bot_file_origins: Annotated[tuple[str, ...], NoDecode] = ("https://files.slack.com",)
    sccm_bot_max_upload_mb: int = Field(default=200, ge=1, le=4096)
    sccm_bot_workers: int = Field(default=4, ge=1, le=64)
    sccm_bot_max_queued: int = Field(default=100, ge=0, le=10_000)
    sccm_bot_feedback_db: Path = Path("sccm-feedback.sqlite3")
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
    def _bot_token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_signing_secret", "slack_app_token", mode="before")
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
    if mode == "http" and settings.slack_signing_secret is None:
        raise SettingsError(
            f"SLACK_SIGNING_SECRET is required in HTTP mode ({_WHAT['slack_signing_secret']})"
        )
    if mode == "socket" and settings.slack_app_token is None:
        raise SettingsError(
            f"SLACK_APP_TOKEN is required in Socket Mode ({_WHAT['slack_app_token']})"
        )
    return settings, mode


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
