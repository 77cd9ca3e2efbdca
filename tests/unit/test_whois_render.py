"""Pure WHOIS rendering: key order, the three field states, sanitising stored data."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import texts
from redaction.engine import redact_domain
from redaction.policy import Requester, default_policy
from registry import names
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
    # CL&D policy §1.2: the shown id is the contact's ROID, not its handle.
    assert v["Registry Registrant ID"] == ["C1-ROID"]


def test_nameserver_and_registrar_records() -> None:
    host = Host("ns1.xn--caf-dma.org", v4=("192.0.2.1",), v6=("2001:db8::1",))
    out = render.nameservers([HostRecord(host, registrar(), CTX_INFO)], CTX)
    assert out.startswith(
        "Server Name: ns1.xn--caf-dma.org\r\nInternationalized Server Name: ns1.café.org\r\n"
        "IP Address: 192.0.2.1\r\nIP Address: 2001:db8::1\r\nRegistrar: Test Registrar\r\n"
    )
    reg = render.registrar(registrar(street=("1 Row", "Floor 2")), CTX)
    assert "Street: 1 Row\r\nStreet: Floor 2\r\n" in reg
    assert "Registrar WHOIS Server: whois.registrar.example\r\n" in reg


#: ICANN Specification 4 §1.6 registrar data, keys as the Consistent Labeling and Display
#: Policy names them (the 2014 text had "Registrar Name", "WHOIS Server", "Referral URL").
REGISTRAR_KEYS = (
    "Registrar",
    "Street",
    "City",
    "State/Province",
    "Postal Code",
    "Country",
    "Phone Number",
    "Fax Number",
    "Email",
    "Registrar WHOIS Server",
    "Registrar URL",
)


def test_registrar_record_follows_the_registrar_data_keys_in_order() -> None:
    reg = registrar(
        street=("1 Row", "Floor 2"),
        city="Town",
        sp="ST",
        pc="AB1",
        cc="GB",
        voice="+44.5550100000",
        fax="+44.5550100001",
        email="info@registrar.example",
    )
    out = render.registrar(reg, CTX)
    keys = [line.split(":", 1)[0] for line in out.split("\r\n")[: out.split("\r\n").index("")]]
    standard = [k for k in keys if k in REGISTRAR_KEYS]
    assert list(dict.fromkeys(standard)) == list(REGISTRAR_KEYS)
    assert standard.count("Street") == 2
    # The registry's additional lines come after the format's keys, never between them.
    extra = keys[len(standard) :]
    assert extra[:3] == [
        "Registrar IANA ID",
        "Registrar Abuse Contact Email",
        "Registrar Abuse Contact Phone",
    ]
    assert not {"Registrar Name", "WHOIS Server", "Referral URL"} & set(keys)


CTX_INFO = ReplicaInfo(1, CTX.watermark)


def test_not_found_and_error() -> None:
    out = render.not_found("EXAMPLE.COOP", CTX)
    assert out.startswith(
        'No match for "EXAMPLE.COOP".\r\n'
        ">>> Last update of WHOIS database: 2026-01-01T00:00:00Z <<<\r\n"
    )
    assert render.error("bad\r\nthing") == "Error: bad  thing\r\n"


# --- what `clean` replaces, class by class (issue: bidi and format characters) ------------

BIDI_CONTROLS = (
    "\u061c",  # ARABIC LETTER MARK
    "\u200e",  # LEFT-TO-RIGHT MARK
    "\u200f",  # RIGHT-TO-LEFT MARK
    "\u202a",  # LEFT-TO-RIGHT EMBEDDING
    "\u202b",  # RIGHT-TO-LEFT EMBEDDING
    "\u202c",  # POP DIRECTIONAL FORMATTING
    "\u202d",  # LEFT-TO-RIGHT OVERRIDE
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u2067",  # RIGHT-TO-LEFT ISOLATE
    "\u2068",  # FIRST STRONG ISOLATE
    "\u2069",  # POP DIRECTIONAL ISOLATE
)

REPLACED: list[tuple[str, str]] = [
    *[(f"C0 U+{i:04X}", chr(i)) for i in range(0x20)],
    ("DEL", "\x7f"),
    *[(f"C1 U+{i:04X}", chr(i)) for i in range(0x80, 0xA0)],
    ("Zl LINE SEPARATOR", "\u2028"),
    ("Zp PARAGRAPH SEPARATOR", "\u2029"),
    *[(f"Bidi_Control U+{ord(c):04X}", c) for c in BIDI_CONTROLS],
    ("Cf SOFT HYPHEN", "\u00ad"),
    ("Cf ARABIC NUMBER SIGN", "\u0600"),
    ("Cf MONGOLIAN VOWEL SEPARATOR", "\u180e"),
    ("Cf ZERO WIDTH SPACE", "\u200b"),
    ("Cf ZERO WIDTH NON-JOINER (free text)", "\u200c"),
    ("Cf ZERO WIDTH JOINER (free text)", "\u200d"),
    ("Cf WORD JOINER", "\u2060"),
    ("Cf INVISIBLE TIMES", "\u2062"),
    ("Cf INHIBIT SYMMETRIC SWAPPING", "\u206a"),
    ("Cf ZERO WIDTH NO-BREAK SPACE (BOM)", "\ufeff"),
    ("Cf INTERLINEAR ANNOTATION ANCHOR", "\ufff9"),
    ("Cf LANGUAGE TAG", "\U000e0001"),
    ("Cf TAG LATIN SMALL LETTER A", "\U000e0061"),
    ("Cs lone surrogate", "\ud800"),
]

KEPT: list[tuple[str, str]] = [
    ("ASCII", "Alder Registrar Ltd"),
    ("Latin-1 letters", "Café Zoë"),
    ("Arabic letters", "مثال"),
    ("Hebrew letters", "דוגמה"),
    ("Devanagari with virama", "क्ष"),
    ("combining mark", "e\u0301"),
    ("no-break space (Zs)", "a\u00a0b"),
    ("ideographic space (Zs)", "a\u3000b"),
    ("emoji", "\U0001f600"),
    ("private use (Co)", "\ue000"),
]


@pytest.mark.parametrize(("what", "char"), REPLACED, ids=[w for w, _ in REPLACED])
def test_clean_replaces(what: str, char: str) -> None:
    assert render.clean(f"ab{char}cd") == "ab cd"


@pytest.mark.parametrize(("what", "text"), KEPT, ids=[w for w, _ in KEPT])
def test_clean_keeps(what: str, text: str) -> None:
    assert render.clean(text) == text


def test_every_bidi_control_and_format_character_is_replaced() -> None:
    # The whole Bidi_Control set, and every Cf code point of this Python's Unicode database.
    fmt = [chr(i) for i in range(0x110000) if unicodedata.category(chr(i)) == "Cf"]
    assert set(BIDI_CONTROLS) <= set(fmt)
    cleaned = render.clean("".join(fmt))
    assert cleaned == " " * len(fmt)


@given(st.text())
def test_clean_leaves_no_unsafe_character_and_keeps_the_length(text: str) -> None:
    out = render.clean(text)
    assert len(out) == len(text)
    assert not any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp", "Cs"} for ch in out)


# U-labels: IDNA2008 CONTEXTJ (RFC 5892 A.1, A.2) allows ZWNJ/ZWJ in these labels.
ZWNJ_NAME = names.from_text("می\u200cخواهم.ir")  # ZWNJ between two dual-joining letters
ZWJ_NAME = names.from_text("क्\u200dष.in")  # ZWJ after a virama


@pytest.mark.parametrize("name", [ZWNJ_NAME, ZWJ_NAME], ids=["zwnj", "zwj"])
def test_u_label_keeps_joiners_of_a_valid_idn(name: names.Name) -> None:
    assert "\u200c" in name.unicode or "\u200d" in name.unicode
    assert render.u_label(name.unicode, name.ldh) == name.unicode


@pytest.mark.parametrize(
    ("what", "stored"),
    [
        ("bidi override", "\u202eexample"),
        ("joiner not in the A-label", "exa\u200cmple"),
        ("zero width space", "exa\u200bmple"),
    ],
)
def test_u_label_that_is_not_the_decoding_of_the_a_label_is_cleaned(what: str, stored: str) -> None:
    # A stored U-label (e.g. a deposit's uName) that does not decode from the A-label.
    out = render.u_label(stored + ".ir", ZWNJ_NAME.ldh)
    assert not any(unicodedata.category(ch) == "Cf" for ch in out)


def test_domain_and_host_u_label_lines_keep_joiners_and_drop_bidi() -> None:
    rec = record(name=ZWNJ_NAME.ldh, unicode_name=ZWNJ_NAME.unicode)
    out = render.domain(redact_domain(rec, Requester.anonymous(), default_policy()), CTX)
    assert f"Domain Name: {ZWNJ_NAME.ldh}\r\n{render.IDN_KEY}: {ZWNJ_NAME.unicode}\r\n" in out
    spoof = record(name=ZWNJ_NAME.ldh, unicode_name="\u202e" + ZWNJ_NAME.unicode)
    out = render.domain(redact_domain(spoof, Requester.anonymous(), default_policy()), CTX)
    assert "\u202e" not in out and "\u200c" not in out
    host = Host("ns1." + ZWJ_NAME.ldh)
    out = render.nameservers([HostRecord(host, registrar(), CTX_INFO)], CTX)
    assert f"{render.IDN_HOST_KEY}: ns1.{ZWJ_NAME.unicode}\r\n" in out


def test_stored_bidi_override_in_a_contact_name_is_replaced() -> None:
    c = contact(
        disclose_yes=frozenset({"name"}),
        postal=(PostalInfo("int", "Ana \u202egpj.exe\u202c Person", city="Town", cc="GB"),),
    )
    out = text(record(c))
    assert "Registrant Name: Ana  gpj.exe  Person\r\n" in out
    assert not any(unicodedata.category(ch) == "Cf" for ch in out)


# `loc` postal info (docs/whois.md "Postal info"): one address per contact, `int` first.
INT = PostalInfo("int", "Ana Person", street=("1 Road",), city="Lausanne", sp="VD", cc="CH")
LOC = PostalInfo("loc", "آنا", street=("شارع ١",), city="بغداد", sp="بغداد", cc="IQ")


def test_int_form_is_shown_when_both_forms_exist() -> None:
    rq = Requester(tier="registry-staff", purpose="dnsTransparency")  # sees every field
    v = values(text(record(contact(postal=(LOC, INT))), rq))
    assert v["Registrant Name"] == ["Ana Person"]
    assert v["Registrant City"] == ["Lausanne"]
    assert v["Registrant Country"] == ["CH"]
    out = text(record(contact(postal=(LOC, INT))), rq)
    assert "بغداد" not in out and "IQ" not in out  # never a second address mixed in


def test_loc_form_is_shown_when_it_is_the_only_one() -> None:
    rq = Requester(tier="registry-staff", purpose="dnsTransparency")
    v = values(text(record(contact(postal=(LOC,))), rq))
    assert v["Registrant Name"] == ["آنا"]
    assert v["Registrant Street"] == ["شارع ١"]
    assert v["Registrant City"] == ["بغداد"]
    assert v["Registrant Country"] == ["IQ"]
