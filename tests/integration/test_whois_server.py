"""The port-43 responder on port 0 against a real demo SQLite replica (GIVEN/WHEN/THEN)."""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import sqlite3
from pathlib import Path

import pytest

from core.lookup import Lookup
from core.watcher import ReplicaWatcher
from redaction.policy import default_policy
from registry.errors import ReplicaError
from replica import schema
from replica.store import open_store
from tests.unit.test_whois_errors import assert_sentence
from tests.whois_support import ask, lookup, no_illegal_transitions, replica_path, running
from whois43.server import ConnectionState

__all__ = ["lookup", "no_illegal_transitions", "replica_path"]

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "whois"


async def test_domain_answer_is_the_golden_text(lookup: Lookup) -> None:
    # GIVEN a running responder, WHEN a client sends a bare name with CR LF
    server = await running(lookup)
    try:
        got = await ask(server.port, b"example.coop\r\n")
        # THEN the answer is byte-for-byte the golden file, then the server closes
        assert got == (GOLDEN / "example.coop.txt").read_bytes()
        # AND another spelling of the same query gets the same bytes
        assert await ask(server.port, b"DOMAIN Example.Coop\n") == got
    finally:
        await server.close()


def _outcomes(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The outcome of each answered query, from the responder's log lines."""
    return [r.getMessage().split(" ", 2)[2] for r in caplog.records if r.name == "rdds.whois"]


async def test_answers_are_cached_per_replica_generation(
    tmp_path: Path, replica_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Mutations that fail this: make WhoisServer.replica_changed a no-op (the old
    # generation's answers stay cached); key the cache without the generation.
    # GIVEN a responder over its own copy of the demo replica, subscribed to the watcher
    path = tmp_path / "demo.sqlite"
    shutil.copyfile(replica_path, path)
    store = await open_store(path, pool_size=1)
    lookup = Lookup(store, default_policy())
    watcher = ReplicaWatcher(lookup, every=3600)  # checked by hand below, never by time
    server = await running(lookup)
    watcher.subscribe(server.replica_changed)
    try:
        with caplog.at_level(logging.INFO, logger="rdds.whois"):
            # WHEN the same domain is asked twice THEN the first is looked up, the second is
            # answered from the cache
            first = await ask(server.port, b"example.coop\r\n")
            assert await ask(server.port, b"example.coop\r\n") == first
            assert _outcomes(caplog) == ["domain 200", "domain cached"]
            assert b"Registrar: Alder Registrar Ltd\r\n" in first
            # WHEN the replica changes under the server (a new generation, as an import does)
            with sqlite3.connect(path) as conn:
                conn.execute("UPDATE registrar SET name = 'Alder Renamed Ltd' WHERE id = 'R9100'")
                schema.bump_generation(conn, lookup.watermark)
            # THEN until the watcher notices, the cached answer is what clients get (a hit)
            assert await ask(server.port, b"example.coop\r\n") == first
            assert _outcomes(caplog)[-1] == "domain cached"
            # WHEN the watcher sees the new generation THEN the cache is emptied
            assert await watcher.check()
            assert len(server.cache) == 0
            # AND the next answer is looked up again (a miss) and shows the new data
            second = await ask(server.port, b"example.coop\r\n")
            assert b"Registrar: Alder Renamed Ltd\r\n" in second
            assert _outcomes(caplog)[-1] == "domain 200"
            # AND is cached again under the new generation
            assert await ask(server.port, b"example.coop\r\n") == second
            assert _outcomes(caplog)[-1] == "domain cached"
            assert {key[1] for key in server.cache} == {lookup.generation}
    finally:
        await server.close()
        await store.close()


async def test_idn_as_u_label_a_label_and_without_newline(lookup: Lookup) -> None:
    server = await running(lookup)
    try:
        golden = (GOLDEN / "xn--mgbh0fb.xn--mgbtx2b.txt").read_bytes()
        assert await ask(server.port, "مثال.عراق\r\n".encode()) == golden
        assert await ask(server.port, b"=xn--mgbh0fb.xn--mgbtx2b\r\n") == golden
        # A client that half-closes without a newline still gets its answer.
        assert await ask(server.port, b"xn--mgbh0fb.xn--mgbtx2b", eof=True) == golden
        assert "Internationalized Domain Name: مثال.عراق\r\n" in golden.decode()
    finally:
        await server.close()


async def test_nameserver_by_name_and_address_and_registrar(lookup: Lookup) -> None:
    server = await running(lookup)
    try:
        ns = (GOLDEN / "ns1.example.coop.txt").read_bytes()
        assert await ask(server.port, b"ns1.example.coop\r\n") == ns
        assert await ask(server.port, b"nameserver ns1.example.coop\r\n") == ns
        assert await ask(server.port, b"45.142.220.11\r\n") == ns
        assert await ask(server.port, b"nameserver 2a0f:9400:7e11:0::53\r\n") == ns
        reg = (GOLDEN / "registrar-9100.txt").read_bytes()
        assert await ask(server.port, b"registrar 9100\r\n") == reg
        assert await ask(server.port, b"Registrar alder registrar ltd\r\n") == reg
    finally:
        await server.close()


@pytest.mark.parametrize(
    ("query", "same_as"),
    [
        (b"registrar r9100\r\n", b"registrar 9100\r\n"),  # the registry id, lower case
        (b"registrar R9100\r\n", b"registrar 9100\r\n"),
        (b"REGISTRAR cxr1\r\n", b"registrar CXR1\r\n"),  # a ccTLD registrar, no IANA id
        (b"registrar cXr1\r\n", b"registrar CXR1\r\n"),
        (b"registrar gsr2\r\n", b"registrar GSR2\r\n"),
    ],
)
async def test_registrar_id_matches_in_any_case(
    lookup: Lookup, query: bytes, same_as: bytes
) -> None:
    # GIVEN a running responder over the demo replica (ids R9100, CXR1, GSR2 are upper case)
    server = await running(lookup)
    try:
        # WHEN a client sends the registry's registrar id in another case
        got = await ask(server.port, query)
        # THEN it gets the registrar record, the same as for the id as stored
        assert got.startswith(b"Registrar: "), got[:80]
        assert got == await ask(server.port, same_as)
    finally:
        await server.close()


async def test_registrar_ids_differing_only_in_case(tmp_path: Path, replica_path: Path) -> None:
    # GIVEN a replica holding two registrar ids that differ only in case
    path = tmp_path / "two.sqlite"
    shutil.copyfile(replica_path, path)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO registrar(id, name, cc, email) VALUES ('cxr1', 'Lower Case Ltd', 'GB', "
            "'info@lower.example')"
        )
    store = await open_store(path, pool_size=1)
    server = await running(Lookup(store, default_policy()))
    try:
        # THEN the exact id wins, and an id matching both only by case matches neither
        assert (await ask(server.port, b"registrar cxr1\r\n")).startswith(
            b"Registrar: Lower Case Ltd\r\n"
        )
        assert (await ask(server.port, b"registrar CXR1\r\n")).startswith(
            b"Registrar: Island Names Registry Partner\r\n"
        )
        assert (await ask(server.port, b"registrar Cxr1\r\n")).startswith(b'No match for "Cxr1".')
    finally:
        await server.close()
        await store.close()


def test_registrar_id_lookup_uses_an_index(replica_path: Path) -> None:
    # The case-insensitive id lookup of replica.store is an index search, never a scan.
    with sqlite3.connect(replica_path) as conn:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM registrar WHERE id = ? COLLATE NOCASE LIMIT 10",
            ("cxr1",),
        ).fetchall()
    details = " ".join(row[3] for row in plan)
    assert "USING INDEX registrar_id_nocase" in details, details
    assert "SCAN" not in details


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        (b"nosuchname.coop\r\n", "NOSUCHNAME.COOP"),
        (b"domain example.com\r\n", "EXAMPLE.COM"),  # a TLD we do not serve
        (b"example.com\r\n", "EXAMPLE.COM"),
        (b"domain www.example.coop\r\n", "WWW.EXAMPLE.COOP"),
        (b"192.0.2.1\r\n", "192.0.2.1"),
        (b"registrar 1\r\n", "1"),
        # The echoed key has its bidi override replaced like any stored value.
        ("registrar \u202eAlder\r\n".encode(), " Alder"),
    ],
)
async def test_not_found(lookup: Lookup, query: bytes, shown: str) -> None:
    server = await running(lookup)
    try:
        text = (await ask(server.port, query)).decode()
        assert text.startswith(
            f'No match for "{shown}".\r\n'
            ">>> Last update of WHOIS database: 2026-11-22T00:00:00Z <<<\r\n"
        )
    finally:
        await server.close()


@pytest.mark.parametrize(
    "query",
    [
        b"\r\n",
        b"exa\x00mple.coop\r\n",
        b"\xff\xfe\r\n",
        b"-x example.coop\r\n",
        b"exa*\r\n",
        b"exa_mple.coop\r\n",
        b"whatever you like\r\n",
    ],
)
async def test_bad_input_gets_one_error_line(lookup: Lookup, query: bytes) -> None:
    server = await running(lookup)
    try:
        got = await ask(server.port, query)
        assert got.startswith(b"Error: ") and got.endswith(b"\r\n")
        assert got.count(b"\r\n") == 1
        assert_sentence(got.decode()[len("Error: ") : -2])
    finally:
        await server.close()


async def test_overlong_line_error_then_close(lookup: Lookup) -> None:
    server = await running(lookup, max_query_bytes=1024)
    try:
        got = await ask(server.port, b"a" * 5000 + b"\r\n")
        assert got == b"Error: The query is longer than 1024 bytes.\r\n"
        # Exactly at the limit is still a query (here: an invalid name, 1024 octets).
        got = await ask(server.port, b"a" * 1024 + b"\r\n")
        assert got.startswith(b"Error: The name") and b"1024" not in got
    finally:
        await server.close()


async def test_silent_client_is_closed_after_the_timeout_while_others_are_served(
    lookup: Lookup,
) -> None:
    server = await running(lookup, read_timeout=0.5)
    try:
        loop = asyncio.get_running_loop()
        # GIVEN a client that connects and sends nothing (and one that dribbles bytes)
        silent_r, silent_w = await asyncio.open_connection("127.0.0.1", server.port)
        drip_r, drip_w = await asyncio.open_connection("127.0.0.1", server.port)
        start = loop.time()
        # WHEN others query meanwhile THEN they are answered at once
        for _ in range(5):
            assert (await ask(server.port, b"example.org\r\n")).startswith(b"Domain Name: ")
            drip_w.write(b"e")
        # AND the silent client is told and closed after the timeout, not before
        got = await asyncio.wait_for(silent_r.read(), 5)
        assert got == b"Error: No query was received in time.\r\n"
        assert 0.4 <= loop.time() - start < 3
        # AND the deadline is not renewed by each byte (no slow-loris)
        assert (await asyncio.wait_for(drip_r.read(), 5)).startswith(b"Error: No query")
        silent_w.close()
        drip_w.close()
        await asyncio.sleep(0.05)
        assert not server.connections
    finally:
        await server.close()


async def test_rate_limit_line(lookup: Lookup) -> None:
    server = await running(lookup, rate_per_second=0.001, rate_burst=3)
    try:
        for _ in range(3):
            assert (await ask(server.port, b"example.org\r\n")).startswith(b"Domain Name:")
        got = await ask(server.port, b"example.org\r\n")
        assert got == b"Error: Query rate limit exceeded; try again later.\r\n"
        assert b"127.0.0" not in got  # never echo the client's address
    finally:
        await server.close()


async def test_malformed_lines_cost_no_token_not_found_and_cached_queries_cost_one(
    lookup: Lookup,
) -> None:
    # Mutations that fail this: rate limit before parsing in WhoisServer.prepare (the
    # malformed lines use the burst up); check the cache before the limiter (cached answers,
    # found or not found, come free and the fourth query is answered).
    # GIVEN a burst of 3 tokens and no refill to speak of
    server = await running(lookup, rate_per_second=0.001, rate_burst=3)
    try:
        # WHEN a client sends many malformed lines THEN each gets its own error, not the
        # rate-limit line: they cost no token
        for bad in (b"\r\n", b"exa*\r\n", b"-x example.org\r\n", b"\xff\r\n", b"a b c\r\n") * 2:
            got = await ask(server.port, bad)
            assert got.startswith(b"Error: ") and b"rate limit" not in got, got
        # WHEN it sends a not-found query, the same again (a cached not-found) and a found
        # one THEN all three are answered: each well-formed query used one of the 3 tokens
        assert (await ask(server.port, b"nosuchname.coop\r\n")).startswith(b"No match for")
        assert (await ask(server.port, b"nosuchname.coop\r\n")).startswith(b"No match for")
        assert (await ask(server.port, b"example.org\r\n")).startswith(b"Domain Name:")
        # AND the fourth well-formed query is refused, found or not
        limited = b"Error: Query rate limit exceeded; try again later.\r\n"
        assert await ask(server.port, b"example.org\r\n") == limited
        assert await ask(server.port, b"nosuchname.coop\r\n") == limited
        # AND a malformed line is still told what is wrong with it, not rate limited
        assert (await ask(server.port, b"exa*\r\n")).startswith(b"Error: Wildcard")
    finally:
        await server.close()


async def _connection(server: object) -> object:
    for _ in range(200):
        conns = list(server.connections)  # type: ignore[attr-defined]
        if conns:
            return conns[0]
        await asyncio.sleep(0.01)
    raise AssertionError("no connection")


async def test_half_close_answer_then_fin_while_the_client_may_still_send(
    lookup: Lookup,
) -> None:
    # Mutation that fails this: in WhoisConnection._finish, close() instead of write_eof()
    # (the server no longer lingers: the state is closed, not lingering).
    server = await running(lookup, read_timeout=30)
    try:
        # GIVEN a client that sends its query and keeps its own side open
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"example.org\r\n")
        await writer.drain()
        # WHEN it reads THEN it gets the whole answer and then the server's FIN (EOF)
        got = await asyncio.wait_for(reader.read(), 10)
        assert got.startswith(b"Domain Name: example.org\r\n") and got.endswith(b"\r\n")
        assert b">>> Last update of WHOIS database:" in got
        # AND the server only half-closed: it lingers, reading and discarding
        conn = await _connection(server)
        assert conn.state is ConnectionState.LINGERING  # type: ignore[attr-defined]
        writer.write(b"more bytes after the answer are discarded\r\n")
        await writer.drain()
        # WHEN the client closes THEN the server closes and frees the slot at once
        writer.close()
        await _settle(server, 0)
        assert not server.per_network
    finally:
        await server.close()


async def test_half_closed_query_without_newline_is_answered(lookup: Lookup) -> None:
    server = await running(lookup)
    try:
        # GIVEN a client that sends a query with no line end and half-closes (shutdown WR)
        got = await ask(server.port, b"ns1.example.coop", eof=True)
        # THEN the EOF ends the query and the answer comes back in full
        assert got == (GOLDEN / "ns1.example.coop.txt").read_bytes()
    finally:
        await server.close()


async def test_linger_ends_when_the_client_never_closes(lookup: Lookup) -> None:
    # Mutation that fails this: drop the call_later(..., self._close) at the end of
    # WhoisConnection._finish (a client that never closes holds its slot for ever).
    server = await running(lookup, read_timeout=0.3)  # linger = min(2 s, read_timeout)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"example.org\r\n")
        await writer.drain()
        assert (await asyncio.wait_for(reader.read(), 10)).startswith(b"Domain Name:")
        # GIVEN the client keeps its side open after the answer
        # THEN the server closes after the linger time on its own and frees the slot
        await _settle(server, 0)
        writer.close()
    finally:
        await server.close()


async def test_client_streaming_after_an_error_still_reads_the_error_line(
    lookup: Lookup,
) -> None:
    # Drain: after an over-long line the server half-closes and keeps reading (and
    # discarding), so its close does not reset the connection and throw the error away.
    # Mutation that fails this: linger=False for QueryTooLong in data_received (the kernel
    # answers the unread bytes with a reset; the client reads a reset, not the line).
    server = await running(lookup, max_query_bytes=64, read_timeout=5)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        # GIVEN a client that streams far past the limit before it reads anything
        chunk = b"a" * 65536
        for _ in range(16):
            writer.write(chunk)
            await writer.drain()
        await asyncio.sleep(0.1)  # let the server refuse while bytes are still arriving
        writer.write(chunk)
        await writer.drain()
        # THEN it reads exactly the one error line and a clean EOF
        got = await asyncio.wait_for(reader.read(), 10)
        assert got == b"Error: The query is longer than 64 bytes.\r\n"
        writer.close()
        await _settle(server, 0)
    finally:
        await server.close()


async def _open(port: int, n: int) -> list[socket.socket]:
    loop = asyncio.get_running_loop()
    out = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        await loop.sock_connect(s, ("127.0.0.1", port))
        out.append(s)
    return out


async def _settle(server: object, want: int) -> None:
    for _ in range(200):
        if len(server.connections) == want:  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{len(server.connections)} connections, want {want}")  # type: ignore[attr-defined]


async def test_per_address_connection_cap(lookup: Lookup) -> None:
    server = await running(lookup, max_per_address=3, max_connections=100)
    try:
        held = await _open(server.port, 3)
        await _settle(server, 3)
        got = await ask(server.port, b"example.org\r\n")
        assert got == b"Error: Too many open connections from your network; try again later.\r\n"
        for s in held:
            s.close()
        await _settle(server, 0)
        assert (await ask(server.port, b"example.org\r\n")).startswith(b"Domain Name:")
        await _settle(server, 0)
        assert not server.per_network
    finally:
        await server.close()


async def test_total_connection_cap(lookup: Lookup) -> None:
    server = await running(lookup, max_per_address=100, max_connections=2)
    try:
        held = await _open(server.port, 2)
        await _settle(server, 2)
        got = await ask(server.port, b"example.org\r\n")
        assert got == b"Error: The server is busy; try again later.\r\n"
        for s in held:
            s.close()
    finally:
        await server.close()


async def test_unexpected_exception_is_one_generic_line_and_logs_the_type_only(
    lookup: Lookup, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(*args: object) -> object:
        raise RuntimeError("secret Dara Ashdown")

    monkeypatch.setattr(lookup, "domain", boom)
    server = await running(lookup)
    try:
        with caplog.at_level(logging.INFO, logger="rdds.whois"):
            got = await ask(server.port, b"example.org\r\n")
        assert got == b"Error: Internal error; try again later.\r\n"
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert "RuntimeError" in logged
        assert "Dara" not in logged and "example.org" not in logged
        # The responder is still alive.
        assert (await ask(server.port, b"ns1.example.coop\r\n")).startswith(b"Server Name:")
    finally:
        await server.close()


async def test_replica_error_is_not_cached(lookup: Lookup, monkeypatch: pytest.MonkeyPatch) -> None:
    real = lookup.domain
    calls = 0

    async def flaky(*args: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ReplicaError()
        return await real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(lookup, "domain", flaky)
    server = await running(lookup)
    try:
        got = await ask(server.port, b"example.org\r\n")
        assert got == b"Error: The registry data is temporarily unavailable; try again later.\r\n"
        assert (await ask(server.port, b"example.org\r\n")).startswith(b"Domain Name:")
    finally:
        await server.close()


async def test_logs_hold_no_personal_data_and_truncated_addresses(
    lookup: Lookup, caplog: pytest.LogCaptureFixture
) -> None:
    server = await running(lookup)
    try:
        with caplog.at_level(logging.INFO, logger="rdds.whois"):
            await ask(server.port, b"consent.org\r\n")
            await ask(server.port, b"registrar Alder Registrar Ltd\r\n")
            await ask(server.port, b"exa*\r\n")
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert "127.0.0.0/24" in logged
        for secret in ("consent", "Lena", "Alder", "exa*", "127.0.0.1 "):
            assert secret not in logged
    finally:
        await server.close()


async def test_close_drops_open_connections(lookup: Lookup) -> None:
    server = await running(lookup, read_timeout=60)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    await _settle(server, 1)
    await asyncio.wait_for(server.close(), 5)
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
