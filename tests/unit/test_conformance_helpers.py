"""Tables for the checker's URL helpers, WHOIS key order and CLI formatting."""

from __future__ import annotations

import pytest

from conformance import cli, client, document, whois
from conformance.findings import Finding, Severity


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://rdap.example.org/domain/example.org", "https://rdap.example.org/"),
        ("https://rdap.example.org/rdap/domain/example.org", "https://rdap.example.org/rdap/"),
        (
            "https://rdap.example.org/rdap/nameserver/ns1.example.org",
            "https://rdap.example.org/rdap/",
        ),
        ("https://rdap.example.org/rdap/entity/C-1?x=1", "https://rdap.example.org/rdap/"),
        ("https://rdap.example.org/rdap/help", "https://rdap.example.org/rdap/"),
        ("https://rdap.example.org/domains?name=exam*.org", "https://rdap.example.org/"),
        ("http://127.0.0.1:8080/domain/example.org/", "http://127.0.0.1:8080/"),
        ("https://rdap.example.org/something/else", None),
    ],
)
def test_base_url(url: str, base: str | None) -> None:
    assert client.base_url(url) == base


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://r.example/domain/example.org", "domain"),
        ("https://r.example/nameserver/ns1.example.org", "nameserver"),
        ("https://r.example/entity/C-1", "entity"),
        ("https://r.example/help", "help"),
        ("https://r.example/entities?fn=Ex*", "search"),
        ("https://r.example/ip/192.0.2.0", None),
    ],
)
def test_url_kind(url: str, kind: str | None) -> None:
    assert document.url_kind(url) == kind


@pytest.mark.parametrize(
    ("name", "odd"),
    [("example.org", "eXaMpLe.OrG"), ("xn--bcher-kva.example", "xN--bChEr-KvA.eXaMpLe")],
)
def test_odd_case(name: str, odd: str) -> None:
    assert client.odd_case(name) == odd


def test_domain_key_order_follows_icann() -> None:
    order = whois.DOMAIN_KEY_ORDER
    assert order[:3] == ("Domain Name", "Registry Domain ID", "Registrar WHOIS Server")
    assert order.index("Domain Status") < order.index("Registry Registrant ID")
    assert order.index("Registrant Email") < order.index("Registry Admin ID")
    assert order.index("Tech Email") < order.index("Name Server") < order.index("DNSSEC")
    assert order[-1] == "URL of the ICANN Whois Inaccuracy Complaint Form"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("127.0.0.1:43", ("127.0.0.1", 43)),
        ("whois.example.org:4343", ("whois.example.org", 4343)),
        ("[::1]:43", ("::1", 43)),
        ("::1:43", None),
        ("whois.example.org", None),
        ("whois.example.org:0", None),
        ("whois.example.org:65536", None),
        (":43", None),
    ],
)
def test_parse_host_port(text: str, parsed: tuple[str, int] | None) -> None:
    assert cli.parse_host_port(text) == parsed


def test_summary_and_line_format() -> None:
    findings = [
        Finding(
            "http.content-type",
            Severity.ERROR,
            "header:Content-Type",
            "bad",
            "RFC 7480 §4.2",
            "https://r.example/help",
        ),
        Finding(
            "jcard.tel.type", Severity.WARNING, "$.vcardArray[1][3]", "no type", "RFC 9083 §5.1"
        ),
        Finding("json.date", Severity.ERROR, "$.events[0].eventDate", "bad", "RFC 9083 §4.5"),
    ]
    assert cli.summarize(findings) == "2 errors, 1 warning, 0 info"
    assert cli.summarize([]) == "0 errors, 0 warnings, 0 info"
    assert cli.format_finding(findings[0]) == (
        "ERROR http.content-type https://r.example/help header:Content-Type: bad [RFC 7480 §4.2]"
    )
    assert cli.format_finding(findings[1]).startswith("WARNING jcard.tel.type $.vcardArray")
