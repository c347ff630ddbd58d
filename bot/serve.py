"""`sccm serve`: run the Slack app over HTTP or Socket Mode (CONTRACT.md section 4).

HTTP mode serves Bolt's WSGI adapter on a threading wsgiref server: `POST /slack/events`
for commands, events and interactivity, `GET /healthz` for probes. Socket Mode connects
out to Slack and still answers `/healthz` on the port, so one container health check
works in both modes.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from .settings import Mode, Settings, SettingsError, load_settings
from .slack_app import SlackApp, build_app

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
BIND_HOST = "0.0.0.0"  # inside a container the port is published by Docker

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]
_TEXT = [("Content-Type", "text/plain; charset=utf-8")]


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """wsgiref with a thread per request: a slow client never delays another's ack."""

    daemon_threads = True
    allow_reuse_address = True


class _RequestLog(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - wsgiref's signature
        log.debug("%s %s", self.address_string(), format % args)


def wsgi_app(slack: SlackRequestHandler | None, healthy: Callable[[], bool]) -> WsgiApp:
    """/healthz answered here; everything else goes to Bolt (or 404 without it)."""

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ["REQUEST_METHOD"] in ("GET", "HEAD"):
            ok = healthy()
            start_response("200 OK" if ok else "503 Service Unavailable", _TEXT)
            return [b"ok\n" if ok else b"not connected to Slack\n"]
        if slack is not None:
            return slack(environ, start_response)
        start_response("404 Not Found", _TEXT)
        return [b"Not Found\n"]

    return application


def listen(application: WsgiApp, host: str, port: int) -> ThreadingWSGIServer:
    """A bound server; a port in use becomes a SettingsError naming --port."""
    try:
        return make_server(
            host, port, application, server_class=ThreadingWSGIServer, handler_class=_RequestLog
        )
    except OSError as problem:
        raise SettingsError(f"cannot listen on port {port} ({problem}); pass --port N") from None


def http_server(slack_app: SlackApp, host: str, port: int) -> ThreadingWSGIServer:
    """The HTTP server of `sccm serve --http`; port 0 picks a free one (tests)."""
    handler = SlackRequestHandler(slack_app.bolt, path=EVENTS_PATH)
    return listen(wsgi_app(handler, healthy=lambda: True), host, port)


def _serve_http(slack_app: SlackApp, port: int) -> None:
    with http_server(slack_app, BIND_HOST, port) as server:
        log.info("listening on port %s: POST %s, GET %s", port, EVENTS_PATH, HEALTH_PATH)
        server.serve_forever()


def _serve_socket(slack_app: SlackApp, settings: Settings, port: int) -> None:
    assert settings.slack_app_token is not None  # load_settings checked it for this mode
    handler = SocketModeHandler(slack_app.bolt, settings.slack_app_token.get_secret_value())
    health = listen(wsgi_app(None, healthy=handler.client.is_connected), BIND_HOST, port)
    threading.Thread(target=health.serve_forever, name="healthz", daemon=True).start()
    try:
        try:
            handler.connect()
        except SlackApiError as problem:
            error = problem.response.get("error", "unknown_error")
            raise SettingsError(f"Slack refused SLACK_APP_TOKEN ({error})") from None
        log.info("connected in Socket Mode; health check on port %s%s", port, HEALTH_PATH)
        threading.Event().wait()  # the Socket Mode client works on its own threads
    finally:
        health.shutdown()
        health.server_close()
        handler.close()


def _stop_on_sigterm() -> None:
    """`docker stop` sends SIGTERM: leave as on Ctrl-C, so running analyses clean up."""

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def main(mode: Mode | None, port: int) -> int:
    """Run until interrupted. Returns the exit status: 2 with one `error:` line on stderr
    when a setting is missing or wrong, before anything listens."""
    try:
        settings, mode = load_settings(mode)
    except SettingsError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if not 0 <= port <= 65535:
        print(f"error: --port {port} is not a TCP port (0-65535)", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        slack_app = build_app(settings)
    except SettingsError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except BoltError as problem:
        print(f"error: Slack refused SLACK_BOT_TOKEN: {problem}", file=sys.stderr)
        return 2
    except OSError as problem:
        print(
            f"error: cannot reach Slack at SLACK_API_URL {settings.slack_api_url} ({problem})",
            file=sys.stderr,
        )
        return 2
    _stop_on_sigterm()
    try:
        if mode == "http":
            _serve_http(slack_app, port)
        else:
            _serve_socket(slack_app, settings, port)
    except SettingsError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        log.info("stopping: letting running analyses finish")
    finally:
        slack_app.close()
    return 0
