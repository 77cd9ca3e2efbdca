"""The RDAP answer cache: byte bound, LRU order, request URL splicing, entity tags."""

from __future__ import annotations

import orjson
import pytest

from rdap.answers import ENTRY_OVERHEAD, AnswerCache, Cached, url_marker
from rdds.config import parse
from registry.errors import ConfigError

MARKER = url_marker()


def _render(url: str) -> bytes:
    doc = {"links": [{"value": url, "href": "https://x/d"}], "n": [{"value": url + "#t"}]}
    return orjson.dumps(doc)


@pytest.mark.parametrize(
    "url",
    [
        "https://rdap.example/domain/a.coop",
        'https://rdap.example/domain/a.coop?q="quoted"\\back',
        "https://rdap.example/domain/\u00e9.coop?x=\x01\u2028",
        "",
    ],
)
def test_spliced_body_equals_a_fresh_render(url: str) -> None:
    cached = Cached.split(200, _render(MARKER), MARKER)
    assert len(cached.pieces) == 3
    assert cached.body(url) == _render(url)


def test_etag_is_strong_and_follows_the_body() -> None:
    cached = Cached.split(200, _render(MARKER), MARKER)
    other = Cached.split(200, _render(MARKER).replace(b'"n"', b'"m"'), MARKER)
    a, b = cached.etag("https://x/1"), cached.etag("https://x/2")
    assert a.startswith('"') and not a.startswith("W/") and a != b
    assert a == cached.etag("https://x/1") and a != other.etag("https://x/1")
    plain = Cached.split(404, b'{"errorCode":404}', MARKER)
    assert plain.body("https://x/1") == b'{"errorCode":404}'
    assert plain.etag("https://x/1") == plain.etag("https://x/2")


def test_bound_in_bytes_least_recently_used_out() -> None:
    body = Cached.split(200, b"x" * 600, MARKER)
    cache = AnswerCache(max_bytes=3 * (body.size + 10))
    for i in range(3):
        cache.put((1, f"/domain/{i:02}"), body)
    assert cache.get((1, "/domain/00")) is body  # now the most recent
    cache.put((1, "/domain/03"), body)
    assert cache.keys() == [(1, "/domain/02"), (1, "/domain/00"), (1, "/domain/03")]
    assert cache.size == 3 * (body.size + 10) == 3 * (600 + ENTRY_OVERHEAD + 10)


def test_long_keys_count_and_oversized_answers_are_not_kept() -> None:
    small = Cached.split(200, b"{}", MARKER)
    cache = AnswerCache(max_bytes=10_000)
    for i in range(100):
        cache.put((1, f"/domain/{i}" + "a" * 3000), small)
        assert cache.size <= 10_000
    assert len(cache) == 2
    cache.put((1, "/big"), Cached.split(200, b"x" * 20_000, MARKER))
    assert cache.get((1, "/big")) is None and cache.size <= 10_000
    cache.put((1, "/domain/0" + "a" * 3000), small)  # replacing keeps the count right
    cache.clear()
    assert cache.size == 0 and len(cache) == 0


@pytest.mark.parametrize("value", ["-1", "86401"])
def test_max_age_out_of_range_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match=r"rdap\.max_age"):
        parse(f"[rdap]\nmax_age = {value}\n")


def test_max_age_and_cache_bytes_are_configurable() -> None:
    settings = parse("[rdap]\nmax_age = 0\ncache_bytes = 1048576\n")
    assert settings.rdap.max_age == 0 and settings.rdap.cache_bytes == 1_048_576
