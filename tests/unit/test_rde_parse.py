"""escrow.rde: the pure deposit parser, on hand-written RFC 9022 deposits."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from escrow import rde, values
from registry.model import ContactRole, CoopCategory, PersonKind, TldKind

DATA = Path(__file__).parent.parent / "data" / "deposits"
FULL = DATA / "example_2026-11-22_full_S1_R0.xml"
DIFF = DATA / "example_2026-11-23_diff_S1_R0.xml"


def items(data: bytes) -> list[rde.Item]:
    return list(rde.parse(io.BytesIO(data)))


def by_type(found: list[rde.Item], kind: type) -> list:
    return [i for i in found if isinstance(i, kind)]


def test_full_deposit_yields_head_first_and_every_object() -> None:
    found = items(FULL.read_bytes())
    head = found[0]
    assert isinstance(head, rde.Head)
    assert (head.type, head.id, head.prev_id, head.resend) == ("FULL", "20261122001", None, 0)
    assert head.watermark == dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    assert rde.EXT in head.menu
    assert len(by_type(found, rde.DomainItem)) == 3
    assert len(by_type(found, rde.ContactItem)) == 2
    assert len(by_type(found, rde.HostItem)) == 1
    assert len(by_type(found, rde.RegistrarItem)) == 1
    # The header came last in the file, and is yielded last among the objects.
    assert isinstance(found[-1], rde.Header)
    assert found[-1].tld == "example"
    assert dict(found[-1].counts)[rde.DOMAIN] == 3


def test_domain_values() -> None:
    domains = {i.domain.name: i for i in by_type(items(FULL.read_bytes()), rde.DomainItem)}
    d = domains["example1.example"].domain
    assert d.tld == "example"
    assert d.roid == "DEXAMPLE1-EXAMPLE"
    assert d.statuses == ("clientTransferProhibited", "clientUpdateProhibited")
    assert d.rgp_statuses == ("renewPeriod",)
    assert d.registrant == "jd1234"
    assert d.contacts == (
        (ContactRole.ADMIN, "sh8013"),
        (ContactRole.TECH, "sh8013"),
        (ContactRole.BILLING, "jd1234"),
    )
    assert d.nameservers == ("ns1.example1.example", "ns1.outside.test")
    assert domains["example1.example"].host_attrs is None
    assert d.registrar == "RegistrarX"
    assert d.created == dt.datetime(1999, 4, 3, 22, tzinfo=dt.UTC)
    assert d.transferred == dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert d.ds_data[0].key_tag == 12345 and d.ds_data[0].algorithm == 13
    assert (d.coop_category, d.coop_certified) == (CoopCategory.CA, True)
    assert d.unicode_name is None

    s = domains["suspended.example"]
    assert s.domain.suspension_reason == "acceptable-use"
    assert s.domain.nameservers == ("ns1.suspended.example", "ns2.outside.test")
    assert s.host_attrs == {
        "ns1.suspended.example": ("192.0.2.53", "2001:db8::53"),
        "ns2.outside.test": (),
    }

    idn = domains["xn--exmple-cua.example"].domain
    assert idn.unicode_name == "exämple.example"
    assert idn.idn_table == "de"


def test_contact_values_utf8_loc_eai_and_disclose() -> None:
    contacts = {
        i.contact.handle: i.contact for i in by_type(items(FULL.read_bytes()), rde.ContactItem)
    }
    sh = contacts["sh8013"]
    assert (sh.voice, sh.voice_ext, sh.fax, sh.fax_ext) == (
        "+1.7035555555",
        "1234",
        "+1.7035555556",
        "9",
    )
    assert sh.email == "hostmaster@example.example"  # surrounding whitespace trimmed
    assert sh.disclose_no == frozenset({"voice", "email"}) and not sh.disclose_yes
    assert (sh.kind, sh.verified, sh.at_risk) == (PersonKind.LEGAL, True, False)
    assert sh.statuses == ("linked", "clientDeleteProhibited")
    assert sh.postal[0].street == ("123 Example Dr.", "Suite 100")

    jd = contacts["jd1234"]
    assert [p.type for p in jd.postal] == ["loc", "int"]
    assert jd.postal[0].name == "Jürgen Dößel" and jd.postal[0].city == "Zürich"
    assert jd.postal_info is not None and jd.postal_info.type == "int"
    assert jd.email == "jürgen@exämple.example"
    assert jd.disclose_yes == frozenset({"name", "addr"})
    assert (jd.kind, jd.at_risk, jd.verified) == (PersonKind.NATURAL, True, False)


def test_host_registrar_and_registry_facts() -> None:
    found = items(FULL.read_bytes())
    (host,) = by_type(found, rde.HostItem)
    assert host.host.v4 == ("192.0.2.2", "192.0.2.29")
    assert host.host.v6 == ("2001:db8:1::1",)  # RFC 5952 canonical form
    assert host.host.statuses == ("ok", "linked")
    (reg,) = by_type(found, rde.RegistrarItem)
    r = reg.registrar
    assert (r.id, r.iana_id, r.whois_server, r.url) == (
        "RegistrarX",
        8,
        "whois.registrar-x.example",
        "https://www.registrar-x.example",
    )
    assert (r.abuse_email, r.abuse_phone) == ("abuse@registrar-x.example", "+1.7035555599")
    assert r.street == ("123 Example Dr.", "Suite 100") and r.cc == "US"
    (epp,) = by_type(found, rde.EppParams)
    assert epp.disclose_default is True
    (facts,) = by_type(found, rde.TldFacts)
    assert (facts.kind, facts.policy, facts.roid_suffix) == (
        TldKind.GTLD,
        "example-policy",
        "EXAMPLE",
    )
    (idn,) = by_type(found, rde.IdnTable)
    assert idn.id == "de"
    (nndn,) = by_type(found, rde.Nndn)
    assert (nndn.aname, nndn.state) == ("xn--exmpel-cua.example", "blocked")


def test_prefixes_do_not_matter() -> None:
    """The same deposit with every prefix renamed parses to the same values."""
    text = FULL.read_text(encoding="utf-8")
    renamed = text
    for old, new in (("rdeDom", "d"), ("rdeContact", "c"), ("rde", "escrow"), ("contact", "k")):
        renamed = renamed.replace(f"{old}:", f"{new}:").replace(f"xmlns:{old}=", f"xmlns:{new}=")
    assert renamed != text
    a = [i for i in items(text.encode()) if not isinstance(i, rde.Notice)]
    b = [i for i in items(renamed.encode()) if not isinstance(i, rde.Notice)]
    strip = [(type(i), getattr(i, "domain", None), getattr(i, "contact", None)) for i in a]
    assert strip == [(type(i), getattr(i, "domain", None), getattr(i, "contact", None)) for i in b]


def test_diff_default_namespace_and_deletes_first() -> None:
    found = items(DIFF.read_bytes())
    assert isinstance(found[0], rde.Head) and found[0].type == "DIFF"
    assert found[0].prev_id == "20261122001"
    deletes = by_type(found, rde.Delete)
    assert [(d.kind, d.key) for d in deletes] == [
        ("domain", "suspended.example"),
        ("nndn", "xn--exmpel-cua.example"),
    ]
    first_object = next(
        n for n, i in enumerate(found) if isinstance(i, (rde.DomainItem, rde.ContactItem))
    )
    assert all(found.index(d) < first_object for d in deletes)
    new = next(i for i in by_type(found, rde.DomainItem) if i.domain.name == "new.example")
    assert new.domain.rgp_statuses == ("addPeriod",)


@pytest.mark.parametrize(
    ("access", "expected"),
    [
        ({"all"}, True),
        ({"all", "null"}, False),
        ({"none"}, False),
        ({"null"}, False),
        ({"personalAndOther"}, False),
        (set(), False),
    ],
)
def test_disclose_default_rule(access: set[str], expected: bool) -> None:
    assert rde.disclose_default(frozenset(access)) is expected


def _error(data: bytes) -> rde.DepositError:
    with pytest.raises(rde.DepositError) as info:
        items(data)
    return info.value


def test_missing_mandatory_element_names_object_and_line() -> None:
    text = FULL.read_text(encoding="utf-8")
    broken = text.replace("<rdeDom:roid>DSUSPENDED-EXAMPLE</rdeDom:roid>", "")
    err = _error(broken.encode())
    assert err.reason == "domain suspended.example: missing <rdeDomain:roid>"
    assert err.line == text[: text.index("<rdeDom:name>suspended")].count("\n")


def test_unknown_object_namespace_is_refused() -> None:
    text = FULL.read_text(encoding="utf-8")
    broken = text.replace(
        "<rde:contents>", '<rde:contents>\n<x:thing xmlns:x="urn:example:unknown-1.0"/>'
    )
    err = _error(broken.encode())
    assert "unknown mandatory namespace urn:example:unknown-1.0" in err.reason


@pytest.mark.parametrize(
    ("uri", "element"), [(rde.HOST, "rdeHost:host"), (rde.POLICY, "rdePolicy:policy")]
)
def test_an_rfc9022_object_the_menu_forgot_is_read_with_one_notice(uri: str, element: str) -> None:
    text = FULL.read_text(encoding="utf-8")
    forgot = text.replace(f"<rde:objURI>{uri}</rde:objURI>", "")
    found = items(forgot.encode())
    notices = [n for n in by_type(found, rde.Notice) if "not announced" in n.text]
    assert [n.text for n in notices] == [
        f"<{element}>: namespace {uri} not announced in rdeMenu (read anyway)"
    ]
    start_tag_end = forgot.index(">", forgot.index(f"<{element}"))  # where lines point
    assert notices[0].line == forgot[:start_tag_end].count("\n") + 1
    assert len(by_type(found, rde.HostItem)) == 1  # read all the same


def test_an_unannounced_extension_namespace_is_still_refused() -> None:
    text = FULL.read_text(encoding="utf-8")
    broken = text.replace(f"<rde:objURI>{rde.EXT}</rde:objURI>", "")
    assert _error(broken.encode()).reason == (
        f"<rddsExt:tld>: namespace {rde.EXT} not announced in rdeMenu"
    )


def test_an_empty_gurid_is_no_iana_id() -> None:
    text = FULL.read_text(encoding="utf-8")
    empty = text.replace("<rdeRegistrar:gurid>8</rdeRegistrar:gurid>", "<rdeRegistrar:gurid/>")
    (registrar,) = by_type(items(empty.encode()), rde.RegistrarItem)
    assert registrar.registrar.iana_id is None


def test_unknown_extension_inside_an_object_is_skipped_and_reported() -> None:
    text = FULL.read_text(encoding="utf-8")
    extended = text.replace(
        "<rdeDom:trDate>", '<v:flag xmlns:v="urn:example:vendor-1.0">1</v:flag><rdeDom:trDate>'
    )
    notices = by_type(items(extended.encode()), rde.Notice)
    assert any("urn:example:vendor-1.0" in n.text for n in notices)


def test_malformed_xml_reason_carries_no_data() -> None:
    text = FULL.read_text(encoding="utf-8")
    cut = text[: text.index("Jürgen Dößel") + 5]  # truncated inside a personal name
    err = _error(cut.encode())
    assert err.reason.startswith("malformed XML")
    assert "Jür" not in err.reason


def test_doctype_is_refused_before_parsing() -> None:
    with pytest.raises(rde.DepositError) as info:
        rde.check_prolog((DATA / "bomb.xml").read_bytes())
    assert info.value.line == 2
    assert "DOCTYPE" in info.value.reason


def test_doctype_is_refused_by_the_parser_too() -> None:
    # Even without the prolog scan, the parser refuses a DTD (and never expands entities).
    err = _error((DATA / "bomb.xml").read_bytes())
    assert "DOCTYPE" in err.reason


def test_deletes_after_contents_are_refused() -> None:
    text = DIFF.read_text(encoding="utf-8")
    start, end = text.index("  <deletes>"), text.index("</deletes>") + len("</deletes>\n")
    deletes = text[start:end]
    moved = text[:start] + text[end:]
    moved = moved.replace("</contents>\n", "</contents>\n" + deletes)
    assert "after <rde:contents>" in _error(moved.encode()).reason


def test_not_a_deposit() -> None:
    assert "not an RFC 8909 deposit" in _error(b"<foo/>").reason


# --- contact values (escrow.values; the rules are in docs/escrow.md, "Values") ---------------


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("hostmaster@example.example", True),
        ("o'brien+tag@mail.example", True),  # RFC 5322 atext
        ("first.last@sub.example.example", True),
        ("jürgen@exämple.example", True),  # RFC 6532 / RFC 6531: EAI
        ("用户@例子.广告", True),
        ("root@localhost", True),  # one label is a domain (RFC 5321 §4.1.2)
        ("", False),
        ("Sami Calder secret", False),
        ("no-at-sign.example", False),
        ("two@at@signs.example", False),
        ("@example.example", False),
        ("local@", False),
        (".lead@example.example", False),
        ("trail.@example.example", False),
        ("double..dot@example.example", False),
        ("x@-lead.example", False),
        ("x@trail-.example", False),
        ("x@trailing.dot.", False),
        ("x@under_score.example", False),
        ("x@[192.0.2.1]", False),  # no address literals
        ('"quoted"@example.example', False),  # no quoted strings
        ("sp ace@example.example", False),
        ("x@exa mple.example", False),
        ("bidi\u202e@example.example", False),  # Unicode format character
        ("nbsp\u00a0@example.example", False),  # Unicode separator
        ("c1\u0085@example.example", False),  # C1 control
    ],
)
def test_email_syntax(text: str, ok: bool) -> None:
    assert values.email(text) is ok


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("+1.7035555555", True),
        ("+44.2079460000", True),
        ("+358.1", True),
        ("+1.12345678901234", True),  # 14 digits, 17 characters
        ("+12.12345678901234", False),  # 18 characters: over the schema's maxLength 17
        ("+1.123456789012345", False),  # 15 digits
        ("+1234.5", False),
        ("1.7035555555", False),
        ("+1 703 555 5555", False),
        ("+1.703-555-5555", False),
        ("+1.", False),
        ("+.5", False),
        ("+1.555x42", False),  # the extension is the x attribute, not part of the number
        ("+1.\u0665\u0665\u0665", False),  # Arabic-Indic digits are not [0-9]
    ],
)
def test_phone_syntax(text: str, ok: bool) -> None:
    assert values.phone(text) is ok


@pytest.mark.parametrize(
    ("text", "ok"), [("42", True), ("0042", True), ("", False), ("4 2", False), ("ext", False)]
)
def test_extension_syntax(text: str, ok: bool) -> None:
    assert values.extension(text) is ok


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("GB", "GB"),
        ("gb", "GB"),
        ("CX", "CX"),
        ("GS", "GS"),
        ("IQ", "IQ"),
        ("AX", "AX"),
        ("SS", "SS"),  # South Sudan, assigned 2011
        ("XK", None),  # user-assigned (Kosovo in some registries): not ISO 3166-1
        ("UK", None),  # exceptionally reserved
        ("EU", None),
        ("ZZ", None),
        ("AN", None),  # withdrawn in 2010
        ("ıt", None),  # dotless i upper-cases to "IT": not ASCII, refused
        ("G", None),
        ("GBR", None),
        ("", None),
        ("Sami Calder secret", None),
    ],
)
def test_country_codes(text: str, code: str | None) -> None:
    assert values.country(text) == code


def test_country_code_list_is_the_249_assigned_codes() -> None:
    assert len(values.COUNTRY_CODES) == 249
    assert all(len(c) == 2 and c.isascii() and c.isupper() for c in values.COUNTRY_CODES)
