"""RDAP connection limits on a real server on loopback: the head timeout (slow-loris), the
idle keep-alive timeout, total and per-address caps (closed at once, never queued); and one
front-end still serving while the other's connections are exhausted, in a real `rdds serve`
with a low descriptor limit."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from core.lookup import Lookup
from rdap import server as rdap_server
from rdap.settings import RdapConfig
from rdds import descriptors
from redaction.policy import default_policy
from replica.store import SqliteStore
from tests.integration.conftest import BASE

ROOT = Path(__file__).resolve().parents[2]
GET = b"GET /help HTTP/1.1\r\nHost: rdap.registry.example\r\n\r\n"

Serve = Callable[..., Awaitable[int]]


@pytest.fixture
async def serve(store: SqliteStore) -> AsyncIterator[Serve]:
    runners: list[Any] = []

    async def start(**limits: Any) -> int:
        config = RdapConfig(base_url=BASE, port43=None, **limits)
        app = rdap_server.make_app(Lookup(store, default_policy()), config)
        sockets = rdap_server.bind("127.0.0.1", 0)
        runners.append(await rdap_server.serve(app, sockets))
        return rdap_server.bound_port(sockets)

    yield start
    for runner in runners:
        await runner.cleanup()


async def connect(port: int, source: str = "127.0.0.1") -> tuple[Any, Any]:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await asyncio.wait_for(reader.readexactly(length), 10)
    return int(head.split(b" ", 2)[1])


async def closed(reader: asyncio.StreamReader, within: float = 5.0) -> bool:
    """True when the server closes the connection within `within` seconds."""
    try:
        return await asyncio.wait_for(reader.read(1), within) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


async def test_half_a_request_head_is_closed_after_the_header_timeout(serve: Serve) -> None:
    port = await serve(header_timeout=0.2, keepalive_timeout=60.0)
    reader, writer = await connect(port)
    writer.write(b"GET /help HTTP/1.1\r\nHost: rdap.regi")  # and then nothing
    assert await closed(reader)
    writer.close()
    # A kept-alive connection whose second head trickles in is closed the same way.
    reader, writer = await connect(port)
    writer.write(GET)
    assert await read_response(reader) == 200
    writer.write(b"GET /help HTTP/1.1\r\n")
    assert await closed(reader)
    writer.close()


async def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(
    serve: Serve,
) -> None:
    port = await serve(header_timeout=0.2, keepalive_timeout=60.0)
    reader, writer = await connect(port)
    assert await closed(reader)
    writer.close()


async def test_an_idle_kept_alive_connection_is_closed(serve: Serve) -> None:
    port = await serve(header_timeout=60.0, keepalive_timeout=0.2)
    reader, writer = await connect(port)
    writer.write(GET)
    assert await read_response(reader) == 200
    writer.write(GET)  # still open within the idle time
    assert await read_response(reader) == 200
    assert await closed(reader)
    writer.close()


async def test_per_address_cap_closes_the_next_connection_at_once(serve: Serve) -> None:
    port = await serve(max_connections=100, max_per_address=2, header_timeout=60.0)
    kept = [await connect(port) for _ in range(2)]
    reader, writer = await connect(port)
    assert await closed(reader, within=2.0)  # not queued until a slot frees
    writer.close()
    other_reader, other_writer = await connect(port, source="127.0.0.2")  # another address
    other_writer.write(GET)
    assert await read_response(other_reader) == 200
    for r, w in kept:  # the admitted ones still serve
        w.write(GET)
        assert await read_response(r) == 200
        w.close()
    other_writer.close()


async def test_total_cap_closes_the_next_connection_at_once(serve: Serve) -> None:
    port = await serve(max_connections=3, max_per_address=100, header_timeout=60.0)
    kept = [await connect(port, f"127.0.0.{n}") for n in (1, 2, 3)]
    reader, writer = await connect(port, "127.0.0.4")
    assert await closed(reader, within=2.0)
    writer.close()
    _, w = kept[0]
    w.close()
    await w.wait_closed()
    await asyncio.sleep(0.05)
    reader, writer = await connect(port, "127.0.0.4")  # a slot came free
    writer.write(GET)
    assert await read_response(reader) == 200
    for _, w in [*kept[1:], (reader, writer)]:
        w.close()


# --- descriptors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "cap"), [(256, 96), (200, 75), (1024, 480), (65536, 32736), (8, 3)]
)
def test_each_front_end_gets_a_share_of_the_descriptors_after_the_reserve(
    limit: int, cap: int
) -> None:
    assert descriptors.share(limit) == cap


async def test_repeated_accept_errors_are_one_line_a_second(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    handler = descriptors.AcceptErrors(clock=lambda: now[0])
    loop = asyncio.get_running_loop()
    context = {"message": descriptors.ACCEPT_ERROR, "exception": OSError(24, "Too many open files")}
    with caplog.at_level(logging.WARNING, logger="rdds"):
        for _ in range(500):
            handler(loop, context)
            now[0] += 0.001
        now[0] += 1.0
        handler(loop, context)
    lines = [r.getMessage() for r in caplog.records if r.name == "rdds"]
    assert lines == [
        "cannot accept a connection: Too many open files",
        "cannot accept a connection: Too many open files (499 more since the last line)",
    ]


# --- one front-end exhausted, the other serving ------------------------------------------------

NOFILE = 200  # share: (200 - 50) // 2 = 75 connections per front-end


def _low_nofile() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def low_fd_service(demo_replica: Path, tmp_path: Path) -> Any:
    rdap_port, whois_port = _free_port(), _free_port()
    conf = tmp_path / "rdds.toml"
    conf.write_text(
        "[rdap]\nmax_per_address = 10000\nheader_timeout = 60.0\nkeepalive_timeout = 60.0\n"
        "[whois]\nmax_per_address = 10000\nread_timeout = 60.0\n",
        encoding="utf-8",
    )
    log = (tmp_path / "stderr").open("w+", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rdds", "serve", "--replica", str(demo_replica), "--config",
         str(conf), "--rdap-port", str(rdap_port), "--whois-port", str(whois_port)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=log,
        preexec_fn=_low_nofile,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "rdds serve ended"
            try:
                socket.create_connection(("127.0.0.1", whois_port), timeout=1).close()
                socket.create_connection(("127.0.0.1", rdap_port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        yield rdap_port, whois_port, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _until_refused(port: int, limit: int = 150) -> list[socket.socket]:
    """Open connections and hold them until one is closed at once (or refused)."""
    held: list[socket.socket] = []
    for _ in range(limit):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            return held
        sock.settimeout(0.1)
        try:
            data = sock.recv(4096)
        except TimeoutError:
            held.append(sock)  # admitted: the server waits for our request
            continue
        sock.close()
        assert held, f"the first connection was closed ({data!r})"
        return held
    raise AssertionError(f"{limit} connections held: no cap")


def _whois(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"example.org\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _rdap_status(port: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /help HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return int(sock.recv(64).split(b" ", 2)[1])


def test_whois_still_answers_while_rdap_connections_are_exhausted(low_fd_service: Any) -> None:
    rdap_port, whois_port, log = low_fd_service
    held = _until_refused(rdap_port)
    try:
        assert 10 < len(held) <= 100
        assert b"Domain Name: example.org" in _whois(whois_port)
    finally:
        for sock in held:
            sock.close()
    assert _rdap_status(rdap_port) == 200
    log.seek(0)
    text = log.read()
    assert "Traceback" not in text and text.count("cannot accept") <= 5


def test_rdap_still_answers_while_whois_connections_are_exhausted(low_fd_service: Any) -> None:
    rdap_port, whois_port, log = low_fd_service
    held = _until_refused(whois_port)
    try:
        assert 10 < len(held) <= 100
        assert _rdap_status(rdap_port) == 200
    finally:
        for sock in held:
            sock.close()
    log.seek(0)
    assert "Traceback" not in log.read()
