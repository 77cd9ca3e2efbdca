"""Third-party RDAP clients installed outside the project read every showcase object of the
demo registry from the running service: the PyPI `rdap` client (which lower-cases every query,
so handles must ignore case) and whoisit (which follows every domain's `related` link to the
registrar's RDAP service: the demo's registrars are served by this server, see README).

The PyPI `rdap` client has no nameserver lookup (it sends anything with a dot to /domain/);
nameservers are read with curl in test_rdap_clients.py."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.realclient.conftest import Service, require

pytestmark = pytest.mark.realclient

DRIVERS = Path(__file__).resolve().parent / "drivers"

#: (query as typed, A-label ldhName) for every showcase domain, the IDN one both ways.
DOMAINS = [
    ("example.coop", "example.coop"),
    ("unverified.coop", "unverified.coop"),
    ("example.org", "example.org"),
    ("consent.org", "consent.org"),
    ("journalist.org", "journalist.org"),
    ("suspended.cx", "suspended.cx"),
    ("pending.gs", "pending.gs"),
    ("xn--mgbh0fb.xn--mgbtx2b", "xn--mgbh0fb.xn--mgbtx2b"),
    ("مثال.عراق", "xn--mgbh0fb.xn--mgbtx2b"),
]

#: (query as typed, handle as stored): gTLD registrars by IANA id, ccTLD-only registrars by
#: registry id, and the one contact whose handle every domain answer shows.
ENTITIES = [
    *[(str(iana), str(iana)) for iana in range(9100, 9110)],
    ("CXR1", "CXR1"),
    ("GSR2", "GSR2"),
    ("EXCOOP-1", "EXCOOP-1"),
    ("excoop-1", "EXCOOP-1"),
]


def _rdap_client(service: Service, tmp_path: Path, query: str) -> tuple[dict[str, object], str]:
    client = require("rdap", os.environ.get("RDDS_RDAP_CLIENT"))
    home = tmp_path / "rdap-home"
    home.mkdir()
    (home / "config.yaml").write_text(
        f"rdap:\n  bootstrap_url: {service.base}\n  recurse_roles: []\n"
    )
    res = subprocess.run(
        [client, "--home", str(home), "--output-format", "json", "--show-requests", query],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    body, _, requests = res.stdout.partition("\n# Requests")
    doc: dict[str, object] = json.loads(body)
    return doc, requests


@pytest.mark.parametrize(("query", "ldh"), DOMAINS)
def test_rdap_client_reads_showcase_domains(
    service: Service, tmp_path: Path, query: str, ldh: str
) -> None:
    doc, requests = _rdap_client(service, tmp_path, query)
    assert doc["objectClassName"] == "domain" and doc["ldhName"] == ldh
    assert " 200" in requests and " 404" not in requests


@pytest.mark.parametrize(("query", "handle"), ENTITIES)
def test_rdap_client_reads_showcase_entities(
    service: Service, tmp_path: Path, query: str, handle: str
) -> None:
    doc, requests = _rdap_client(service, tmp_path, query)
    assert f"/entity/{query.lower()} 200" in requests  # what the client really asked
    assert doc["objectClassName"] == "entity" and doc["handle"] == handle


def test_whoisit_follows_related_links(service: Service) -> None:
    """whoisit follows `related` by default and warns (here: fails) when the link does not
    answer; with the demo's invented registrar hosts every gTLD lookup failed that way."""
    client = require("rdap", os.environ.get("RDDS_RDAP_CLIENT"))
    python = Path(client).with_name("python")
    probe = subprocess.run([python, "-c", "import whoisit"], capture_output=True, check=False)
    if probe.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("whoisit is not installed beside the rdap client; .ci/run installs it")
        pytest.skip("whoisit is not installed beside the rdap client")
    queries = [query for query, _ in DOMAINS if query.isascii()]
    res = subprocess.run(
        [python, str(DRIVERS / "whoisit_domains.py"), service.base, *queries],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    answers = [json.loads(line) for line in res.stdout.splitlines()]
    assert [a["query"] for a in answers] == queries
    for answer in answers:
        assert answer["name"] == answer["query"]
        assert answer["registrar"]  # the registrar entity was parsed from the merged answer
