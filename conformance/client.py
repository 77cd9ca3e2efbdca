"""Network I/O of the conformance checker: fetch RDAP answers and port-43 text, hand them to check.

The only module of the checker that touches sockets. Every failure becomes a Finding.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ssl
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import aiohttp
import orjson

from conformance import check, document, iana
from conformance.findings import Finding, with_url
from conformance.rules import finding

MAX_BODY: Final = 16 * 1024 * 1024  # an RDAP answer larger than this is a server fault
MAX_WHOIS: Final = 1024 * 1024
USER_AGENT: Final = "rdds-conformance/0.1"
HEAD_GRACE: Final = 0.5  # seconds to wait for bytes after a HEAD answer's header block
_ACCEPT: Final = {"Accept": "application/rdap+json", "User-Agent": USER_AGENT}

# RFC 9082 §3.1: path segments that end a lookup (two segments) or a help/search (one).
_LOOKUPS: Final = frozenset({"domain", "nameserver", "entity", "ip", "autnum"})
_SINGLE: Final = frozenset({"help", "domains", "nameservers", "entities"})

# Probes ICANN's conformance tool sends: reserved names (RFC 6761 §6.4) that can never be
# registered, and names that are not valid RDAP domain queries.
NOT_FOUND_PROBES: Final = ("domain/test.invalid", "domain/not-a-domain.invalid")
BAD_REQUEST_PROBES: Final = (
    "domain/" + "a" * 64 + ".example",  # RFC 1035 §2.3.4: labels are at most 63 octets
    "domain/exa%20mple..com",  # a space, and an empty label
)


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer as received."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes


class _Failure(Exception):
    """A request that produced no answer; carries the finding to report."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


async def check_urls(
    urls: Sequence[str],
    *,
    probes: bool = True,
    gtld: bool | None = None,
    timeout: float = 10.0,  # noqa: ASYNC109 - per request, part of the public interface
    session: aiohttp.ClientSession | None = None,
) -> list[Finding]:
    """GET and HEAD every URL, judge the answers, and probe each server's base URL once."""
    own = session is None
    client = session or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))
    findings: list[Finding] = []
    try:
        bases: list[str] = []
        answered: list[tuple[str, Answer]] = []
        for url in urls:
            url_findings, got = await _check_url(client, url, gtld, timeout)
            findings += url_findings
            base = base_url(url)
            # Probe only servers that answered: a dead one would repeat its net.error.
            if got is not None:
                answered.append((url, got))
                if base is not None and base not in bases:
                    bases.append(base)
        if probes:
            for base in bases:
                findings += await _probe_base(client, base, gtld, timeout)
            for url, got in answered:
                findings += await _probe_case(client, url, got, timeout)
    finally:
        if own:
            await client.close()
    return findings


async def check_whois_server(
    host: str,
    port: int,
    query: str,
    *,
    timeout: float = 10.0,  # noqa: ASYNC109 - part of the public interface
) -> list[Finding]:
    """Send `query` CR LF to a port-43 server, read until it closes, and judge the answer."""
    where = f"whois://{f'[{host}]' if ':' in host else host}:{port}/{query}"
    data = bytearray()
    findings: list[Finding] = []
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                # RFC 3912 §2: the query line ends in CR LF; the server's close ends the answer.
                writer.write(query.encode("utf-8") + b"\r\n")
                await writer.drain()
                while chunk := await reader.read(65536):
                    data += chunk
                    if len(data) > MAX_WHOIS:
                        findings.append(
                            finding("whois.size", "$", f"answer exceeds {MAX_WHOIS} bytes")
                        )
                        break
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except TimeoutError:
        return with_url(
            [finding("net.timeout", "$", f"no complete answer within {timeout} s")],
            where,
        )
    except OSError as exc:
        return with_url([finding("net.error", "$", f"connection failed: {exc}")], where)
    if not findings:
        findings = check.check_whois(bytes(data), query=query)
    return with_url(findings, where)


def base_url(url: str) -> str | None:
    """Return the RDAP base URL (ending in '/') of a lookup, help or search URL, or None."""
    parts = urllib.parse.urlsplit(url)
    segments = parts.path.split("/")
    while segments and not segments[-1]:
        segments.pop()
    if len(segments) >= 2 and segments[-2] in _LOOKUPS:
        keep = segments[:-2]
    elif segments and segments[-1] in _SINGLE:
        keep = segments[:-1]
    else:
        return None
    path = "/".join(keep) + "/"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def odd_case(name: str) -> str:
    """Return `name` with its letters in alternating case (eXaMpLe.OrG)."""
    out: list[str] = []
    upper = False
    for char in name:
        if char.isalpha():
            out.append(char.upper() if upper else char.lower())
            upper = not upper
        else:
            out.append(char)
    return "".join(out)


async def _check_url(
    session: aiohttp.ClientSession, url: str, gtld: bool | None, seconds: float
) -> tuple[list[Finding], Answer | None]:
    try:
        got = await _get(session, url, seconds)
    except _Failure as failure:
        return with_url([failure.finding], url), None
    findings = check.check_response(got.url, got.status, got.headers, got.body, gtld=gtld)
    try:
        head = await _head(got.url, seconds)
    except _Failure as failure:
        return findings + with_url([failure.finding], got.url), got
    findings += check.check_response(
        head.url, head.status, head.headers, head.body, method="HEAD", gtld=gtld or _profile(got)
    )
    # RFC 9110 §9.3.2: HEAD is GET without the content (the same status), and SHOULD carry
    # the same header fields.
    if head.status != got.status:
        message = f"HEAD answered {head.status}, GET answered {got.status}"
        findings += with_url([finding("http.head.mismatch", "request", message)], got.url)
    elif _media(head.headers) != _media(got.headers):
        message = (
            f"HEAD answered Content-Type {_media(head.headers)!r}, GET {_media(got.headers)!r}"
        )
        findings += with_url([finding("http.head.headers", "request", message)], got.url)
    return findings, got


async def _probe_base(
    session: aiohttp.ClientSession, base: str, gtld: bool | None, seconds: float
) -> list[Finding]:
    findings: list[Finding] = []
    for paths, expected, code in (
        (NOT_FOUND_PROBES, 404, "probe.not-found"),
        (BAD_REQUEST_PROBES, 400, "probe.bad-request"),
    ):
        for path in paths:
            url = base + path
            try:
                got = await _get(session, url, seconds)
            except _Failure as failure:
                findings += with_url([failure.finding], url)
                continue
            if got.status != expected:
                findings += with_url(
                    [finding(code, "status", f"expected HTTP {expected}, got {got.status}")], url
                )
            findings += check.check_response(got.url, got.status, got.headers, got.body, gtld=gtld)
    return findings


async def _probe_case(
    session: aiohttp.ClientSession, url: str, plain: Answer, seconds: float
) -> list[Finding]:
    base = base_url(url)
    if base is None or document.url_kind(url) != "domain":
        return []
    name = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
    odd = odd_case(name)
    if odd == name:
        odd = name.upper()
    if odd == name:
        return []  # no letters to change
    odd_url = base + "domain/" + urllib.parse.quote(odd, safe=".-")
    try:
        mixed = await _get(session, odd_url, seconds)
    except _Failure as failure:
        return with_url([failure.finding], odd_url)
    if plain.status != mixed.status:
        message = f"{odd!r} answered {mixed.status}, {name!r} answered {plain.status}"
        return with_url([finding("probe.case", "status", message)], odd_url)
    try:
        left = _comparable(orjson.loads(plain.body), plain.url, url)
        right = _comparable(orjson.loads(mixed.body), mixed.url, url)
    except orjson.JSONDecodeError:
        return []  # json.invalid is reported for the plain lookup
    if left != right:
        message = f"the body for {odd!r} differs from the body for {name!r}"
        return with_url([finding("probe.case", "body", message)], odd_url)
    return []


def _comparable(doc: object, served_url: str, canonical_url: str) -> object:
    """Drop what may legitimately differ between two lookups of one name (FACTS: ICANN tool)."""
    if isinstance(doc, dict):
        out = {k: _comparable(v, served_url, canonical_url) for k, v in doc.items()}
        events = out.get("events")
        if isinstance(events, list):
            out["events"] = [
                e
                for e in events
                if not (
                    isinstance(e, dict) and e.get("eventAction") == "last update of RDAP database"
                )
            ]
        return out
    if isinstance(doc, list):
        return [_comparable(v, served_url, canonical_url) for v in doc]
    if doc == served_url:
        return canonical_url  # links echo the request URL as received
    return doc


async def _get(session: aiohttp.ClientSession, url: str, seconds: float) -> Answer:
    try:
        async with session.get(
            url, headers=_ACCEPT, timeout=aiohttp.ClientTimeout(total=seconds)
        ) as resp:
            body = bytearray()
            async for chunk in resp.content.iter_chunked(65536):
                body += chunk
                if len(body) > MAX_BODY:
                    raise _Failure(finding("net.error", "body", f"body exceeds {MAX_BODY} bytes"))
            # Judge links against the URL as the client sent it unless a redirect moved it.
            final = url if not resp.history else str(resp.url)
            return Answer(final, resp.status, _headers(resp.headers.items()), bytes(body))
    except TimeoutError as exc:
        raise _Failure(finding("net.timeout", "request", f"no answer within {seconds} s")) from exc
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        raise _Failure(
            finding("net.error", "request", f"GET failed: {exc or type(exc).__name__}")
        ) from exc


async def _head(url: str, seconds: float) -> Answer:
    """Send HEAD over a raw HTTP/1.1 connection, so a body the server wrongly sends is seen.

    HTTP clients discard whatever follows a HEAD answer's header block; this one reads to the
    connection close instead (RFC 9112 §6.3: HEAD answers end with their header section).
    """
    parts = urllib.parse.urlsplit(url)
    secure = parts.scheme == "https"
    host = parts.hostname or ""
    target = urllib.parse.quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        target += "?" + urllib.parse.quote(parts.query, safe="=&%:@!$'()*+,;/?-._~")
    request = (
        f"HEAD {target} HTTP/1.1\r\nHost: {parts.netloc.rsplit('@', 1)[-1]}\r\n"
        f"Accept: application/rdap+json\r\nUser-Agent: {USER_AGENT}\r\nConnection: close\r\n\r\n"
    )
    data = bytearray()
    try:
        async with asyncio.timeout(seconds):
            reader, writer = await asyncio.open_connection(
                host,
                parts.port or (443 if secure else 80),
                ssl=ssl.create_default_context() if secure else None,
            )
            try:
                writer.write(request.encode("ascii"))
                await writer.drain()
                while b"\r\n\r\n" not in data and (chunk := await reader.read(65536)):
                    data += chunk
                    if len(data) > MAX_BODY:
                        break
                # The header block is in. A server that ignores `Connection: close` keeps the
                # connection open, so wait only briefly for stray body bytes, then stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(HEAD_GRACE, seconds)):
                        while len(data) <= MAX_BODY and (chunk := await reader.read(65536)):
                            data += chunk
            finally:
                writer.close()
                with contextlib.suppress(OSError, ssl.SSLError):
                    await writer.wait_closed()
    except TimeoutError as exc:
        raise _Failure(
            finding("net.timeout", "request", f"HEAD: no answer within {seconds} s")
        ) from exc
    except (OSError, UnicodeError, ValueError) as exc:
        raise _Failure(
            finding("net.error", "request", f"HEAD failed: {exc or type(exc).__name__}")
        ) from exc
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if (
        len(status_line) < 2
        or not status_line[0].startswith("HTTP/")
        or not status_line[1].isdigit()
    ):
        raise _Failure(
            finding("net.error", "request", f"HEAD: malformed status line {lines[0][:80]!r}")
        )
    pairs = [
        (k.strip(), v.strip()) for k, sep, v in (line.partition(":") for line in lines[1:]) if sep
    ]
    return Answer(url, int(status_line[1]), _headers(pairs), body)


def _headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return header name -> first value, names as received."""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in pairs:
        if name.lower() not in seen:
            seen.add(name.lower())
            out[name] = value
    return out


def _profile(answer: Answer) -> bool | None:
    """True when the GET answer declares the gTLD profile (its HEAD twin has no body to say)."""
    try:
        doc = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        return None
    declared = doc.get("rdapConformance") if isinstance(doc, dict) else None
    return True if isinstance(declared, list) and iana.GTLD_PROFILE in declared else None


def _media(headers: Mapping[str, str]) -> str:
    lower = {k.lower(): v for k, v in headers.items()}
    return lower.get("content-type", "").split(";", 1)[0].strip().lower()
