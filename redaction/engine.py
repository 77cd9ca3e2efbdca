"""The redaction engine: decide, field by field, what a requester sees. Pure, no I/O.

Both front-ends render the `RedactedDomain` / `ContactView` this returns and never decide
anything themselves, so RDAP and WHOIS cannot disagree about what is withheld.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from redaction.fields import (
    DISCLOSE_ELEMENT_FIELDS,
    ENTITY_LABEL,
    FOLLOWS,
    Field,
    Method,
    has_value,
    label,
)
from redaction.policy import Policy, Requester, TldPolicy
from registry.model import (
    Contact,
    ContactRole,
    DomainContext,
    DomainRecord,
    PersonKind,
    References,
    Tld,
)
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


#: Every field, in declaration order and as a set (iterating the enum class is slower).
_FIELDS: tuple[Field, ...] = tuple(Field)
_ALL_FIELDS: frozenset[Field] = frozenset(Field)


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
        shown = _ALL_FIELDS - _refused(contact)
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


def _allowed(
    contact: Contact,
    rules: TldPolicy,
    policy: Policy,
    requester: Requester,
    *,
    at_risk: bool,
    pending_delete: bool,
    replica_disclose_default: bool,
) -> tuple[frozenset[Field], frozenset[Field]]:
    """(public, granted): what anyone may see, and what this requester's grant adds."""
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
    return public, granted


def _declared(allowed: frozenset[Field]) -> list[Field]:
    """The fields declared withheld: every field the requester may not see, whether or not
    the contact holds a value for it, so that an answer never reveals which optional data
    (a fax, an extension, a state) a person gave."""
    return [f for f in _FIELDS if f not in allowed]


def _email_replacement(
    withheld: dict[Field, Withheld], rules: TldPolicy, **placeholders: str
) -> str | None:
    """The contact-form URI shown for a withheld email (RFC 9537 replacementValue), or None;
    with nothing to point at, the email falls back to removal (edits `withheld`)."""
    email = withheld.get(Field.EMAIL)
    if email is None or email.method is not Method.REPLACEMENT_VALUE:
        return None
    template = rules.email_contact_form or ""
    replacement = template.format(**placeholders) if template else ""
    if not replacement:
        # Nothing to point at (a registrar without a URL): fall back to removal.
        withheld[Field.EMAIL] = Withheld(Field.EMAIL, email.label, Method.REMOVAL, email.reason)
        return None
    return replacement


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
    """Decide every field of one contact in one domain's context for one requester."""
    public, granted = _allowed(
        contact,
        rules,
        policy,
        requester,
        at_risk=at_risk,
        pending_delete=pending_delete,
        replica_disclose_default=replica_disclose_default,
    )
    withheld = {
        f: Withheld(f, label(role, f), rules.methods[f], rules.reason)
        for f in _declared(public | granted)
    }
    disclosed = {f for f in granted - public if has_value(contact, f)}
    replacement = _email_replacement(
        withheld,
        rules,
        domain=domain,
        handle=domain_handle,
        role=role.value if role else "contact",
        registrar_url=registrar_url,
    )
    return ContactView(
        role=role,
        contact=contact,
        withheld=withheld,
        disclosed=frozenset(disclosed),
        email_replacement=replacement,
        email_pointer=replacement or rules.email_pointer,
    )


#: Contact-form placeholders that name a domain: an answer by handle has none to fill in, and
#: must not name one (that would link the handle to a domain nobody asked about).
_DOMAIN_PLACEHOLDERS = frozenset({"domain", "handle"})


def _names_a_domain(template: str | None) -> bool:
    return any(
        name in _DOMAIN_PLACEHOLDERS for _, name, _, _ in string.Formatter().parse(template or "")
    )


def by_handle_contexts(
    references: References, served: Iterable[Tld] = ()
) -> tuple[DomainContext, ...]:
    """The contexts a contact looked up by handle is decided under, most restrictive first.

    A contact no domain references is decided under every served TLD's section at once (it
    could be linked to a domain in any of them); with nothing served, under the default
    section. When the store could not read every referencing domain, the unread ones may have
    an at-risk registrant: every context is then treated as at risk (fail closed).
    """
    contexts = set(references.contexts) or {
        DomainContext(t.policy, t.disclose_default) for t in served
    }
    if not contexts:
        contexts = {DomainContext("default")}
    if not references.complete:
        contexts = {replace(c, registrant_at_risk=True) for c in contexts}
    return tuple(
        sorted(
            contexts,
            key=lambda c: (not c.registrant_at_risk, not c.pending_delete, c.section),
        )
    )


def view_contact_by_handle(
    contact: Contact,
    references: References,
    policy: Policy,
    requester: Requester,
    *,
    served: Iterable[Tld] = (),
    registrar_url: str = "",
) -> ContactView | None:
    """A contact looked up by its handle (RDAP /entity, and any future search), or None when
    the requester may not learn that the handle exists.

    The one rule for every answer by handle: the answer never shows a field that the answer
    for any domain referencing the contact withholds from the same requester. It is decided
    under each referencing domain's context (policy section, at-risk registrant, lifecycle)
    and shows only what every one of them shows. Where the handle itself is withheld in some
    domain's answer the handle is not confirmed at all (None: the caller answers exactly as
    for a handle that does not exist), so handles cannot be enumerated to link them back.
    """
    contexts = by_handle_contexts(references, served)
    decided = [
        (
            policy.for_section(c.section),
            _allowed(
                contact,
                policy.for_section(c.section),
                policy,
                requester,
                at_risk=c.registrant_at_risk,
                pending_delete=c.pending_delete,
                replica_disclose_default=c.disclose_default,
            ),
        )
        for c in contexts
    ]
    # A domain that holds the contact only as an ICANN-profile administrative or billing
    # contact withholds it whole from whoever does not see its handle: nothing of it is
    # public there (so whatever a requester is shown of it there is a disclosure), and
    # nothing is shown to a requester not granted the handle. (The pair stays "public" and
    # "what this requester sees beyond it".)
    decided = [
        (
            rules,
            (
                public if Field.HANDLE in public else frozenset(),
                public | granted if Field.HANDLE in public | granted else frozenset(),
            )
            if c.side_only
            else (public, granted),
        )
        for c, (rules, (public, granted)) in zip(contexts, decided, strict=True)
    ]
    allowed = frozenset(Field)
    for _, (public, granted) in decided:
        allowed &= public | granted
    if Field.HANDLE not in allowed:
        return None  # Security: not confirmed; the same answer as an unknown handle
    withheld: dict[Field, Withheld] = {}
    sections: dict[Field, TldPolicy] = {}
    for f in _declared(allowed):
        # Declared as the most restrictive context that withholds it declares it.
        rules = next(r for r, (pub, gr) in decided if f not in pub | gr)
        withheld[f] = Withheld(f, label(None, f), rules.methods[f], rules.reason)
        sections[f] = rules
    # Shown only because the requester is authorized somewhere: recorded as a disclosure.
    disclosed = {
        f for f in allowed if has_value(contact, f) and any(f not in pub for _, (pub, _) in decided)
    }
    replacement = None
    email_rules = sections.get(Field.EMAIL)
    if email_rules is not None:
        if _names_a_domain(email_rules.email_contact_form):
            email = withheld[Field.EMAIL]
            withheld[Field.EMAIL] = replace(email, method=Method.REMOVAL)
        else:
            replacement = _email_replacement(
                withheld,
                email_rules,
                domain="",
                handle="",
                role="contact",
                registrar_url=registrar_url,
            )
    pointer = (email_rules or policy.for_section(contexts[0].section)).email_pointer
    return ContactView(
        role=None,
        contact=contact,
        withheld=withheld,
        disclosed=frozenset(disclosed),
        email_replacement=replacement,
        email_pointer=replacement or pointer,
    )


def domain_context(record: DomainRecord) -> DomainContext:
    """The facts a domain decides its contacts under (the store computes the same per
    referencing domain for a lookup by handle)."""
    registrant = record.registrant
    return DomainContext(
        section=record.tld.policy,
        disclose_default=record.tld.disclose_default,
        # If the registrant is at risk, every contact of the domain is treated as at risk:
        # the technical contact is often the same person under another handle.
        registrant_at_risk=registrant is not None and registrant.at_risk,
        pending_delete=is_pending_delete(record.domain.statuses),
    )


def _icann_side_contact(view: ContactView) -> ContactView:
    """An administrative or billing contact under the ICANN profile: withheld whole where its
    handle is withheld (nothing of it is then shown, so nothing is disclosed); where the
    requester sees the handle only by authorization, the public's answer withholds the whole
    contact, so every field shown is a disclosure (docs/policy.md rule 6)."""
    if view.role not in (ContactRole.ADMIN, ContactRole.BILLING):
        return view
    if Field.HANDLE in view.withheld:
        return replace(view, omitted=True, disclosed=frozenset())
    if Field.HANDLE in view.disclosed:
        shown = (f for f in Field if f not in view.withheld and has_value(view.contact, f))
        return replace(view, disclosed=frozenset(shown))
    return view


def redact_domain(record: DomainRecord, requester: Requester, policy: Policy) -> RedactedDomain:
    """Decide every contact of a domain for one requester, under the TLD's policy section."""
    context = domain_context(record)
    rules = policy.for_section(context.section)
    views = [
        view_contact(
            contact,
            role,
            rules,
            policy,
            requester,
            at_risk=context.registrant_at_risk,
            pending_delete=context.pending_delete,
            replica_disclose_default=context.disclose_default,
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
        views = [_icann_side_contact(v) for v in views]
    return RedactedDomain(record=record, contacts=tuple(views), requester=requester)
