"""`rdap.wire`: which request heads the fast path reads itself, and that it reads each of them
as aiohttp's own parser does (the one the server runs: method, path, raw path, keep-alive,
the fields the fast path uses, no body); and the response bytes it writes.

Mutations that make these tests fail: accepting a query string, percent-encoding or a dot
segment in `_HEAD`; dropping a name from `_REFUSED`; reading a repeated field; taking
`Connection: upgrade` for keep-alive; a lower-cased entity tag; `Content-Length` on a 304.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.http_parser import HttpRequestParser
from aiohttp.streams import EMPTY_PAYLOAD

from rdap import wire
from rdap.wire import Head, read_head


def head(
    *lines: str, request: str = "GET /domain/example.org HTTP/1.1", host: bool = True
) -> bytes:
    fields = ("Host: 127.0.0.1", *lines) if host else lines
    return ("\r\n".join((request, *fields)) + "\r\n\r\n").encode("latin-1")


PLAIN = Head("GET", "/domain/example.org", False, None, ())

ACCEPTED: dict[str, tuple[bytes, Head]] = {
    "host only": (head(), PLAIN),
    "host last": (head("User-Agent: x", host=False)[:-2] + b"Host: h\r\n\r\n", PLAIN),
    "what wrk sends": (head("Host: 127.0.0.1:8080", "User-Agent: wrk/4", host=False), PLAIN),
    "HEAD": (
        head(request="HEAD /domain/example.org HTTP/1.1"),
        PLAIN._replace(method="HEAD"),
    ),
    "close": (head("Connection: close"), PLAIN._replace(close=True)),
    "Close, any case": (head("connection: Close"), PLAIN._replace(close=True)),
    "keep-alive": (head("Connection: Keep-Alive"), PLAIN),
    "entity tag, case kept": (
        head('If-None-Match: "AbC", W/"x"'),
        PLAIN._replace(if_none_match='"AbC", W/"x"'),
    ),
    "spaces around a value": (head("If-None-Match: \t *  "), PLAIN._replace(if_none_match="*")),
    "no space after the colon": (head("Host:x", host=False), PLAIN),
    "empty host": (head("Host:", host=False), PLAIN),
    "empty value": (head("X-Empty:"), PLAIN),
    "forwarded twice, in order": (
        head("X-Forwarded-For: 192.0.2.1, 192.0.2.2", "x-forwarded-for: 192.0.2.3"),
        PLAIN._replace(forwarded_for=("192.0.2.1, 192.0.2.2", "192.0.2.3")),
    ),
    "IDN": (
        head(request="GET /domain/xn--mgbh0fb.xn--mgbtx2b HTTP/1.1"),
        PLAIN._replace(path="/domain/xn--mgbh0fb.xn--mgbtx2b"),
    ),
    "help": (head(request="GET /help HTTP/1.1"), PLAIN._replace(path="/help")),
    "root": (head(request="GET / HTTP/1.1"), PLAIN._replace(path="/")),
    "ip with colons": (
        head(request="GET /ip/2001:db8::1 HTTP/1.1"),
        PLAIN._replace(path="/ip/2001:db8::1"),
    ),
    "trailing slash": (
        head(request="GET /domain/example.org/ HTTP/1.1"),
        PLAIN._replace(path="/domain/example.org/"),
    ),
}

REFUSED: dict[str, bytes] = {
    "query string": head(request="GET /domain/example.org?purpose=x HTTP/1.1"),
    "percent-encoding": head(request="GET /domain/ex%61mple.org HTTP/1.1"),
    "dot segment": head(request="GET /domain/../help HTTP/1.1"),
    "dot-led segment": head(request="GET /.well-known/x HTTP/1.1"),
    "empty segment": head(request="GET //domain/example.org HTTP/1.1"),
    "fragment": head(request="GET /domain/example.org#x HTTP/1.1"),
    "absolute form": head(request="GET http://h/domain/example.org HTTP/1.1"),
    "non-ASCII target": "GET /domain/é.org HTTP/1.1\r\n\r\n".encode(),
    "HTTP/1.0": head(request="GET /domain/example.org HTTP/1.0"),
    "HTTP/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "non-ASCII target, with host": "GET /domain/é.org HTTP/1.1\r\nHost: a\r\n\r\n".encode(),
    "POST": head("Content-Length: 0", request="POST /domain/example.org HTTP/1.1"),
    "OPTIONS": head(request="OPTIONS /domain/example.org HTTP/1.1"),
    "lower-case method": head(request="get /domain/example.org HTTP/1.1"),
    "two spaces": head(request="GET  /domain/example.org HTTP/1.1"),
    "credential": head("Authorization: Bearer abc"),
    "credential, any case": head("AUTHORIZATION: Bearer abc"),
    "expect": head("Expect: 100-continue"),
    "upgrade": head("Connection: Upgrade", "Upgrade: websocket"),
    "content-length": head("Content-Length: 0"),
    "chunked": head("Transfer-Encoding: chunked"),
    "connection list": head("Connection: keep-alive, x"),
    "connection twice": head("Connection: close", "Connection: close"),
    "if-none-match twice": head('If-None-Match: "a"', 'If-None-Match: "b"'),
    "no host": head(host=False),
    "host twice": head("Host: b"),
    "space before colon": head("Host : a", host=False),
    "obs-fold": head("X-A: a", " folded"),
    "control character": head("X-A: a\x01b"),
    "DEL": head("X-A: a\x7fb"),
    "non-ASCII value": head("X-A: \xe9"),
    "no colon": head("X-A"),
    "bare LF": b"GET /domain/example.org HTTP/1.1\nHost: a\n\n",
    "bare LF in a field": b"GET /domain/example.org HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
    "incomplete": head()[:-2],
    "two requests": head() + head(),
    "a request and more": head() + b"G",
    "leading empty line": b"\r\n" + head(),
    "too long": head("X-A: " + "a" * wire.MAX_HEAD),
    "too many fields": head(*(f"X-{i}: a" for i in range(65))),
}


@pytest.mark.parametrize("data,expected", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_plain_heads_are_read(data: bytes, expected: Head) -> None:
    assert read_head(data) == expected


@pytest.mark.parametrize("data", REFUSED.values(), ids=REFUSED.keys())
def test_everything_else_is_left_to_aiohttp(data: bytes) -> None:
    assert read_head(data) is None


# --- the same reading as aiohttp's ---------------------------------------------------------------


class _Protocol:
    """What aiohttp's parser asks of its protocol (nothing, for requests without a body)."""

    _reading_paused = False

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


def aiohttp_reads(data: bytes) -> list[tuple[Any, Any]] | None:
    """The messages aiohttp's parser (the one the server runs) makes of `data` on a fresh
    connection; None when it rejects them."""
    loop = asyncio.new_event_loop()
    try:
        parser = HttpRequestParser(
            _Protocol(), loop, 2**16, max_line_size=8190, max_field_size=8190
        )
        messages, upgraded, tail = parser.feed_data(data)
    except HttpProcessingError:
        return None
    finally:
        loop.close()
    assert not upgraded and not tail
    return list(messages)


def assert_same_reading(data: bytes) -> None:
    """When `read_head` reads `data`, aiohttp reads one complete request without a body from
    it, the same one."""
    mine = read_head(data)
    if mine is None:
        return
    messages = aiohttp_reads(data)
    assert messages is not None, data
    assert len(messages) == 1, data
    message, payload = messages[0]
    assert payload is EMPTY_PAYLOAD
    assert message.method == mine.method
    assert message.path == message.url.raw_path == message.url.path == mine.path
    assert not message.url.query_string
    assert message.should_close == mine.close
    assert not message.upgrade
    assert message.headers.get("If-None-Match") == mine.if_none_match
    assert tuple(message.headers.getall("X-Forwarded-For", ())) == mine.forwarded_for
    assert "Authorization" not in message.headers and "Expect" not in message.headers


@pytest.mark.parametrize("data,expected", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_aiohttp_reads_each_accepted_head_alike(data: bytes, expected: Head) -> None:
    assert_same_reading(data)


ALPHABET = b"GETHAD /:.-_~%?#@\r\n\t\"',;=!xX0\x00\x7f\xe9AaBbCc"
FIELDS = (
    b"Host: 127.0.0.1\r\n",
    b"Connection: close\r\n",
    b"Connection: keep-alive\r\n",
    b'If-None-Match: "abc"\r\n',
    b"X-Forwarded-For: 192.0.2.1\r\n",
    b"Authorization: Bearer x\r\n",
    b"Content-Length: 3\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Upgrade: h2c\r\n",
)


def mutations(count: int, seed: int) -> list[bytes]:
    """Heads with random fields, then a byte or two changed, inserted or removed."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        fields = b"".join(rng.choice(FIELDS) for _ in range(rng.randrange(4)))
        if rng.randrange(8):
            fields = b"Host: 127.0.0.1\r\n" + fields
        method = rng.choice((b"GET", b"HEAD"))
        data = bytearray(method + b" /domain/example.org HTTP/1.1\r\n" + fields + b"\r\n")
        for _ in range(rng.randrange(3)):
            at = rng.randrange(len(data))
            match rng.randrange(3):
                case 0:
                    data[at] = rng.choice(ALPHABET)
                case 1:
                    data.insert(at, rng.choice(ALPHABET))
                case _:
                    del data[at]
        out.append(bytes(data))
    return out


def test_whatever_the_fast_path_reads_aiohttp_reads_alike() -> None:
    heads = mutations(20_000, seed=43)
    accepted = [data for data in heads if read_head(data) is not None]
    # Enough of both kinds to mean something.
    assert 2_000 < len(accepted) < len(heads) - 2_000
    for data in heads:
        assert_same_reading(data)


# --- response bytes ------------------------------------------------------------------------------


def test_response_bytes() -> None:
    headers = (("Content-Type", "application/rdap+json"), ("ETag", '"t"'))
    common = {"request_id": "0123456789abcdef", "date": b"Wed, 02 Dec 2026 03:55:39 GMT"}
    data = wire.response(200, headers, b"{}", length=2, close=False, **common)
    head_, _, body = data.partition(b"\r\n\r\n")
    lines = head_.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK" and body == b"{}"
    assert [line.split(":")[0] for line in lines[1:]] == [
        "Content-Type",
        "ETag",
        "X-Request-Id",
        "Content-Length",
        "Date",
        "Server",
        "Access-Control-Allow-Origin",
        "Access-Control-Expose-Headers",
        "Vary",
    ]
    # A 304 announces no length; a closing answer says so; a HEAD has no body.
    not_modified = wire.response(304, headers, None, length=0, close=True, **common)
    assert not_modified.startswith(b"HTTP/1.1 304 Not Modified\r\n")
    assert b"Content-Length" not in not_modified and b"\r\nConnection: close\r\n" in not_modified
    assert not_modified.endswith(b"\r\n\r\n")
    head_only = wire.response(404, headers, None, length=7, close=False, **common)
    assert head_only.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert b"\r\nContent-Length: 7\r\n" in head_only and head_only.endswith(b"\r\n\r\n")


def test_the_date_is_an_imf_fixdate() -> None:
    import email.utils

    value = wire.HttpDate().now().decode()
    assert value.endswith(" GMT") and email.utils.parsedate_to_datetime(value)
