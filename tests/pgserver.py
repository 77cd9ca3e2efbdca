"""A real PostgreSQL server for tests: initdb in a temporary directory, pg_ctl start on a free
loopback port, as an unprivileged user when the tests run as root (postgres refuses root)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

BIN_DIRS = tuple(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True))


def bin_dir() -> Path | None:
    """The newest installed server's binaries, or None."""
    for d in BIN_DIRS:
        if (d / "initdb").exists() and (d / "pg_ctl").exists():
            return d
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(slots=True)
class PgServer:
    """One running cluster; `url` connects as the superuser `rdds` to database `rdds`."""

    bindir: Path
    datadir: Path
    port: int
    user: str | None

    @property
    def url(self) -> str:
        return f"postgresql://rdds@127.0.0.1:{self.port}/rdds"

    def _run(self, *argv: str) -> None:
        cmd = list(argv)
        if self.user is not None:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]}: {done.stderr.decode(errors='replace')[-500:]}")

    def start(self) -> None:
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-l",
            str(self.datadir / "server.log"),
            "-w",
            "-o",
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir}",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop")

    def psql(self, sql: str, db: str = "rdds") -> None:
        self._run(
            str(self.bindir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "rdds",
            "-d",
            db,
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        )


def start_server(base: Path) -> PgServer:
    """initdb + start; the caller stops it."""
    bindir = bin_dir()
    assert bindir is not None
    user: str | None = None
    if os.geteuid() == 0:
        user = "postgres" if _has_user("postgres") else "nobody"
        os.chmod(base, 0o755)  # the unprivileged user must reach the directory
    datadir = base / "data"
    datadir.mkdir()
    if user is not None:
        pw = pwd.getpwnam(user)
        os.chown(datadir, pw.pw_uid, pw.pw_gid)
    server = PgServer(bindir, datadir, _free_port(), user)
    server._run(
        str(bindir / "initdb"),
        "-D",
        str(datadir),
        "-U",
        "rdds",
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
        "-N",
    )
    with open(datadir / "postgresql.conf", "a") as fh:
        fh.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
    server.start()
    server.psql("CREATE DATABASE rdds", db="postgres")
    return server


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
