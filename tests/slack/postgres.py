"""A real PostgreSQL 15 for the tests, started by them: initdb and pg_ctl into a temporary
folder, on a free loopback port, as an unprivileged user (PostgreSQL refuses to run as
root: when the tests run as root the server runs as `postgres` or `nobody`).

One server per test session; each test gets a database of its own (`fresh_database`).
Where the server binaries are missing the tests that need them are skipped, saying so.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

BINARIES = [Path("/usr/lib/postgresql/15/bin"), *sorted(Path("/usr/lib/postgresql").glob("*/bin"))]
SUPERUSER = "sccm"
UNPRIVILEGED = ("postgres", "nobody")
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_binaries() -> Path | None:
    """The folder with initdb and pg_ctl (PostgreSQL 15 first), or PATH's, or None."""
    for folder in BINARIES:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    return None


def _run_as() -> pwd.struct_passwd | None:
    """Who runs the server: this user unless root, else the first unprivileged user."""
    if os.geteuid() != 0:
        return None
    for name in UNPRIVILEGED:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError(f"running as root and none of the users {UNPRIVILEGED} exists")


@dataclass
class PostgresServer:
    folder: Path
    port: int
    bin: Path
    user: pwd.struct_passwd | None
    _names = itertools.count(1)

    @classmethod
    def start(cls, binaries: Path) -> PostgresServer:
        user = _run_as()
        folder = Path(tempfile.mkdtemp(prefix="sccm-postgres-"))
        if user is not None:
            os.chown(folder, user.pw_uid, user.pw_gid)
        server = cls(folder, free_port(), binaries, user)
        server._run(
            "initdb", "-D", str(folder / "data"), "-U", SUPERUSER, "-A", "trust", "--no-sync"
        )
        options = (
            f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        server._run(
            "pg_ctl",
            "-D",
            str(folder / "data"),
            "-l",
            str(folder / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            str(START_SECONDS),
            "start",
        )
        return server

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(self.bin / program), *arguments]
        if self.user is not None:
            command = ["setpriv", f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}",
                       "--clear-groups", *command]  # fmt: skip
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=self.folder, timeout=START_SECONDS + 30
        )
        if done.returncode != 0:
            log = self.folder / "server.log"
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr.strip()} "
                f"{log.read_text() if log.exists() else ''}"
            )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def fresh_database(self) -> str:
        """A new empty database; its plain postgresql:// URL."""
        import psycopg  # only where a server runs

        name = f"sccm_test_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
