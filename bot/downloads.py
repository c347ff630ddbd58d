"""Fetch an uploaded Slack file to a temporary folder, safely.

The bot token goes only to the allowed file origins (scheme, host and port must match
exactly): an unchecked URL could send it to a page that echoes it back. Redirects are
never followed blindly; each hop is checked against the same list. The size is checked
before the request (the file's `size`) and again while streaming. Slack answers a token
without `files:read` with an HTML sign-in page and status 200: that is reported with the
fix, not handed to the log reader.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from knowledge.errors import InputError

from .settings import origin_of

SUPPORTED_SUFFIXES = (".zip", ".log", ".lo_", ".txt")
MAX_REDIRECTS = 3
_CHUNK = 1 << 16
_HTML_START = re.compile(rb"^\s*<(!doctype\s+html|html|head|body)\b", re.IGNORECASE)
FILES_READ_FIX = (
    "Slack sent a sign-in page instead of the file: the app's token cannot read files. "
    "A workspace admin should add the files:read scope to the app and reinstall it."
)


class DownloadRefused(InputError):
    """The file cannot or must not be fetched; the message says why and what to do."""


@dataclass(frozen=True)
class Downloader:
    token: str
    allowed_origins: Sequence[str]
    max_bytes: int
    timeout: float = 60.0

    def fetch(self, file: dict, folder: Path) -> Path:
        """Download one Slack file object into `folder`; returns the local path."""
        name = display_name(file)
        size = file.get("size")
        if isinstance(size, int) and size > self.max_bytes:
            raise DownloadRefused(
                f"{name} is {human_size(size)}; this app reads uploads up to "
                f"{human_size(self.max_bytes)}. Zip only C:\\Windows\\CCM\\Logs (and "
                "WindowsUpdate.log), or ask the admin to raise SCCM_BOT_MAX_UPLOAD_MB."
            )
        url = file.get("url_private_download") or file.get("url_private")
        if not url:
            raise DownloadRefused(f"Slack gave no download link for {name}.")
        target = folder / safe_file_name(name)
        if target.exists():  # two files of the same name in one message
            target = folder / f"{len(list(folder.iterdir()))}-{target.name}"
        with httpx.Client(timeout=self.timeout, follow_redirects=False) as http:
            for _hop in range(MAX_REDIRECTS + 1):
                self._check_origin(url, name)
                headers = {"Authorization": f"Bearer {self.token}"}
                with http.stream("GET", url, headers=headers) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    self._save(response, name, target)
                    return target
        raise DownloadRefused(f"Slack redirected the download of {name} too many times.")

    def _check_origin(self, url: str, name: str) -> None:
        origin = origin_of(url)
        if origin is None or origin not in self.allowed_origins:
            shown = origin or "an unknown place"
            raise DownloadRefused(
                f"{name} would have to be fetched from {shown}, which is not an allowed file "
                "origin, so it was not downloaded (the bot token is only sent to "
                "SCCM_BOT_FILE_ORIGINS)."
            )

    def _save(self, response: httpx.Response, name: str, target: Path) -> None:
        if response.status_code != 200:
            raise DownloadRefused(
                f"Slack answered {response.status_code} when the app asked for {name}; "
                "check that the app is in this channel and has the files:read scope."
            )
        if "text/html" in response.headers.get("content-type", "").lower():
            raise DownloadRefused(FILES_READ_FIX)
        written = 0
        with target.open("wb") as out:
            for chunk in response.iter_bytes(_CHUNK):
                if written == 0 and _HTML_START.match(chunk):
                    raise DownloadRefused(FILES_READ_FIX)
                written += len(chunk)
                if written > self.max_bytes:
                    raise DownloadRefused(
                        f"{name} is larger than {human_size(self.max_bytes)}, the most this "
                        "app reads; zip only C:\\Windows\\CCM\\Logs and send that."
                    )
                out.write(chunk)


def with_download_links(client: WebClient, file: dict) -> dict:
    """The file object with its URLs: Slack Connect shares arrive as `check_file_info`."""
    if file.get("url_private_download") and file.get("file_access") != "check_file_info":
        return file
    if not file.get("id"):
        raise DownloadRefused(f"Slack gave neither a link nor an id for {display_name(file)}.")
    try:
        return client.files_info(file=file["id"])["file"]
    except SlackApiError as problem:
        error = problem.response.get("error", "unknown_error")
        raise DownloadRefused(
            f"Slack would not describe {display_name(file)} ({error}); invite the app to the "
            "channel and check it has the files:read scope."
        ) from None


def is_supported(file: dict) -> bool:
    return display_name(file).lower().endswith(SUPPORTED_SUFFIXES)


def display_name(file: dict) -> str:
    return str(file.get("name") or file.get("title") or file.get("id") or "the file")


def safe_file_name(name: str) -> str:
    """A local name that keeps the extension (the reader needs it) and nothing dangerous."""
    base = re.split(r"[\\/]", name)[-1]
    base = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip(" .") or "upload"
    return base[-120:]


def human_size(count: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{count} bytes"
