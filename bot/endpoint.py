"""The guard in front of Bolt on `POST /slack/events`: only Slack's own requests get in.

waitress refuses a body over the size limit from its declared length (413) before reading
it, and keeps what it does read off the heap past half a megabyte. This guard then checks,
in this order, and answers without calling Bolt when a check fails:

1. the method is POST (405);
2. the signature headers are there and the timestamp is within Slack's five minutes
   (401), before the body is read at all;
3. the body fits the size limit (413) and its signature is right (401), checked by
   slack_sdk's `SignatureVerifier`, the same code Bolt verifies with;
4. the content type is one Slack sends (415) and the body parses as Slack's requests do:
   a JSON object for events, a form with a command or a JSON `payload` for commands and
   interactivity (400, one log line, never a traceback).

So unsigned or garbled bytes never reach Bolt's parser or a listener. Bolt then verifies
again and dispatches. An event the app has no listener for is acknowledged with 200
rather than Bolt's 404: Slack retries events that get an error, to no end.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]

TIMESTAMP_WINDOW_SECONDS = 5 * 60  # Slack's rule: older requests may be replays
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
_TEXT = [("Content-Type", "text/plain; charset=utf-8")]


class Refused(Exception):
    """The request is not one to pass on; `status` and the short reason go back."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def guarded(slack: WsgiApp, signing_secret: str, max_body_bytes: int) -> WsgiApp:
    """`slack` (Bolt's WSGI adapter) behind the checks in this module's docstring."""
    verifier = SignatureVerifier(signing_secret)

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            body, content_type = _admitted(environ, verifier, max_body_bytes)
        except Refused as refusal:
            log.info(
                "refused %s %s from %s: %s",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                environ.get("REMOTE_ADDR", "?"),
                refusal.reason,
            )
            start_response(refusal.status, _TEXT)
            return [refusal.reason.encode() + b"\n"]
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        answered: list = []

        def remember(status, headers, exc_info=None):
            answered.append((status, headers, exc_info))

        content = b"".join(slack(environ, remember))
        status, headers, exc_info = answered[0]
        if content_type == JSON and status.startswith("404"):
            # An event (or event envelope) no listener handles: take it, or Slack retries.
            start_response("200 OK", _TEXT)
            return [b""]
        start_response(status, headers, exc_info)
        return [content]

    return application


def _admitted(environ: dict, verifier: SignatureVerifier, max_body_bytes: int):
    """The body and its content type, or Refused."""
    if environ.get("REQUEST_METHOD") != "POST":
        raise Refused("405 Method Not Allowed", "only POST is accepted here")
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
    if not timestamp or not signature:
        raise Refused("401 Unauthorized", "not signed by Slack")
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        raise Refused("401 Unauthorized", "malformed X-Slack-Request-Timestamp") from None
    if age > TIMESTAMP_WINDOW_SECONDS:
        raise Refused("401 Unauthorized", "X-Slack-Request-Timestamp is not current")
    body = _read_body(environ, max_body_bytes)
    if not verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
        raise Refused("401 Unauthorized", "the signature does not match")
    content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type == JSON:
        _check_event(body)
    elif content_type == FORM:
        _check_form(body)
    else:
        raise Refused("415 Unsupported Media Type", f"Slack sends {JSON} or {FORM}")
    return body, content_type


def _read_body(environ: dict, max_body_bytes: int) -> bytes:
    declared = environ.get("CONTENT_LENGTH") or ""
    try:
        length = int(declared) if declared else None
    except ValueError:
        raise Refused("400 Bad Request", "malformed Content-Length") from None
    if length is not None and length > max_body_bytes:
        raise Refused("413 Request Entity Too Large", "the request is over the size limit")
    stream = environ["wsgi.input"]
    body = stream.read(length) if length is not None else stream.read(max_body_bytes + 1)
    if len(body) > max_body_bytes:
        raise Refused("413 Request Entity Too Large", "the request is over the size limit")
    return body


def _json_object(text: str | bytes, what: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        raise Refused("400 Bad Request", f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Refused("400 Bad Request", f"{what} is not a JSON object")
    if not isinstance(value.get("type"), str):
        raise Refused("400 Bad Request", f"{what} has no type")
    return value


def _check_event(body: bytes) -> None:
    """An Events API envelope: an object with a type; a callback carries an event object."""
    envelope = _json_object(body, "the body")
    if envelope["type"] == "event_callback":
        event = envelope.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise Refused("400 Bad Request", "event_callback without an event object")


def _check_form(body: bytes) -> None:
    """A slash command (`command=...`), interactivity (`payload={json}`) or Slack's
    `ssl_check`."""
    try:
        fields = parse_qs(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body), errors="strict"
        )
    except ValueError:  # bad pairs and bytes that are not UTF-8
        raise Refused("400 Bad Request", "the form is not URL-encoded UTF-8") from None
    if "payload" in fields:
        _json_object(fields["payload"][0], "the payload")
    elif not ({"command", "ssl_check"} & fields.keys()):
        raise Refused("400 Bad Request", "the form has neither a command nor a payload")
