"""The redaction engine: decide, field by field, what a requester sees. Pure, no I/O.

Both front-ends render the `RedactedDomain` / `ContactView` this returns and never decide
anything themselves, so RDAP and WHOIS cannot disagree about what is withheld.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from redaction.fields import (
    ALWAYS_DECLARED,
    DISCLOSE_ELEMENT_FIELDS,
    ENTITY_LABEL,
    FOLLOWS,
    Field,
    Method,
    has_value,
    label,
)
from redaction.policy import Policy, Requester, TldPolicy
from registry.model import Contact, ContactRole, DomainRecord, PersonKind
from registry.status import is_pending_delete


@dataclass(frozen=True, slots=True)
class Withheld:
    """A field the requester does not see, and how RFC 9537 declares it."""

    field: Field
    label: str  # "Registrant Name"
    method: Method
    reason: str


@dataclass(frozen=True, slots=True)
class ContactView:
    """One contact in one role, as one requester may see it."""

    role: ContactRole | None
    contact: Contact
    withheld: Mapping[Field, Withheld]
    #: Fields shown only because the requester is authorized (what the disclosure log records).
    disclosed: frozenset[Field]
    #: For Method.REPLACEMENT_VALUE on email: the contact-form URI shown instead.
    email_replacement: str | None
    #: For WHOIS: the text printed in place of a withheld email.
    email_pointer: str
    #: The whole contact is withheld (RFC 9537 removal of the entity): nothing of it is shown.
    omitted: bool = False

    def shows(self, field: Field) -> bool:
        """True when the field has a value and the requester may see it."""
        return not self.omitted and field not in self.withheld and has_value(self.contact, field)

    @property
    def entity_label(self) -> str:
        """The name declaring the whole contact withheld ("Administrative Contact")."""
        return ENTITY_LABEL[self.role] if self.role else "Contact"

    def label(self, field: Field) -> str:
        """The RFC 9537 / WHOIS name of a field in this view's role."""
        return label(self.role, field)


@dataclass(frozen=True, slots=True)
class RedactedDomain:
    """A domain record with every contact decided for one requester."""

    record: DomainRecord
    contacts: tuple[ContactView, ...]
    requester: Requester

    @property
    def disclosed_labels(self) -> tuple[str, ...]:
        """Names of withheld fields this requester was shown (for the disclosure record)."""
        out: list[str] = []
        for view in self.contacts:
            for f in sorted(view.disclosed):
                name = view.label(f)
                if name not in out:
                    out.append(name)
        return tuple(out)

    @property
    def withheld_labels(self) -> frozenset[str]:
        """Names of every withheld item (what RDAP lists in `redacted`)."""
        out: set[str] = set()
        for v in self.contacts:
            if v.omitted:
                out.add(v.entity_label)
            else:
                out |= {w.label for w in v.withheld.values()}
        return frozenset(out)


def _consented(contact: Contact) -> frozenset[Field]:
    out: set[Field] = set()
    for element in contact.disclose_yes:
        out |= DISCLOSE_ELEMENT_FIELDS.get(element, frozenset())
    return frozenset(out)


def _refused(contact: Contact) -> frozenset[Field]:
    out: set[Field] = set()
    for element in contact.disclose_no:
        out |= DISCLOSE_ELEMENT_FIELDS.get(element, frozenset())
    return frozenset(out)


def public_fields(
    contact: Contact,
    rules: TldPolicy,
    *,
    at_risk: bool,
    pending_delete: bool,
    replica_disclose_default: bool,
) -> frozenset[Field]:
    """The fields anyone may see, before any authorization is considered."""
    if at_risk:
        # Safety first: an at-risk registrant publishes nothing, not even a country, and an
        # earlier consent does not override the registry's marker.
        return frozenset()
    if pending_delete and rules.pending_delete_minimal:
        return frozenset()
    default = rules.disclose_default
    if default is None:
        default = replica_disclose_default
    if default:
        # The data collection policy publishes by default; flag="0" elements stay private.
        shown = frozenset(Field) - _refused(contact)
    elif contact.kind is PersonKind.LEGAL and contact.verified:
        # A verified organisation's non-personal data is published (NIS2 Art. 28); a person's
        # name or email inside it still needs consent.
        shown = rules.publish_legal
    else:
        # Natural persons, and legal persons the registry has not verified (who may in fact
        # be individuals), are treated alike.
        shown = rules.publish_natural
    return _follow(shown | (_consented(contact) - _refused(contact)))


def _follow(fields: frozenset[Field]) -> frozenset[Field]:
    """An extension goes with its number: shown (or granted) with it, never alone."""
    for ext, base in FOLLOWS.items():
        fields = fields | {ext} if base in fields else fields - {ext}
    return fields


def view_contact(
    contact: Contact,
    role: ContactRole | None,
    rules: TldPolicy,
    policy: Policy,
    requester: Requester,
    *,
    at_risk: bool = False,
    pending_delete: bool = False,
    replica_disclose_default: bool = False,
    domain: str = "",
    domain_handle: str = "",
    registrar_url: str = "",
) -> ContactView:
    """Decide every field of one contact for one requester."""
    at_risk = at_risk or contact.at_risk
    public = public_fields(
        contact,
        rules,
        at_risk=at_risk,
        pending_delete=pending_delete,
        replica_disclose_default=replica_disclose_default,
    )
    granted: frozenset[Field] = frozenset()
    if not requester.is_anonymous:
        tier = policy.tier(requester.tier)
        # Security: at-risk data only ever reaches the highest tier.
        if tier is not None and (not at_risk or tier.rank == policy.highest_rank):
            granted = _follow(tier.granted(requester.purpose))
    withheld: dict[Field, Withheld] = {}
    disclosed: set[Field] = set()
    for f in Field:
        present = has_value(contact, f)
        if f in public or not (present or f in ALWAYS_DECLARED):
            continue
        if f in granted:
            if present:
                disclosed.add(f)
            continue
        withheld[f] = Withheld(f, label(role, f), rules.methods[f], rules.reason)
    replacement = None
    email = withheld.get(Field.EMAIL)
    if email is not None and email.method is Method.REPLACEMENT_VALUE and rules.email_contact_form:
        replacement = rules.email_contact_form.format(
            domain=domain,
            handle=domain_handle,
            role=role.value if role else "contact",
            registrar_url=registrar_url,
        )
        if not replacement:
            # Nothing to point at (a registrar without a URL): fall back to removal.
            withheld[Field.EMAIL] = Withheld(Field.EMAIL, email.label, Method.REMOVAL, email.reason)
            replacement = None
    return ContactView(
        role=role,
        contact=contact,
        withheld=withheld,
        disclosed=frozenset(disclosed),
        email_replacement=replacement,
        email_pointer=replacement or rules.email_pointer,
    )


def redact_domain(record: DomainRecord, requester: Requester, policy: Policy) -> RedactedDomain:
    """Decide every contact of a domain for one requester, under the TLD's policy section."""
    rules = policy.for_section(record.tld.policy)
    registrant = record.registrant
    # If the registrant is at risk, every contact of the domain is treated as at risk: the
    # technical contact is often the same person under another handle.
    at_risk = registrant is not None and registrant.at_risk
    pending = is_pending_delete(record.domain.statuses)
    views = [
        view_contact(
            contact,
            role,
            rules,
            policy,
            requester,
            at_risk=at_risk,
            pending_delete=pending,
            replica_disclose_default=record.tld.disclose_default,
            domain=record.domain.name,
            domain_handle=record.domain.roid,
            registrar_url=record.registrar.url or "",
        )
        for role, contact in record.contacts
    ]
    if record.tld.kind.icann_profile:
        # ICANN profile 2024 §2.7.3: a top-level administrative or billing entity must carry a
        # handle. Where the handle is withheld (it would link a person's registrations), the
        # whole contact is withheld instead: one RFC 9537 removal of the entity.
        views = [
            replace(v, omitted=True)
            if v.role in (ContactRole.ADMIN, ContactRole.BILLING) and Field.HANDLE in v.withheld
            else v
            for v in views
        ]
    return RedactedDomain(record=record, contacts=tuple(views), requester=requester)
