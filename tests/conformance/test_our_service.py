"""Our checker against our running service: every showcase object and every error path
yields zero errors; the only warnings are the ones docs/conformance.md lists with a reason."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestServer

from conformance.client import check_urls
from conformance.findings import Severity
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

#: Warnings our answers produce on purpose (docs/conformance.md, "Our service"): an entity
#: without a self link is one whose handle is withheld, or a registrar's abuse contact.
ALLOWED_WARNINGS = {"json.link.self"}


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


@pytest.mark.parametrize("path", SHOWCASE)
async def test_showcase_conforms(base: str, path: str) -> None:
    findings = await check_urls([base + path], probes=path.startswith("domain/example.org"))
    errors = [f for f in findings if f.severity is Severity.ERROR]
    assert errors == []
    assert {f.code for f in findings if f.severity is Severity.WARNING} <= ALLOWED_WARNINGS


@pytest.mark.parametrize("path", ERRORS)
async def test_error_answers_conform(base: str, path: str) -> None:
    findings = await check_urls([base + path], probes=False)
    assert [f for f in findings if f.severity is Severity.ERROR] == []


async def test_gtld_profile_forced_on_gtld_answers(base: str) -> None:
    findings = await check_urls(
        [base + "domain/example.org", base + "domain/example.coop"], probes=False, gtld=True
    )
    assert [f for f in findings if f.severity is Severity.ERROR] == []
