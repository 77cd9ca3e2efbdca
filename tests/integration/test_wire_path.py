"""Answers written from a request's bytes (`rdap.wire`, `rdap.errors.RdapProtocol`) on kept-alive
connections of a real server on loopback: every answer in order and byte for byte the
application's, whatever arrives how (one request per packet, pipelined, split, after a body,
while a stored answer is read), and the connection's timers still holding afterwards.

Mutations that make these tests fail: answering while aiohttp's parser holds part of a
request (`_between` always true); not holding what arrives during a stored read; forgetting
the request a stored read gave up on; not refreshing the keep-alive timer after an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rdap import hits as hits_mod
from rdap.settings import RdapConfig
from replica.answers import AnswerKind
from replica.store import SqliteStore
from tests.integration.conftest import BASE
from tests.integration.test_hits import FULL, Answer, served
from tests.integration.test_stored_answers import served_stored, stored_copy


def request(method: str, target: str, *headers: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def read_answer(reader: asyncio.StreamReader, method: str) -> Answer:
    """One answer off a kept-alive connection (its length from Content-Length)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    status, *rest = head[:-4].decode("latin-1").split("\r\n")
    headers = [(k, v) for k, v in (line.split(": ", 1) for line in rest)]
    length = next((int(v) for k, v in headers if k == "Content-Length"), 0)
    no_body = method == "HEAD" or " 304 " in status
    body = b"" if no_body else await asyncio.wait_for(reader.readexactly(length), 10)
    return Answer(status, headers, body)


@contextlib.asynccontextmanager
async def connection(port: int) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


#: (method, target): misses first (the application answers and caches), then hits.
SEQUENCE = [
    ("GET", "/domain/example.coop"),
    ("GET", "/domain/example.coop"),
    ("HEAD", "/domain/example.coop"),
    ("GET", "/domain/nosuch.coop"),
    ("GET", "/domain/nosuch.coop"),
    ("GET", "/help"),
    ("GET", "/help"),
    ("GET", "/domain/example.coop?x=1"),
    ("GET", "/domain/example.coop"),
]


async def answers_of(port: int, chunks: list[bytes], methods: list[str]) -> list[Answer]:
    """Write `chunks` on one connection (each its own write, flushed), then read one answer
    per method."""
    async with connection(port) as (reader, writer):
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(0.01)
        return [await read_answer(reader, m) for m in methods]


def comparable(answers: list[Answer]) -> list[object]:
    return [a.comparable() for a in answers]


@pytest.mark.parametrize(
    "shape", ["one per packet", "pipelined", "split heads", "after a body", "a head in a field"]
)
async def test_a_kept_alive_connection_gets_the_applications_answers(
    store: SqliteStore, shape: str
) -> None:
    methods = [m for m, _ in SEQUENCE]
    heads = [request(m, t) for m, t in SEQUENCE]
    if shape == "pipelined":
        chunks = [b"".join(heads)]
    elif shape == "split heads":
        chunks = [piece for h in heads for piece in (h[:7], h[7:])]
    elif shape == "after a body":
        post = request("POST", "/domain/example.coop", "Content-Length: 4")[:-2] + b"\r\nbody"
        chunks = [heads[0], post, *heads[1:]]
        methods = [methods[0], "POST", *methods[1:]]
    elif shape == "a head in a field":
        # A head whose last field's value arrives looking like a whole request of its own:
        # aiohttp's parser holds the first part, so the second is not a request.
        chunks = [*heads, b"GET /help HTTP/1.1\r\nX-A: ", heads[1]]
        methods = [*methods, "GET"]
    else:
        chunks = heads
    async with served(store, fast=True) as fast, served(store, fast=False) as full:
        via_fast = await answers_of(fast.port, chunks, methods)
        via_app = await answers_of(full.port, chunks, methods)
    assert comparable(via_fast) == comparable(via_app)
    assert all(a.full for a in via_app)
    written_here = [not a.full for a in via_fast]
    if shape == "one per packet":
        # The hits were not the application's: the repeated names, the HEAD, the not-found
        # one, and the query string's (cached under its path, from aiohttp's request).
        assert written_here == [False, True, True, False, True, False, True, True, True]
    elif shape == "after a body":
        assert written_here[0] is False and written_here[1] is False  # the POST: a 405
        assert via_fast[1].status.startswith("HTTP/1.1 405")


async def test_what_arrives_during_a_stored_read_waits_for_its_answer(
    demo_replica: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = stored_copy(demo_replica, tmp_path, _stored_config())
    release = asyncio.Event()
    started = held_stored_reads(monkeypatch, release)
    async with served_stored(path, fast=True) as port, connection(port) as (reader, writer):
        # GIVEN a stored read under way, and two more requests arriving meanwhile
        writer.write(request("GET", "/domain/example.org"))
        await writer.drain()
        await asyncio.wait_for(started.wait(), 10)
        writer.write(request("GET", "/help"))
        writer.write(request("GET", "/domain/no-such.org"))
        await writer.drain()
        await asyncio.sleep(0.05)
        # THEN nothing is answered before the stored answer
        assert reader.at_eof() is False and not reader._buffer  # type: ignore[attr-defined]
        release.set()
        got = [await read_answer(reader, "GET") for _ in range(3)]
    # AND all three come in order: the stored answer, then the application's two
    assert [a.status for a in got] == [
        "HTTP/1.1 200 OK",
        "HTTP/1.1 200 OK",
        "HTTP/1.1 404 Not Found",
    ]
    assert not got[0].full and got[1].full and got[2].full
    assert b'"ldhName":"example.org"' in got[0].body and b'"rdapConformance"' in got[1].body


def held_stored_reads(
    monkeypatch: pytest.MonkeyPatch, release: asyncio.Event | None = None, seconds: float = 0.0
) -> asyncio.Event:
    """Stored reads finish only once `release` is set, and `seconds` later; the event
    returned is set when one starts."""
    started = asyncio.Event()
    answer_soon = SqliteStore.answer_soon
    relays: list[asyncio.Task[None]] = []

    def held(self: SqliteStore, ldh: str, kind: AnswerKind) -> asyncio.Future[bytes | None] | None:
        inner = answer_soon(self, ldh, kind)
        if inner is None:
            return None
        started.set()
        outer: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()

        async def relay() -> None:
            if release is not None:
                await release.wait()
            await asyncio.sleep(seconds)
            try:
                result = await inner
            except Exception as exc:
                if not outer.done():
                    outer.set_exception(exc)
                return
            if not outer.done():
                outer.set_result(result)

        relays.append(asyncio.ensure_future(relay()))
        return outer

    monkeypatch.setattr(SqliteStore, "answer_soon", held)
    return started


def slowed_stored_reads(monkeypatch: pytest.MonkeyPatch, seconds: float) -> asyncio.Event:
    """Stored reads take `seconds` longer; the event is set when one starts."""
    return held_stored_reads(monkeypatch, seconds=seconds)


def _stored_config() -> str:
    from tests.integration.test_stored_answers import STORED_CONFIG

    return STORED_CONFIG


async def test_a_stored_read_given_up_on_leaves_the_request_to_the_application(
    demo_replica: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = stored_copy(demo_replica, tmp_path, _stored_config())

    slowed_stored_reads(monkeypatch, 0.1)  # the next request arrives meanwhile, and is held
    monkeypatch.setattr(hits_mod.Hits, "wire_stored", lambda *args: None)
    async with served_stored(path, fast=True) as port:
        got = await answers_of(
            port, [request("GET", "/domain/example.org"), request("GET", "/help")], ["GET", "GET"]
        )
        again = await answers_of(port, [request("GET", "/domain/example.org")], ["GET"])
    # The request given up on is answered after all (from aiohttp's request, by the same
    # stored answer), before the one behind it
    assert [a.status for a in got] == ["HTTP/1.1 200 OK"] * 2
    assert b'"ldhName":"example.org"' in got[0].body and got[1].full
    assert again[0].status == "HTTP/1.1 200 OK" and not again[0].full  # now a cache hit


async def test_a_client_leaving_during_a_stored_read_costs_nothing(
    demo_replica: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path, _ = stored_copy(demo_replica, tmp_path, _stored_config())
    started = slowed_stored_reads(monkeypatch, 0.2)
    async with served_stored(path, fast=True) as port:
        async with connection(port) as (_, writer):
            writer.write(request("GET", "/domain/example.org"))
            await writer.drain()
            await asyncio.wait_for(started.wait(), 10)
        await asyncio.sleep(0.3)
        # THEN the server goes on answering, and logged no error
        after = await answers_of(port, [request("GET", "/domain/example.org")], ["GET"])
    assert after[0].status == "HTTP/1.1 200 OK"
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def test_timers_still_hold_after_an_answer_from_the_bytes(store: SqliteStore) -> None:
    config = RdapConfig(base_url=BASE, port43=None, keepalive_timeout=0.3, header_timeout=0.3)
    async with served(store, config=config) as s:
        # GIVEN the answer cached
        await answers_of(s.port, [request("GET", "/help")], ["GET"])
        # WHEN a kept-alive connection gets a hit and then stays idle
        async with connection(s.port) as (reader, writer):
            writer.write(request("GET", "/help"))
            hit = await read_answer(reader, "GET")
            # THEN the server closes it after the keep-alive timeout
            assert await asyncio.wait_for(reader.read(), 10) == b""
        # AND a slow head after a hit is closed by the head timer
        async with connection(s.port) as (reader, writer):
            writer.write(request("GET", "/help"))
            await read_answer(reader, "GET")
            writer.write(b"GET /help HTTP/1.1\r\nHo")
            await writer.drain()
            assert await asyncio.wait_for(reader.read(), 10) == b""
    assert not hit.full and hit.header(FULL) is None


async def test_answers_from_the_bytes_keep_the_connection_alive(store: SqliteStore) -> None:
    config = RdapConfig(base_url=BASE, port43=None, keepalive_timeout=0.4)
    async with served(store, config=config) as s:
        await answers_of(s.port, [request("GET", "/help")], ["GET"])
        async with connection(s.port) as (reader, writer):
            # WHEN hits come more often than the keep-alive timeout, for longer than it
            for _ in range(6):
                writer.write(request("GET", "/help"))
                hit = await read_answer(reader, "GET")
                assert not hit.full
                await asyncio.sleep(0.15)
            # THEN the connection is still open
            assert not reader.at_eof()


async def test_connection_close_is_honoured(store: SqliteStore) -> None:
    async with served(store) as s:
        await answers_of(s.port, [request("GET", "/help")], ["GET"])
        async with connection(s.port) as (reader, writer):
            writer.write(request("GET", "/help", "Connection: close"))
            hit = await read_answer(reader, "GET")
            assert await asyncio.wait_for(reader.read(), 10) == b""
    assert not hit.full and hit.header("Connection") == "close"


async def test_a_stored_read_under_way_is_answered_before_the_server_stops(
    demo_replica: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = stored_copy(demo_replica, tmp_path, _stored_config())
    started = slowed_stored_reads(monkeypatch, 0.3)
    server = served_stored(path, fast=True)
    port = await server.__aenter__()
    stopping = None
    try:
        async with connection(port) as (reader, writer):
            writer.write(request("GET", "/domain/example.org"))
            await writer.drain()
            await asyncio.wait_for(started.wait(), 10)
            # WHEN the server stops while the stored answer is read
            stopping = asyncio.ensure_future(server.__aexit__(None, None, None))
            answer = await read_answer(reader, "GET")
    finally:
        await (stopping if stopping is not None else server.__aexit__(None, None, None))
    # THEN the answer was written first
    assert answer.status == "HTTP/1.1 200 OK" and not answer.full


async def test_an_aiohttp_without_the_handler_state_gets_every_request_parsed(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from rdap import errors

    monkeypatch.setattr(errors, "_HANDLER_STATE", (*errors._HANDLER_STATE, "_gone_in_3_15"))
    sent = []
    monkeypatch.setattr(errors.RdapProtocol, "_send", lambda *args: sent.append(args))
    async with served(store) as s:
        got = await answers_of(s.port, [request("GET", "/help")] * 2, ["GET", "GET"])
    # THEN nothing was answered from the bytes, the hit still below the application, and
    # the operator is told once
    assert not sent and got[0].full and not got[1].full
    assert got[0].comparable() == got[1].comparable()
    assert [r.levelname for r in caplog.records if "connection handler" in r.message] == ["WARNING"]
    assert errors.answers_from_bytes() is False


def test_this_aiohttp_has_the_handler_state() -> None:
    from rdap import errors

    assert errors.answers_from_bytes()
