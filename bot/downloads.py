"""Fetch an uploaded Slack file to a temporary folder, safely.

The bot token goes only to the allowed file origins (scheme, host and port must match
exactly): an unchecked URL could send it to a page that echoes it back. Redirects are
never followed blindly; each hop is checked against the same list. The size is checked
before the request (the file's `size`) and again while streaming. Slack answers a token
without `files:read` with an HTML sign-in page and status 200: that is reported with the
fix, not handed to the log reader.

Each download has a total deadline (not only a per-read timeout: a server sending one
byte a second never trips that) and can be stopped by the app at any chunk; both end
with a sentence saying how much arrived.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
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
_HEAD = 64  # bytes enough to tell an HTML page from a zip or a log
_HTML_START = re.compile(rb"^\s*<(!doctype\s+html|html|head|body)\b", re.IGNORECASE)
FILES_READ_FIX = (
    "Slack sent a sign-in page instead of the file: the app's token cannot read files. "
    "A workspace admin should add the files:read scope to the app and reinstall it."
)


class DownloadRefused(InputError):
    """The file cannot or must not be fetched; the message says why and what to do."""


class DownloadStopped(Exception):
    """The app is stopping: the download was abandoned (not the user's fault)."""


def _unstoppable() -> threading.Event:
    return threading.Event()


@dataclass(frozen=True)
class Downloader:
    token: str
    allowed_origins: Sequence[str]
    max_bytes: int
    timeout: float = 60.0  # the longest wait for any one read
    deadline_seconds: float = 300.0  # the whole download, redirects included

    def fetch(
        self,
        file: dict,
        folder: Path,
        *,
        cancelled: threading.Event | None = None,
        token: str | None = None,
    ) -> Path:
        """Download one Slack file object into `folder`; returns the local path. `token`:
        the file's workspace's bot token when the app serves several (default: `token`).

        Raises DownloadRefused (with what to do) for any problem, DownloadStopped when
        `cancelled` is set."""
        name = display_name(file)
        token = self.token if token is None else token
        deadline = time.monotonic() + self.deadline_seconds
        cancelled = cancelled or _unstoppable()
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
        progress = _Received()
        try:
            with httpx.Client(timeout=self.timeout, follow_redirects=False) as http:
                for _hop in range(MAX_REDIRECTS + 1):
                    self._check_origin(url, name)
                    headers = {"Authorization": f"Bearer {token}"}
                    left = max(0.1, min(self.timeout, deadline - time.monotonic()))
                    with http.stream("GET", url, headers=headers, timeout=left) as response:
                        if response.is_redirect and "location" in response.headers:
                            url = urljoin(url, response.headers["location"])
                            continue
                        self._save(response, name, target, deadline, cancelled, progress)
                        return target
        except httpx.TimeoutException:
            if time.monotonic() >= deadline:
                raise self._too_slow(name, progress.bytes) from None
            raise DownloadRefused(
                f"Slack stopped sending {name} after {human_size(progress.bytes)} (nothing "
                f"arrived for {self.timeout:.0f} s); upload it again."
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as problem:
            raise DownloadRefused(
                f"The download of {name} was cut off after {human_size(progress.bytes)} "
                f"({_first_line(problem)}); upload it again."
            ) from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as problem:
            raise DownloadRefused(
                f"I could not connect to Slack to download {name} ({_first_line(problem)}); "
                "try again in a few minutes."
            ) from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as problem:
            raise DownloadRefused(
                f"Slack's link to {name} is not a URL I can download ({_first_line(problem)})."
            ) from None
        except httpx.HTTPError as problem:
            raise DownloadRefused(
                f"The download of {name} failed ({_first_line(problem)}); upload it again."
            ) from None
        raise DownloadRefused(f"Slack redirected the download of {name} too many times.")

    def _too_slow(self, name: str, received: int) -> DownloadRefused:
        return DownloadRefused(
            f"The download of {name} took longer than {self.deadline_seconds:.0f} s, the most "
            f"this app waits; {human_size(received)} had arrived and nothing of it was read. "
            "Try a smaller upload (only C:\\Windows\\CCM\\Logs, zipped), or again later."
        )

    def _check_origin(self, url: str, name: str) -> None:
        origin = origin_of(url)
        if origin is None or origin not in self.allowed_origins:
            shown = origin or "an unknown place"
            raise DownloadRefused(
                f"{name} would have to be fetched from {shown}, which is not an allowed file "
                "origin, so it was not downloaded (the bot token is only sent to "
                "SCCM_BOT_FILE_ORIGINS)."
            )

    def _save(
        self,
        response: httpx.Response,
        name: str,
        target: Path,
        deadline: float,
        cancelled: threading.Event,
        progress: _Received,
    ) -> None:
        if response.status_code != 200:
            raise DownloadRefused(
                f"Slack answered {response.status_code} when the app asked for {name}; "
                "check that the app is in this channel and has the files:read scope."
            )
        if "text/html" in response.headers.get("content-type", "").lower():
            raise DownloadRefused(FILES_READ_FIX)
        written = 0
        head = b""  # the first bytes, to recognise a sign-in page however they trickle in
        with target.open("wb") as out:
            # Chunks as they arrive (no chunk size: httpx would hold them back until one
            # is full), so the deadline and a stop request are seen at every read.
            for chunk in response.iter_bytes():
                if len(head) < _HEAD:
                    head += chunk[: _HEAD - len(head)]
                    if _HTML_START.match(head):
                        raise DownloadRefused(FILES_READ_FIX)
                written += len(chunk)
                progress.bytes = written
                if cancelled.is_set():
                    raise DownloadStopped(name)
                if time.monotonic() >= deadline:
                    raise self._too_slow(name, written)
                if written > self.max_bytes:
                    raise DownloadRefused(
                        f"{name} is larger than {human_size(self.max_bytes)}, the most this "
                        "app reads; zip only C:\\Windows\\CCM\\Logs and send that."
                    )
                out.write(chunk)


@dataclass
class _Received:
    bytes: int = 0


def _first_line(problem: Exception) -> str:
    text = str(problem).strip().splitlines()
    return text[0] if text else type(problem).__name__


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


# What the bot needs of a Slack file object to name, check and download the file. The rest
# is left behind before a record is stored: for text files Slack's object carries the first
# lines of the file itself (`preview`, `preview_highlight`, `lines`), and nothing of an
# upload may outlive its analysis.
FILE_FIELDS = (
    "id",
    "name",
    "title",
    "size",
    "filetype",
    "mimetype",
    "mode",
    "file_access",
    "is_external",
    "url_private",
    "url_private_download",
    "user",
)


def file_fields(file: dict) -> dict:
    """The part of a Slack file object the bot keeps (see FILE_FIELDS)."""
    return {key: file[key] for key in FILE_FIELDS if key in file}


def is_supported(file: dict) -> bool:
    return display_name(file).lower().endswith(SUPPORTED_SUFFIXES)


def display_name(file: dict) -> str:
    """The file's name as answers show it: control and bidirectional characters neutralised."""
    return neutralised(str(file.get("name") or file.get("title") or file.get("id") or "the file"))


def neutralised(text: str, *, keep: str = "") -> str:
    """`text` with control and format characters (Unicode Cc and Cf: line breaks, the
    bidirectional overrides that make `exe.zip` read as `piz.exe`, zero-width marks)
    shown as U+FFFD, except those in `keep`."""
    if text.isprintable():
        return text
    return "".join(
        "\ufffd" if ch not in keep and unicodedata.category(ch) in ("Cc", "Cf") else ch
        for ch in text
    )


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
