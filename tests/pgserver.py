"""A real PostgreSQL server for tests: initdb in a temporary directory, pg_ctl start on a free
loopback port, as an unprivileged user when the tests run as root (postgres refuses root).
`start_standby` adds a hot standby streaming from it (`pg_basebackup -R`) on another port."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
import uuid
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

    def _run(self, *argv: str) -> str:
        cmd = list(argv)
        if self.user is not None:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]}: {done.stderr.decode(errors='replace')[-500:]}")
        return done.stdout.decode(errors="replace").strip()

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

    def psql(self, sql: str, db: str = "rdds") -> str:
        """Run `sql`; its output, unaligned and without headers (one line per row)."""
        return self._run(
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
            "-A",
            "-t",
            "-c",
            sql,
        )


def _server_user(base: Path) -> str | None:
    """The unprivileged user to run the server as (None: ourselves, not root)."""
    if os.geteuid() != 0:
        return None
    os.chmod(base, 0o755)  # the unprivileged user must reach the directory
    return "postgres" if _has_user("postgres") else "nobody"


def _data_dir(path: Path, user: str | None) -> Path:
    path.mkdir(mode=0o700)
    if user is not None:
        pw = pwd.getpwnam(user)
        os.chown(path, pw.pw_uid, pw.pw_gid)
    return path


def start_server(base: Path) -> PgServer:
    """initdb + start; the caller stops it. The cluster accepts streaming replication from
    loopback (initdb's trust rules include `replication`; wal_level is `replica`)."""
    bindir = bin_dir()
    assert bindir is not None
    user = _server_user(base)
    datadir = _data_dir(base / "data", user)
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


def start_standby(primary: PgServer, base: Path) -> PgServer:
    """A hot standby of `primary` in `base`/standby on a free port: `pg_basebackup -R` (which
    writes `standby.signal` and the `primary_conninfo` to stream from), then start. The
    caller stops it."""
    datadir = _data_dir(base / "standby", primary.user)
    standby = PgServer(primary.bindir, datadir, _free_port(), primary.user)
    standby._run(
        str(primary.bindir / "pg_basebackup"),
        "-h",
        "127.0.0.1",
        "-p",
        str(primary.port),
        "-U",
        "rdds",
        "-D",
        str(datadir),
        "-R",
        "-X",
        "stream",
        "--checkpoint=fast",
    )
    with open(datadir / "postgresql.conf", "a") as fh:
        # Replay is never cancelled for a long read here, and the primary's WAL may be
        # replayed as soon as it arrives.
        fh.write("hot_standby = on\nmax_standby_streaming_delay = -1\n")
    standby.start()
    return standby


def wait_replayed(primary: PgServer, standby: PgServer, timeout: float = 60.0) -> None:
    """Return once `standby` has replayed everything `primary` has written so far (a bounded
    wait, not a timing assertion); RuntimeError when it does not within `timeout`."""
    _wait_for(primary, standby, "pg_last_wal_replay_lsn()", timeout)


def wait_received(primary: PgServer, standby: PgServer, timeout: float = 60.0) -> None:
    """Return once `standby` has received (not necessarily replayed) everything `primary` has
    written so far: with replay paused, that is a standby lagging behind."""
    _wait_for(primary, standby, "pg_last_wal_receive_lsn()", timeout)


def _wait_for(primary: PgServer, standby: PgServer, position: str, timeout: float) -> None:
    # The insert position, not pg_current_wal_lsn() (the write position): with
    # synchronous_commit off a commit can return before its record is written, and waiting
    # for the write position would return before the standby has the commit.
    target = primary.psql("SELECT pg_current_wal_insert_lsn()", db="postgres")
    deadline = time.monotonic() + timeout
    while True:
        done = standby.psql(f"SELECT {position} >= '{target}'::pg_lsn", db="postgres")
        if done == "t":
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"standby: {position} has not reached {target}")
        time.sleep(0.05)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


async def new_database(server: PgServer, prefix: str = "t") -> str:
    """A fresh, empty database on `server` (a random name starting with `prefix`); its URL."""
    import asyncpg

    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(server.url)
    try:
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    return server.url.rsplit("/", 1)[0] + "/" + name
