"""Redaction matrix: tier x person type x disclose flags x at-risk x field -> outcome."""

from __future__ import annotations

import itertools

import pytest

from redaction import engine
from redaction.fields import Field, Method
from redaction.policy import Requester, default_policy
from registry.model import ContactRole, PersonKind, Tld, TldKind
from tests.conftest import make_contact, make_record

F = Field
ALL = frozenset(Field)
POLICY = default_policy()

# What the public sees, written out by hand per person type (docs/policy.md).
PUBLIC_NATURAL = {F.SP, F.CC}
PUBLIC_LEGAL_VERIFIED = {
    F.HANDLE,
    F.ORG,
    F.STREET,
    F.CITY,
    F.SP,
    F.PC,
    F.CC,
    F.VOICE,
    F.VOICE_EXT,
    F.FAX,
    F.FAX_EXT,
}
CONSENTS = {
    "none": (frozenset(), set()),
    "name+email": (frozenset({"name", "email"}), {F.NAME, F.EMAIL}),
    "addr": (frozenset({"addr"}), {F.STREET, F.CITY, F.SP, F.PC, F.CC}),
    "voice": (frozenset({"voice"}), {F.VOICE, F.VOICE_EXT}),
}
PERSONS = {
    "natural": (PersonKind.NATURAL, False, PUBLIC_NATURAL),
    "legal-verified": (PersonKind.LEGAL, True, PUBLIC_LEGAL_VERIFIED),
    # Unverified organisations may be individuals: treated like natural persons.
    "legal-unverified": (PersonKind.LEGAL, False, PUBLIC_NATURAL),
}
TIERS = {
    "anonymous": (Requester.anonymous(), set(), False),
    "registrar/technical": (
        Requester("registrar", "technicalIssueResolution"),
        {F.HANDLE, F.NAME, F.VOICE, F.VOICE_EXT, F.EMAIL},
        False,
    ),
    "registrar/unknown-purpose": (Requester("registrar", "dnsTransparency"), set(), False),
    "law-enforcement/criminal": (
        Requester("law-enforcement", "criminalInvestigationAndDNSAbuse"),
        set(ALL),
        False,
    ),
    # Highest tier: the only one that may ever see an at-risk registrant's data.
    "registry-staff/any": (Requester("registry-staff", "dnsTransparency"), set(ALL), True),
    "unknown-tier": (Requester("no-such-tier", "legalActions"), set(), False),
}

CASES = list(itertools.product(TIERS, PERSONS, CONSENTS, (False, True)))


@pytest.mark.parametrize(("tier", "person", "consent", "at_risk"), CASES)
def test_matrix(tier: str, person: str, consent: str, at_risk: bool) -> None:
    requester, granted, sees_at_risk = TIERS[tier]
    kind, verified, public = PERSONS[person]
    flags, consented = CONSENTS[consent]
    contact = make_contact(kind=kind, verified=verified, at_risk=at_risk, disclose_yes=flags)
    rd = engine.redact_domain(make_record(contact), requester, POLICY)
    (view,) = rd.contacts
    expected_public = set() if at_risk else (public | consented)
    expected_granted = granted if (not at_risk or sees_at_risk) else set()
    for field in Field:
        if field in expected_public:
            assert view.shows(field), (field, "public")
            assert field not in view.disclosed
        elif field in expected_granted:
            assert view.shows(field), (field, "granted")
            assert field in view.disclosed, (field, "must be recorded as disclosed")
        else:
            assert not view.shows(field), (field, "withheld")
            assert field in view.withheld
            assert view.withheld[field].label == view.label(field)


@pytest.mark.parametrize(
    ("field", "method"),
    [
        (F.HANDLE, Method.REMOVAL),
        (F.NAME, Method.EMPTY_VALUE),
        (F.ORG, Method.REMOVAL),
        (F.STREET, Method.EMPTY_VALUE),
        (F.CITY, Method.EMPTY_VALUE),
        (F.PC, Method.EMPTY_VALUE),
        (F.VOICE, Method.REMOVAL),
        (F.VOICE_EXT, Method.REMOVAL),
        (F.FAX, Method.REMOVAL),
        (F.FAX_EXT, Method.REMOVAL),
        (F.EMAIL, Method.REPLACEMENT_VALUE),
    ],
)
def test_icann_methods(field: Field, method: Method) -> None:
    rd = engine.redact_domain(make_record(), Requester.anonymous(), POLICY)
    assert rd.contacts[0].withheld[field].method is method


def test_at_risk_withholds_location_with_methods() -> None:
    rd = engine.redact_domain(
        make_record(make_contact(at_risk=True)), Requester.anonymous(), POLICY
    )
    view = rd.contacts[0]
    assert view.withheld[F.SP].method is Method.EMPTY_VALUE
    assert view.withheld[F.CC].method is Method.REMOVAL
    assert set(view.withheld) == set(Field)


def test_at_risk_registrant_protects_every_contact_of_the_domain() -> None:
    tech = make_contact(handle="TECH-1", kind=PersonKind.LEGAL, verified=True)
    record = make_record(make_contact(at_risk=True), tech=tech)
    rd = engine.redact_domain(record, Requester("law-enforcement", "legalActions"), POLICY)
    assert all(not v.disclosed and set(v.withheld) == set(Field) for v in rd.contacts)


def test_pending_delete_is_minimal_for_the_public_only() -> None:
    consenting = make_contact(disclose_yes=frozenset({"name"}))
    record = make_record(consenting, statuses=("pendingDelete",))
    anon = engine.redact_domain(record, Requester.anonymous(), POLICY).contacts[0]
    assert not any(anon.shows(f) for f in Field)
    le = engine.redact_domain(record, Requester("law-enforcement", "legalActions"), POLICY)
    assert le.contacts[0].shows(F.NAME)


def test_disclose_flag_zero_wins_over_default_publish() -> None:
    from dataclasses import replace

    rules = replace(POLICY.default, disclose_default=True)
    contact = make_contact(disclose_no=frozenset({"email", "voice"}))
    view = engine.view_contact(
        contact, ContactRole.REGISTRANT, rules, POLICY, Requester.anonymous()
    )
    assert view.shows(F.NAME) and view.shows(F.STREET)
    assert not view.shows(F.EMAIL) and not view.shows(F.VOICE) and not view.shows(F.VOICE_EXT)


def test_replica_disclose_default_is_honoured_only_when_policy_says_so() -> None:
    from dataclasses import replace

    tld = Tld("cx", TldKind.CCTLD, "cx", "CX", disclose_default=True)
    record = make_record(tld=tld)
    private = engine.redact_domain(record, Requester.anonymous(), POLICY).contacts[0]
    assert not private.shows(F.NAME)
    honouring = replace(POLICY, default=replace(POLICY.default, disclose_default=None))
    public = engine.redact_domain(record, Requester.anonymous(), honouring).contacts[0]
    assert public.shows(F.NAME)


def test_withheld_fields_are_declared_whether_or_not_the_contact_has_them() -> None:
    contact = make_contact(fax=None, fax_ext=None, voice=None, voice_ext=None)
    view = engine.redact_domain(make_record(contact), Requester.anonymous(), POLICY).contacts[0]
    assert set(view.withheld) == set(Field) - PUBLIC_NATURAL


def test_email_replacement_uses_template_and_falls_back_to_removal() -> None:
    rd = engine.redact_domain(make_record(), Requester.anonymous(), POLICY)
    assert rd.contacts[0].email_replacement == "https://www.testing-registrar.example"
    from dataclasses import replace

    record = make_record()
    record = replace(record, registrar=replace(record.registrar, url=None))
    view = engine.redact_domain(record, Requester.anonymous(), POLICY).contacts[0]
    assert view.withheld[F.EMAIL].method is Method.REMOVAL and view.email_replacement is None


def test_disclosed_and_withheld_labels() -> None:
    rd = engine.redact_domain(make_record(), Requester("law-enforcement", "legalActions"), POLICY)
    assert "Registrant Name" in rd.disclosed_labels and not rd.withheld_labels
    anon = engine.redact_domain(make_record(), Requester.anonymous(), POLICY)
    assert not anon.disclosed_labels and "Registrant Email" in anon.withheld_labels


def test_gtld_admin_with_withheld_handle_is_omitted_whole() -> None:
    from dataclasses import replace

    record = make_record()
    admin = make_contact(handle="ADM-1")
    record = replace(record, contacts=(*record.contacts, (ContactRole.ADMIN, admin)))
    rd = engine.redact_domain(record, Requester.anonymous(), POLICY)
    registrant, adm = rd.contacts
    assert not registrant.omitted and adm.omitted
    assert not any(adm.shows(f) for f in Field)
    assert "Administrative Contact" in rd.withheld_labels
    assert not any(label.startswith("Admin ") for label in rd.withheld_labels)
    # An authorized requester who may see the handle gets the contact.
    le = engine.redact_domain(record, Requester("law-enforcement", "legalActions"), POLICY)
    assert not le.contacts[1].omitted and le.contacts[1].shows(Field.NAME)
    # ccTLDs are not under the ICANN profile: field-by-field as usual.
    cc = replace(record, tld=Tld("cx", TldKind.CCTLD, "cx", "CX"))
    assert not engine.redact_domain(cc, Requester.anonymous(), POLICY).contacts[1].omitted
