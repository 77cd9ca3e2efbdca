"""HTTP/1.1 on the wire for the RDAP fast path (RFC 9112): the strict reading of a plain request
head, and the response bytes aiohttp would write for a cached answer. Pure code, no I/O.

The connection handler (`rdap.errors.RdapProtocol`) answers a cached (or stored) anonymous
answer straight from the bytes a client sent, before aiohttp parses them, when `read_head`
accepts them. It accepts only the plainest requests, and a request it refuses goes to aiohttp
unchanged, so nothing aiohttp would answer differently is ever answered here:

- exactly one complete head in the bytes received (a pipelined or split request is aiohttp's);
- `GET` or `HEAD` of an origin-form target of letters, digits and `-._~:/` (no query string,
  no percent-encoding, no dot segment, no empty segment), `HTTP/1.1`;
- header fields `name: value` with a token name and visible ASCII values (no obs-fold, no
  space before the colon, no control characters), each name at most once (but
  `X-Forwarded-For`, which a chain of proxies repeats), `Host` among them (RFC 9112 §3.2);
- none of `Authorization` (a credential is the application's to identify), `Expect`,
  `Upgrade`, `Content-Length`, `Transfer-Encoding` (a body), and a `Connection` field that is
  `close`, `keep-alive` or absent.

`response` writes the head aiohttp writes for the same answer: the application's headers in
its order, then `Content-Length`, `Date`, `Server` and `Connection` as aiohttp adds them
(`web.Response._prepare_headers`), then the CORS headers (`rdap.cors.apply`). The tests compare
the two byte for byte.
"""

from __future__ import annotations

import re
import time
from email.utils import formatdate
from http import HTTPStatus
from typing import NamedTuple

from aiohttp.http import SERVER_SOFTWARE

from rdap import cors

#: Longest head read here, and most header fields (aiohttp's own limits are larger: the
#: rest is aiohttp's).
MAX_HEAD = 8190

#: One plain head: request line, header fields (a token name, no space before the colon,
#: visible ASCII values with inner spaces and tabs), the empty line.
_HEAD = re.compile(
    rb"(GET|HEAD) (/[A-Za-z0-9._~:/-]*) HTTP/1\.1\r\n"
    rb"((?:[!#$%&'*+.^_`|~0-9A-Za-z-]+:[ \t]*(?:[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?"
    rb"[ \t]*\r\n){0,64})\r\n"
)
#: The name and value of each field of a head `_HEAD` matched.
_FIELD = re.compile(rb"([^:\r\n]+):[ \t]*(.*?)[ \t]*\r\n")
#: Fields whose presence hands the request to the application.
_REFUSED = frozenset(
    (b"authorization", b"expect", b"upgrade", b"content-length", b"transfer-encoding")
)


class Head(NamedTuple):
    """A plain request head as `read_head` accepted it."""

    method: str
    #: The request target: the path, raw and decoded alike (no query, no percent-encoding).
    path: str
    #: `Connection: close`: the connection closes after the answer.
    close: bool
    if_none_match: str | None
    forwarded_for: tuple[str, ...]


def read_head(data: bytes) -> Head | None:
    """The request `data` holds, when it is exactly one plain request head (see the module's
    docstring); None for anything else (then aiohttp reads it)."""
    if len(data) > MAX_HEAD:
        return None
    match = _HEAD.fullmatch(data)  # one head and nothing more
    if match is None:
        return None
    method, path, block = match.groups()
    if b"/." in path or b"//" in path:
        return None  # dot and empty segments: aiohttp's to normalise
    seen: set[bytes] = set()
    connection = inm = None
    forwarded: list[str] = []
    for name, value in _FIELD.findall(block):
        key = name.lower()
        if key == b"x-forwarded-for":
            forwarded.append(value.decode("ascii"))  # proxies add one each: read in order
            continue
        if key in seen or key in _REFUSED:
            return None  # a repeated field is aiohttp's to combine
        seen.add(key)
        if key == b"connection":
            connection = value.lower()
        elif key == b"if-none-match":
            inm = value.decode("ascii")
    if b"host" not in seen:
        return None  # aiohttp answers the 400 (RFC 9112 §3.2)
    if connection is not None and connection != b"close" and connection != b"keep-alive":
        return None
    return Head(
        "GET" if method == b"GET" else "HEAD",
        path.decode("ascii"),
        connection == b"close",
        inm,
        tuple(forwarded),
    )


class HttpDate:
    """The `Date` field's value (RFC 9110 §5.6.7), made once per second."""

    __slots__ = ("_second", "_value")

    def __init__(self) -> None:
        self._second = -1
        self._value = b""

    def now(self) -> bytes:
        """The current date as IMF-fixdate."""
        second = int(time.time())
        if second != self._second:
            self._value = formatdate(second, usegmt=True).encode("ascii")
            self._second = second
        return self._value


_CORS = "".join(
    f"{k}: {v}\r\n"
    for k, v in (
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers", ", ".join(cors.EXPOSED_HEADERS)),
        ("Vary", "Authorization"),
    )
).encode("ascii")
_SERVER = f"Server: {SERVER_SOFTWARE}\r\n".encode("ascii")


def _status_line(status: int) -> bytes:
    return f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n".encode("ascii")


_STATUS_LINES = {status: _status_line(status) for status in (200, 304, 404)}


def response(
    status: int,
    headers: tuple[tuple[str, str], ...],
    body: bytes | None,
    *,
    length: int,
    request_id: str,
    date: bytes,
    close: bool,
) -> bytes:
    """The bytes of an answer: its status line, the application's `headers` in order, the
    request id, then what aiohttp adds (`Content-Length`, unless `status` is 304, `Date`,
    `Server`, `Connection: close` when the connection closes) and the CORS fields; then
    `body` (None for a HEAD or a 304: no body, `length` still announced for the HEAD)."""
    line = _STATUS_LINES.get(status) or _status_line(status)
    parts = [line]
    parts.extend(f"{k}: {v}\r\n".encode("latin-1") for k, v in headers)
    parts.append(b"X-Request-Id: " + request_id.encode("ascii") + b"\r\n")
    if status != 304:
        parts.append(b"Content-Length: %d\r\n" % length)
    parts.append(b"Date: " + date + b"\r\n")
    parts.append(_SERVER)
    if close:
        parts.append(b"Connection: close\r\n")
    parts.append(_CORS)
    parts.append(b"\r\n")
    if body is not None:
        parts.append(body)
    return b"".join(parts)
