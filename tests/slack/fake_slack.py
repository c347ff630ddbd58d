"""A local stand-in for Slack: Web API methods, file downloads and response_url endpoints.

It runs on 127.0.0.1 in its own thread, records every request, and answers like Slack
does for the methods the app calls. Tests reach it through SLACK_API_URL, through the
`url_private_download` of the files they register, and through `response_url`.

Files the app posts go the way of Slack's current upload API: files.getUploadURLExternal
hands out an `upload_url` here, the bytes are POSTed to it, and files.completeUploadExternal
shares them into a channel (and thread); `uploads` holds each with where it was shared.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar
from urllib.parse import parse_qsl, quote

T = TypeVar("T")

BOT_USER = "UBOTSCCM"
TEAM = "T0CONTOSO"
RATE_LIMITED = {"ok": False, "error": "ratelimited"}


@dataclass
class ApiCall:
    method: str
    params: dict
    headers: dict
    answer: dict  # what FakeSlack replied (a 429 included)


@dataclass
class ServedFile:
    data: bytes
    content_type: str = "application/octet-stream"
    status: int = 200
    location: str | None = None  # a redirect target instead of the data
    drip: float | None = None  # seconds between single bytes: a crawling server
    cut_after: int | None = None  # bytes sent before the connection is dropped
    trickle_seconds: float = 0.0  # send the data in pieces spread over this long


@dataclass
class Upload:
    """A file the app uploaded: announced, then its bytes, then shared (or not)."""

    file_id: str
    filename: str
    length: int  # what files.getUploadURLExternal was told
    alt_txt: str | None = None
    data: bytes | None = None  # what was POSTed to the upload URL
    title: str | None = None
    channel: str | None = None  # set by files.completeUploadExternal
    thread_ts: str | None = None


@dataclass
class FakeSlack:
    calls: list[ApiCall] = field(default_factory=list)
    file_requests: list[dict] = field(default_factory=list)  # path and headers of each GET
    responses: list[dict] = field(default_factory=list)  # bodies POSTed to /response_url/...
    files: dict[str, ServedFile] = field(default_factory=dict)
    file_infos: dict[str, dict] = field(default_factory=dict)  # what files.info answers
    rate_limit_once: set[str] = field(default_factory=set)  # methods to answer 429 once
    errors: dict[str, str] = field(default_factory=dict)  # method -> error it answers with
    uploads: dict[str, Upload] = field(default_factory=dict)  # file id -> what was uploaded
    # OAuth installs: the code Slack would hand an installer -> the workspace it installs
    # into; oauth.v2.access answers with a bot token of that workspace's own.
    install_codes: dict[str, str] = field(default_factory=dict)
    workspace_of_token: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._changed = threading.Condition()
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002 - quiet test output
                pass

            def do_GET(self):
                fake._serve_file(self)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith("/api/"):
                    fake._api(self, self.path.removeprefix("/api/"), body)
                elif self.path.startswith("/upload/"):
                    fake._receive_upload(self, self.path.removeprefix("/upload/"), body)
                elif self.path.startswith("/response_url/"):
                    fake._record(fake.responses, {"path": self.path, **json.loads(body)})
                    _reply(self, 200, b"ok", "text/plain")
                else:
                    _reply(self, 404, b"not found", "text/plain")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # --- lifecycle and addresses ----------------------------------------------------

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.origin + "/api/"

    def response_url(self) -> str:
        return f"{self.origin}/response_url/{next(self._ids)}"

    # --- files ------------------------------------------------------------------------

    def add_file(
        self,
        name: str,
        data: bytes,
        *,
        content_type: str = "application/zip",
        status: int = 200,
        size: int | None = None,
        location: str | None = None,
        drip: float | None = None,
        cut_after: int | None = None,
        trickle_seconds: float = 0.0,
    ) -> dict:
        """Serve `data` and return the Slack file object an event would carry."""
        file_id = f"F{next(self._ids):08d}"
        path = f"/files/{file_id}/{quote(name)}"  # Slack's links are percent-encoded
        self.files[path] = ServedFile(
            data, content_type, status, location, drip, cut_after, trickle_seconds
        )
        info = {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": content_type,
            "filetype": name.rsplit(".", 1)[-1],
            "size": len(data) if size is None else size,
            "url_private": self.origin + path,
            "url_private_download": self.origin + path + "?download=1",
        }
        self.file_infos[file_id] = info
        return info

    # --- waiting on what the app did ----------------------------------------------------

    def wait_for(self, probe: Callable[[], T], timeout: float = 15.0) -> T:
        """The first truthy value of `probe()`, re-checked whenever a request arrives."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = probe()
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting for {probe}")
                self._changed.wait(min(left, 0.2))

    def calls_to(self, method: str) -> list[ApiCall]:
        with self._changed:
            return [call for call in self.calls if call.method == method]

    def messages_in(self, channel: str) -> list[ApiCall]:
        """chat.postMessage calls that Slack accepted (not the 429s)."""
        return [
            c
            for c in self.calls_to("chat.postMessage")
            if c.params.get("channel") == channel and c.answer.get("ok")
        ]

    def shared_files(self, channel: str) -> list[Upload]:
        """Uploads completed into `channel` (their bytes arrived and they were shared)."""
        with self._changed:
            return [u for u in self.uploads.values() if u.channel == channel and u.data]

    def final_update(self, channel: str, ts: str, predicate: Callable[[dict], bool]) -> dict:
        """The latest chat.update of message `ts` once one satisfies `predicate`."""

        def probe():
            edits = [
                c.params
                for c in self.calls_to("chat.update")
                if c.params.get("channel") == channel and c.params.get("ts") == ts
            ]
            return next((e for e in reversed(edits) if predicate(e)), None)

        return self.wait_for(probe)

    # --- request handling -------------------------------------------------------------

    def _record(self, where: list, item) -> None:
        with self._changed:
            where.append(item)
            self._changed.notify_all()

    def _api(self, request: BaseHTTPRequestHandler, method: str, body: bytes) -> None:
        content_type = request.headers.get("Content-Type", "")
        if "json" in content_type:
            params = json.loads(body or b"{}")
        else:
            params = dict(parse_qsl(body.decode()))
        for key in ("blocks", "view"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        with self._changed:
            throttle = method in self.rate_limit_once
            self.rate_limit_once.discard(method)
            answer = (
                {"ok": False, "error": "ratelimited"}
                if throttle
                else self._answer(method, params, dict(request.headers))
            )
        self._record(self.calls, ApiCall(method, params, dict(request.headers), answer))
        if throttle:
            _reply(
                request, 429, json.dumps(answer).encode(), "application/json", {"Retry-After": "1"}
            )
        else:
            _reply(request, 200, json.dumps(answer).encode(), "application/json")

    def install_code(self, team: str) -> str:
        """A one-time code that installs the app into `team` (what Slack puts in the
        redirect to /slack/oauth_redirect)."""
        code = f"code-{team}-{next(self._ids)}"
        self.install_codes[code] = team
        return code

    @staticmethod
    def bot_token_of(team: str) -> str:
        return f"xoxb-{team}-installed"

    def _answer(self, method: str, params: dict, headers: dict | None = None) -> dict:
        if method in self.errors:
            return {"ok": False, "error": self.errors[method]}
        if method == "auth.test":
            token = (headers or {}).get("Authorization", "").removeprefix("Bearer ")
            team = self.workspace_of_token.get(token or params.get("token", ""), TEAM)
            return {"ok": True, "team_id": team, "user_id": BOT_USER, "bot_id": f"B{team}"}
        if method == "oauth.v2.access":
            team = self.install_codes.pop(params.get("code", ""), None)
            if team is None:
                return {"ok": False, "error": "invalid_code"}
            token = self.bot_token_of(team)
            self.workspace_of_token[token] = team
            return {
                "ok": True,
                "app_id": "A0SCCM",
                "authed_user": {"id": "U0INSTALLER"},
                "scope": params.get("scope", "commands,chat:write,files:read"),
                "token_type": "bot",
                "access_token": token,
                "bot_user_id": BOT_USER,
                "team": {"id": team, "name": f"Workspace {team}"},
                "enterprise": None,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            ts = f"1710000000.{next(self._ts):06d}"
            return {"ok": True, "channel": params.get("channel"), "ts": ts}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1710000000.{next(self._ts):06d}"}
        if method == "views.open":
            return {"ok": True, "view": {"id": "V0UPLOAD", **(params.get("view") or {})}}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V0HOME", **(params.get("view") or {})}}
        if method == "files.getUploadURLExternal":
            return self._upload_url(params)
        if method == "files.completeUploadExternal":
            return self._complete_upload(params)
        if method == "files.info":
            info = self.file_infos.get(params.get("file", ""))
            return {"ok": True, "file": info} if info else {"ok": False, "error": "file_not_found"}
        return {"ok": False, "error": "unknown_method"}

    def _upload_url(self, params: dict) -> dict:
        # Slack requires both and a length above zero (invalid_arguments otherwise).
        filename, length = params.get("filename"), params.get("length")
        if not filename or not str(length or "").isdigit() or int(length) <= 0:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ids):08d}"
        self.uploads[file_id] = Upload(file_id, filename, int(length), params.get("alt_txt"))
        return {"ok": True, "upload_url": f"{self.origin}/upload/{file_id}", "file_id": file_id}

    def _receive_upload(self, request: BaseHTTPRequestHandler, file_id: str, body: bytes):
        upload = self.uploads.get(file_id)
        if upload is None:
            _reply(request, 404, b"not found", "text/plain")
            return
        with self._changed:
            upload.data = body
            self._changed.notify_all()
        _reply(request, 200, f"OK - {len(body)}".encode(), "text/plain")

    def _complete_upload(self, params: dict) -> dict:
        files = json.loads(params.get("files") or "[]")
        done = []
        for item in files:
            upload = self.uploads.get(item.get("id", ""))
            # Slack completes only files whose announced length arrived in full.
            if upload is None or upload.data is None or len(upload.data) != upload.length:
                return {"ok": False, "error": "file_not_found"}
            upload.title = item.get("title")
            upload.channel = params.get("channel_id")
            upload.thread_ts = params.get("thread_ts")
            done.append({"id": upload.file_id, "name": upload.filename, "title": upload.title})
        if not done:
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "files": done}

    def _serve_file(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?", 1)[0]
        self._record(self.file_requests, {"path": path, "headers": dict(request.headers)})
        served = self.files.get(path)
        if served is None:
            _reply(request, 404, b"not found", "text/plain")
        elif served.location:
            _reply(request, 302, b"", "text/plain", {"Location": served.location})
        elif served.drip is not None or served.cut_after is not None:
            _drip(request, served)
        elif served.trickle_seconds:
            _trickle(request, served)
        else:
            _reply(request, served.status, served.data, served.content_type)


def _drip(request: BaseHTTPRequestHandler, served: ServedFile) -> None:
    """The whole length promised, then bytes one by one (drip) or only some (cut)."""
    request.send_response(200)
    request.send_header("Content-Type", served.content_type)
    request.send_header("Content-Length", str(len(served.data)))
    request.end_headers()
    try:
        if served.cut_after is not None:
            request.wfile.write(served.data[: served.cut_after])
            request.wfile.flush()
            request.close_connection = True
            return
        for index in range(len(served.data)):
            request.wfile.write(served.data[index : index + 1])
            request.wfile.flush()
            time.sleep(served.drip or 0)
    except OSError:  # the app hung up: what a crawling server sees
        request.close_connection = True


def _reply(request, status: int, body: bytes, content_type: str, headers: dict | None = None):
    request.send_response(status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.end_headers()
    request.wfile.write(body)


def _trickle(request, served: ServedFile, pieces: int = 20) -> None:
    """A slow download: the headers at once, then the body a piece at a time."""
    request.send_response(served.status)
    request.send_header("Content-Type", served.content_type)
    request.send_header("Content-Length", str(len(served.data)))
    request.end_headers()
    step = -(-len(served.data) // pieces)
    try:
        for start in range(0, len(served.data), step):
            time.sleep(served.trickle_seconds / pieces)
            request.wfile.write(served.data[start : start + step])
            request.wfile.flush()
    except OSError:  # the app hung up (it was stopped): nothing more to send
        pass
