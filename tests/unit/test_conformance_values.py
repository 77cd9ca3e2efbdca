"""Tables for the checker's pure value rules: RFC 3339, IDNA, statuses, addresses, email."""

from __future__ import annotations

import pytest

from conformance import values


@pytest.mark.parametrize(
    ("text", "require_z", "ok"),
    [
        ("2026-01-01T00:00:00Z", False, True),
        ("2026-01-01T00:00:00z", False, True),
        ("2026-01-01t00:00:00Z", False, True),
        ("2026-01-01T00:00:00.123456Z", False, True),
        ("2026-01-01T00:00:00+01:00", False, True),
        ("2026-01-01T00:00:00-23:59", False, True),
        ("2016-12-31T23:59:60Z", False, True),  # RFC 3339 §5.7 leap second
        ("2026-01-01T00:00:00+01:00", True, False),
        ("2026-01-01T00:00:00", False, False),  # no offset
        ("2026-01-01 00:00:00Z", False, False),  # space separator is not RFC 3339 §5.6
        ("2026-01-01", False, False),
        ("2026-02-30T00:00:00Z", False, False),
        ("2026-13-01T00:00:00Z", False, False),
        ("2026-01-01T24:00:00Z", False, False),
        ("2026-01-01T12:30:60Z", False, False),  # leap second not at minute 59
        ("2026-01-01T00:00:00+24:00", False, False),
        ("2026-01-01T00:00:00+0100", False, False),
        ("20260101T000000Z", False, False),
        ("２０２６-01-01T00:00:00Z", False, False),  # non-ASCII digits
        ("", False, False),
    ],
)
def test_rfc3339(text: str, require_z: bool, ok: bool) -> None:
    assert (values.rfc3339_problem(text, require_z=require_z) is None) is ok


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("example.org", True),
        ("example.org.", True),  # a trailing dot names the same domain
        ("xn--bcher-kva.example", True),
        ("xn--mgbh0fb.xn--mgbtx2b", True),
        ("a" * 63 + ".example", True),
        (".".join(["a" * 63] * 3 + ["b" * 61]), True),  # 253 octets
        (".".join(["a" * 63] * 3 + ["b" * 62]), False),  # 254 octets
        ("a" * 64 + ".example", False),
        ("Example.org", True),  # RFC 5890 §2.3.1: LDH letters in either case (case: info)
        ("XN--BCHER-KVA.example", True),
        ("exa mple.org", False),
        ("example..org", False),
        ("-example.org", False),
        ("example-.org", False),
        ("ex_ample.org", False),
        ("ab--cd.example", False),  # reserved R-LDH label that is not an A-label
        ("xn--bcher-kvA.example", True),  # the same A-label in another case
        ("xn--ls8h.example", False),  # decodes to an emoji, DISALLOWED in IDNA2008
        ("bücher.example", False),
    ],
)
def test_ldh_name(name: str, ok: bool) -> None:
    assert (values.ldh_name_problem(name) is None) is ok


@pytest.mark.parametrize(
    ("name", "lower"),
    [("example.org", True), ("example.org.", True), ("HHGAMES.COM", False), ("Example.org", False)],
)
def test_ldh_case(name: str, lower: bool) -> None:
    assert (values.ldh_case_problem(name) is None) is lower


@pytest.mark.parametrize(
    ("ldh", "uname", "ok"),
    [
        ("xn--bcher-kva.example", "bücher.example", True),
        ("xn--mgbh0fb.xn--mgbtx2b", "مثال.عراق", True),
        ("example.org", "example.org", True),
        ("xn--bcher-kva.example", "bucher.example", False),
        ("xn--bcher-kva.example", "BÜCHER.example", False),  # IDNA2008 has no upper case
        ("xn--bcher-kva.example", "bu\u0308cher.example", False),  # not NFC
        ("xn--mgbh0fb.xn--mgbtx2b", "مثل.عراق", False),
    ],
)
def test_unicode_name(ldh: str, uname: str, ok: bool) -> None:
    assert (values.unicode_name_problem(ldh, uname) is None) is ok


@pytest.mark.parametrize(
    ("statuses", "problems"),
    [
        (["active"], 0),
        (["active", "associated"], 0),
        (["active", "add period"], 0),
        (["client hold", "server transfer prohibited"], 0),
        (["pending delete", "redemption period"], 0),
        (["pending delete", "pending restore"], 0),
        (["pending delete", "server hold", "redemption period"], 0),
        (["active", "client hold"], 1),
        (["active", "server delete prohibited"], 1),
        (["active", "pending transfer"], 1),
        (["pending transfer", "pending update"], 1),
        (["redemption period"], 1),
        (["pending restore", "client hold"], 1),
        (["active", "pending create", "pending delete"], 2),
    ],
)
def test_status_combinations(statuses: list[str], problems: int) -> None:
    assert len(values.status_problems(statuses)) == problems


@pytest.mark.parametrize(
    ("address", "version", "ok"),
    [
        ("199.7.83.42", 4, True),
        ("2001:500:9f::42", 6, True),
        ("199.007.83.42", 4, False),
        ("2001:500:9F::42", 6, True),  # valid; its form is judged apart
        ("2001:500:9f:0:0:0:0:42", 6, True),
        ("199.7.83.42", 6, False),
        ("::ffff:199.7.83.42", 4, False),
        ("not-an-address", 4, False),
    ],
)
def test_ip_address(address: str, version: int, ok: bool) -> None:
    assert (values.ip_problem(address, version) is None) is ok


@pytest.mark.parametrize(
    ("address", "canonical"),
    [
        ("199.7.83.42", True),
        ("2001:500:9f::42", True),
        ("2001:500:9F::42", False),  # RFC 5952 §4.3: lower case
        ("2001:500:9f:0:0:0:0:42", False),  # RFC 5952 §4.2: compress zeros
        ("not-an-address", True),  # not judged here: ip_problem reports it
    ],
)
def test_ip_form(address: str, canonical: bool) -> None:
    assert (values.ip_form_problem(address) is None) is canonical


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("199.7.83.42", True),
        ("2001:500:9f::42", True),
        ("192.0.2.53", False),
        ("198.51.100.1", False),
        ("203.0.113.9", False),
        ("2001:db8::53", False),
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("::1", False),
        ("fd00::1", False),
        ("169.254.1.1", False),
        ("100.64.0.1", False),
    ],
)
def test_glue_must_be_public(address: str, public: bool) -> None:
    assert (values.public_address_problem(address) is None) is public


@pytest.mark.parametrize(
    ("email", "ok"),
    [
        ("abuse@registrar.example.net", True),
        ("first.last+tag@example.org", True),
        ("office(at)example.org", False),
        ("@example.org", False),
        ("user@", False),
        ("user@localhost", False),
        ("first..last@example.org", False),
        ("üser@example.org", False),  # ASCII only
        ("user@exa_mple.org", False),
        ("mailto:user@example.org", False),
    ],
)
def test_email(email: str, ok: bool) -> None:
    assert (values.email_problem(email) is None) is ok
