"""The rule for a contact looked up by handle (`view_contact_by_handle`): never more than the
most restrictive domain answer referencing the contact shows the same requester, and no
confirmation at all of a handle that some domain answer withholds (issue 11, item 1)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from redaction import engine
from redaction.fields import Field, Method
from redaction.policy import Policy, Requester, default_policy
from registry.model import (
    ContactRole,
    DomainRecord,
    PersonKind,
    References,
    Tld,
    TldKind,
)
from tests.conftest import make_contact, make_record

F = Field
POLICY = default_policy()
ANON = Requester.anonymous()
REGISTRAR = Requester("registrar", "domainNameControl")
LAW = Requester("law-enforcement", "criminalInvestigationAndDNSAbuse")
STAFF = Requester("registry-staff", "dnsTransparency")  # the highest tier
ORG = Tld("org", TldKind.GTLD, "org", "ORG")
CX = Tld("cx", TldKind.CCTLD, "cx", "CX")
LEGAL = make_contact(handle="ORG-1", kind=PersonKind.LEGAL, verified=True)


def refs(*records: DomainRecord, complete: bool = True) -> References:
    return References(frozenset(engine.domain_context(r) for r in records), complete)


def with_admin(record: DomainRecord, admin: object) -> DomainRecord:
    return replace(record, contacts=(*record.contacts, (ContactRole.ADMIN, admin)))


def shown_in_domain(record: DomainRecord, handle: str, requester: Requester) -> set[Field]:
    """What the domain answer shows of the contact (in every role it holds there)."""
    rd = engine.redact_domain(record, requester, POLICY)
    views = [v for v in rd.contacts if v.contact.handle == handle]
    assert views
    return set.intersection(*({f for f in Field if v.shows(f)} for v in views))


def by_handle(
    contact: object, references: References, requester: Requester, policy: Policy = POLICY
) -> engine.ContactView | None:
    return engine.view_contact_by_handle(
        contact,  # type: ignore[arg-type]
        references,
        policy,
        requester,
        served=(ORG, CX),
        registrar_url="https://www.sponsor.example",
    )


# --- the three reproductions of the issue -------------------------------------------------


@pytest.mark.parametrize("requester", [ANON, REGISTRAR, LAW])
def test_admin_of_an_at_risk_registrant_is_not_confirmed(requester: Requester) -> None:
    # A natural person, not marked at risk, who is the admin contact of an at-risk
    # registrant's domain: every domain answer withholds all of it from everyone but the
    # highest tier, so does the answer by handle (before: state and country anonymously,
    # everything to a registrar or law-enforcement token).
    admin = make_contact(handle="ADM-1")
    record = with_admin(make_record(make_contact(at_risk=True)), admin)
    assert shown_in_domain(record, "ADM-1", requester) == set()
    assert by_handle(admin, refs(record), requester) is None


def test_admin_of_an_at_risk_registrant_for_the_highest_tier() -> None:
    admin = make_contact(handle="ADM-1")
    record = with_admin(make_record(make_contact(at_risk=True)), admin)
    view = by_handle(admin, refs(record), STAFF)
    assert view is not None and not view.withheld
    assert view.disclosed == {f for f in Field}  # every field recorded as disclosed


def test_tld_section_publishing_less_than_the_default() -> None:
    # The cx section publishes a verified organisation's handle and country only.
    strict = replace(POLICY.default, name="cx", publish_legal=frozenset({F.HANDLE, F.CC}))
    policy = replace(POLICY, sections={"cx": strict})
    record = make_record(LEGAL, tld=CX)
    rd = engine.redact_domain(record, ANON, policy)
    domain_shows = {f for f in Field if rd.contacts[0].shows(f)}
    assert domain_shows == {F.HANDLE, F.CC}
    view = by_handle(LEGAL, refs(record), ANON, policy)
    assert view is not None
    assert {f for f in Field if view.shows(f)} == domain_shows  # before: the default section's
    assert view.withheld[F.STREET].method is Method.EMPTY_VALUE


def test_pending_delete_domain_contacts() -> None:
    # The domain answer shows nothing of a pending-delete domain's registrant to the public;
    # by handle the registrant is not confirmed (before: its state and country were shown).
    record = make_record(LEGAL, statuses=("pendingDelete",))
    assert shown_in_domain(record, "ORG-1", ANON) == set()
    assert by_handle(LEGAL, refs(record), ANON) is None
    # Pending delete hides data from the public only: an authorized grant still applies.
    view = by_handle(LEGAL, refs(record), LAW)
    assert view is not None and view.shows(F.NAME) and F.NAME in view.disclosed


# --- the rule itself -----------------------------------------------------------------------


def test_shared_contact_shows_only_what_every_domain_shows() -> None:
    strict = replace(POLICY.default, name="cx", publish_legal=frozenset({F.HANDLE, F.ORG, F.CC}))
    policy = replace(POLICY, sections={"cx": strict})
    in_org = make_record(LEGAL)
    in_cx = make_record(LEGAL, tld=CX, name="sample.cx")
    view = by_handle(LEGAL, refs(in_org, in_cx), ANON, policy)
    assert view is not None
    assert {f for f in Field if view.shows(f)} == {F.HANDLE, F.ORG, F.CC}
    # Not merely the cx answer: what org withholds stays withheld too.
    loose = replace(POLICY.default, name="cx", disclose_default=True)
    view = by_handle(LEGAL, refs(in_org, in_cx), ANON, replace(POLICY, sections={"cx": loose}))
    assert view is not None and not view.shows(F.NAME) and not view.shows(F.EMAIL)


def test_one_at_risk_domain_among_many_withholds_the_handle() -> None:
    tech = make_contact(handle="ROLE-1", kind=PersonKind.LEGAL, verified=True)
    plain = make_record(make_contact(handle="A-1"), tech=tech)
    risky = make_record(make_contact(handle="B-1", at_risk=True), tech=tech, name="other.org")
    assert by_handle(tech, refs(plain), ANON) is not None
    assert by_handle(tech, refs(plain, risky), ANON) is None
    assert by_handle(tech, refs(plain, risky), LAW) is None


def test_public_in_one_domain_granted_in_another_is_a_disclosure() -> None:
    consenting = make_contact(disclose_yes=frozenset({"name"}))
    plain = make_record(consenting)
    pending = make_record(consenting, statuses=("pendingDelete",), name="gone.org")
    view = by_handle(consenting, refs(plain, pending), LAW)
    assert view is not None and view.shows(F.NAME)
    assert F.NAME in view.disclosed  # withheld from the public in gone.org's answer


def test_unread_references_are_treated_as_at_risk() -> None:
    # More referencing domains than the store reads: one of the unread may be at risk.
    view = by_handle(LEGAL, refs(make_record(LEGAL), complete=False), ANON)
    assert view is None
    assert by_handle(LEGAL, refs(make_record(LEGAL), complete=False), LAW) is None
    staff = by_handle(LEGAL, refs(make_record(LEGAL), complete=False), STAFF)
    assert staff is not None and not staff.withheld


def test_unreferenced_contact_is_decided_under_every_served_section() -> None:
    natural = make_contact()
    assert by_handle(natural, References(), ANON) is None
    view = by_handle(LEGAL, References(), ANON)
    assert view is not None and view.shows(F.ORG) and not view.shows(F.NAME)
    # If any served TLD's section would withhold the handle, it is not confirmed.
    strict = replace(POLICY.default, name="cx", publish_legal=frozenset({F.ORG}))
    assert by_handle(LEGAL, References(), ANON, replace(POLICY, sections={"cx": strict})) is None
    # With nothing served: the default section.
    alone = engine.view_contact_by_handle(LEGAL, References(), POLICY, ANON)
    assert alone is not None and alone.shows(F.ORG)


def test_contact_marked_at_risk_itself() -> None:
    journo = make_contact(at_risk=True)
    assert by_handle(journo, refs(make_record(journo)), LAW) is None
    assert by_handle(journo, refs(make_record(journo)), STAFF) is not None


def test_email_points_to_the_sponsor_and_never_names_a_domain() -> None:
    view = by_handle(LEGAL, refs(make_record(LEGAL)), ANON)
    assert view is not None
    assert view.withheld[F.EMAIL].method is Method.REPLACEMENT_VALUE
    assert view.email_replacement == "https://www.sponsor.example"
    # A form naming the domain has no domain to name here: the email is removed instead.
    form = replace(
        POLICY.default, email_contact_form="https://registry.example/c?d={domain}&r={role}"
    )
    view = by_handle(LEGAL, refs(make_record(LEGAL)), ANON, replace(POLICY, default=form))
    assert view is not None and view.email_replacement is None
    assert view.withheld[F.EMAIL].method is Method.REMOVAL
    role_only = replace(POLICY.default, email_contact_form="https://registry.example/c?r={role}")
    view = by_handle(LEGAL, refs(make_record(LEGAL)), ANON, replace(POLICY, default=role_only))
    assert view is not None and view.email_replacement == "https://registry.example/c?r=contact"


def test_labels_name_no_role() -> None:
    view = by_handle(LEGAL, refs(make_record(LEGAL)), ANON)
    assert view is not None and view.withheld[F.NAME].label == "Contact Name"
