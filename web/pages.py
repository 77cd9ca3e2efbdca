"""Page models: the redacted answer as a person reads it. Pure, no I/O.

These functions turn the lookup core's values (`RedactedDomain`, `HostRecord`, `Registrar`)
into frozen page values that hold only what the requester may see. Templates receive these
values and nothing else, so no template can reach a withheld field: what is shown is decided
once, by the redaction engine, as for RDAP and WHOIS; this module only chooses words.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from redaction.engine import ContactView, RedactedDomain
from redaction.fields import Field
from redaction.fields import value as field_value
from registry import names
from registry.model import ContactRole, Host, HostRecord, Registrar, ReplicaInfo, Tld

# --- plain values for templates ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Name:
    """A name as shown: U-label (None when all ASCII) and A-label."""

    ldh: str
    unicode: str | None

    @classmethod
    def of(cls, ldh: str, unicode_name: str | None = None) -> Name:
        """The display form of an A-label name."""
        u = unicode_name or names.to_unicode(ldh)
        return cls(ldh=ldh, unicode=u if u != ldh else None)


@dataclass(frozen=True, slots=True)
class Link:
    """A link with its visible text; `href` is None when the value is not safe to link."""

    text: str
    href: str | None


@dataclass(frozen=True, slots=True)
class When:
    """A date: machine form for <time datetime> and the words people read."""

    iso: str
    text: str


@dataclass(frozen=True, slots=True)
class DateRow:
    label: str
    when: When


@dataclass(frozen=True, slots=True)
class Status:
    """One status: plain language first, the EPP code for those who look it up."""

    code: str
    text: str
    tone: str  # "ok" | "info" | "warn" | "alert"


@dataclass(frozen=True, slots=True)
class Badge:
    """A registry fact about the registration (not personal data), always shown."""

    text: str
    tone: str  # "ok" | "info" | "warn"


@dataclass(frozen=True, slots=True)
class Row:
    """One published field of a contact: its values (street lines) as text or links."""

    label: str
    values: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class WithheldRow:
    """One withheld field: never its value, only that it is withheld and the policy reason."""

    label: str
    reason: str


@dataclass(frozen=True, slots=True)
class Contact:
    """One contact of a domain as the requester may see it."""

    title: str
    role: str  # the form's short role word
    omitted: bool
    #: Published and withheld rows in one order (a row is a Row or a WithheldRow).
    rows: tuple[Row | WithheldRow, ...]
    #: How to reach the contact when the email is withheld: the policy's replacement URI...
    reach: Link | None
    #: ...or the policy's pointer text when there is no URI.
    pointer: str | None
    #: Reason for a whole contact withheld.
    reason: str = ""
    #: `reach` is this service's own contact form.
    reach_is_form: bool = False


@dataclass(frozen=True, slots=True)
class Nameserver:
    name: Name
    v4: tuple[str, ...]
    v6: tuple[str, ...]
    lookup: str  # the query text for a link to its own page


@dataclass(frozen=True, slots=True)
class Ds:
    key_tag: int
    algorithm: str
    digest_type: str
    digest: str


@dataclass(frozen=True, slots=True)
class RegistrarBox:
    name: str
    iana_id: int | None
    url: Link | None
    abuse_email: Link | None
    abuse_phone: Link | None
    lookup: str  # query text for the registrar's own page


@dataclass(frozen=True, slots=True)
class DomainPage:
    name: Name
    handle: str
    summary: str
    summary_tone: str
    statuses: tuple[Status, ...]
    dates: tuple[DateRow, ...]
    badges: tuple[Badge, ...]
    registrar: RegistrarBox
    nameservers: tuple[Nameserver, ...]
    signed: bool
    ds: tuple[Ds, ...]
    contacts: tuple[Contact, ...]
    rdap_url: str
    data_as_of: When


@dataclass(frozen=True, slots=True)
class NameserverPage:
    name: Name
    v4: tuple[str, ...]
    v6: tuple[str, ...]
    statuses: tuple[Status, ...]
    registrar: RegistrarBox | None
    dates: tuple[DateRow, ...]
    rdap_url: str
    data_as_of: When


@dataclass(frozen=True, slots=True)
class RegistrarPage:
    box: RegistrarBox
    street: tuple[str, ...]
    city: str
    sp: str
    pc: str
    cc: str
    voice: Link | None
    email: Link | None
    rdap_url: str
    data_as_of: When


@dataclass(frozen=True, slots=True)
class ResultList:
    """A search result list, one page of it."""

    query: str
    items: tuple[Nameserver, ...]
    page: int
    pages: int
    total: int
    truncated: bool  # the store's limit was reached: there may be more than `total`
    data_as_of: When


@dataclass(frozen=True, slots=True)
class TldLine:
    name: Name


# --- words ---------------------------------------------------------------------------------

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def when(value: dt.datetime) -> When:
    """A UTC date as "14 March 2019" with its ISO form."""
    utc = value.astimezone(dt.UTC)
    return When(
        iso=utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        text=f"{utc.day} {_MONTHS[utc.month - 1]} {utc.year}",
    )


#: RFC 5731 §2.3 / RFC 3915 statuses in plain language, and how much attention each needs.
STATUS_TEXT: dict[str, tuple[str, str]] = {
    "ok": ("Active: registered, no restrictions", "ok"),
    "inactive": ("Inactive: no nameservers, so the name does not work on the Internet", "warn"),
    "linked": ("In use by at least one domain", "info"),
    "serverHold": ("Suspended by the registry: the name does not work on the Internet", "alert"),
    "clientHold": ("Held by the registrar: the name does not work on the Internet", "alert"),
    "pendingCreate": ("Registration in progress", "info"),
    "pendingDelete": ("Pending deletion", "alert"),
    "pendingRenew": ("Renewal in progress", "info"),
    "pendingTransfer": ("Transfer to another registrar in progress", "warn"),
    "pendingUpdate": ("Change in progress", "info"),
    "clientDeleteProhibited": ("Locked against deletion by the registrar", "info"),
    "clientRenewProhibited": ("Locked against renewal by the registrar", "info"),
    "clientTransferProhibited": ("Locked against transfer by the registrar", "info"),
    "clientUpdateProhibited": ("Locked against changes by the registrar", "info"),
    "serverDeleteProhibited": ("Locked against deletion by the registry", "info"),
    "serverRenewProhibited": ("Locked against renewal by the registry", "info"),
    "serverTransferProhibited": ("Locked against transfer by the registry", "info"),
    "serverUpdateProhibited": ("Locked against changes by the registry", "info"),
    "addPeriod": ("Newly registered (add grace period)", "info"),
    "autoRenewPeriod": ("Recently renewed automatically (grace period)", "info"),
    "renewPeriod": ("Recently renewed (grace period)", "info"),
    "transferPeriod": ("Recently transferred (grace period)", "info"),
    "redemptionPeriod": (
        "Deleted, in the redemption period: the registrar can restore it",
        "alert",
    ),
    "pendingRestore": ("Restore requested by the registrar", "warn"),
}

_SUSPENSION_TEXT = {
    "acceptable-use": "Suspended by the registry under its acceptable-use policy",
}

#: RFC 3915 §3.1: the redemption grace period lasts 30 days from the deletion.
REDEMPTION_DAYS = 30


def _suspension(reason: str) -> str:
    return _SUSPENSION_TEXT.get(reason, f"Suspended by the registry ({reason.replace('-', ' ')})")


def statuses(
    epp: Sequence[str],
    rgp: Sequence[str] = (),
    *,
    suspension_reason: str | None = None,
    updated: dt.datetime | None = None,
    watermark: dt.datetime | None = None,
) -> tuple[Status, ...]:
    """Each status in plain language, in the order the registry gives them."""
    out: list[Status] = []
    seen: set[str] = set()
    for code in (*epp, *rgp):
        if code in seen:
            continue
        seen.add(code)
        text, tone = STATUS_TEXT.get(code, (f"Registry status {code}", "info"))
        if code == "serverHold" and suspension_reason:
            text = _suspension(suspension_reason) + ": the name does not work on the Internet"
        if code == "pendingDelete":
            text = _pending_delete(rgp, updated, watermark)
        out.append(Status(code=code, text=text, tone=tone))
    return tuple(out)


def _pending_delete(
    rgp: Sequence[str], updated: dt.datetime | None, watermark: dt.datetime | None
) -> str:
    if "pendingRestore" in rgp:
        return "Pending deletion, restore requested"
    if "redemptionPeriod" not in rgp:
        # RFC 3915 §3.1: after the redemption period, five days in which it cannot be restored.
        return "Pending deletion: it can no longer be restored and will soon be available again"
    if updated is not None:
        until = updated + dt.timedelta(days=REDEMPTION_DAYS)
        if watermark is None or until > watermark:
            return f"Pending deletion — restorable through the registrar until {when(until).text}"
    return "Pending deletion — restorable through the registrar during the redemption period"


def summary(page_statuses: Sequence[Status]) -> tuple[str, str]:
    """The one line at the top and its tone: the most serious status, or that all is well."""
    for tone in ("alert", "warn"):
        for s in page_statuses:
            if s.tone == tone:
                return s.text, tone
    return "Registered and active", "ok"


# --- links ---------------------------------------------------------------------------------

_EMAIL = re.compile(r"^[^\s@<>\"'()\[\]\\,;:]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$")
_TEL = re.compile(r"^\+?[0-9][0-9. ()-]{2,30}$")


def web_link(url: str | None) -> Link | None:
    """A URL from the replica as a link, only for http(s) (never javascript: or data:)."""
    if not url:
        return None
    text = url.strip()
    lower = text.lower()
    if lower.startswith(("https://", "http://")) and not any(c.isspace() for c in text):
        return Link(text, text)
    return Link(text, None)


def email_link(address: str | None) -> Link | None:
    """A mailto link for a well-formed address; other text is shown, not linked."""
    if not address:
        return None
    if _EMAIL.match(address):
        return Link(address, "mailto:" + quote(address, safe="@.+-_"))
    return Link(address, None)


def tel_link(number: str | None, ext: str | None = None) -> Link | None:
    """A tel: link (RFC 3966) for an EPP number like +1.5550100123."""
    if not number:
        return None
    text = number if not ext else f"{number} ext. {ext}"
    if _TEL.match(number):
        digits = "+" + "".join(c for c in number if c.isdigit())
        href = f"tel:{digits}" + (f";ext={quote(ext, safe='')}" if ext else "")
        return Link(text, href)
    return Link(text, None)


# --- domains -------------------------------------------------------------------------------

_ROLE_TITLE = {
    ContactRole.REGISTRANT: "Registrant",
    ContactRole.ADMIN: "Administrative contact",
    ContactRole.TECH: "Technical contact",
    ContactRole.BILLING: "Billing contact",
}
_ROLE_WORD = {
    ContactRole.REGISTRANT: "registrant",
    ContactRole.ADMIN: "admin",
    ContactRole.TECH: "tech",
    ContactRole.BILLING: "billing",
}

#: Page order and words for contact fields.
FIELD_LABEL: dict[Field, str] = {
    Field.HANDLE: "Registry ID",
    Field.NAME: "Name",
    Field.ORG: "Organisation",
    Field.STREET: "Street",
    Field.CITY: "City",
    Field.SP: "State or province",
    Field.PC: "Postal code",
    Field.CC: "Country",
    Field.VOICE: "Phone",
    Field.VOICE_EXT: "Phone extension",
    Field.FAX: "Fax",
    Field.FAX_EXT: "Fax extension",
    Field.EMAIL: "Email",
}

_COOP_MEANING = {
    "COOP": "member-owned cooperative",
    "CA": "association of cooperatives",
    "CC": "majority controlled by cooperatives",
    "CS": "serves cooperatives",
}

_DNSSEC_ALGORITHMS = {
    5: "RSA/SHA-1",
    7: "RSASHA1-NSEC3-SHA1",
    8: "RSA/SHA-256",
    10: "RSA/SHA-512",
    13: "ECDSA P-256/SHA-256",
    14: "ECDSA P-384/SHA-384",
    15: "Ed25519",
    16: "Ed448",
}
_DIGEST_TYPES = {1: "SHA-1", 2: "SHA-256", 4: "SHA-384"}


def _shown(view: ContactView, f: Field) -> Row | None:
    """The row for a shown field, from the engine's decision alone."""
    if not view.shows(f):
        return None
    stored = field_value(view.contact, f)
    label = FIELD_LABEL[f]
    if isinstance(stored, tuple):
        return Row(label, tuple(Link(part, None) for part in stored if part))
    text = stored or ""
    link: Link | None
    if f is Field.EMAIL:
        link = email_link(text)
    elif f in (Field.VOICE, Field.FAX):
        link = tel_link(text)
    else:
        link = Link(text, None)
    return Row(label, (link,)) if link else None


def contact_title(role: ContactRole) -> str:
    """ "Registrant", "Administrative contact", ..."""
    return _ROLE_TITLE[role]


def contact(view: ContactView, form_url: str | None = None) -> Contact:
    """One contact: published fields, withheld fields with the policy's reason, and how to
    reach the contact when the email is withheld."""
    role = view.role or ContactRole.REGISTRANT
    title = _ROLE_TITLE[role]
    if view.omitted:
        reason = next(iter(view.withheld.values())).reason if view.withheld else ""
        return Contact(title, _ROLE_WORD[role], True, (), None, None, reason)
    rows: list[Row | WithheldRow] = []
    for f in FIELD_LABEL:
        held = view.withheld.get(f)
        if held is not None:
            # Security: the value is never read here; only the label and the reason.
            rows.append(WithheldRow(FIELD_LABEL[f], held.reason))
            continue
        row = _shown(view, f)
        if row is not None:
            rows.append(row)
    reach: Link | None = None
    pointer: str | None = None
    own = False
    if Field.EMAIL in view.withheld:
        if view.email_replacement:
            link = web_link(view.email_replacement)
            if link is not None and link.href is not None:
                own = form_url is not None and link.href.startswith(form_url)
                text = "Send a message through the contact form" if own else link.text
                reach = Link(text, link.href)
            else:
                reach = Link(view.email_replacement, None)
        else:
            pointer = view.email_pointer
    return Contact(title, _ROLE_WORD[role], False, tuple(rows), reach, pointer, reach_is_form=own)


def registrar_box(reg: Registrar) -> RegistrarBox:
    """The sponsoring registrar: name, IANA id, web site and abuse contact (all public)."""
    return RegistrarBox(
        name=reg.name,
        iana_id=reg.iana_id,
        url=web_link(reg.url),
        abuse_email=email_link(reg.abuse_email),
        abuse_phone=tel_link(reg.abuse_phone),
        lookup=str(reg.iana_id) if reg.iana_id is not None else reg.id,
    )


def _nameserver(host: Host) -> Nameserver:
    return Nameserver(Name.of(host.name), host.v4, host.v6, host.name)


def rdap_url(base_url: str, *segments: str) -> str:
    """The RDAP URL of an object on the public base (what scripts should call)."""
    return base_url + "/".join(quote(s, safe="") for s in segments)


def _date_rows(*pairs: tuple[str, dt.datetime | None]) -> tuple[DateRow, ...]:
    return tuple(DateRow(label, when(v)) for label, v in pairs if v is not None)


def domain(rd: RedactedDomain, base_url: str, form_url: str | None = None) -> DomainPage:
    """A domain page from the redacted domain, as the RDAP route renders the same value."""
    record = rd.record
    d = record.domain
    st = statuses(
        d.statuses,
        d.rgp_statuses,
        suspension_reason=d.suspension_reason,
        updated=d.updated,
        watermark=record.info.watermark,
    )
    badges: list[Badge] = []
    if d.coop_category is not None:
        cat = d.coop_category.value
        badges.append(Badge(f".coop eligibility: {cat} ({_COOP_MEANING[cat]})", "info"))
        if d.coop_certified is not None:
            badges.append(
                Badge("Eligibility certified by the registrant", "ok")
                if d.coop_certified
                else Badge("Eligibility not certified by the registrant", "warn")
            )
        registrant = record.registrant
        if registrant is not None:
            badges.append(
                Badge("Registrant verified by the registry", "ok")
                if registrant.verified
                else Badge("Registrant not verified by the registry", "warn")
            )
    if d.suspension_reason and "serverHold" not in d.statuses:
        # With serverHold the status line already says it (RDAP's "Registry Suspension").
        badges.append(Badge(_suspension(d.suspension_reason), "warn"))
    headline, tone = summary(st)
    return DomainPage(
        name=Name.of(d.name, d.unicode_name),
        handle=d.roid,
        summary=headline,
        summary_tone=tone,
        statuses=st,
        dates=_date_rows(
            ("Registered", d.created),
            ("Expires", d.expires),
            ("Last changed", d.updated),
            ("Last transferred", d.transferred),
        ),
        badges=tuple(badges),
        registrar=registrar_box(record.registrar),
        nameservers=tuple(_nameserver(h) for h in record.hosts),
        signed=bool(d.ds_data),
        ds=tuple(
            Ds(
                s.key_tag,
                _DNSSEC_ALGORITHMS.get(s.algorithm, str(s.algorithm)),
                _DIGEST_TYPES.get(s.digest_type, str(s.digest_type)),
                s.digest,
            )
            for s in d.ds_data
        ),
        contacts=tuple(contact(v, form_url) for v in rd.contacts),
        rdap_url=rdap_url(base_url, "domain", d.name),
        data_as_of=when(record.info.watermark),
    )


def nameserver(record: HostRecord, base_url: str) -> NameserverPage:
    """A nameserver page (hosts hold no personal data)."""
    h = record.host
    return NameserverPage(
        name=Name.of(h.name),
        v4=h.v4,
        v6=h.v6,
        statuses=statuses(h.statuses),
        registrar=registrar_box(record.registrar) if record.registrar else None,
        dates=_date_rows(("Created", h.created), ("Last changed", h.updated)),
        rdap_url=rdap_url(base_url, "nameserver", h.name),
        data_as_of=when(record.info.watermark),
    )


def registrar(reg: Registrar, info: ReplicaInfo, base_url: str) -> RegistrarPage:
    """A registrar page: a business, so everything stored is public."""
    box = registrar_box(reg)
    return RegistrarPage(
        box=box,
        street=reg.street,
        city=reg.city,
        sp=reg.sp or "",
        pc=reg.pc or "",
        cc=reg.cc,
        voice=tel_link(reg.voice),
        email=email_link(reg.email),
        rdap_url=rdap_url(base_url, "entity", box.lookup),
        data_as_of=when(info.watermark),
    )


PAGE_SIZE = 20
#: The most nameservers an address search returns (the store's own limit).
SEARCH_LIMIT = 50


def result_list(
    query: str, records: Sequence[HostRecord], page: int, *, limit: int, watermark: dt.datetime
) -> ResultList:
    """One page of nameservers found by address (page numbers start at 1 and are clamped)."""
    total = len(records)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    start = (page - 1) * PAGE_SIZE
    items = tuple(_nameserver(r.host) for r in records[start : start + PAGE_SIZE])
    return ResultList(query, items, page, pages, total, total >= limit, when(watermark))


def tld_lines(tlds: dict[str, Tld]) -> tuple[TldLine, ...]:
    """The served TLDs, ASCII ones first, for the home page."""
    ordered = sorted(tlds.values(), key=lambda t: (t.name.startswith("xn--"), t.name))
    return tuple(TldLine(Name.of(t.name)) for t in ordered)
