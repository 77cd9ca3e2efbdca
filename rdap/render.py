"""Pure RDAP rendering (RFC 9083, RFC 9537, ICANN gTLD profile 2024). No I/O.

Every function takes model values and a frozen `RenderContext`, never the request, the
settings or the clock, and returns plain JSON-ready dicts.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin

from core import texts
from redaction.engine import ContactView, RedactedDomain
from redaction.fields import REGISTERED_NAMES, Field, Method
from registry import coop, names, status
from registry.errors import RddsError
from registry.model import (
    Contact,
    ContactRole,
    DomainRecord,
    Host,
    HostRecord,
    Registrar,
    ReplicaInfo,
)

JSON = dict[str, Any]

RDAP_LEVEL_0 = "rdap_level_0"
PROFILE = "icann_rdap_response_profile_1"
TIG = "icann_rdap_technical_implementation_guide_1"
REDACTED = "redacted"
MEDIA_TYPE = texts.MEDIA_TYPE

_COOP_MEANING = {
    "COOP": "member-owned cooperative",
    "CA": "association of cooperatives",
    "CC": "majority controlled by cooperatives",
    "CS": "serves cooperatives",
}


@dataclass(frozen=True, slots=True)
class RenderContext:
    """Everything a render needs besides the object: fixed per request."""

    base_url: str  # public base URL, ends with "/"
    request_url: str  # the request URL as received (for links' `value`)
    port43: str | None = None
    tos_url: str = texts.DEFAULT_TOS_URL
    tos_text: tuple[str, ...] = texts.TOS_TEXT
    #: The deployment serves at least one TLD under the ICANN profile (`Lookup.icann_deployment`):
    #: help, nameserver, entity and error answers carry the profile.
    icann_deployment: bool = True
    extra_notices: tuple[JSON, ...] = field(default_factory=tuple)

    def url(self, *segments: str) -> str:
        """An absolute URL under the public base, each segment percent-encoded."""
        return self.base_url + "/".join(_segment(s) for s in segments)

    def registrar_base(self, reg: Registrar) -> str | None:
        """The registrar's RDAP base URL as links show it. A relative reference in the
        replica (starting `./`, `../` or `/`) names a service under this server's public base
        and is resolved against it (RFC 3986 §5.2): the demo registry's registrars are served
        by this server, so clients that follow `related` links reach an answer. Anything else
        (absolute, or a bare `host/path` that may be a typo) is shown as stored."""
        value = reg.rdap_base_url
        if not value:
            return None
        if value.startswith(("./", "../", "/")) and not value.startswith("//"):
            return urljoin(self.base_url, value)
        return value  # absolute, or not a reference we can tell apart from a typo: as stored


#: What `quote(s, safe="")` leaves as it is (RFC 3986 §2.3 unreserved characters).
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def _segment(s: str) -> str:
    # Names and handles are nearly always unreserved characters only: no quoting to do.
    return s if _UNRESERVED.fullmatch(s) else quote(s, safe="")


# --- common members -----------------------------------------------------------------------


def _date(value: dt.datetime) -> str:
    v = value.astimezone(dt.UTC)
    if v.year < 1000:  # strftime's %Y does not pad these: keep its spelling
        return v.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{v.year}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}Z"


def date_text(value: dt.datetime) -> str:
    """An instant as every RDAP date member spells it (RFC 3339, UTC, whole seconds)."""
    return _date(value)


def _link(ctx: RenderContext, rel: str, href: str, media: str = MEDIA_TYPE) -> JSON:
    # RFC 9083 §4.2; ICANN profile: `value` is the request URL as received.
    return {"value": ctx.request_url, "rel": rel, "href": href, "type": media}


def _conformance(*, icann: bool, redacted: bool) -> list[str]:
    out = [RDAP_LEVEL_0]
    if icann:
        out += [PROFILE, TIG]
    if redacted:
        out.append(REDACTED)
    return out


def notices(ctx: RenderContext, *, icann: bool) -> list[JSON]:
    """Top-level notices: terms of service, and for gTLDs the two ICANN notices."""
    out: list[JSON] = [
        {
            "title": "Terms of Service",
            "description": list(ctx.tos_text),
            "links": [_link(ctx, "terms-of-service", ctx.tos_url, "text/html")],
        }
    ]
    if icann:
        out += [
            {
                "title": "Status Codes",
                "description": [texts.RDAP_STATUS_CODES_TEXT],
                "links": [_link(ctx, "glossary", texts.EPP_STATUS_URL, "text/html")],
            },
            {
                "title": "RDDS Inaccuracy Complaint Form",
                "description": [texts.RDAP_COMPLAINT_TEXT],
                "links": [_link(ctx, "help", texts.COMPLAINT_URL, "text/html")],
            },
        ]
    out += [dict(n) for n in ctx.extra_notices]
    return out


def _events(
    info: ReplicaInfo,
    registration: dt.datetime | None = None,
    expiration: dt.datetime | None = None,
    changed: dt.datetime | None = None,
    transfer: dt.datetime | None = None,
) -> list[JSON]:
    out = []
    for action, when in (
        ("registration", registration),
        ("expiration", expiration),
        ("last changed", changed),
        ("transfer", transfer),
    ):
        if when is not None:
            out.append({"eventAction": action, "eventDate": _date(when)})
    # The replica's watermark: what instant the data describes (ICANN profile 2024 §2.3.1.3).
    out.append({"eventAction": "last update of RDAP database", "eventDate": _date(info.watermark)})
    return out


def _tel_uri(number: str, ext: str | None) -> str:
    uri = f"tel:{number}"
    return f"{uri};ext={ext}" if ext else uri


# --- registrar ----------------------------------------------------------------------------


def registrar_entity(
    reg: Registrar, ctx: RenderContext, *, info: ReplicaInfo, top: bool = False
) -> JSON:
    """The sponsoring registrar as an entity (ICANN profile §2.4): IANA id, abuse contact."""
    handle = str(reg.iana_id) if reg.iana_id is not None else reg.id
    vcard: list[list[Any]] = [["version", {}, "text", "4.0"], ["fn", {}, "text", reg.name]]
    if top:
        adr_params: JSON = {"cc": reg.cc} if reg.cc else {}
        street: Any = (
            list(reg.street) if len(reg.street) > 1 else (reg.street[0] if reg.street else "")
        )
        vcard.append(
            ["adr", adr_params, "text", ["", "", street, reg.city, reg.sp or "", reg.pc or "", ""]]
        )
        if reg.voice:
            vcard.append(["tel", {"type": "voice"}, "uri", _tel_uri(reg.voice, None)])
        if reg.fax:
            vcard.append(["tel", {"type": "fax"}, "uri", _tel_uri(reg.fax, None)])
        if reg.email:
            vcard.append(["email", {}, "text", reg.email])
        if reg.url:
            vcard.append(["url", {}, "uri", reg.url])
    out: JSON = {
        "objectClassName": "entity",
        "handle": handle,
        "roles": ["registrar"],
        "vcardArray": ["vcard", vcard],
        "status": ["active"] if reg.status == "ok" else [reg.status],
        "links": [_link(ctx, "self", ctx.url("entity", handle))],
    }
    base = ctx.registrar_base(reg)
    if base:
        # ICANN profile 2024 §2.4.6: an `about` link whose value and href are the registrar's
        # RDAP base URL as listed by IANA.
        out["links"].append(
            {
                "value": base,
                "rel": "about",
                "href": base,
                "type": MEDIA_TYPE,
            }
        )
    if reg.iana_id is not None:
        out["publicIds"] = [{"type": "IANA Registrar ID", "identifier": str(reg.iana_id)}]
    if reg.abuse_email or reg.abuse_phone:
        abuse: list[list[Any]] = [
            ["version", {}, "text", "4.0"],
            ["fn", {}, "text", "Abuse Contact"],
        ]
        if reg.abuse_phone:
            abuse.append(["tel", {"type": "voice"}, "uri", _tel_uri(reg.abuse_phone, None)])
        if reg.abuse_email:
            abuse.append(["email", {}, "text", reg.abuse_email])
        out["entities"] = [
            {"objectClassName": "entity", "roles": ["abuse"], "vcardArray": ["vcard", abuse]}
        ]
    if top:
        out["events"] = _events(info, reg.created, None, reg.updated)
    return out


# --- contacts -----------------------------------------------------------------------------


def _entity_path(view: ContactView, top: bool) -> str:
    if top:
        return "$"
    role = view.role.value if view.role else "registrant"
    return f"$.entities[?(@.roles[0]=='{role}')]"


_VCARD = ".vcardArray[1]"
#: Every field in declaration order (iterating the enum class itself is slower).
_FIELDS: tuple[Field, ...] = tuple(Field)
_ADR_SLOT = {Field.STREET: 2, Field.CITY: 3, Field.SP: 4, Field.PC: 5}


@functools.lru_cache(maxsize=512)
def _redaction_path(f: Field, base: str) -> str:
    """The JSONPath of a withheld field in the entity at `base` (a handful of fields times
    a handful of entity paths: computed once each)."""
    card = base + _VCARD
    if f is Field.HANDLE:
        path = f"{base}.handle"
    elif f is Field.NAME:
        path = f"{card}[?(@[0]=='fn')][3]"
    elif f is Field.ORG:
        path = f"{card}[?(@[0]=='org')]"
    elif f in _ADR_SLOT:
        path = f"{card}[?(@[0]=='adr')][3][{_ADR_SLOT[f]}]"
    elif f is Field.CC:
        path = f"{card}[?(@[0]=='adr')][1].cc"
    elif f in (Field.VOICE, Field.VOICE_EXT):
        path = f"{card}[?(@[1].type=='voice')]"
    elif f in (Field.FAX, Field.FAX_EXT):
        path = f"{card}[?(@[1].type=='fax')]"
    else:
        path = f"{card}[?(@[0]=='email')]"
    return path


def _redaction(view: ContactView, f: Field, base: str) -> JSON:
    w = view.withheld[f]
    name_key = "type" if w.label in REGISTERED_NAMES else "description"
    entry: JSON = {"name": {name_key: w.label}}
    path = _redaction_path(f, base)
    # RFC 9537 §4.2: removal -> prePath (selects nothing in the served document); emptyValue
    # and partialValue -> postPath (selects the emptied value); replacementValue -> prePath
    # plus replacementPath (selects the replacement).
    if w.method is Method.REMOVAL:
        entry["prePath"] = path
    elif w.method is Method.REPLACEMENT_VALUE:
        entry["prePath"] = path
        entry["replacementPath"] = f"{base}{_VCARD}[?(@[0]=='contact-uri')]"
    else:
        entry["postPath"] = path
    entry["pathLang"] = "jsonpath"
    entry["method"] = w.method.value
    entry["reason"] = {"description": w.reason}
    return entry


def contact_entity(
    view: ContactView, ctx: RenderContext, *, top: bool = False
) -> tuple[JSON, list[JSON]]:
    """A contact as an entity with only what the view shows, and its `redacted` entries."""
    c = view.contact
    postal = c.postal_info
    shows = view.shows
    withheld = view.withheld

    def slot(f: Field, value: str | None) -> str:
        return value or "" if shows(f) else ""

    vcard: list[list[Any]] = [["version", {}, "text", "4.0"]]
    # fn is mandatory in a vCard (RFC 6350 §6.2.1): withheld means an empty value.
    vcard.append(["fn", {}, "text", postal.name if postal and shows(Field.NAME) else ""])
    if postal and shows(Field.ORG):
        vcard.append(["org", {}, "text", postal.org])
    if postal is not None:
        street: Any = ""
        if shows(Field.STREET):
            street = list(postal.street) if len(postal.street) > 1 else postal.street[0]
        params: JSON = {"cc": postal.cc} if shows(Field.CC) else {}
        vcard.append(
            [
                "adr",
                params,
                "text",
                [
                    "",
                    "",
                    street,
                    slot(Field.CITY, postal.city),
                    slot(Field.SP, postal.sp),
                    slot(Field.PC, postal.pc),
                    "",
                ],
            ]
        )
    if c.voice and shows(Field.VOICE):
        ext = c.voice_ext if shows(Field.VOICE_EXT) else None
        vcard.append(["tel", {"type": "voice"}, "uri", _tel_uri(c.voice, ext)])
    if c.fax and shows(Field.FAX):
        ext = c.fax_ext if shows(Field.FAX_EXT) else None
        vcard.append(["tel", {"type": "fax"}, "uri", _tel_uri(c.fax, ext)])
    if shows(Field.EMAIL):
        vcard.append(["email", {}, "text", c.email])
    elif view.email_replacement:
        vcard.append(["contact-uri", {}, "uri", view.email_replacement])

    out: JSON = {"objectClassName": "entity"}
    if Field.HANDLE not in withheld:
        out["handle"] = c.handle
    out["roles"] = [view.role.value] if view.role else []
    out["vcardArray"] = ["vcard", vcard]
    if Field.HANDLE not in withheld:
        # A self link names the handle: only where the handle itself is shown.
        out["links"] = [_link(ctx, "self", ctx.url("entity", c.handle))]
    if not out["roles"]:
        del out["roles"]
    base = _entity_path(view, top)
    redactions = [_redaction(view, f, base) for f in _FIELDS if f in withheld]
    return out, redactions


# --- domain -------------------------------------------------------------------------------


def _nameserver(host: Host, ctx: RenderContext, info: ReplicaInfo, *, top: bool) -> JSON:
    out: JSON = {"objectClassName": "nameserver"}
    if top and host.roid:
        out["handle"] = host.roid
    out["ldhName"] = host.name
    uname = names.to_unicode(host.name)
    if uname != host.name:
        out["unicodeName"] = uname
    if host.v4 or host.v6:
        ips: JSON = {}
        if host.v4:
            ips["v4"] = list(host.v4)
        if host.v6:
            ips["v6"] = list(host.v6)
        out["ipAddresses"] = ips
    if top:
        out["status"] = list(status.to_rdap(host.statuses)) or ["active"]
        out["events"] = _events(info, host.created, None, host.updated)
    out["links"] = [_link(ctx, "self", ctx.url("nameserver", host.name))]
    return out


def _registry_remarks(record: DomainRecord) -> list[JSON]:
    """Registry facts that are not personal data: always shown, whoever asks."""
    d = record.domain
    out: list[JSON] = []
    if coop.carries_flags(d):
        registrant = record.registrant
        lines: list[str] = []
        if d.coop_category is not None:
            lines.append(
                f"Eligibility category: {d.coop_category.value} "
                f"({_COOP_MEANING[d.coop_category.value]})"
            )
        if d.coop_certified is not None:
            lines.append(
                "Eligibility certified by the registrant: " + ("yes" if d.coop_certified else "no")
            )
        if registrant is not None:
            lines.append(_verified_line(registrant))
        # The registrar API's own names: registrars' tooling and auditors match on them. A
        # remark, not an extension member (ICANN's tool rejects unregistered extensions).
        lines += [f"{name}: {value}" for name, value in coop.flags(record)]
        out.append({"title": "Registrant Eligibility", "description": lines})
    if d.suspension_reason:
        text = {
            "acceptable-use": "Suspended by the registry under its acceptable use policy.",
        }.get(d.suspension_reason, f"Suspended by the registry ({d.suspension_reason}).")
        out.append({"title": "Registry Suspension", "description": [text]})
    return out


def _verified_line(contact: Contact) -> str:
    return "Registrant verified by the registry: " + ("yes" if contact.verified else "no")


def _verification_remark(contact: Contact) -> JSON:
    """The .coop verification fact on the registrant entity itself (a fact about the
    organisation, shown even when the entity's contact data is withheld)."""
    return {
        "title": "Registrant Verification",
        "description": [
            _verified_line(contact),
            f"{coop.VERIFICATION}: {coop.verification(contact)}",
        ],
    }


def domain(rd: RedactedDomain, ctx: RenderContext) -> JSON:
    """A domain lookup answer (RFC 9083 §5.3 with the ICANN profile for gTLDs)."""
    record = rd.record
    d = record.domain
    icann = record.tld.kind.icann_profile
    out: JSON = {"objectClassName": "domain", "handle": d.roid, "ldhName": d.name}
    if d.unicode_name:
        out["unicodeName"] = d.unicode_name
    out["status"] = list(status.to_rdap(d.statuses, d.rgp_statuses))
    out["events"] = _events(record.info, d.created, d.expires, d.updated, d.transferred)
    entities: list[JSON] = [registrar_entity(record.registrar, ctx, info=record.info)]
    redacted: list[JSON] = []
    for view in rd.contacts:
        if view.omitted:
            role = view.role.value if view.role else ""
            redacted.append(
                {
                    "name": {"description": view.entity_label},
                    "prePath": f"$.entities[?(@.roles[0]=='{role}')]",
                    "pathLang": "jsonpath",
                    "method": Method.REMOVAL.value,
                    "reason": {"description": next(iter(view.withheld.values())).reason},
                }
            )
            continue
        entity, redactions = contact_entity(view, ctx)
        if view.role is ContactRole.REGISTRANT and coop.carries_flags(d):
            entity["remarks"] = [_verification_remark(view.contact)]
        entities.append(entity)
        redacted += redactions
    out["entities"] = entities
    if record.hosts:
        out["nameservers"] = [_nameserver(h, ctx, record.info, top=False) for h in record.hosts]
    secure: JSON = {"delegationSigned": bool(d.ds_data)}
    if d.ds_data:
        secure["dsData"] = [
            {
                "keyTag": s.key_tag,
                "algorithm": s.algorithm,
                "digestType": s.digest_type,
                "digest": s.digest,
            }
            for s in d.ds_data
        ]
    out["secureDNS"] = secure
    remarks = _registry_remarks(record)
    if remarks:
        out["remarks"] = remarks
    links = [_link(ctx, "self", ctx.url("domain", d.name))]
    registrar_base = ctx.registrar_base(record.registrar)
    if registrar_base:
        # ICANN profile 2024 §2.10 / TIG §3.2: a registry links to the registrar's answer.
        links.append(_link(ctx, "related", f"{registrar_base}domain/{d.name}"))
    out["links"] = links
    if ctx.port43:
        out["port43"] = ctx.port43
    out["notices"] = notices(ctx, icann=icann)
    if redacted:
        out["redacted"] = redacted
    out["rdapConformance"] = _conformance(icann=icann, redacted=bool(redacted))
    return out


def nameserver(record: HostRecord, ctx: RenderContext) -> JSON:
    """A nameserver lookup answer (RFC 9083 §5.2). A host may serve domains of any TLD: in
    a deployment that serves gTLDs, ICANN's tool expects its notices on every lookup."""
    icann = ctx.icann_deployment
    out = _nameserver(record.host, ctx, record.info, top=True)
    if record.registrar is not None:
        out["entities"] = [registrar_entity(record.registrar, ctx, info=record.info)]
    if ctx.port43:
        out["port43"] = ctx.port43
    out["notices"] = notices(ctx, icann=icann)
    out["rdapConformance"] = _conformance(icann=icann, redacted=False)
    return out


def registrar(reg: Registrar, info: ReplicaInfo, ctx: RenderContext) -> JSON:
    """An entity lookup answer for a registrar."""
    out = registrar_entity(reg, ctx, info=info, top=True)
    if ctx.port43:
        out["port43"] = ctx.port43
    out["notices"] = notices(ctx, icann=ctx.icann_deployment)
    out["rdapConformance"] = _conformance(icann=ctx.icann_deployment, redacted=False)
    return out


def contact(view: ContactView, info: ReplicaInfo, ctx: RenderContext) -> JSON:
    """An entity lookup answer for a contact, redacted for the requester."""
    # The engine answers by handle only where the handle is shown (`view_contact_by_handle`),
    # so the entity carries its handle and self link like any shown contact.
    out, redacted = contact_entity(view, ctx, top=True)
    out["events"] = _events(info, view.contact.created, None, view.contact.updated)
    if ctx.port43:
        out["port43"] = ctx.port43
    out["notices"] = notices(ctx, icann=ctx.icann_deployment)
    if redacted:
        out["redacted"] = redacted
    out["rdapConformance"] = _conformance(icann=ctx.icann_deployment, redacted=bool(redacted))
    return out


def help_(ctx: RenderContext, extra: Iterable[JSON] = (), extensions: Iterable[str] = ()) -> JSON:
    """The /help answer (RFC 9082 §3.1.6, RFC 9083 §7)."""
    service = {
        "title": "About This Service",
        "description": [
            "This is the RDAP service of the registry. It answers lookups by domain "
            "(/domain/NAME), nameserver (/nameserver/NAME) and entity (/entity/HANDLE; "
            "registrars by IANA Registrar ID).",
            "Names may be given as U-labels or A-labels, in any case.",
            "Personal data is withheld according to the registry's privacy policy; withheld "
            "fields are declared in the 'redacted' member (RFC 9537).",
        ],
        "links": [_link(ctx, "self", ctx.url("help"))],
    }
    out: JSON = {
        "notices": [*notices(ctx, icann=ctx.icann_deployment), service],
        "rdapConformance": [
            *_conformance(icann=ctx.icann_deployment, redacted=False),
            *extensions,
        ],
    }
    for member in extra:
        out.update(member)
    return out


def error(exc: RddsError, ctx: RenderContext) -> JSON:
    """An error answer (RFC 9083 §6): errorCode repeats the HTTP status."""
    return {
        "errorCode": exc.status,
        "title": exc.title,
        "description": [exc.message],
        "notices": notices(ctx, icann=False),
        "rdapConformance": _conformance(icann=ctx.icann_deployment, redacted=False),
    }
