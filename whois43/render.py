"""Pure port-43 WHOIS rendering in the ICANN key order and form. No I/O.

Every function takes model values (a `RedactedDomain`, a `HostRecord`, a `Registrar`) and a
frozen `RenderContext` (watermark, terms), and returns text with CR LF line ends. What is
withheld is decided by the redaction engine, never here: a field is printed with its value
when `view.shows(field)`, as `REDACTED FOR PRIVACY` (emails: the view's pointer) when it is in
`view.withheld`, and otherwise as a key with an empty value.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from core import texts
from redaction.engine import ContactView, RedactedDomain
from redaction.fields import Field
from redaction.fields import value as field_value
from registry import coop, names
from registry.model import Host, HostRecord, Registrar

CRLF = "\r\n"
REDACTED = "REDACTED FOR PRIVACY"
#: Key of the U-label line printed right after `Domain Name` for IDNs (our choice: the ICANN
#: format has no key for it; several registries print the same words).
IDN_KEY = "Internationalized Domain Name"
IDN_HOST_KEY = "Internationalized Server Name"

#: Order of a contact block (ICANN Specification 4, §1.4).
CONTACT_FIELDS: tuple[Field, ...] = (
    Field.HANDLE,
    Field.NAME,
    Field.ORG,
    Field.STREET,
    Field.CITY,
    Field.SP,
    Field.PC,
    Field.CC,
    Field.VOICE,
    Field.VOICE_EXT,
    Field.FAX,
    Field.FAX_EXT,
    Field.EMAIL,
)

_SUSPENSION_TEXT = {"acceptable-use": "acceptable use policy"}

DEFAULT_TERMS: tuple[str, ...] = (
    "TERMS OF USE: The data in this record is provided by the registry for information "
    "purposes only, to help you find out about a domain name registration.",
    "By querying this service you agree to use the data only for lawful purposes and not to "
    "use it to send unsolicited messages, to harvest personal data, or to enable high-volume "
    "automated queries.",
    "Personal data of registrants is withheld unless the registrant consented to its "
    "publication; authorized requesters may obtain more through the registry's RDAP service "
    "under its disclosure policy.",
)

# Security: every value from the replica passes through `clean`, so stored data can never
# start a new line, inject terminal control sequences (Cc: C0, DEL, C1; Zl, Zp), or reorder
# or hide what a terminal shows (Cf: the Bidi_Control set U+061C, U+200E, U+200F,
# U+202A-U+202E, U+2066-U+2069, and every other format character such as U+00AD, U+200B-U+200D,
# U+2060, U+FEFF, the tag characters). Lone surrogates (Cs) could not even be encoded.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
#: ZERO WIDTH NON-JOINER and ZERO WIDTH JOINER: IDNA2008 allows them inside U-labels under
#: its CONTEXTJ rules (RFC 5892 Appendix A.1, A.2), so `u_label` keeps them there.
_JOINERS = frozenset("\u200c\u200d")


def _unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES


def clean(text: str) -> str:
    """Replace every control, format (bidi included) and separator character with a space."""
    # isprintable() is False for every unsafe character (and for some harmless spaces): the
    # per-character test runs only when it fails.
    if text.isprintable():
        return text
    return "".join(" " if _unsafe(ch) else ch for ch in text)


def u_label(text: str, ldh: str) -> str:
    """The U-label form `text` of the A-label name `ldh`, cleaned for output.

    ZWNJ/ZWJ survive only when `text` is exactly the IDNA2008 decoding of `ldh` (that decoding
    checks CONTEXTJ, so a joiner there is part of a valid label, and the A-label printed next
    to it names the same domain); anywhere else they are replaced like every format character.
    """
    if text != names.to_unicode(ldh):
        return clean(text)
    if text.isprintable():
        return text
    return "".join(" " if _unsafe(ch) and ch not in _JOINERS else ch for ch in text)


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What a render needs besides the object: the replica's watermark and fixed texts."""

    watermark: dt.datetime
    terms: tuple[str, ...] = DEFAULT_TERMS


def _date(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    v = value.astimezone(dt.UTC)
    if v.year < 1000:  # strftime's %Y does not pad these: keep its spelling
        return v.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{v.year}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}Z"


def date_text(value: dt.datetime) -> str:
    """An instant as every date line spells it (UTC, whole seconds)."""
    return _date(value)


class _Lines:
    """An output buffer of `Key: value` lines."""

    __slots__ = ("out",)

    def __init__(self) -> None:
        self.out: list[str] = []

    def kv(self, key: str, value: str | int | None = "", *, cleaned: bool = False) -> None:
        """Add `key: value`; the value is cleaned unless the caller already did (`cleaned`)."""
        text = "" if value is None else (str(value) if cleaned else clean(str(value))).strip()
        # An empty value is printed as the bare key (ICANN: the key is shown, no value).
        self.out.append(f"{key}: {text}" if text else f"{key}:")

    def raw(self, line: str) -> None:
        self.out.append(line)

    def text(self) -> str:
        return CRLF.join(self.out) + CRLF


def _footer(lines: _Lines, ctx: RenderContext, *, status_pointer: bool) -> None:
    lines.raw(f">>> Last update of WHOIS database: {_date(ctx.watermark)} <<<")
    lines.raw("")
    if status_pointer:
        lines.raw(texts.WHOIS_STATUS_POINTER)
        lines.raw("")
    lines.out.extend(clean(t) for t in ctx.terms)


def _whois_host(value: str | None) -> str:
    """A WHOIS server as a bare host name: some clients follow this key as a referral."""
    if not value:
        return ""
    host = value.strip()
    for prefix in ("whois://", "rwhois://", "https://", "http://"):
        if host.lower().startswith(prefix):
            host = host[len(prefix) :]
    return host.split("/", 1)[0].split(":", 1)[0]


def _contact(lines: _Lines, view: ContactView) -> None:
    if view.omitted:
        # The engine withheld the whole contact (a gTLD admin/billing contact whose handle is
        # withheld): no block at all, as RDAP removes the whole entity.
        return
    contact = view.contact
    for f in CONTACT_FIELDS:
        key = view.label(f)
        if f in view.withheld:
            lines.kv(key, view.email_pointer if f is Field.EMAIL else REDACTED)
        elif f is Field.HANDLE and view.shows(f):
            # CL&D policy §1.2: a shown `Registry ... ID` is the contact's ROID (RFC 5733).
            lines.kv(key, contact.roid)
        elif view.shows(f):
            stored = field_value(contact, f)
            if isinstance(stored, tuple):
                for part in stored:  # street lines: the key repeats (ICANN form)
                    lines.kv(key, part)
            else:
                lines.kv(key, stored)
        else:
            lines.kv(key)


def _statuses(lines: _Lines, epp: Iterable[str]) -> None:
    for code in epp:
        code = clean(code).strip()
        lines.kv("Domain Status", f"{code} {texts.EPP_STATUS_URL}#{code}")


def domain(rd: RedactedDomain, ctx: RenderContext) -> str:
    """A domain record (ICANN Specification 4 §1.4 order), then the registry's own lines."""
    record = rd.record
    d, reg = record.domain, record.registrar
    gtld = record.tld.kind.icann_profile
    lines = _Lines()
    lines.kv("Domain Name", d.name)
    unicode_name = d.unicode_name or names.to_unicode(d.name)
    if unicode_name != d.name:
        lines.kv(IDN_KEY, u_label(unicode_name, d.name), cleaned=True)
    lines.kv("Registry Domain ID", d.roid)
    lines.kv("Registrar WHOIS Server", _whois_host(reg.whois_server))
    lines.kv("Registrar URL", reg.url)
    lines.kv("Updated Date", _date(d.updated))
    lines.kv("Creation Date", _date(d.created))
    lines.kv("Registry Expiry Date", _date(d.expires))
    lines.kv("Registrar", reg.name)
    lines.kv("Registrar IANA ID", reg.iana_id)
    lines.kv("Registrar Abuse Contact Email", reg.abuse_email)
    lines.kv("Registrar Abuse Contact Phone", reg.abuse_phone)
    _statuses(lines, (*d.statuses, *d.rgp_statuses))
    for view in rd.contacts:
        _contact(lines, view)
    if record.hosts:
        for host in record.hosts:
            lines.kv("Name Server", host.name)
    else:
        lines.kv("Name Server")
    lines.kv("DNSSEC", "signedDelegation" if d.ds_data else "unsigned")
    for ds in d.ds_data:
        lines.kv("DNSSEC DS Data", f"{ds.key_tag} {ds.algorithm} {ds.digest_type} {ds.digest}")
    # Registry-specific facts (not personal data) come after the standard keys.
    if coop.carries_flags(d):
        if d.coop_category is not None:
            lines.kv("Registrant Eligibility Category", d.coop_category.value)
        if d.coop_certified is not None:
            lines.kv("Registrant Eligibility Certified", "yes" if d.coop_certified else "no")
        registrant = record.registrant
        if registrant is not None:
            lines.kv("Registrant Verified", "yes" if registrant.verified else "no")
        # The same facts under the registrar API's names, for tooling that matches on them.
        for name, value in coop.flags(record):
            lines.kv(name, value)
    if d.suspension_reason:
        # The reason category only: never the complaint or who made it.
        reason = _SUSPENSION_TEXT.get(d.suspension_reason, d.suspension_reason.replace("-", " "))
        lines.kv("Registry Suspension", reason)
    if gtld:
        lines.raw(texts.WHOIS_COMPLAINT_LINE)
    _footer(lines, ctx, status_pointer=True)
    return lines.text()


def _host(lines: _Lines, host: Host, registrar: Registrar | None) -> None:
    lines.kv("Server Name", host.name)
    unicode_name = names.to_unicode(host.name)
    if unicode_name != host.name:
        lines.kv(IDN_HOST_KEY, u_label(unicode_name, host.name), cleaned=True)
    for ip in (*host.v4, *host.v6):
        lines.kv("IP Address", ip)
    lines.kv("Registrar", registrar.name if registrar else "")
    lines.kv("Registrar WHOIS Server", _whois_host(registrar.whois_server) if registrar else "")
    lines.kv("Registrar URL", registrar.url if registrar else "")


def nameservers(records: Iterable[HostRecord], ctx: RenderContext) -> str:
    """One or more nameserver records (ICANN Specification 4 §1.5), a blank line between."""
    lines = _Lines()
    for n, record in enumerate(records):
        if n:
            lines.raw("")
        _host(lines, record.host, record.registrar)
    _footer(lines, ctx, status_pointer=False)
    return lines.text()


def registrar(reg: Registrar, ctx: RenderContext) -> str:
    """A registrar record: the registrar-data keys of ICANN Specification 4 §1.6 as the
    Consistent Labeling and Display Policy names them, then the registry's own lines.
    Registrars are businesses: everything stored is public."""
    lines = _Lines()
    lines.kv("Registrar", reg.name)
    if reg.street:
        for part in reg.street:
            lines.kv("Street", part)
    else:
        lines.kv("Street")
    lines.kv("City", reg.city)
    lines.kv("State/Province", reg.sp)
    lines.kv("Postal Code", reg.pc)
    lines.kv("Country", reg.cc)
    lines.kv("Phone Number", reg.voice)
    lines.kv("Fax Number", reg.fax)
    lines.kv("Email", reg.email)
    lines.kv("Registrar WHOIS Server", _whois_host(reg.whois_server))
    lines.kv("Registrar URL", reg.url)
    # The format's Admin Contact / Technical Contact blocks (each: the contact's name, Phone
    # Number, Fax Number, Email) come here; they are optional and an RFC 9022 registrar
    # object carries no such contacts, so the replica holds none to print. Additional fields
    # (CL&D policy §1.3) follow the format's keys:
    lines.kv("Registrar IANA ID", reg.iana_id)
    lines.kv("Registrar Abuse Contact Email", reg.abuse_email)
    lines.kv("Registrar Abuse Contact Phone", reg.abuse_phone)
    _footer(lines, ctx, status_pointer=False)
    return lines.text()


def not_found(what: str, ctx: RenderContext) -> str:
    """`No match for "NAME".` and the last-update line (the stable not-found answer)."""
    lines = _Lines()
    lines.raw(f'No match for "{clean(what)}".')
    _footer(lines, ctx, status_pointer=False)
    return lines.text()


def error(message: str) -> str:
    """One error line (the client reads only this; never internals)."""
    return f"Error: {clean(message)}{CRLF}"
