"""`sccm`: the terminal face of the diagnosis core (and the launcher of the Slack app).

Exit status (CONTRACT.md section 2): 0 when the command did its job, whatever the
verdict; 2 for bad input or usage, with one `error: ` line on stderr; 1 only for bugs,
still without a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Sequence
from importlib import metadata

from knowledge import api
from knowledge.errors import InputError, SeveralMachines

from . import fleet_text, text

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
  SCCM_BOT_REDACT_IN_CHANNELS (true)       answers in channels name hosts, users and
                                           addresses as host-1, user-1, ip-1 ...; the
                                           uploader gets the real ones by DM (a button)
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
  sccm diagnose logs.zip --redact         host, user and network names masked (host-1,
                                          user-1, ip-1 ...), to paste into a ticket
  sccm diagnose logs.zip --picture j.png  also draw the journey: stages over time (PNG)
  sccm diagnose logs.zip --html r.html    also write a report for a ticket (one HTML file)
  sccm diagnose --symptom "updates stuck downloading at 0%"
  sccm fleet logs.zip                     many machines: each diagnosed, grouped by cause
  sccm fleet PC01.zip PC02/ --csv out.csv  several uploads; a CSV row per machine
  sccm fleet logs.zip --machine PC01      one machine's whole diagnosis
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


REDACT_HELP = (
    "mask host names, FQDNs, user names, profile paths, IP addresses, SIDs, UNC and URL "
    "hosts and e-mail addresses with stable tokens (host-1, user-1, ip-1 ...); verdict, "
    "stage, cause, codes, update ids, log names and times stay"
)

FLEET_DESCRIPTION = """\
Finds the machines in the uploads (a folder or zip per machine, a zip of zips, a folder of
zips, several paths, the site server's collected-files folders; two copies of
ClientIDManagerStartup.log naming different clients in one folder are reported, not
merged), diagnoses each alone exactly as `sccm diagnose` would, in parallel over the
CPUs, and groups them by verdict and cause, the largest failing group first, with each
group's shared next step.

JSON: {"machines": [{"machine", "source", "verdict", "stage", "cause", "confidence",
"summary", "error_codes", ...}], "groups": [{"verdict", "stage", "cause", "count",
"machines", "next_step", ...}], "skipped": [{"name", "reason"}]}
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
    diagnose.add_argument("--redact", action="store_true", help=REDACT_HELP)
    diagnose.add_argument(
        "--picture",
        metavar="FILE",
        help="also write a PNG of the journey: the ten stages over time in the machine's zone, "
        "successes, retries, failures with their code, each update's path",
    )
    diagnose.add_argument(
        "--html",
        metavar="FILE",
        help="also write a report for a ticket: one self-contained HTML file (verdict, stages, "
        "evidence, next steps with links, the picture, files read and skipped; prints well)",
    )

    fleet = commands.add_parser(
        "fleet",
        help="diagnose each machine in uploads holding several, grouped by cause",
        description=FLEET_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fleet.add_argument("paths", nargs="+", metavar="PATH", help=".zip, folder or log file")
    fleet.add_argument("--json", action="store_true", help="print one JSON object")
    fleet.add_argument("--redact", action="store_true", help=REDACT_HELP)
    fleet.add_argument(
        "--csv", metavar="FILE", help="also write a row per machine to FILE (- for stdout)"
    )
    fleet.add_argument(
        "--machine", metavar="NAME", help="print that one machine's whole diagnosis instead"
    )
    fleet.add_argument(
        "--full", action="store_true", help="with --machine: the whole answer, as diagnose --full"
    )

    error = commands.add_parser("error", help="look up an error code in any spelling")
    error.add_argument("code", help="0x80244010, 80244010, -2145107952 or 2149859344")
    error.add_argument("--json", action="store_true", help="print one JSON object")

    logs = commands.add_parser("logs", help="list what was read from PATH and what was skipped")
    logs.add_argument("path", help=".zip, folder or single log file")
    logs.add_argument("--json", action="store_true", help="print one JSON object")
    logs.add_argument("--redact", action="store_true", help=REDACT_HELP)

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


def _diagnosis(diagnosis, args: argparse.Namespace, hint: str | None = None) -> None:
    if args.redact:
        diagnosis = api.redact_diagnosis(diagnosis)
    if args.command == "diagnose":
        _shareables(diagnosis, args)
    if args.json:
        _emit(diagnosis, True, None)
        return
    if not args.full and hint is None:
        what = shlex.quote(args.path) if args.path else f"--symptom {shlex.quote(args.symptom)}"
        hint = f"All evidence, codes and sources: sccm diagnose {what} --full"
    console = text.console()
    if hint and (args.redact or len(hint) > console.width):
        # a long path still fits one line; a masked answer must not name the path
        hint = "All evidence, codes and sources: the same command with --full"
    text.print_diagnosis(diagnosis, console, full=args.full, more_hint=hint)


def _write(path: str, data: bytes) -> None:
    try:
        with open(path, "wb") as out:
            out.write(data)
    except OSError as problem:
        reason = problem.strerror or str(problem)
        raise InputError(
            f"cannot write {path}: {reason}; give a file in a writable folder"
        ) from None


def _shareables(diagnosis, args: argparse.Namespace) -> None:
    """--picture and --html: drawn from the diagnosis as printed (masked with --redact),
    and only then is matplotlib imported."""
    if not (args.picture or args.html):
        return
    from . import picture

    png = picture.render_png(diagnosis)
    if args.picture:
        _write(args.picture, png)
    if args.html:
        from .report import render_html

        # The upload's own name may carry a host or user name: a masked report omits it.
        name = "an upload"
        if not getattr(args, "redact", False):  # `logs/` names its folder, not ""
            name = os.path.basename(os.path.normpath(args.path)) or args.path
        _write(args.html, render_html(diagnosis, picture_png=png, source_name=name).encode())


def _fleet(args: argparse.Namespace) -> None:
    if args.machine:
        if args.csv:
            raise InputError("--csv lists every machine; leave out --machine")
        with api.open_fleet(args.paths) as fleet:
            try:
                fleet.only(args.machine)
            except InputError:
                if not args.redact:
                    raise
                # the list of machines would name them: masked, say only how to list them
                raise InputError(
                    f"no machine called {args.machine!r} in the upload (give a real machine "
                    "name: the host-N tokens of a masked answer are not names; run "
                    "`sccm fleet` without --redact to list them)"
                ) from None
            for _row, diagnosis in fleet.diagnoses(fast=api.fast_path()):
                if diagnosis is None:
                    raise InputError(f"{args.machine}: {fleet.skipped[-1].reason}")
                hint = None if args.full else "The whole answer: the same command with --full"
                _diagnosis(diagnosis, args, hint=hint)
        return
    if args.full:
        raise InputError("--full goes with --machine NAME (one machine's whole answer)")
    report = api.diagnose_fleet(args.paths)
    if args.redact:
        report = api.redact_fleet_report(report)
    if args.csv:
        _write_csv(report, args.csv)
    if args.csv == "-":
        return
    if args.json:
        _emit(report, True, None)
        return
    # Masked, the hint names no path or machine (either may be a host's name).
    quoted = "PATH..." if args.redact else " ".join(shlex.quote(path) for path in args.paths)
    first = report.machines[0].machine if report.machines and not args.redact else "NAME"
    hint = f"One machine's whole diagnosis: sccm fleet {quoted} --machine {shlex.quote(first)}"
    print(fleet_text.render_fleet(report, more_hint=hint), end="")


def _write_csv(report, destination: str) -> None:
    if destination == "-":
        fleet_text.write_csv(report.machines, sys.stdout)
        return
    try:
        with open(destination, "w", encoding="utf-8", newline="") as out:
            fleet_text.write_csv(report.machines, out)
    except OSError as problem:
        raise InputError(f"could not write {destination} ({problem.strerror})") from None


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        raise InputError("say what to do, e.g. `sccm diagnose logs.zip` (see `sccm --help`)")
    if args.command == "diagnose":
        if args.symptom is not None and args.path:
            raise InputError("give either a PATH or --symptom TEXT, not both")
        if args.symptom is not None and (args.picture or args.html):
            raise InputError(
                "--picture and --html draw what the logs show: give a PATH, not --symptom"
            )
        if args.symptom is not None:
            _diagnosis(api.diagnose_symptom(args.symptom), args)
        elif args.path:
            try:
                diagnosis = api.diagnose_path(args.path)
            except SeveralMachines as several:
                if not args.redact:
                    raise
                # its machines' names are folder and zip names, often host names
                raise InputError(
                    f"the upload holds the logs of {len(several.machines)} machines, which "
                    "one diagnosis would merge; run `sccm fleet --redact` on it to diagnose "
                    "each machine"
                ) from None
            _diagnosis(diagnosis, args)
        else:
            raise InputError(
                "say what to diagnose: `sccm diagnose logs.zip` or `sccm diagnose --symptom TEXT`"
            )
    elif args.command == "fleet":
        _fleet(args)
    elif args.command == "error":
        _emit(api.lookup_error(args.code), args.json, text.render_error)
    elif args.command == "logs":
        report = api.read_logs(args.path)
        if args.redact:
            report = api.redact_read_report(report)
        _emit(report, args.json, text.render_read_report)
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
