"""The RDAP answer cache: anonymous answers as bytes, bounded by their size, with the request
URL (echoed in links' `value`, RFC 9083 §4.2) spliced in on every hit instead of re-rendered.

Pure data structure, no I/O. A cached answer is the JSON body rendered once with a marker in
place of the request URL, split at the marker into pieces; a hit joins the pieces around the
JSON-escaped request URL of this request, which gives the very bytes a fresh render would
(orjson escapes a string character by character, so the escape of the URL is the same inside
any string it is part of).
"""

from __future__ import annotations

import hashlib
import secrets
from collections import OrderedDict
from dataclasses import dataclass

import orjson

#: What one entry costs beyond its pieces (key, objects, dictionary slot), roughly.
ENTRY_OVERHEAD = 400


def url_marker() -> str:
    """A request URL no client can produce: a fresh random token per application."""
    return f"urn:x-rdds-request-url:{secrets.token_hex(16)}"


@dataclass(frozen=True, slots=True)
class Cached:
    """One rendered answer with the request URL left out."""

    status: int
    pieces: tuple[bytes, ...]
    headers: tuple[tuple[str, str], ...]
    #: Digest of the pieces: with the request URL, the strong ETag (RFC 9110 §8.8.3).
    digest: bytes

    @classmethod
    def split(
        cls, status: int, body: bytes, marker: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> Cached:
        """Cut `body` (rendered with `marker` as its request URL) at every marker."""
        pieces = tuple(body.split(orjson.dumps(marker)[1:-1]))
        digest = hashlib.blake2b(b"\x00".join(pieces), digest_size=16).digest()
        return cls(status, pieces, headers, digest)

    @property
    def size(self) -> int:
        """Bytes this entry holds, as the cache counts them."""
        return sum(len(p) for p in self.pieces) + ENTRY_OVERHEAD

    def body(self, request_url: str) -> bytes:
        """The body for a request whose URL is `request_url`."""
        if len(self.pieces) == 1:
            return self.pieces[0]
        return orjson.dumps(request_url)[1:-1].join(self.pieces)

    def etag(self, request_url: str) -> str:
        """A strong entity tag of `body(request_url)`: equal bodies, equal tags."""
        if len(self.pieces) == 1:
            return f'"{self.digest.hex()}"'
        h = hashlib.blake2b(request_url.encode(), key=self.digest, digest_size=16)
        return f'"{h.hexdigest()}"'


class AnswerCache:
    """Least recently used answers, at most `max_bytes` of them (and `max_entries`)."""

    __slots__ = ("_entries", "max_bytes", "max_entries", "size")

    def __init__(self, max_bytes: int, max_entries: int = 1_000_000) -> None:
        self.max_bytes = max(0, max_bytes)
        self.max_entries = max(1, max_entries)
        self.size = 0
        self._entries: OrderedDict[tuple[object, ...], tuple[Cached, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[tuple[object, ...]]:
        """The keys held, least recently used first."""
        return list(self._entries)

    def get(self, key: tuple[object, ...]) -> Cached | None:
        """The cached answer for `key`, now the most recently used; None if absent."""
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[0]

    def put(self, key: tuple[object, ...], answer: Cached) -> None:
        """Keep `answer`, dropping the least recently used until it fits (an answer larger
        than the whole cache is not kept)."""
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= old[1]
        # The key's strings count too: a request path can be as long as the answer.
        size = answer.size + sum(len(k) for k in key if isinstance(k, str | bytes))
        if size > self.max_bytes:
            return
        self._entries[key] = (answer, size)
        self.size += size
        while self.size > self.max_bytes or len(self._entries) > self.max_entries:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.size -= dropped

    def clear(self) -> None:
        """Drop everything (a new replica generation)."""
        self._entries.clear()
        self.size = 0
