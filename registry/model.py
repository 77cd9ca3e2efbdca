"""Registry model: frozen values for domains, hosts, contacts and registrars. Pure, no I/O."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field


class PersonKind(enum.StrEnum):
    """Whether a contact is a natural person (personal data) or a legal person."""

    NATURAL = "natural"
    LEGAL = "legal"


class ContactRole(enum.StrEnum):
    """Roles a contact holds for a domain; values are the RDAP role strings (RFC 9083 §10.2.4)."""

    REGISTRANT = "registrant"
    ADMIN = "administrative"
    TECH = "technical"
    BILLING = "billing"


class TldKind(enum.StrEnum):
    """What kind of TLD a policy section governs; gTLDs follow the ICANN RDAP profile."""

    GTLD = "gtld"
    SPONSORED = "sponsored"
    CCTLD = "cctld"

    @property
    def icann_profile(self) -> bool:
        """True for TLDs under an ICANN registry agreement (generic and sponsored)."""
        return self in (TldKind.GTLD, TldKind.SPONSORED)


class CoopCategory(enum.StrEnum):
    """.coop eligibility categories."""

    COOP = "COOP"  # member-owned cooperative
    CA = "CA"  # association of cooperatives
    CC = "CC"  # majority controlled by cooperatives
    CS = "CS"  # serves cooperatives


@dataclass(frozen=True, slots=True)
class PostalInfo:
    """One EPP postal-info block: `int` (ASCII) or `loc` (UTF-8)."""

    type: str
    name: str
    org: str | None = None
    street: tuple[str, ...] = ()
    city: str = ""
    sp: str | None = None
    pc: str | None = None
    cc: str = ""


@dataclass(frozen=True, slots=True)
class Contact:
    """A registry contact object (RFC 5733) with the registry facts the policy needs."""

    handle: str
    roid: str
    postal: tuple[PostalInfo, ...]
    email: str
    voice: str | None = None
    voice_ext: str | None = None
    fax: str | None = None
    fax_ext: str | None = None
    kind: PersonKind = PersonKind.NATURAL
    at_risk: bool = False
    verified: bool = False
    #: Elements the contact asked to publish (disclose flag="1") and to withhold (flag="0").
    disclose_yes: frozenset[str] = frozenset()
    disclose_no: frozenset[str] = frozenset()
    registrar: str = ""
    statuses: tuple[str, ...] = ("ok",)
    created: dt.datetime | None = None
    updated: dt.datetime | None = None

    @property
    def postal_info(self) -> PostalInfo | None:
        """The postal info to show: `int` first (ASCII, what port 43 and most clients read)."""
        for kind in ("int", "loc"):
            for p in self.postal:
                if p.type == kind:
                    return p
        return None


def parse_iana_id(text: str) -> int | None:
    """The IANA Registrar ID a handle or query denotes, if it is one (ASCII digits, no leading
    zero, fewer than ten of them)."""
    if text.isascii() and text.isdigit() and not text.startswith("0") and len(text) < 10:
        return int(text)
    return None


@dataclass(frozen=True, slots=True)
class Registrar:
    """A sponsoring registrar (RFC 9022 §5.4)."""

    id: str
    name: str
    iana_id: int | None
    status: str = "ok"
    street: tuple[str, ...] = ()
    city: str = ""
    sp: str | None = None
    pc: str | None = None
    cc: str = ""
    voice: str | None = None
    fax: str | None = None
    email: str = ""
    url: str | None = None
    whois_server: str | None = None
    abuse_email: str | None = None
    abuse_phone: str | None = None
    created: dt.datetime | None = None
    updated: dt.datetime | None = None
    #: The registrar's own RDAP base URL (ends with "/"), for the registry's `related` link.
    rdap_base_url: str | None = None


@dataclass(frozen=True, slots=True)
class Host:
    """A nameserver (host object, or a host attribute of one domain)."""

    name: str
    roid: str | None = None
    statuses: tuple[str, ...] = ("ok",)
    v4: tuple[str, ...] = ()
    v6: tuple[str, ...] = ()
    registrar: str = ""
    created: dt.datetime | None = None
    updated: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class DsData:
    """A DNSSEC delegation signer record (RFC 5910)."""

    key_tag: int
    algorithm: int
    digest_type: int
    digest: str


@dataclass(frozen=True, slots=True)
class Domain:
    """A domain registration as the replica holds it (references by key)."""

    name: str  # lower-case A-label, no trailing dot
    roid: str
    tld: str
    statuses: tuple[str, ...]
    registrar: str
    created: dt.datetime
    unicode_name: str | None = None
    rgp_statuses: tuple[str, ...] = ()
    registrant: str | None = None
    contacts: tuple[tuple[ContactRole, str], ...] = ()
    nameservers: tuple[str, ...] = ()
    expires: dt.datetime | None = None
    updated: dt.datetime | None = None
    transferred: dt.datetime | None = None
    ds_data: tuple[DsData, ...] = ()
    idn_table: str | None = None
    coop_category: CoopCategory | None = None
    coop_certified: bool | None = None
    suspension_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Tld:
    """A TLD served by this deployment and the policy section that governs it."""

    name: str  # A-label
    kind: TldKind
    policy: str
    roid_suffix: str
    disclose_default: bool = False

    @property
    def unicode_name(self) -> str:
        """The TLD's U-label (same as name for ASCII TLDs)."""
        from registry import names

        return names.to_unicode(self.name)


@dataclass(frozen=True, slots=True)
class ReplicaInfo:
    """Replica metadata: generation serial (bumped per applied deposit) and watermark."""

    generation: int
    watermark: dt.datetime


@dataclass(frozen=True, slots=True)
class DomainRecord:
    """A domain with everything it references, resolved: what both front-ends render."""

    domain: Domain
    tld: Tld
    registrar: Registrar
    contacts: tuple[tuple[ContactRole, Contact], ...] = ()
    hosts: tuple[Host, ...] = ()
    info: ReplicaInfo = field(
        default_factory=lambda: ReplicaInfo(0, dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    )

    @property
    def registrant(self) -> Contact | None:
        """The registrant contact, if the domain has one."""
        for role, contact in self.contacts:
            if role is ContactRole.REGISTRANT:
                return contact
        return None


@dataclass(frozen=True, slots=True)
class HostRecord:
    """A nameserver with its sponsoring registrar, resolved."""

    host: Host
    registrar: Registrar | None
    info: ReplicaInfo


@dataclass(frozen=True, slots=True)
class RegistrarRecord:
    """A registrar looked up on its own."""

    registrar: Registrar
    info: ReplicaInfo


@dataclass(frozen=True, slots=True)
class DomainContext:
    """What one domain referencing a contact decides that contact under (`redact_domain`'s
    inputs besides the contact itself): its TLD's policy section and replica disclose default,
    whether its registrant is at risk, whether it is pending delete."""

    section: str
    disclose_default: bool = False
    registrant_at_risk: bool = False
    pending_delete: bool = False
    #: The contact is only an administrative or billing contact of this domain, in a TLD
    #: under the ICANN profile: the domain's answer withholds it whole wherever its handle
    #: is withheld (docs/policy.md), so nothing of it is public there.
    side_only: bool = False


@dataclass(frozen=True, slots=True)
class References:
    """The distinct contexts of the domains that reference a contact (as registrant or in
    another role). `complete` is False when the contact has more referencing domains than
    the store reads: the contexts of the unread ones are unknown."""

    contexts: frozenset[DomainContext] = frozenset()
    complete: bool = True


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """A contact looked up by handle, with the contexts of the domains that reference it and
    its sponsoring registrar's URL (what a withheld email may point to)."""

    contact: Contact
    info: ReplicaInfo
    references: References = field(default_factory=References)
    registrar_url: str | None = None
