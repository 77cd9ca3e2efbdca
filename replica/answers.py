"""Precomputed anonymous domain answers in the replica: the storage format.

A public registry is asked mostly for names nobody asked for before, so an answer cache
rarely helps; the anonymous answer to a domain lookup depends only on the replica's rows and
the serving configuration, so it can be rendered once, ahead of time (`rdds answers`), and
served with one indexed read. This module is the format both sides agree on, nothing else:
the `answer` table (one row per domain: the RDAP body and the port-43 text, each compressed
with a preset dictionary) and the `meta` keys that say how the rows were made.

Staleness is impossible by construction: triggers in the schema (`replica.schema`) delete a
domain's row in the same transaction as any write to a row its answer is made of (the
domain, its contacts, hosts, addresses, DS, registrar, TLD), whoever writes it. A missing row
is answered by the normal lookup. Rows are used only when `digest` equals the server's own
(policy, rendering settings and the rendering code), so a changed policy never serves
answers made under the old one.

What varies per request or per import is left out of the stored bytes and spliced in on
serving: the public base URL's origin (`MARKER_ORIGIN`), the request URL (`REQUEST_MARKER`) and the
replica's watermark (a random sentinel date per build, `AnswerMeta.sentinel`).
"""

from __future__ import annotations

import base64
import sqlite3
import zlib
from dataclasses import dataclass
from typing import Literal

#: The two kinds of stored answer: the RDAP domain answer and the port-43 text.
AnswerKind = Literal["rdap", "whois"]

#: The origin of the base URL the answers are rendered under (the path is the server's own,
#: so relative references resolve alike); replaced by the server's origin when serving.
MARKER_ORIGIN = "https://rdds-precomputed-base.invalid"
#: The request URL the RDAP answers are rendered with (links' `value`, RFC 9083 §4.2).
REQUEST_MARKER = "urn:x-rdds-precomputed:request-url"

META_DIGEST = "answers_digest"
META_SENTINEL = "answers_sentinel"
META_RDAP_DICT = "answers_rdap_dict"
META_WHOIS_DICT = "answers_whois_dict"
_META_KEYS = (META_DIGEST, META_SENTINEL, META_RDAP_DICT, META_WHOIS_DICT)

#: zlib's window: a preset dictionary longer than this is not used beyond its last 32 KiB.
DICT_BYTES = 32 * 1024
LEVEL = 6


@dataclass(frozen=True, slots=True)
class AnswerMeta:
    """How the stored answers were made: the configuration digest they are valid for, the
    watermark sentinel as each protocol renders it, and the two preset dictionaries."""

    digest: str
    sentinel: str
    rdap_dict: bytes
    whois_dict: bytes


def read_meta(conn: sqlite3.Connection) -> AnswerMeta | None:
    """The answers' metadata, or None when the replica has no precomputed answers."""
    rows = conn.execute(
        f"SELECT key, value FROM meta WHERE key IN ({','.join('?' * len(_META_KEYS))})",
        _META_KEYS,
    ).fetchall()
    meta = {r[0]: r[1] for r in rows}
    if any(k not in meta for k in _META_KEYS) or not meta[META_DIGEST]:
        return None
    return AnswerMeta(
        digest=meta[META_DIGEST],
        sentinel=meta[META_SENTINEL],
        rdap_dict=base64.b64decode(meta[META_RDAP_DICT]),
        whois_dict=base64.b64decode(meta[META_WHOIS_DICT]),
    )


def write_meta(conn: sqlite3.Connection, meta: AnswerMeta) -> None:
    """Record how the answers are made (inside the caller's write transaction)."""
    conn.executemany(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [
            (META_DIGEST, meta.digest),
            (META_SENTINEL, meta.sentinel),
            (META_RDAP_DICT, base64.b64encode(meta.rdap_dict).decode()),
            (META_WHOIS_DICT, base64.b64encode(meta.whois_dict).decode()),
        ],
    )


def has_table(conn: sqlite3.Connection) -> bool:
    """Whether this replica has the answer table (replicas written before it do not)."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'answer'"
    ).fetchone()
    return row is not None


class Packer:
    """Compresses answers with preset dictionaries (one compressor primed per dictionary,
    copied for each answer: priming costs more than compressing a few KiB)."""

    __slots__ = ("_rdap", "_whois")

    def __init__(self, meta: AnswerMeta) -> None:
        self._rdap = zlib.compressobj(LEVEL, zdict=meta.rdap_dict)
        self._whois = zlib.compressobj(LEVEL, zdict=meta.whois_dict)

    def rdap(self, headers: tuple[tuple[str, str], ...], body: bytes) -> bytes:
        """One RDAP answer: its extra response headers and its body."""
        return _pack(self._rdap, _join_headers(headers) + body)

    def whois(self, text: bytes) -> bytes:
        """One port-43 answer."""
        return _pack(self._whois, text)


def _pack(primed: zlib._Compress, data: bytes) -> bytes:
    c = primed.copy()
    return c.compress(data) + c.flush()


def _join_headers(headers: tuple[tuple[str, str], ...]) -> bytes:
    # One line per header, then an empty line: names and values are tokens and short texts
    # without line breaks (`registry.coop` flags); a body never starts the header block.
    return b"".join(f"{n}: {v}\n".encode() for n, v in headers) + b"\n"


class Damaged(ValueError):
    """A stored answer that does not inflate: a damaged row (`rdds answers --rebuild`)."""


def inflate(meta: AnswerMeta, kind: AnswerKind, blob: bytes) -> bytes:
    """A stored answer as `rdds answers` made it (still with markers and sentinel): an RDAP
    answer's header block and body (`split_rdap`), or a port-43 text. Raises `Damaged`.

    The store calls this on its own thread: zlib lets go of the GIL while it inflates, so the
    event loop's thread goes on meanwhile."""
    zdict = meta.rdap_dict if kind == "rdap" else meta.whois_dict
    try:
        return zlib.decompressobj(zdict=zdict).decompress(blob)
    except zlib.error as exc:
        raise Damaged(str(exc)) from None


def split_rdap(data: bytes) -> tuple[tuple[tuple[str, str], ...], bytes]:
    """The extra headers and the body of an inflated RDAP answer. Raises `Damaged`."""
    head, _, body = data.partition(b"\n\n") if not data.startswith(b"\n") else (b"", b"", data[1:])
    try:
        headers = tuple(
            (name, value)
            for name, _, value in (line.decode().partition(": ") for line in head.split(b"\n"))
            if name
        )
    except UnicodeDecodeError as exc:
        raise Damaged(str(exc)) from None
    return headers, body


def make_dict(samples: list[bytes]) -> bytes:
    """A preset dictionary from sample answers: their text, most common last (zlib matches
    the end of a dictionary at the shortest distances)."""
    joined = b"".join(samples)
    return joined[-DICT_BYTES:]
