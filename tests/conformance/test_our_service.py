"""Our checker against our running service: every showcase object and every error path
yields zero errors and zero warnings, as a newcomer's first `rdds check` of the demo sees."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestServer

from conformance.client import check_urls
from conformance.findings import Finding, Severity
from core.lookup import Lookup
from rdap.server import make_app
from rdap.settings import RdapConfig
from redaction.policy import default_policy
from replica.store import SqliteStore

SHOWCASE = (
    "domain/example.coop",
    "domain/unverified.coop",
    "domain/example.org",
    "domain/consent.org",
    "domain/journalist.org",
    "domain/suspended.cx",
    "domain/pending.gs",
    "domain/xn--mgbh0fb.xn--mgbtx2b",
    "domain/%D9%85%D8%AB%D8%A7%D9%84.%D8%B9%D8%B1%D8%A7%D9%82",
    "nameserver/ns1.example.coop",
    "entity/9100",
    "entity/CXR1",
    "entity/EXCOOP-1",
    "help",
)
ERRORS = (
    "domain/nosuch.coop",
    "domain/test.invalid",
    "domain/bad..name",
    "nameserver/ns9.nowhere.coop",
    "entity/NO-SUCH-1",
    "entity/EXORG-1",  # exists, but its handle is withheld: the same 404
    "ip/192.0.2.1",
    "autnum/64496",
    "domains?name=ex*.coop",
    "nonsense",
)


@pytest.fixture
async def base(store: SqliteStore, aiohttp_server: Callable[..., Awaitable[TestServer]]) -> str:
    # Links in answers must carry the address the checker queries: pick the port first.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    config = RdapConfig(
        base_url=url, port43="whois.registry.example", tos_url="https://registry.example/terms"
    )
    await aiohttp_server(make_app(Lookup(store, default_policy()), config), port=port)
    return url


def not_clean(findings: list[Finding]) -> list[tuple[str, str, str]]:
    """The errors and warnings among findings (info notes are allowed)."""
    return [(f.code, f.url, f.path) for f in findings if f.severity is not Severity.INFO]


async def test_first_check_of_the_demo_is_clean(base: str) -> None:
    # GIVEN the demo served on loopback WHEN a newcomer checks every showcase URL, probes on,
    # as `rdds check` does THEN there is no error and no warning.
    findings = await check_urls([base + path for path in SHOWCASE])
    assert not_clean(findings) == []
    # The withheld registrant and the registrar's abuse contact have no handle, hence no self
    # link: that is conformant (RFC 9083 §5), not a warning.
    assert not [f for f in findings if f.code == "json.link.self"]


@pytest.mark.parametrize("path", SHOWCASE)
async def test_showcase_conforms(base: str, path: str) -> None:
    findings = await check_urls([base + path], probes=path.startswith("domain/example.org"))
    assert not_clean(findings) == []


@pytest.mark.parametrize("path", ERRORS)
async def test_error_answers_conform(base: str, path: str) -> None:
    findings = await check_urls([base + path], probes=False)
    assert not_clean(findings) == []


async def test_gtld_profile_forced_on_gtld_answers(base: str) -> None:
    findings = await check_urls(
        [base + "domain/example.org", base + "domain/example.coop"], probes=False, gtld=True
    )
    assert [f for f in findings if f.severity is Severity.ERROR] == []
