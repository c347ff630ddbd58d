"""`sccm serve`: run the Slack app over HTTP or Socket Mode (CONTRACT.md section 4).

HTTP mode serves Bolt's WSGI adapter on waitress, a production WSGI server that is pure
Python and runs on Windows too: a pool of request threads, HTTP/1.1 keep-alive, a request
size limit (413 from the declared length, before the body is read) and idle connections
closed after a timeout. `POST /slack/events` takes commands, events and interactivity,
`GET /healthz` answers probes. Socket Mode connects out to Slack and still answers
`/healthz` on the port, so one container health check works in both modes.

What the endpoint refuses before Bolt sees a request is in `bot.endpoint`. A connection
is closed when it stays idle, or when a request on it has not fully arrived, for
SCCM_BOT_HTTP_TIMEOUT_SECONDS: a held-open or trickling connection costs a socket for
that long and never a thread (waitress reads requests on one event loop; its threads
only run the app on requests that have fully arrived).

SIGTERM (and Ctrl-C) stops gracefully: stop accepting connections, let requests being
answered finish, then give running analyses SCCM_BOT_STOP_SECONDS to finish; those still
running tell their users they were stopped, and the process exits.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError
from waitress import wasyncore
from waitress.server import create_server

from .endpoint import guarded
from .settings import Mode, Settings, SettingsError, load_settings
from .slack_app import SlackApp, build_app

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Bolt's defaults for the OAuth install (multi-workspace mode): the page with the "Add to
# Slack" link, and where Slack sends the installer back with a code.
INSTALL_PATHS = ("/slack/install", "/slack/oauth_redirect")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
BIND_HOST = "0.0.0.0"  # inside a container the port is published by Docker
CONNECTION_SECONDS = 15  # an idle connection, or a request still arriving, is closed after
CHECK_EVERY_SECONDS = 1  # how often connections are checked against that (a cheap scan)
# Open connections waitress keeps; past it new ones wait in the listen backlog. Idle ones
# cost a socket, no thread; 500 stays under the 1024 open files a container may allow.
CONNECTION_LIMIT = 500
REQUESTS_DRAIN_SECONDS = 5.0  # on stop: time for requests being answered to finish

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]
_TEXT = [("Content-Type", "text/plain; charset=utf-8")]


class HttpServer:
    """waitress on one port, run by `serve_forever` until `shutdown`."""

    def __init__(
        self,
        application: WsgiApp,
        host: str,
        port: int,
        *,
        threads: int,
        max_request_bytes: int,
        connection_seconds: int = CONNECTION_SECONDS,
    ):
        self._map: dict = {}  # waitress's socket map: the listener, its trigger, connections
        self._server = create_server(
            application,
            map=self._map,
            host=host,
            port=port,
            threads=threads,
            max_request_body_size=max_request_bytes,
            channel_timeout=connection_seconds,
            cleanup_interval=CHECK_EVERY_SECONDS,
            connection_limit=CONNECTION_LIMIT,
            ident="sccm-triage",
            expose_tracebacks=False,
        )
        self._close_stalled_requests(connection_seconds)
        self._stop = threading.Event()
        self._stopped = threading.Event()

    def _close_stalled_requests(self, seconds: int) -> None:
        """waitress closes a connection idle for `channel_timeout`, but a byte now and
        then counts as activity, so a request trickled in (slowloris) would hold its
        connection for ever. Its periodic maintenance is extended: a request that has
        not fully arrived `seconds` after it started is dropped with its connection."""
        server = self._server
        idle_check = server.maintenance
        started: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

        def maintenance(now: float) -> None:
            idle_check(now)
            for channel in list(server.active_channels.values()):
                arriving = channel.request  # the request being read; None between requests
                if arriving is None:
                    continue
                since = started.setdefault(arriving, now)
                if now - since > seconds:
                    log.info("closed a connection whose request took over %s s to arrive", seconds)
                    channel.will_close = True

        server.maintenance = maintenance

    @property
    def server_address(self) -> tuple[str, int]:
        return self._server.effective_host, int(self._server.effective_port)

    def serve_forever(self, poll_interval: float = 0.2) -> None:
        """Answer requests until `shutdown` (or `request_stop`); then stop accepting and
        let the requests being answered finish."""
        try:
            while not self._stop.is_set():
                wasyncore.loop(timeout=poll_interval, map=self._map, count=1)
            wasyncore.dispatcher.close(self._server)  # the listening socket only
            until = time.monotonic() + REQUESTS_DRAIN_SECONDS
            while self._busy() and time.monotonic() < until:
                wasyncore.loop(timeout=0.05, map=self._map, count=1)
        finally:
            self._server.task_dispatcher.shutdown(timeout=1)
            wasyncore.close_all(self._map)
            self._stopped.set()

    def _busy(self) -> bool:
        """A connection has a request in hand or an answer not yet sent."""
        return any(
            getattr(channel, "requests", None) or getattr(channel, "total_outbufs_len", 0)
            for channel in list(self._map.values())
        )

    def request_stop(self) -> None:
        """Safe from a signal handler: the loop notices within one poll interval."""
        self._stop.set()

    def shutdown(self) -> None:
        self._stop.set()
        self._stopped.wait(REQUESTS_DRAIN_SECONDS + 5)

    def server_close(self) -> None:
        """Everything is closed when serve_forever returns; kept for symmetry."""


def wsgi_app(
    events: WsgiApp | None,
    healthy: Callable[[], bool],
    *,
    database: Callable[[], str | None] | None = None,
    installs: WsgiApp | None = None,
) -> WsgiApp:
    """/healthz answered here: 503 when Slack is not connected (Socket Mode) or the
    database does not answer (`database` says why), so a load balancer sends requests
    only to replicas that can keep what they accept. /slack/events goes to `events` (Bolt
    behind its guard); the install pages to `installs` (Bolt's OAuth flow, which checks
    its own state parameter and cookie); anything else is 404."""

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == HEALTH_PATH and environ["REQUEST_METHOD"] in ("GET", "HEAD"):
            if not healthy():
                start_response("503 Service Unavailable", _TEXT)
                return [b"not connected to Slack\n"]
            problem = database() if database is not None else None
            if problem is not None:
                start_response("503 Service Unavailable", _TEXT)
                return [f"database unreachable: {problem}\n".encode()]
            start_response("200 OK", _TEXT)
            return [b"ok\n" if database is None else b"ok\ndatabase: reachable\n"]
        if events is not None and path == EVENTS_PATH:
            return events(environ, start_response)
        if installs is not None and path in INSTALL_PATHS and environ["REQUEST_METHOD"] == "GET":
            return installs(environ, start_response)
        start_response("404 Not Found", _TEXT)
        return [b"Not Found\n"]

    return application


def listen(
    application: WsgiApp,
    host: str,
    port: int,
    *,
    threads: int = 4,
    max_request_bytes: int = 1 << 20,
    connection_seconds: int = CONNECTION_SECONDS,
) -> HttpServer:
    """A bound server; a port in use becomes a SettingsError naming --port."""
    try:
        return HttpServer(
            application,
            host,
            port,
            threads=threads,
            max_request_bytes=max_request_bytes,
            connection_seconds=connection_seconds,
        )
    except OSError as problem:
        raise SettingsError(f"cannot listen on port {port} ({problem}); pass --port N") from None


def http_server(slack_app: SlackApp, host: str, port: int) -> HttpServer:
    """The HTTP server of `sccm serve --http`; port 0 picks a free one (tests)."""
    settings = slack_app.services.settings
    assert settings.slack_signing_secret is not None  # load_settings checked it for HTTP
    bolt = SlackRequestHandler(slack_app.bolt, path=EVENTS_PATH)
    events = guarded(
        bolt, settings.slack_signing_secret.get_secret_value(), settings.max_request_bytes
    )
    store = slack_app.services.store
    return listen(
        wsgi_app(
            events,
            healthy=lambda: True,
            database=store.reachable,
            installs=bolt if slack_app.bolt.oauth_flow is not None else None,
        ),
        host,
        port,
        threads=settings.sccm_bot_http_threads,
        max_request_bytes=settings.max_request_bytes,
        connection_seconds=settings.sccm_bot_http_timeout_seconds,
    )


def _serve_http(slack_app: SlackApp, host: str, port: int, stop: threading.Event) -> None:
    server = http_server(slack_app, host, port)
    threading.Thread(target=_relay, args=(stop, server), daemon=True).start()
    log.info("listening on port %s: POST %s, GET %s", port, EVENTS_PATH, HEALTH_PATH)
    server.serve_forever()


def _relay(stop: threading.Event, server: HttpServer) -> None:
    stop.wait()
    server.request_stop()


def _serve_socket(
    slack_app: SlackApp, settings: Settings, host: str, port: int, stop: threading.Event
) -> None:
    assert settings.slack_app_token is not None  # load_settings checked it for this mode
    handler = SocketModeHandler(slack_app.bolt, settings.slack_app_token.get_secret_value())
    health = listen(
        wsgi_app(
            None,
            healthy=handler.client.is_connected,
            database=slack_app.services.store.reachable,
        ),
        host,
        port,
    )
    threading.Thread(target=health.serve_forever, name="healthz", daemon=True).start()
    try:
        try:
            handler.connect()
        except SlackApiError as problem:
            error = problem.response.get("error", "unknown_error")
            raise SettingsError(f"Slack refused SLACK_APP_TOKEN ({error})") from None
        log.info("connected in Socket Mode; health check on port %s%s", port, HEALTH_PATH)
        while not stop.wait(0.5):  # the Socket Mode client works on its own threads
            pass
    finally:
        handler.close()
        health.shutdown()


def _stop_on_signals(stop: threading.Event) -> None:
    """`docker stop` sends SIGTERM, a terminal Ctrl-C: both ask for the graceful stop."""

    def request_stop(signum, _frame):
        log.info("%s received: stopping", signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)


def main(mode: Mode | None, port: int, host: str = BIND_HOST) -> int:
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
    stop = threading.Event()
    _stop_on_signals(stop)
    try:
        if mode == "http":
            _serve_http(slack_app, host, port, stop)
        else:
            _serve_socket(slack_app, settings, host, port, stop)
    except SettingsError as problem:
        slack_app.close(deadline=0)
        print(f"error: {problem}", file=sys.stderr)
        return 2
    deadline = settings.sccm_bot_stop_seconds
    log.info("stopped taking requests; giving running analyses up to %s s", deadline)
    unfinished = slack_app.close(deadline=deadline)
    if unfinished:
        # Their users were told; the analyses' threads cannot be interrupted, so leave now.
        log.warning("%d analyses were still running; their users were told", unfinished)
        logging.shutdown()
        os._exit(0)
    log.info("stopped")
    return 0
