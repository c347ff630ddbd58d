"""`sccm`: the terminal face of the diagnosis core (and the launcher of the Slack app).

Exit status (CONTRACT.md section 2): 0 when the command did its job, whatever the
verdict; 2 for bad input or usage, with one `error: ` line on stderr; 1 only for bugs,
still without a traceback.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from importlib import metadata

from knowledge import api
from knowledge.errors import InputError

from . import text

DESCRIPTION = """\
Diagnose why software updates fail to reach a ConfigMgr (SCCM) client, from its logs or
from a description. Stage ids: client, policy, scan, evaluate, locate, download, cache,
install, reboot, report. Verdicts: failure, healthy, inconclusive.
"""

SERVE_EPILOG = """\
settings (environment; the README's "Settings" lists them all):
  SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (HTTP), SLACK_APP_TOKEN (Socket Mode)
  SCCM_BOT_WORKERS, SCCM_BOT_MAX_QUEUED   analyses at once, and waiting for a worker
  SCCM_BOT_HTTP_THREADS (16)               threads answering HTTP requests
  SCCM_BOT_MAX_REQUEST_KB (1024)           larger requests are refused (413) unread
  SCCM_BOT_AUTO_TRIAGE_CHANNELS (*)        channel ids whose uploads are read unasked
                                           (empty: opt-in); `/sccm auto on|off` per channel
  SCCM_BOT_STOP_SECONDS (8)                on SIGTERM or Ctrl-C: time running analyses
                                           get to finish; then their users are told
                                           they were stopped, and the process exits
  SCCM_BOT_DATABASE_URL                    postgresql://user@host:5432/db: replicas share
                                           work, dedupe and feedback (docs/deploy.md);
                                           unset: the SQLite file SCCM_BOT_FEEDBACK_DB
  SLACK_CLIENT_ID, SLACK_CLIENT_SECRET     many workspaces install the app at
                                           /slack/install (instead of SLACK_BOT_TOKEN)
"""

EPILOG = """\
examples:
  sccm diagnose logs.zip                  a zip of C:\\Windows\\CCM\\Logs, a folder, or one log
  sccm diagnose logs.zip --full           everything: all evidence, codes, sources, alternatives
  sccm diagnose logs.zip --json           the same, as one JSON object
  sccm diagnose --symptom "updates stuck downloading at 0%"
  sccm error 0x87D00692                   also 87d00692, -2016409966, 2278557330
  sccm error 1603                         a Win32 number up to 65535 means 0x8007XXXX
  sccm logs logs.zip                      what was read and what was skipped
  sccm stages                             the ten stages
  sccm steps scan                         the procedure for a stage (`sccm steps`: the choices)
  sccm log CTM                            what a client log records (CTM = ContentTransferManager)
  sccm script collect > collect-logs.ps1   zip a live client's logs (CCM, WU, CBS, DISM)
  sccm script clear-cache > clear-cache.ps1
  sccm serve --http --port 3000           run the Slack app (see README: settings)

environment:
  SCCM_TRIAGE_FAST=0                      read every record with its parser, no byte scans:
                                          slower, the same answer (for checking the fast path)

exit status: 0 the command did its job (whatever the verdict); 2 bad input or usage (one
'error:' line on stderr); 1 an internal bug.
"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one `error:` line (the contract's shape)."""

    def error(self, message: str):  # noqa: D102 - argparse hook
        raise InputError(f"{message} (see `{self.prog} --help`)")


def _version() -> str:
    try:
        return metadata.version("sccm-triage")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sccm",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    diagnose = commands.add_parser(
        "diagnose", help="name the failing stage from logs (PATH) or from --symptom TEXT"
    )
    diagnose.add_argument("path", nargs="?", help=".zip, folder or single log file")
    diagnose.add_argument("--symptom", metavar="TEXT", help="a typed description or error code")
    diagnose.add_argument("--json", action="store_true", help="print one JSON object")
    diagnose.add_argument(
        "--full",
        action="store_true",
        help="every evidence line, error code, step source and alternative (default: one screen)",
    )

    error = commands.add_parser("error", help="look up an error code in any spelling")
    error.add_argument("code", help="0x80244010, 80244010, -2145107952 or 2149859344")
    error.add_argument("--json", action="store_true", help="print one JSON object")

    logs = commands.add_parser("logs", help="list what was read from PATH and what was skipped")
    logs.add_argument("path", help=".zip, folder or single log file")
    logs.add_argument("--json", action="store_true", help="print one JSON object")

    commands.add_parser("stages", help="the ten pipeline stages, a line each")
    steps = commands.add_parser(
        "steps", help="the troubleshooting procedure for a stage (no STAGE: what it accepts)"
    )
    steps.add_argument("stage", nargs="?", help="stage id (e.g. scan) or procedure id")
    log = commands.add_parser(
        "log", help="what a client log records (short names and misspellings accepted)"
    )
    log.add_argument("name", help="e.g. WUAHandler.log, CTM, DTS, CAS, WUAH, UpdateDeployment")
    script = commands.add_parser("script", help="print a helper script")
    script.add_argument(
        "name",
        choices=["collect", "clear-cache"],
        help="collect: zip a live client's logs for `sccm diagnose`; "
        "clear-cache: empty ccmcache safely",
    )
    script.add_argument(
        "--vbs", action="store_true", help="the VBScript version (clear-cache only)"
    )

    serve = commands.add_parser(
        "serve",
        help="run the Slack app (settings from the environment)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=SERVE_EPILOG,
    )
    mode = serve.add_mutually_exclusive_group()
    mode.add_argument("--http", action="store_const", const="http", dest="mode", help="HTTP mode")
    mode.add_argument(
        "--socket", action="store_const", const="socket", dest="mode", help="Socket Mode"
    )
    serve.add_argument("--port", type=int, default=3000, help="HTTP port (default 3000)")
    serve.add_argument(
        "--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0: all)"
    )
    return parser


def _emit(payload, as_json: bool, render) -> None:
    if as_json:
        print(json.dumps(payload.model_dump(mode="json"), ensure_ascii=False))
    else:
        print(render(payload))


def _diagnosis(diagnosis, args: argparse.Namespace) -> None:
    if args.json:
        _emit(diagnosis, True, None)
        return
    hint = None
    if not args.full:
        what = shlex.quote(args.path) if args.path else f"--symptom {shlex.quote(args.symptom)}"
        hint = f"All evidence, codes and sources: sccm diagnose {what} --full"
    console = text.console()
    if hint and len(hint) > console.width:  # a long path: one line still says how
        hint = "All evidence, codes and sources: the same command with --full"
    text.print_diagnosis(diagnosis, console, full=args.full, more_hint=hint)


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        raise InputError("say what to do, e.g. `sccm diagnose logs.zip` (see `sccm --help`)")
    if args.command == "diagnose":
        if args.symptom is not None and args.path:
            raise InputError("give either a PATH or --symptom TEXT, not both")
        if args.symptom is not None:
            _diagnosis(api.diagnose_symptom(args.symptom), args)
        elif args.path:
            _diagnosis(api.diagnose_path(args.path), args)
        else:
            raise InputError(
                "say what to diagnose: `sccm diagnose logs.zip` or `sccm diagnose --symptom TEXT`"
            )
    elif args.command == "error":
        _emit(api.lookup_error(args.code), args.json, text.render_error)
    elif args.command == "logs":
        _emit(api.read_logs(args.path), args.json, text.render_read_report)
    elif args.command == "stages":
        print(text.render_stages())
    elif args.command == "steps":
        print(text.render_steps(args.stage) if args.stage else text.render_step_choices())
    elif args.command == "log":
        print(text.render_log(args.name))
    elif args.command == "script":
        print(text.helper_script(args.name, vbs=args.vbs), end="")
    elif args.command == "serve":
        from .serve import main as serve_main

        return serve_main(args.mode, args.port, host=args.host)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(argv)
    except InputError as problem:
        print(f"error: {problem.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0  # `sccm logs x.zip | head` closed the pipe: not our problem to report
    except Exception as bug:  # a bug: say so in one line, never a traceback
        print(
            f"error: internal error ({type(bug).__name__}: {bug}); please report it with the "
            "command you ran",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
