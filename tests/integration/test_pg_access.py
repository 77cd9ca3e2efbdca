"""Credentials and the disclosure log in PostgreSQL against a real server: one hash chain for
every node, committed before the answer leaves, the audit commands and every kind of tampering,
the documented grants, an outage (503 for disclosures, recovery without a restart), a killed
node, and the move from a data directory."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from access import chain, credentials, disclosures, pgdb, pglog
from access.credentials import CredentialStore
from access.pglog import PgDisclosureLog
from access.service import AuthorizedAccess, build, open_database
from access.settings import AuthSettings
from escrow import pg_import
from rdds import cli, service
from rdds.config import Settings
from redaction.policy import Requester, default_policy
from registry.errors import Unavailable
from replica import open as replica_open
from replica import pg_schema
from tests.integration import processes
from tests.pgserver import PgServer, new_database

LE = "law-enforcement"
CRIME = "criminalInvestigationAndDNSAbuse"
DISCLOSING = "/domain/example.org"  # the registrant's name is withheld from the public
REGISTRANT = "Dara Ashdown"
REQUESTER = Requester(LE, CRIME, "cred-test", "Example Police")


@pytest.fixture
async def db(pg_server: PgServer) -> str:
    """A fresh database with the schema (replica and access tables), no rows."""
    url = await new_database(pg_server)
    await pg_schema.create_url(url)
    return url


@pytest.fixture
async def replica_db(pg_server: PgServer, demo_replica: Path) -> str:
    """A fresh database holding the demo replica (and the access tables)."""
    url = await new_database(pg_server)
    await pg_import.load(url, demo_replica)
    return url


def rdds(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def arun(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`rdds ARGV` in a thread (the command runs its own event loop)."""
    code = await asyncio.to_thread(cli.main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def issue(capsys: pytest.CaptureFixture[str], url: str, tier: str = LE) -> tuple[str, str]:
    """`rdds credential add --replica URL`: (id, token)."""
    code, out, err = await arun(
        capsys,
        "credential",
        "add",
        "--replica",
        url,
        "--tier",
        tier,
        "--org",
        "Example Police",
        "--purposes",
        CRIME,
    )
    assert code == 0, err
    return out.split()[1].rstrip(":"), out.strip().splitlines()[-1].split()[-1]


def node_settings(replica: Path | str, **auth: Any) -> Settings:
    settings = Settings(replica=replica_open.parse(str(replica)), auth=AuthSettings(**auth))
    return replace(
        settings,
        rdap=replace(settings.rdap, port=0),
        whois=replace(settings.whois, enabled=False),
        metrics=replace(settings.metrics, port=0),
    )


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(
    http: aiohttp.ClientSession, port: int, path: str, token: str | None = None
) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.get(f"http://127.0.0.1:{port}{path}", headers=headers) as resp:
        return resp.status, await resp.read()


async def records(url: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT record FROM disclosure ORDER BY seq")
    finally:
        await conn.close()
    return [json.loads(r["record"]) for r in rows]


async def write_log(url: str, n: int) -> None:
    """`n` records appended through the node's own log class."""
    pool = await pgdb.create_pool(url, 2)
    try:
        log = PgDisclosureLog(pool, "test")
        for i in range(n):
            await log.append(disclosure(i))
    finally:
        await pool.close()


def disclosure(i: int) -> chain.Disclosure:
    return chain.Disclosure(
        time=dt.datetime(2026, 11, 1 + i, 12, tzinfo=dt.UTC),
        credential="cred-test",
        organisation="Example Police",
        tier=LE,
        purpose=CRIME,
        issuer=None,
        object=f"domain/d{i}.org",
        fields=("Registrant Name",),
        body_sha256=hashlib.sha256(str(i).encode()).hexdigest(),
    )


async def superuser(url: str, *sql: str) -> None:
    """Run statements as the owner with the triggers off (what a tamperer would do)."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET session_replication_role = replica")
        for statement in sql:
            await conn.execute(statement)
    finally:
        await conn.close()


# --- schema and the commands ---------------------------------------------------------------


async def test_db_init_starts_the_shared_log_once(
    pg_server: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = await new_database(pg_server)
    assert (await arun(capsys, "db", "init", "--replica", url))[0] == 0
    code, out, _ = await arun(capsys, "audit", "verify", "--replica", url)
    assert code == 0 and out == f"ok: 0 record(s), head {chain.GENESIS}\n"
    await write_log(url, 2)
    assert (await arun(capsys, "db", "init", "--replica", url))[0] == 0  # again: kept
    code, out, _ = await arun(capsys, "audit", "verify", "--replica", url)
    assert code == 0 and out.startswith("ok: 2 record(s)")
    # A deleted head row is evidence: neither init nor an import writes a new one.
    await superuser(url, "DELETE FROM disclosure_head")
    assert (await arun(capsys, "db", "init", "--replica", url))[0] == 0
    code, out, _ = await arun(capsys, "audit", "verify", "--replica", url)
    assert code == 1 and "FAILED: the log's head row (disclosure_head) is missing" in out


async def test_audit_on_a_database_without_the_tables_is_one_line(
    pg_server: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = await new_database(pg_server)
    code, out, err = await arun(capsys, "audit", "verify", "--replica", url)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "run rdds db init" in err
    bad = f"postgresql://rdds:secret@127.0.0.1:{pg_server.port}/no_such_db"
    code, _, err = await arun(capsys, "credential", "list", "--replica", bad)
    assert code == 2 and err.count("\n") == 1 and "no_such_db" in err and "secret" not in err
    code, _, err = await arun(capsys, "audit", "verify", "--replica", "/some/file.sqlite")
    assert code == 2 and "expected a postgresql:// URL" in err


async def test_credential_commands_write_to_the_database(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cred_id, token = await issue(capsys, db)
    code, out, _ = await arun(capsys, "credential", "list", "--replica", db)
    assert code == 0 and cred_id in out and "Example Police" in out and token not in out
    # The environment picks the database as `rdds serve` does: a PostgreSQL RDDS_REPLICA.
    monkeypatch.setenv("RDDS_REPLICA", db)
    monkeypatch.setenv("RDDS_DATA_DIR", str(tmp_path / "unused"))
    code, out, _ = await arun(capsys, "credential", "revoke", cred_id)
    assert code == 0 and f"credential {cred_id} revoked at " in out
    assert not (tmp_path / "unused").exists()
    conn = await asyncpg.connect(db)
    try:
        row = await conn.fetchrow("SELECT * FROM credential WHERE id = $1", cred_id)
    finally:
        await conn.close()
    assert row["revoked"] is not None and row["token_sha256"] != token  # the hash, not the token
    code, _, err = await arun(capsys, "credential", "revoke", "cred-nosuch")
    assert code == 2 and "no credential with id cred-nosuch" in err


# --- one chain for every node --------------------------------------------------------------


async def test_two_nodes_on_one_database_write_one_chain(
    replica_db: str, http: aiohttp.ClientSession, capsys: pytest.CaptureFixture[str]
) -> None:
    _, token = await issue(capsys, replica_db)
    settings = node_settings(replica_db)
    nodes = [await service.start(settings), await service.start(settings)]
    try:
        ports = [n.rdap_port for n in nodes]
        paths = [DISCLOSING, "/entity/EXORG-1", "/domain/consent.org"]
        jobs = [get(http, ports[i % 2], paths[i % 3], token) for i in range(40)]
        answers = await asyncio.gather(*jobs)
        assert all(status == 200 for status, _ in answers)
        assert all(REGISTRANT.encode() in body for status, body in answers[::3])
        # Anonymous answers on a node with the shared log stay redacted.
        status, body = await get(http, ports[0], DISCLOSING)
        assert status == 200 and REGISTRANT.encode() not in body
    finally:
        for node in nodes:
            await node.close()
    code, out, _ = await arun(capsys, "audit", "verify", "--replica", replica_db)
    assert code == 0 and out.startswith("ok: 40 record(s), head ")
    logged = await records(replica_db)
    assert sorted(r["body_sha256"] for r in logged) == sorted(
        hashlib.sha256(body).hexdigest() for _, body in answers
    )
    code, head, _ = await arun(capsys, "audit", "head", "--replica", replica_db)
    assert code == 0 and head.strip() == logged[-1]["hash"]
    code, out, _ = await arun(
        capsys, "audit", "verify", "--replica", replica_db, "--expect-head", logged[9]["hash"]
    )
    assert code == 0 and "the expected head is record 10" in out
    code, out, _ = await arun(capsys, "audit", "export", "--replica", replica_db)
    assert code == 0 and [json.loads(x) for x in out.splitlines()] == logged
    code, out, _ = await arun(capsys, "audit", "report", "--replica", replica_db)
    assert code == 0 and re.search(rf"{LE}\s+{CRIME}\s+40\n", out)


async def test_a_revocation_reaches_every_node_at_once(
    replica_db: str, http: aiohttp.ClientSession, capsys: pytest.CaptureFixture[str]
) -> None:
    cred_id, token = await issue(capsys, replica_db)
    settings = node_settings(replica_db)
    nodes = [await service.start(settings), await service.start(settings)]
    try:
        for node in nodes:
            assert (await get(http, node.rdap_port, DISCLOSING, token))[0] == 200
        assert (await arun(capsys, "credential", "revoke", "--replica", replica_db, cred_id))[
            0
        ] == 0
        for node in nodes:  # no reload, no restart
            status, body = await get(http, node.rdap_port, DISCLOSING, token)
            assert status == 401 and REGISTRANT.encode() not in body
    finally:
        for node in nodes:
            await node.close()


async def test_commits_are_durable_even_where_the_server_turned_them_off(db: str) -> None:
    conn = await asyncpg.connect(db)
    try:
        assert await conn.fetchval("SHOW synchronous_commit") == "off"  # the test cluster's
        async with conn.transaction():
            await conn.fetchrow(pglog.HEAD_SQL)
            assert await conn.fetchval("SHOW synchronous_commit") == "on"
    finally:
        await conn.close()


async def test_the_audit_commands_read_the_log_page_by_page(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pglog, "PAGE", 4)
    await write_log(db, 10)
    code, out, _ = await arun(capsys, "audit", "verify", "--replica", db)
    assert code == 0 and out.startswith("ok: 10 record(s)")
    code, out, _ = await arun(capsys, "audit", "export", "--replica", db, "--since", "2026-11-05")
    assert code == 0 and [json.loads(x)["seq"] for x in out.splitlines()] == list(range(5, 11))


# --- tampering -----------------------------------------------------------------------------


def _rehashed(record: dict[str, Any]) -> str:
    record = {**record, "organisation": "Example Polite"}
    record["hash"] = chain.record_hash(record)
    return chain.canonical(record).decode("ascii")


async def _forged_seventh(url: str) -> str:
    last = (await records(url))[-1]
    record = chain.make_record(disclosure(7), 7, last["hash"])
    text = chain.canonical(record).decode("ascii")
    return f"INSERT INTO disclosure VALUES (7, '{text}')"


@pytest.mark.parametrize(
    ("kind", "words", "continues"),
    [
        ("edit", "FAILED at row 3: record 3: its content does not match its hash (edited)", True),
        ("rehash", "FAILED at row 4: record 4: does not chain to record 3", True),
        ("delete middle", "FAILED at row 3: expected record 3, found record 4 (record 3 del", True),
        ("truncate", "FAILED at row 6: the log ends at record 5 but the anchor counts 6", False),
        ("reorder", "FAILED at row 3: expected record 3, found record 4", True),
        ("renumber", "FAILED at row 6: row 6: its key is not its record's seq", False),
        ("forge", "FAILED: the anchor counts 6 of 7 records", False),
        ("reset head", "FAILED: the anchor counts 0 of 6 records", False),
        ("delete head", "FAILED: the log's head row (disclosure_head) is missing", False),
    ],
)
async def test_tampering_is_detected_and_never_continued(
    db: str, capsys: pytest.CaptureFixture[str], kind: str, words: str, continues: bool
) -> None:
    await write_log(db, 6)
    logged = await records(db)
    sql = {
        "edit": "UPDATE disclosure SET record = replace(record, 'Police', 'Polite') WHERE seq = 3",
        "rehash": f"UPDATE disclosure SET record = '{_rehashed(logged[2])}' WHERE seq = 3",
        "delete middle": "DELETE FROM disclosure WHERE seq = 3",
        "truncate": "DELETE FROM disclosure WHERE seq = 6",
        "reorder": "UPDATE disclosure SET record = CASE seq WHEN 3 THEN "
        f"'{chain.canonical(logged[3]).decode()}' ELSE '{chain.canonical(logged[2]).decode()}' "
        "END WHERE seq IN (3, 4)",
        "renumber": "UPDATE disclosure SET seq = 60 WHERE seq = 6",
        "forge": await _forged_seventh(db),
        "reset head": f"UPDATE disclosure_head SET count = 0, head = '{chain.GENESIS}'",
        "delete head": "DELETE FROM disclosure_head",
    }[kind]
    await superuser(db, sql)
    code, out, _ = await arun(capsys, "audit", "verify", "--replica", db)
    assert code == 1 and out.startswith(words), out
    pool = await pgdb.create_pool(db, 1)
    try:
        log = PgDisclosureLog(pool, "test")
        if continues:  # a node checks the tail only, as with the file log
            await log.append(disclosure(9))
        else:
            with pytest.raises(Unavailable):
                await log.append(disclosure(9))
    finally:
        await pool.close()


async def test_the_log_is_append_only_for_its_owner_too(db: str) -> None:
    await write_log(db, 2)
    conn = await asyncpg.connect(db)
    try:
        for sql in (
            "UPDATE disclosure SET record = record WHERE seq = 1",
            "DELETE FROM disclosure WHERE seq = 2",
            "TRUNCATE disclosure",
            "UPDATE disclosure_head SET count = 1",
            "DELETE FROM disclosure_head",
        ):
            with pytest.raises(asyncpg.RaiseError):
                await conn.execute(sql)
    finally:
        await conn.close()
    assert len(await records(db)) == 2


# --- the serving role's grants (docs/scale-out.md) -----------------------------------------

GRANTS = """
GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};
GRANT INSERT ON disclosure TO {role};
GRANT UPDATE ON disclosure_head TO {role};
"""


async def test_the_documented_grants_are_enough_for_a_node_and_no_more(
    replica_db: str, http: aiohttp.ClientSession, capsys: pytest.CaptureFixture[str]
) -> None:
    _, token = await issue(capsys, replica_db)
    role = f"node_{uuid.uuid4().hex[:8]}"
    await superuser(replica_db, f"CREATE ROLE {role} LOGIN", GRANTS.format(role=role))
    node_url = replica_db.replace("//rdds@", f"//{role}@")
    node = await service.start(node_settings(node_url))
    try:
        status, body = await get(http, node.rdap_port, DISCLOSING, token)
        assert status == 200 and REGISTRANT.encode() in body
    finally:
        await node.close()
    assert len(await records(replica_db)) == 1
    conn = await asyncpg.connect(node_url)
    try:
        for sql in (
            "DELETE FROM disclosure",
            "UPDATE disclosure SET record = ''",
            "DELETE FROM disclosure_head",
            "UPDATE credential SET revoked = NULL",
            "INSERT INTO credential VALUES ('x', 't', 'o', 'p', 'c', NULL, NULL, 'h')",
            "DELETE FROM domain",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(sql)
    finally:
        await conn.close()


async def test_an_append_the_database_refuses_is_503_and_nothing_is_sent(
    replica_db: str, http: aiohttp.ClientSession, capsys: pytest.CaptureFixture[str]
) -> None:
    _, token = await issue(capsys, replica_db)
    role = f"node_{uuid.uuid4().hex[:8]}"
    await superuser(
        replica_db,
        f"CREATE ROLE {role} LOGIN",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",  # no INSERT on the log
    )
    node = await service.start(node_settings(replica_db.replace("//rdds@", f"//{role}@")))
    try:
        status, body = await get(http, node.rdap_port, DISCLOSING, token)
        assert status == 503 and REGISTRANT.encode() not in body
        assert b"nothing was disclosed" in body
    finally:
        await node.close()
    assert await records(replica_db) == []


# --- outages -------------------------------------------------------------------------------


async def _until(http: aiohttp.ClientSession, port: int, token: str | None, want: int) -> int:
    status = 0
    for _ in range(100):  # the pooled connections were stale: the first tries may fail
        status, _ = await get(http, port, DISCLOSING, token)
        if status == want:
            break
        await asyncio.sleep(0.1)
    return status


async def test_an_outage_refuses_disclosures_keeps_local_answers_and_recovers(
    pg_server: PgServer,
    db: str,
    demo_replica: Path,
    http: aiohttp.ClientSession,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A node reading its own replica (here a SQLite file; a standby likewise) with the log on
    the primary: while the primary is down, disclosures get 503 and anonymous answers go on."""
    _, token = await issue(capsys, db)
    node = await service.start(node_settings(demo_replica, database=db))
    try:
        port = node.rdap_port
        assert (await get(http, port, DISCLOSING, token))[0] == 200
        pg_server.stop("fast")
        try:
            status, body = await get(http, port, DISCLOSING, token)
            assert status == 503 and REGISTRANT.encode() not in body
            status, body = await get(http, port, DISCLOSING)
            assert status == 200 and REGISTRANT.encode() not in body
        finally:
            pg_server.start()
        assert await _until(http, port, token, 200) == 200  # the same node, not restarted
    finally:
        await node.close()
    code, out, _ = await arun(capsys, "audit", "verify", "--replica", db)
    assert code == 0 and out.startswith("ok: 2 record(s)")


async def test_an_outage_of_the_only_server_is_503_for_all_then_recovers(
    pg_server: PgServer,
    replica_db: str,
    http: aiohttp.ClientSession,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Replica and log in one server: while it is down nothing can be answered."""
    _, token = await issue(capsys, replica_db)
    node = await service.start(node_settings(replica_db))
    try:
        port = node.rdap_port
        pg_server.stop("fast")
        try:
            assert (await get(http, port, DISCLOSING, token))[0] == 503
            assert (await get(http, port, "/domain/nosuchname.coop"))[0] == 503
        finally:
            pg_server.start()
        assert await _until(http, port, None, 200) == 200
        assert await _until(http, port, token, 200) == 200
    finally:
        await node.close()
    assert len(await records(replica_db)) == 1


async def test_a_node_starts_while_the_log_database_is_away(
    demo_replica: Path, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    away = f"postgresql://rdds:secret@127.0.0.1:{processes.free_port()}/rdds"
    with caplog.at_level(logging.ERROR):
        node = await service.start(node_settings(demo_replica, database=away))
    try:
        assert "cannot connect" in caplog.text and "secret" not in caplog.text
        status, body = await get(http, node.rdap_port, DISCLOSING, "rdds_" + "x" * 43)
        assert status == 503 and b"secret" not in body
        assert (await get(http, node.rdap_port, DISCLOSING))[0] == 200
    finally:
        await node.close()


# --- a killed node -------------------------------------------------------------------------

_RDAP_LINE = re.compile(r"rdds: RDAP on http://\S+:(\d+)/")


def _spawn(url: str, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rdds", "serve", "--replica", url, "--rdap-port", "0"],
            cwd=processes.ROOT,
            env=processes.environment({"RDDS_WHOIS_PORT": "0"}),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + processes.START_SECONDS
    while (m := _RDAP_LINE.search(log.read_text(errors="replace"))) is None:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"rdds serve did not start: {log.read_text(errors='replace')}")
        time.sleep(0.05)
    return proc, int(m.group(1))


async def test_killing_a_node_loses_nothing_committed(
    replica_db: str, tmp_path: Path, http: aiohttp.ClientSession, capsys: pytest.CaptureFixture[str]
) -> None:
    _, token = await issue(capsys, replica_db)
    victim, victim_port = await asyncio.to_thread(_spawn, replica_db, tmp_path / "a.log")
    survivor, survivor_port = await asyncio.to_thread(_spawn, replica_db, tmp_path / "b.log")
    sent: list[bytes] = []
    victim_answers = asyncio.Event()

    async def worker(port: int, rounds: int) -> None:
        for _ in range(rounds):
            try:
                status, body = await get(http, port, DISCLOSING, token)
            except aiohttp.ClientError:
                return  # the node is gone: this request got no answer
            assert status == 200
            sent.append(body)
            if port == victim_port and len(sent) >= 8:
                victim_answers.set()

    try:
        jobs = [asyncio.create_task(worker(victim_port, 1000)) for _ in range(3)]
        jobs += [asyncio.create_task(worker(survivor_port, 15)) for _ in range(3)]
        await victim_answers.wait()
        victim.send_signal(signal.SIGKILL)  # mid-load: appends in flight are cut off
        await asyncio.gather(*jobs)
        after = await get(http, survivor_port, DISCLOSING, token)  # the chain goes on
        assert after[0] == 200
        sent.append(after[1])
    finally:
        victim.kill()
        victim.wait()
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(timeout=30) == 0
    code, out, _ = await arun(capsys, "audit", "verify", "--replica", replica_db)
    assert code == 0, out
    logged = {r["body_sha256"] for r in await records(replica_db)}
    # Every answer that left was recorded first (a record whose answer the kill cut off may
    # stay: the log may over-record, never under-record).
    assert {hashlib.sha256(body).hexdigest() for body in sent} <= logged
    assert len(await records(replica_db)) >= len(sent)


# --- moving from a data directory ----------------------------------------------------------


async def test_a_data_directory_moves_into_the_database_and_its_chain_goes_on(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    disclosures.set_up(data)
    cred, token = credentials.issue(LE, "Example Police", (CRIME,), dt.datetime.now(dt.UTC))
    CredentialStore(data).add(cred)
    file_access = build(AuthSettings(data_dir=data), default_policy())
    for _ in range(3):
        await file_access.record(REQUESTER, "domain/example.org", ("Registrant Name",), b"{}")
    code, noted, _ = await arun(capsys, "audit", "head", "--data-dir", str(data))
    assert code == 0

    code, out, _ = await arun(
        capsys, "credential", "import", "--data-dir", str(data), "--replica", db
    )
    assert code == 0 and out == "credential import: 1 added, 0 already there\n"
    code, out, _ = await arun(capsys, "audit", "import", "--data-dir", str(data), "--replica", db)
    assert code == 0 and out.startswith("audit import: imported 3 record(s)")
    code, out, _ = await arun(
        capsys, "audit", "verify", "--replica", db, "--expect-head", noted.strip()
    )
    assert code == 0 and "the expected head is record 3" in out
    # Both again: nothing changes.
    code, out, _ = await arun(
        capsys, "credential", "import", "--data-dir", str(data), "--replica", db
    )
    assert code == 0 and out == "credential import: 0 added, 1 already there\n"
    code, out, _ = await arun(capsys, "audit", "import", "--data-dir", str(data), "--replica", db)
    assert code == 0 and "already imported: 3 record(s)" in out

    # The old token works against the database, and the chain continues after record 3.
    shared = await open_database(db, AuthSettings(), default_policy())
    try:
        who = await shared.identify([f"Bearer {token}"], [])
        await shared.record(who, "domain/example.org", ("Registrant Name",), b"{}")
    finally:
        await shared.close()
    logged = await records(db)
    assert [r["seq"] for r in logged] == [1, 2, 3, 4] and logged[3]["credential"] == cred.id
    # A file log cannot be merged into a log that has moved on.
    await file_access.record(REQUESTER, "domain/example.org", ("Registrant Name",), b"{}")
    code, _, err = await arun(capsys, "audit", "import", "--data-dir", str(data), "--replica", db)
    assert code == 2 and "already holds 4 record(s)" in err


async def test_a_broken_file_log_is_not_imported(db: str, tmp_path: Path, capsys: Any) -> None:
    data = tmp_path / "data"
    disclosures.set_up(data)
    file_access = build(AuthSettings(data_dir=data), default_policy())
    for _ in range(2):
        await file_access.record(REQUESTER, "domain/example.org", ("Registrant Name",), b"{}")
    log_file = data / disclosures.LOG
    log_file.write_bytes(log_file.read_bytes().replace(b"Police", b"Polite", 1))
    code, _, err = await arun(capsys, "audit", "import", "--data-dir", str(data), "--replica", db)
    assert code == 2 and "does not verify" in err and "nothing was imported" in err
    assert await records(db) == []


# --- the access layer on its own -----------------------------------------------------------


async def test_reload_checks_the_stored_tiers_in_the_background(
    db: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    cred_id, _ = await issue(capsys, db, tier="auditor")
    access = await open_database(db, AuthSettings(), default_policy())
    try:
        assert isinstance(access, AuthorizedAccess)
        with caplog.at_level(logging.WARNING):
            access.reload(default_policy())
            for _ in range(100):
                if cred_id in caplog.text:
                    break
                await asyncio.sleep(0.05)
        assert f"credential {cred_id} has tier 'auditor'" in caplog.text
    finally:
        await access.close()


async def test_missing_tables_fail_closed_with_one_line(
    pg_server: PgServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = await new_database(pg_server)
    with caplog.at_level(logging.ERROR):
        access = await open_database(url, AuthSettings(), default_policy())
    try:
        assert "run rdds db init" in caplog.text
        with pytest.raises(Unavailable):
            await access.identify(["Bearer rdds_" + "x" * 43], [])
        with pytest.raises(Unavailable):
            await access.record(REQUESTER, "domain/example.org", ("Registrant Name",), b"{}")
    finally:
        await access.close()


async def test_rows_keyed_zero_or_below_are_refused_and_found(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN records 1..3 THEN a row keyed 0 or below cannot be inserted (CHECK), and one in
    a log whose table predates the check is found by verify (it pages from BIGINT's least
    key). Mutation: page from 0 again in `rows_in_thread` -> verify says ok."""
    await write_log(db, 3)
    with pytest.raises(asyncpg.CheckViolationError):
        await superuser(db, "INSERT INTO disclosure VALUES (0, 'forged')")
    await superuser(
        db,
        "ALTER TABLE disclosure DROP CONSTRAINT disclosure_seq_positive",
        "INSERT INTO disclosure VALUES (-5, 'forged')",
    )
    code, out, _ = await arun(capsys, "audit", "verify", "--replica", db)
    assert code == 1 and out.startswith("FAILED"), out


async def test_appends_do_not_fail_where_the_server_defaults_to_repeatable_read(
    db: str,
) -> None:
    """GIVEN a database whose default isolation is REPEATABLE READ THEN concurrent appends
    still all succeed (each append reads the head under READ COMMITTED, as the row lock
    needs). Mutation: conn.transaction() without isolation -> serialization failures, 503."""
    name = db.rsplit("/", 1)[-1]
    await superuser(
        db, f"ALTER DATABASE {name} SET default_transaction_isolation = 'repeatable read'"
    )
    pool = await pgdb.create_pool(db, 4)
    try:
        log = PgDisclosureLog(pool, "test")
        await asyncio.gather(*(log.append(disclosure(i % 20)) for i in range(16)))
    finally:
        await pool.close()
    assert len(await records(db)) == 16


async def test_a_malformed_auth_database_url_is_one_config_error() -> None:
    """GIVEN `[auth] database` with a port that is not a number THEN one ConfigError naming
    the database without its password (asyncpg parses the URL only at the first connection).
    Mutation: drop the ValueError branch -> 'unexpected error (ValueError)'."""
    from access import service as access_service
    from redaction.policy import default_policy
    from registry.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        await access_service.open_database(
            "postgresql://node:s3cr3t@db.example:notaport/rdds", AuthSettings(), default_policy()
        )
    assert "auth database postgresql://node@db.example:notaport/rdds" in caught.value.message
    assert "s3cr3t" not in caught.value.message
