"""Pure WHOIS rendering: key order, the three field states, sanitising stored data."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from core import texts
from redaction.engine import redact_domain
from redaction.policy import Requester, default_policy
from registry.model import (
    Contact,
    ContactRole,
    Domain,
    DomainRecord,
    Host,
    HostRecord,
    PersonKind,
    PostalInfo,
    Registrar,
    ReplicaInfo,
    Tld,
    TldKind,
)
from whois43 import render

T0 = dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
CTX = render.RenderContext(watermark=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), terms=("Terms.",))


def registrar(**kw: object) -> Registrar:
    base: dict[str, object] = {
        "id": "R1",
        "name": "Test Registrar",
        "iana_id": 9999,
        "url": "https://registrar.example",
        "whois_server": "whois.registrar.example",
        "abuse_email": "abuse@registrar.example",
        "abuse_phone": "+1.5550100000",
    }
    base.update(kw)
    return Registrar(**base)  # type: ignore[arg-type]


def contact(**kw: object) -> Contact:
    base: dict[str, object] = {
        "handle": "C1",
        "roid": "C1-ROID",
        "postal": (
            PostalInfo("int", "Ana Person", street=("1 Road",), city="Town", sp="ST", cc="GB"),
        ),
        "email": "ana@mail.example",
        "voice": "+44.5550100123",
    }
    base.update(kw)
    return Contact(**base)  # type: ignore[arg-type]


def record(
    reg_contact: Contact | None = None, tld: TldKind = TldKind.GTLD, **kw: object
) -> DomainRecord:
    c = reg_contact or contact()
    base: dict[str, object] = {
        "name": "example.org",
        "roid": "D1-ORG",
        "tld": "org",
        "statuses": ("clientTransferProhibited",),
        "registrar": "R1",
        "created": T0,
        "registrant": c.handle,
        "nameservers": ("ns1.example.net",),
    }
    base.update(kw)
    return DomainRecord(
        domain=Domain(**base),  # type: ignore[arg-type]
        tld=Tld("org", tld, "org", "ORG"),
        registrar=registrar(),
        contacts=((ContactRole.REGISTRANT, c),),
        hosts=(Host("ns1.example.net"),),
        info=ReplicaInfo(1, CTX.watermark),
    )


def text(rec: DomainRecord, requester: Requester | None = None) -> str:
    rd = redact_domain(rec, requester or Requester.anonymous(), default_policy())
    return render.domain(rd, CTX)


def values(out: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in out.split("\r\n"):
        key, sep, value = line.partition(":")
        if sep and not line.startswith(("URL of", ">>>", "For more")):
            found.setdefault(key, []).append(value.strip())
    return found


def test_crlf_only_and_no_trailing_spaces() -> None:
    out = text(record())
    assert out.endswith("\r\n")
    assert "\n" not in out.replace("\r\n", "")
    assert "\r" not in out.replace("\r\n", "")
    assert all(line == line.rstrip() for line in out.split("\r\n"))


def test_key_order_follows_the_icann_format() -> None:
    keys = [line.split(":", 1)[0] for line in text(record()).split("\r\n")]
    order = [
        "Domain Name",
        "Registry Domain ID",
        "Registrar WHOIS Server",
        "Registrar URL",
        "Updated Date",
        "Creation Date",
        "Registry Expiry Date",
        "Registrar",
        "Registrar IANA ID",
        "Registrar Abuse Contact Email",
        "Registrar Abuse Contact Phone",
        "Domain Status",
        "Registry Registrant ID",
        "Registrant Name",
        "Registrant Organization",
        "Registrant Street",
        "Registrant City",
        "Registrant State/Province",
        "Registrant Postal Code",
        "Registrant Country",
        "Registrant Phone",
        "Registrant Phone Ext",
        "Registrant Fax",
        "Registrant Fax Ext",
        "Registrant Email",
        "Name Server",
        "DNSSEC",
        "URL of the ICANN Whois Inaccuracy Complaint Form",
    ]
    assert [k for k in keys if k in order] == order
    lines = text(record()).split("\r\n")
    last = lines.index(">>> Last update of WHOIS database: 2026-01-01T00:00:00Z <<<")
    assert lines[last + 1] == ""
    assert lines[last + 2] == texts.WHOIS_STATUS_POINTER


def test_three_field_states() -> None:
    # Anonymous, natural person: name withheld, state and country shown.
    v = values(text(record()))
    assert v["Registrant Name"] == [render.REDACTED]
    assert v["Registrant State/Province"] == ["ST"]
    assert v["Registrant Country"] == ["GB"]
    # Withheld whether or not the person has one: the answer does not tell.
    assert v["Registrant Fax"] == [render.REDACTED]
    assert v["Registrant Email"] == ["https://registrar.example"]  # the engine's pointer
    # A field the requester may see that the contact does not hold: the bare key.
    staff = Requester(tier="registry-staff", purpose="dnsTransparency")
    assert values(text(record(), staff))["Registrant Fax"] == [""]


def test_authorized_view_shows_values() -> None:
    rq = Requester(tier="registry-staff", purpose="dnsTransparency")
    v = values(text(record(), rq))
    assert v["Registrant Name"] == ["Ana Person"]
    assert v["Registrant Email"] == ["ana@mail.example"]


def test_stored_control_characters_cannot_forge_lines() -> None:
    evil = registrar(name="Evil\r\nDomain Status: ok\x1b[31m")
    rec = replace(record(), registrar=evil)
    out = render.domain(redact_domain(rec, Requester.anonymous(), default_policy()), CTX)
    assert "Registrar: Evil  Domain Status: ok [31m\r\n" in out
    assert sum(1 for line in out.split("\r\n") if line.startswith("Domain Status")) == 1
    assert "\x1b" not in out


def test_consented_name_with_line_separator_is_cleaned() -> None:
    c = contact(
        disclose_yes=frozenset({"name"}),
        postal=(PostalInfo("int", "Ana\u2028Registrant Email: x", city="Town", cc="GB"),),
    )
    v = values(text(record(c)))
    assert v["Registrant Name"] == ["Ana Registrant Email: x"]
    assert v["Registrant Email"] == ["https://registrar.example"]


def test_statuses_with_urls_and_rgp() -> None:
    out = text(record(statuses=("pendingDelete", "serverHold"), rgp_statuses=("redemptionPeriod",)))
    assert "Domain Status: pendingDelete https://icann.org/epp#pendingDelete\r\n" in out
    assert "Domain Status: redemptionPeriod https://icann.org/epp#redemptionPeriod\r\n" in out


def test_cctld_has_no_complaint_line() -> None:
    assert "wicf" not in text(record(tld=TldKind.CCTLD))
    assert texts.WHOIS_COMPLAINT_LINE in text(record(tld=TldKind.SPONSORED))


def test_registrar_whois_server_is_a_bare_host() -> None:
    rec = replace(record(), registrar=registrar(whois_server="https://whois.registrar.example/x"))
    out = render.domain(redact_domain(rec, Requester.anonymous(), default_policy()), CTX)
    assert "Registrar WHOIS Server: whois.registrar.example\r\n" in out


def test_legal_verified_organisation() -> None:
    c = contact(
        kind=PersonKind.LEGAL,
        verified=True,
        postal=(
            PostalInfo("int", "Office", org="Org Ltd", street=("1 Road",), city="Town", cc="GB"),
        ),
    )
    v = values(text(record(c)))
    assert v["Registrant Organization"] == ["Org Ltd"]
    assert v["Registry Registrant ID"] == ["C1"]


def test_nameserver_and_registrar_records() -> None:
    host = Host("ns1.xn--caf-dma.org", v4=("192.0.2.1",), v6=("2001:db8::1",))
    out = render.nameservers([HostRecord(host, registrar(), CTX_INFO)], CTX)
    assert out.startswith(
        "Server Name: ns1.xn--caf-dma.org\r\nInternationalized Server Name: ns1.café.org\r\n"
        "IP Address: 192.0.2.1\r\nIP Address: 2001:db8::1\r\nRegistrar: Test Registrar\r\n"
    )
    reg = render.registrar(registrar(street=("1 Row", "Floor 2")), CTX)
    assert "Street: 1 Row\r\nStreet: Floor 2\r\n" in reg
    assert "WHOIS Server: whois.registrar.example\r\n" in reg


CTX_INFO = ReplicaInfo(1, CTX.watermark)


def test_not_found_and_error() -> None:
    out = render.not_found("EXAMPLE.COOP", CTX)
    assert out.startswith(
        'No match for "EXAMPLE.COOP".\r\n'
        ">>> Last update of WHOIS database: 2026-01-01T00:00:00Z <<<\r\n"
    )
    assert render.error("bad\r\nthing") == "Error: bad  thing\r\n"
