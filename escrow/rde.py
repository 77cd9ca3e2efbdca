"""Pure RFC 8909 / RFC 9022 escrow-deposit parsing: XML bytes in, model values out. No SQLite.

`parse` streams a deposit with lxml's `iterparse`, yields one item per object (or delete) as
soon as its element ends, and clears what it has read, so memory stays flat whatever the file
size. Elements are matched on namespace URI, never on prefix. Every failure is a
`DepositError(line, reason)`; reasons name elements and object keys, never data values.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, TypeAlias

from lxml import etree

from escrow import values
from registry import names
from registry.errors import InvalidName
from registry.model import (
    Contact,
    ContactRole,
    CoopCategory,
    Domain,
    DsData,
    Host,
    PersonKind,
    PostalInfo,
    Registrar,
    TldKind,
)

# RFC 8909 §3 / RFC 9022 §9: namespace URIs.
RDE = "urn:ietf:params:xml:ns:rde-1.0"
HEADER = "urn:ietf:params:xml:ns:rdeHeader-1.0"
DOMAIN = "urn:ietf:params:xml:ns:rdeDomain-1.0"
HOST = "urn:ietf:params:xml:ns:rdeHost-1.0"
CONTACT = "urn:ietf:params:xml:ns:rdeContact-1.0"
REGISTRAR = "urn:ietf:params:xml:ns:rdeRegistrar-1.0"
IDN = "urn:ietf:params:xml:ns:rdeIDN-1.0"
NNDN = "urn:ietf:params:xml:ns:rdeNNDN-1.0"
EPP_PARAMS = "urn:ietf:params:xml:ns:rdeEppParams-1.0"
POLICY = "urn:ietf:params:xml:ns:rdePolicy-1.0"
EPP = "urn:ietf:params:xml:ns:epp-1.0"
EPP_DOMAIN = "urn:ietf:params:xml:ns:domain-1.0"
EPP_CONTACT = "urn:ietf:params:xml:ns:contact-1.0"
SECDNS = "urn:ietf:params:xml:ns:secDNS-1.1"
RGP = "urn:ietf:params:xml:ns:rgp-1.0"
#: The project's own extension (docs/escrow.md): registry facts RFC 9022 has no element for.
EXT = "urn:x-rdds:xml:ns:rddsRde-1.0"

#: RFC 9022's object namespaces: known, so read even when rdeMenu forgets to announce them.
RFC9022_NAMESPACES = frozenset(
    {HEADER, DOMAIN, HOST, CONTACT, REGISTRAR, IDN, NNDN, EPP_PARAMS, POLICY}
)
#: Namespaces whose elements may appear directly under <rde:contents> / <rde:deletes>.
OBJECT_NAMESPACES = RFC9022_NAMESPACES | {EXT}

_MAX_ERRORS_TEXT = 80


class DepositError(Exception):
    """A deposit cannot be read: where (line) and why (reason, with no data values)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"{line}: {reason}")
        self.line = line
        self.reason = reason


# --- items ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Head:
    """The container (RFC 8909 §5): known once <rde:watermark> and <rde:rdeMenu> are read."""

    type: str  # FULL | DIFF | INCR
    id: str
    prev_id: str | None
    resend: int
    watermark: dt.datetime
    menu: frozenset[str]
    line: int


@dataclass(frozen=True, slots=True)
class Delete:
    """A key listed under <rde:deletes>; kind is domain|host|contact|registrar|idn|nndn."""

    kind: str
    key: str
    line: int


@dataclass(frozen=True, slots=True)
class DomainItem:
    domain: Domain
    #: RFC 5731 host attributes: nameserver name -> its addresses.
    host_attrs: dict[str, tuple[str, ...]] | None
    line: int


@dataclass(frozen=True, slots=True)
class HostItem:
    host: Host
    line: int


@dataclass(frozen=True, slots=True)
class ContactItem:
    contact: Contact
    line: int


@dataclass(frozen=True, slots=True)
class RegistrarItem:
    registrar: Registrar
    line: int


@dataclass(frozen=True, slots=True)
class Header:
    """RFC 9022 §5.7: the TLD and the registry's object totals at the watermark."""

    tld: str
    counts: tuple[tuple[str, int], ...]
    line: int


@dataclass(frozen=True, slots=True)
class EppParams:
    """The EPP greeting's data collection policy, reduced to the disclose default."""

    disclose_default: bool
    line: int


@dataclass(frozen=True, slots=True)
class TldFacts:
    """rddsExt:tld: the TLD facts RFC 9022 lacks (None = use the documented default)."""

    kind: TldKind | None
    policy: str | None
    roid_suffix: str | None
    line: int


@dataclass(frozen=True, slots=True)
class IdnTable:
    id: str
    url: str | None
    url_policy: str | None
    line: int


@dataclass(frozen=True, slots=True)
class Nndn:
    aname: str
    uname: str | None
    state: str
    created: dt.datetime | None
    line: int


@dataclass(frozen=True, slots=True)
class Notice:
    """Something skipped that the operator should know about (no data values)."""

    text: str
    line: int


Item: TypeAlias = (
    Head
    | Delete
    | DomainItem
    | HostItem
    | ContactItem
    | RegistrarItem
    | Header
    | EppParams
    | TldFacts
    | IdnTable
    | Nndn
    | Notice
)

# --- helpers -------------------------------------------------------------------------------


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


def _ns(tag: Any) -> str:
    if not isinstance(tag, str) or not tag.startswith("{"):
        return ""
    return tag[1 : tag.index("}")]


def _show(tag: Any) -> str:
    """An element's name for a message: a known prefix plus the local name."""
    if not isinstance(tag, str):
        return "?"
    ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return f"{_PREFIX.get(ns, '{' + ns + '}')}:{local}" if ns else local


_PREFIX = {
    RDE: "rde",
    HEADER: "rdeHeader",
    DOMAIN: "rdeDomain",
    HOST: "rdeHost",
    CONTACT: "rdeContact",
    REGISTRAR: "rdeRegistrar",
    IDN: "rdeIDN",
    NNDN: "rdeNNDN",
    EPP_PARAMS: "rdeEppParams",
    POLICY: "rdePolicy",
    EXT: "rddsExt",
    EPP_DOMAIN: "domain",
    EPP_CONTACT: "contact",
    SECDNS: "secDNS",
    RGP: "rgp",
    EPP: "epp",
}


def _text(el: Any) -> str:
    t = el.text
    return t.strip() if t else ""


_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


@functools.lru_cache(maxsize=4096)
def _ulabel(alabel: str) -> str | None:
    """The U-label of a valid A-label, else None (cached: TLD labels repeat on every name)."""
    try:
        return names.from_text(alabel).unicode
    except InvalidName:
        return None


def _name(text: str, line: int, what: str) -> names.Name:
    """Validate a domain or host name; the fast path covers lower-case LDH names."""
    low = text.lower()
    if low.isascii() and len(low) <= names.MAX_NAME_OCTETS:
        ulabels = []
        for label in low.split("."):
            if label.startswith("xn--"):
                u = _ulabel(label)
                if u is None or "." in u:
                    break
                ulabels.append(u)
            elif label[2:4] != "--" and _LDH_LABEL.fullmatch(label):
                ulabels.append(label)
            else:
                break
        else:
            return names.Name(low, ".".join(ulabels))
    try:
        return names.from_text(text)
    except InvalidName:
        # The bad text itself stays out of the message (it may be anything).
        raise DepositError(line, f"{what}: invalid domain or host name") from None


def _time(text: str, line: int, what: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)  # 3.11+: RFC 3339 "Z" and fractions
    except ValueError:
        try:
            value = dt.datetime.fromisoformat(text.upper())  # RFC 3339 §5.6 allows "t", "z"
        except ValueError:
            raise DepositError(line, f"{what}: invalid date-time") from None
    if value.tzinfo is dt.UTC:  # the common case: no conversion
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


@functools.lru_cache(maxsize=65_536)
def _ns_name(text: str) -> str | None:
    """A nameserver name's A-label form (cached: hosting nameservers repeat on many domains)."""
    try:
        return _name(text, 0, "").ldh
    except DepositError:
        return None


def _host_obj(text: str, line: int) -> str:
    ldh = _ns_name(text)
    if ldh is None:
        raise DepositError(line, "domain: hostObj: invalid domain or host name")
    return ldh


def _int(text: str, line: int, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise DepositError(line, f"{what}: not an integer") from None


def _bool(text: str | None, line: int, what: str) -> bool:
    if text is None:
        return False
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise DepositError(line, f"{what}: not a boolean")


def _missing(line: int, what: str, tag: str) -> DepositError:
    return DepositError(line, f"{what}: missing <{_show(tag)}>")


# Contact values are published as read: refuse what RFC 5733 does not allow (escrow.values).


def _country(el: Any, line: int, what: str) -> str:
    code = values.country(_text(el))
    if code is None:
        raise DepositError(
            el.sourceline or line, f"{what}: cc is not an ISO 3166-1 alpha-2 country code"
        )
    return code


def _email(text: str, line: int, what: str) -> str:
    if not values.email(text):
        raise DepositError(line, f"{what} is not an email address (RFC 5733 §2.6)")
    return text


def _phone_number(text: str, line: int, what: str) -> str | None:
    """An E.164 number or None for an empty element (RFC 5733 §2.5 allows it)."""
    if text and not values.phone(text):
        raise DepositError(line, f"{what} is not a telephone number +CC.NUMBER (RFC 5733 §2.5)")
    return text or None


def _phone(el: Any, line: int, what: str) -> tuple[str | None, str | None]:
    """A voice or fax element: (number, extension)."""
    cl = el.sourceline or line
    number = _phone_number(_text(el), cl, what)
    ext = el.get("x") or None
    if ext is not None:
        if number is None:
            raise DepositError(cl, f"{what}: an extension without a number")
        if not values.extension(ext):
            raise DepositError(cl, f"{what}: extension (x) is not digits")
    return number, ext


# --- plain children, read from a table -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Fields:
    """What an object reader reads from a table: its plain children (Clark tag -> field name,
    for text and for RFC 3339 times), its key and its other mandatory children."""

    ns: str
    what: str  # the object's name in messages
    texts: dict[str, str]
    times: dict[str, tuple[str, str]]  # tag -> (field name, what a bad value's message names)
    key: str
    required: tuple[str, ...]
    tags: dict[str, str]  # local name -> Clark tag of the children the reader handles itself


def _fields(
    ns: str,
    what: str,
    *,
    key: str,
    required: tuple[str, ...],
    texts: tuple[str, ...],
    times: tuple[str, ...] = (),
    others: tuple[str, ...] = (),
) -> _Fields:
    return _Fields(
        ns,
        what,
        {_q(ns, local): local for local in texts},
        {_q(ns, local): (local, f"{what}: {local}") for local in times},
        key,
        required,
        {local: _q(ns, local) for local in others},
    )


def _plain(el: Any, line: int, fields: _Fields, vals: dict[str, Any]) -> Iterator[Any]:
    """Put `el`'s plain children into `vals` (the last copy wins); yield every other child."""
    texts, times = fields.texts, fields.times
    for c in el:
        tag = c.tag
        key = texts.get(tag)
        if key is not None:
            vals[key] = _text(c)
            continue
        timed = times.get(tag)
        if timed is not None:
            vals[timed[0]] = _time(_text(c), c.sourceline or line, timed[1])
            continue
        yield c


def _require(line: int, fields: _Fields, vals: dict[str, Any]) -> str:
    """The object's key, once the key and every other mandatory child (field names; lists
    count too) are present and not empty; else the first one missing is refused."""
    key = vals.get(fields.key)
    if not key:
        raise _missing(line, fields.what, _q(fields.ns, fields.key))
    for local in fields.required:
        if not vals.get(local):
            raise _missing(line, f"{fields.what} {key}", _q(fields.ns, local))
    return str(key)


class _Skips:
    """Collects foreign child elements skipped inside objects: reported once per namespace."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def add(self, tag: Any, line: int) -> None:
        ns = _ns(tag)
        if ns not in self.seen:
            self.seen[ns] = line


# --- domain --------------------------------------------------------------------------------

_DOMAIN_FIELDS = _fields(
    DOMAIN,
    "domain",
    key="name",
    required=("roid", "status", "clID", "crDate"),
    texts=("name", "roid", "registrant", "clID", "idnTableId"),
    times=("crDate", "exDate", "upDate", "trDate"),
    others=("status", "contact", "ns", "secDNS"),
)
_ROLE = {"admin": ContactRole.ADMIN, "tech": ContactRole.TECH, "billing": ContactRole.BILLING}
_HOST_OBJ = _q(EPP_DOMAIN, "hostObj")
_HOST_ATTR = _q(EPP_DOMAIN, "hostAttr")
_HOST_NAME = _q(EPP_DOMAIN, "hostName")
_HOST_ADDR = _q(EPP_DOMAIN, "hostAddr")
_DS_DATA = _q(SECDNS, "dsData")
_RGP_STATUS = _q(RGP, "rgpStatus")
_EXT_DOMAIN = _q(EXT, "domain")
_EXT_CONTACT = _q(EXT, "contact")
_EXT_REGISTRAR = _q(EXT, "registrar")
# uName: RFC 9022 §5.1.1.1 makes it the U-label form, which is recomputed from the A-label
# (an ASCII name has none of its own). The others are not served.
_DOMAIN_IGNORED = frozenset(
    _q(DOMAIN, local) for local in ("uName", "originalName", "crRr", "upRr", "trnData")
)
_DOMAIN_OWN = frozenset({DOMAIN, EPP_DOMAIN, RGP, SECDNS})


def _domain(el: Any, skips: _Skips) -> DomainItem:
    line = el.sourceline or 0
    vals: dict[str, Any] = {}
    statuses: list[str] = []
    rgp: list[str] = []
    contacts: list[tuple[ContactRole, str]] = []
    ns: list[str] = []
    attrs: dict[str, tuple[str, ...]] | None = None
    ds: list[DsData] = []
    ext = _DomainExt(None, None, None)
    d = _DOMAIN_FIELDS.tags
    for c in _plain(el, line, _DOMAIN_FIELDS, vals):
        tag = c.tag
        if tag == d["status"]:
            s = c.get("s")
            if not s:
                raise DepositError(c.sourceline or line, "domain: <rdeDomain:status> without s")
            statuses.append(s)
        elif tag == d["contact"]:
            role = _ROLE.get(c.get("type", ""))
            if role is None:
                raise DepositError(
                    c.sourceline or line, "domain: contact type not admin|tech|billing"
                )
            contacts.append((role, _text(c)))
        elif tag == d["ns"]:
            hosts, found = _nameservers(c, line)
            ns += hosts
            if found:
                attrs = {**(attrs or {}), **found}
        elif tag == _RGP_STATUS:
            s = c.get("s")
            if s:
                rgp.append(s)
        elif tag == d["secDNS"]:
            ds += [_ds(k) for k in c if k.tag == _DS_DATA]
        elif tag == _EXT_DOMAIN:
            ext = _domain_ext(c, c.sourceline or line)
        elif tag in _DOMAIN_IGNORED:
            pass
        elif _ns(tag) not in _DOMAIN_OWN:
            skips.add(tag, c.sourceline or line)
    vals["status"] = statuses
    name = _require(line, _DOMAIN_FIELDS, vals)
    n = _name(name, line, "domain")
    if n.ldh.count(".") == 0:
        raise DepositError(line, f"domain {name}: not below a TLD")
    return DomainItem(
        Domain(
            name=n.ldh,
            roid=vals["roid"],
            tld=n.tld,
            statuses=tuple(statuses),
            registrar=vals["clID"],
            created=vals["crDate"],
            unicode_name=n.unicode if n.is_idn else None,
            rgp_statuses=tuple(rgp),
            registrant=vals.get("registrant") or None,
            contacts=tuple(contacts),
            nameservers=tuple(ns),
            expires=vals.get("exDate"),
            updated=vals.get("upDate"),
            transferred=vals.get("trDate"),
            ds_data=tuple(ds),
            idn_table=vals.get("idnTableId") or None,
            coop_category=ext.category,
            coop_certified=ext.certified,
            suspension_reason=ext.suspension,
        ),
        attrs,
        line,
    )


def _nameservers(el: Any, line: int) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """RFC 5731 §1.1: <domain:ns> holds hostObj names, or hostAttr names with addresses."""
    hosts: list[str] = []
    attrs: dict[str, tuple[str, ...]] = {}
    for h in el:
        if h.tag == _HOST_OBJ:
            hosts.append(_host_obj(_text(h), h.sourceline or line))
        elif h.tag == _HOST_ATTR:
            hname = None
            addrs: list[str] = []
            for a in h:
                if a.tag == _HOST_NAME:
                    hname = _name(_text(a), a.sourceline or line, "domain: hostAttr").ldh
                elif a.tag == _HOST_ADDR:
                    addrs.append(_text(a))
            if hname is None:
                raise _missing(h.sourceline or line, "domain: hostAttr", _HOST_NAME)
            hosts.append(hname)
            attrs[hname] = tuple(addrs)
    return hosts, attrs


@dataclass(frozen=True, slots=True)
class _DomainExt:
    """rddsExt:domain (docs/escrow.md): .coop facts and a suspension reason."""

    category: CoopCategory | None
    certified: bool | None
    suspension: str | None


def _domain_ext(el: Any, line: int) -> _DomainExt:
    cat = el.get("coopCategory")
    category = None
    if cat is not None:
        try:
            category = CoopCategory(cat)
        except ValueError:
            raise DepositError(line, "domain: coopCategory not COOP|CA|CC|CS") from None
    cert = el.get("coopCertified")
    certified = None if cert is None else _bool(cert, line, "domain: coopCertified")
    return _DomainExt(category, certified, el.get("suspension") or None)


def _ds(el: Any) -> DsData:
    line = el.sourceline or 0
    vals: dict[str, str] = {}
    for k in el:
        if _ns(k.tag) == SECDNS:
            vals[k.tag.rpartition("}")[2]] = _text(k)
    for key in ("keyTag", "alg", "digestType", "digest"):
        if key not in vals:
            raise _missing(line, "domain: secDNS:dsData", _q(SECDNS, key))
    return DsData(
        key_tag=_int(vals["keyTag"], line, "secDNS:keyTag"),
        algorithm=_int(vals["alg"], line, "secDNS:alg"),
        digest_type=_int(vals["digestType"], line, "secDNS:digestType"),
        digest=vals["digest"],
    )


# --- host ----------------------------------------------------------------------------------

_HOST_FIELDS = _fields(
    HOST,
    "host",
    key="name",
    required=("roid", "status", "clID"),
    texts=("name", "roid", "clID"),
    times=("crDate", "upDate"),
    others=("status", "addr"),
)


def _host(el: Any, skips: _Skips) -> HostItem:
    line = el.sourceline or 0
    vals: dict[str, Any] = {}
    statuses: list[str] = []
    v4: list[str] = []
    v6: list[str] = []
    h = _HOST_FIELDS.tags
    for c in _plain(el, line, _HOST_FIELDS, vals):
        tag = c.tag
        if tag == h["status"]:
            s = c.get("s")
            if s:
                statuses.append(s)
        elif tag == h["addr"]:
            (v6 if c.get("ip") == "v6" else v4).append(_text(c))
        elif _ns(tag) != HOST:
            skips.add(tag, c.sourceline or line)
    vals["status"] = statuses
    name = _require(line, _HOST_FIELDS, vals)
    where = f"host {name}"
    n = _name(name, line, "host")
    return HostItem(
        Host(
            name=n.ldh,
            roid=vals["roid"],
            statuses=tuple(statuses),
            v4=tuple(_ip(a, 4, line, where) for a in v4),
            v6=tuple(_ip(a, 6, line, where) for a in v6),
            registrar=vals["clID"],
            created=vals.get("crDate"),
            updated=vals.get("upDate"),
        ),
        line,
    )


def _ip(text: str, version: int, line: int, where: str) -> str:
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise DepositError(line, f"{where}: invalid IP address") from None
    if addr.version != version:
        raise DepositError(line, f"{where}: address is not IPv{version}")
    return str(addr)


# --- contact -------------------------------------------------------------------------------

_CONTACT_FIELDS = _fields(
    CONTACT,
    "contact",
    key="id",
    required=("roid", "postalInfo", "email", "clID"),
    texts=("id", "roid", "clID"),
    times=("crDate", "upDate"),
    others=("status", "postalInfo", "voice", "fax", "email", "disclose"),
)
_C_OWN = frozenset({CONTACT, EPP_CONTACT})
# RFC 5733 §2.9: the disclose children; postal ones carry a type we fold (model.py).
_DISCLOSABLE = frozenset({"name", "org", "addr", "voice", "fax", "email"})


def _contact(el: Any, skips: _Skips) -> ContactItem:
    line = el.sourceline or 0
    vals: dict[str, Any] = {}
    voice = voice_ext = fax = fax_ext = None
    statuses: list[str] = []
    postal: list[PostalInfo] = []
    yes: set[str] = set()
    no: set[str] = set()
    ext = _ContactExt(PersonKind.NATURAL, False, False)
    k = _CONTACT_FIELDS.tags
    for c in _plain(el, line, _CONTACT_FIELDS, vals):
        tag = c.tag
        if tag == k["status"]:
            s = c.get("s")
            if s:
                statuses.append(s)
        elif tag == k["postalInfo"]:
            postal.append(_postal(c, line))
        elif tag == k["voice"]:
            voice, voice_ext = _phone(c, line, "contact: voice")
        elif tag == k["fax"]:
            fax, fax_ext = _phone(c, line, "contact: fax")
        elif tag == k["email"]:
            vals["email"] = _email(_text(c), c.sourceline or line, "contact: email")
        elif tag == k["disclose"]:
            flag = _bool(c.get("flag"), c.sourceline or line, "contact: disclose flag")
            (yes if flag else no).update(_disclosed(c))
        elif tag == _EXT_CONTACT:
            ext = _contact_ext(c, c.sourceline or line)
        elif _ns(tag) not in _C_OWN:
            skips.add(tag, c.sourceline or line)
    vals["postalInfo"] = postal
    handle = _require(line, _CONTACT_FIELDS, vals)
    return ContactItem(
        Contact(
            handle=handle,
            roid=vals["roid"],
            postal=tuple(postal),
            email=vals["email"],
            voice=voice,
            voice_ext=voice_ext,
            fax=fax,
            fax_ext=fax_ext,
            kind=ext.kind,
            at_risk=ext.at_risk,
            verified=ext.verified,
            disclose_yes=frozenset(yes),
            disclose_no=frozenset(no),
            registrar=vals["clID"],
            statuses=tuple(statuses) or ("ok",),
            created=vals.get("crDate"),
            updated=vals.get("upDate"),
        ),
        line,
    )


def _disclosed(el: Any) -> Iterator[str]:
    """The element names a <contact:disclose> lists (RFC 5733 §2.9)."""
    for f in el:
        local = f.tag.rpartition("}")[2] if isinstance(f.tag, str) else ""
        if local in _DISCLOSABLE:
            yield local


@dataclass(frozen=True, slots=True)
class _ContactExt:
    """rddsExt:contact (docs/escrow.md); absent = a natural person, not at risk, unverified."""

    kind: PersonKind
    at_risk: bool
    verified: bool


def _contact_ext(el: Any, line: int) -> _ContactExt:
    try:
        kind = PersonKind(el.get("kind", "natural"))
    except ValueError:
        raise DepositError(line, "contact: kind not natural|legal") from None
    return _ContactExt(
        kind,
        _bool(el.get("atRisk"), line, "contact: atRisk"),
        _bool(el.get("verified"), line, "contact: verified"),
    )


_EC = {k: _q(EPP_CONTACT, k) for k in ("name", "org", "addr", "street", "city", "sp", "pc", "cc")}


def _postal(el: Any, line: int) -> PostalInfo:
    e = _EC
    ptype = el.get("type")
    if ptype not in ("int", "loc"):
        raise DepositError(el.sourceline or line, "contact: postalInfo type not int|loc")
    name = ""
    org = sp = pc = None
    city = cc = ""
    street: list[str] = []
    for c in el:
        tag = c.tag
        if tag == e["name"]:
            name = _text(c)
        elif tag == e["org"]:
            org = _text(c) or None
        elif tag == e["addr"]:
            for a in c:
                at = a.tag
                if at == e["street"]:
                    street.append(_text(a))
                elif at == e["city"]:
                    city = _text(a)
                elif at == e["sp"]:
                    sp = _text(a) or None
                elif at == e["pc"]:
                    pc = _text(a) or None
                elif at == e["cc"]:
                    cc = _country(a, line, "contact: postalInfo")
    return PostalInfo(ptype, name, org, tuple(street), city, sp, pc, cc)


# --- registrar -----------------------------------------------------------------------------

_REGISTRAR_FIELDS = _fields(
    REGISTRAR,
    "registrar",
    key="id",
    required=("name",),
    texts=("id", "name", "status", "url"),
    times=("crDate", "upDate"),
    others=("gurid", "postalInfo", "whoisInfo", "name", "voice", "fax", "email"),
)
_R_ADDR = tuple(_q(REGISTRAR, k) for k in ("street", "city", "sp", "pc", "cc"))


def _registrar(el: Any, skips: _Skips) -> RegistrarItem:
    line = el.sourceline or 0
    vals: dict[str, Any] = {}
    iana: int | None = None
    addr: dict[str, Any] = {}
    addr_type = ""
    voice = fax = whois = abuse_email = abuse_phone = rdap_base = None
    email = ""
    r = _REGISTRAR_FIELDS.tags
    for c in _plain(el, line, _REGISTRAR_FIELDS, vals):
        tag = c.tag
        if tag == r["gurid"]:
            # Optional (RFC 9022 §5.4.1); an empty element, as some software writes for a
            # registrar without an IANA id, is read as absent.
            gurid = _text(c)
            iana = _int(gurid, c.sourceline or line, "registrar: gurid") if gurid else None
        elif tag == r["postalInfo"]:
            if addr_type == "int":  # int first, like Contact.postal_info
                continue
            addr_type = c.get("type", "")
            addr = _registrar_addr(c, line)
        elif tag == r["voice"]:
            voice = _phone(c, line, "registrar: voice")[0]
        elif tag == r["fax"]:
            fax = _phone(c, line, "registrar: fax")[0]
        elif tag == r["email"]:
            email = _email(_text(c), c.sourceline or line, "registrar: email")
        elif tag == r["whoisInfo"]:
            for w in c:
                if w.tag == r["name"]:
                    whois = _text(w) or None
        elif tag == _EXT_REGISTRAR:
            abuse_email, abuse_phone = _abuse(c, c.sourceline or line)
            rdap_base = c.get("rdapBaseUrl") or None
        elif _ns(tag) != REGISTRAR:
            skips.add(tag, c.sourceline or line)
    rid = _require(line, _REGISTRAR_FIELDS, vals)
    return RegistrarItem(
        Registrar(
            id=rid,
            name=vals["name"],
            iana_id=iana,
            status=vals.get("status") or "ok",
            street=tuple(addr.get("street", ())),
            city=addr.get("city", ""),
            sp=addr.get("sp") or None,
            pc=addr.get("pc") or None,
            cc=addr.get("cc", ""),
            voice=voice,
            fax=fax,
            email=email,
            url=vals.get("url") or None,
            whois_server=whois,
            abuse_email=abuse_email,
            abuse_phone=abuse_phone,
            created=vals.get("crDate"),
            updated=vals.get("upDate"),
            rdap_base_url=rdap_base,
        ),
        line,
    )


def _registrar_addr(el: Any, line: int) -> dict[str, Any]:
    addr: dict[str, Any] = {"street": []}
    for a in el.iter(*_R_ADDR):
        local = a.tag.rpartition("}")[2]
        if local == "street":
            addr["street"].append(_text(a))
        elif local == "cc":
            addr["cc"] = _country(a, line, "registrar: postalInfo")
        else:
            addr[local] = _text(a)
    return addr


def _abuse(el: Any, line: int) -> tuple[str | None, str | None]:
    """rddsExt:registrar's abuse contact: (email, phone), checked like the EPP values."""
    email = el.get("abuseEmail") or None
    phone = el.get("abuseVoice") or None
    if email is not None:
        _email(email, line, "registrar: rddsExt:registrar abuseEmail")
    if phone is not None:
        _phone_number(phone, line, "registrar: rddsExt:registrar abuseVoice")
    return email, phone


# --- registry-wide objects -----------------------------------------------------------------


def _header(el: Any, _skips: _Skips) -> Header:
    line = el.sourceline or 0
    tld = None
    counts: list[tuple[str, int]] = []
    for c in el:
        if c.tag == _q(HEADER, "tld"):
            tld = _text(c)
        elif c.tag == _q(HEADER, "count"):
            uri = (c.get("uri") or "").strip()
            counts.append((uri, _int(_text(c), c.sourceline or line, "header: count")))
    if not tld:
        raise _missing(line, "header", _q(HEADER, "tld"))
    return Header(_name(tld, line, "header: tld").ldh, tuple(counts), line)


def disclose_default(access: frozenset[str]) -> bool:
    """The TLD's disclose default from an EPP dcp <access> (RFC 5730 §2.4).

    Rule (docs/escrow.md): publish by default only when the server says it gives access to
    all identified data and nothing narrower — `<all/>` and no other child. Anything else
    (`none`, `null`, `personal`, `other`, `personalAndOther`, several values, or no dcp at
    all) keeps the private default.
    """
    return access == frozenset({"all"})


def _epp_params(el: Any, _skips: _Skips) -> EppParams:
    line = el.sourceline or 0
    access: set[str] = set()
    seen = False
    for dcp in el.iter(_q(EPP_PARAMS, "dcp")):
        for acc in dcp.iter(_q(EPP, "access")):
            seen = True
            for a in acc:
                if isinstance(a.tag, str):
                    access.add(a.tag.rpartition("}")[2])
    return EppParams(seen and disclose_default(frozenset(access)), line)


def _tld_facts(el: Any, _skips: _Skips) -> TldFacts:
    line = el.sourceline or 0
    kind = el.get("kind")
    try:
        tk = TldKind(kind) if kind is not None else None
    except ValueError:
        raise DepositError(line, "rddsExt:tld: kind not gtld|sponsored|cctld") from None
    return TldFacts(tk, el.get("policy") or None, el.get("roidSuffix") or None, line)


def _idn(el: Any, _skips: _Skips) -> IdnTable:
    line = el.sourceline or 0
    tid = (el.get("id") or "").strip()
    if not tid:
        raise DepositError(line, "rdeIDN:idnTableRef: missing id attribute")
    url = policy = None
    for c in el:
        if c.tag == _q(IDN, "url"):
            url = _text(c) or None
        elif c.tag == _q(IDN, "urlPolicy"):
            policy = _text(c) or None
    return IdnTable(tid, url, policy, line)


_NNDN_FIELDS = _fields(
    NNDN,
    "NNDN",
    key="aName",
    required=("nameState",),
    texts=("aName", "uName", "nameState"),
    times=("crDate",),
)


def _nndn(el: Any, _skips: _Skips) -> Nndn:
    line = el.sourceline or 0
    vals: dict[str, Any] = {}
    for _ in _plain(el, line, _NNDN_FIELDS, vals):
        pass
    aname = _require(line, _NNDN_FIELDS, vals)
    return Nndn(
        _name(aname, line, "NNDN").ldh,
        vals.get("uName") or None,
        vals["nameState"],
        vals.get("crDate"),
        line,
    )


#: <rde:contents> children: Clark tag -> reader. None: read and ignored — rdePolicy:policy
#: says which optional elements the registry escrows, nothing for a replica to do.
_READERS: dict[str, Callable[[Any, _Skips], Item] | None] = {
    _q(DOMAIN, "domain"): _domain,
    _q(HOST, "host"): _host,
    _q(CONTACT, "contact"): _contact,
    _q(REGISTRAR, "registrar"): _registrar,
    _q(HEADER, "header"): _header,
    _q(EPP_PARAMS, "eppParams"): _epp_params,
    _q(IDN, "idnTableRef"): _idn,
    _q(NNDN, "NNDN"): _nndn,
    _q(POLICY, "policy"): None,
    _q(EXT, "tld"): _tld_facts,
}

#: <rde:deletes> children: namespace -> (kind, key element local name).
_DELETES = {
    DOMAIN: ("domain", "name"),
    HOST: ("host", "name"),
    CONTACT: ("contact", "id"),
    REGISTRAR: ("registrar", "id"),
    IDN: ("idn", "id"),
    NNDN: ("nndn", "aName"),
}


def _deletes(el: Any) -> Iterator[Delete]:
    kind, local = _DELETES[_ns(el.tag)]
    key_tag = _q(_ns(el.tag), local)
    found = False
    for c in el:
        if c.tag == key_tag:
            found = True
            line = c.sourceline or el.sourceline or 0
            key = _text(c)
            if kind in ("domain", "host", "nndn"):
                key = _name(key, line, f"{kind} delete").ldh
            yield Delete(kind, key, line)
    if not found:
        raise _missing(el.sourceline or 0, f"{_show(el.tag)}", key_tag)


# --- the stream ----------------------------------------------------------------------------

_DEPOSIT = _q(RDE, "deposit")
_WATERMARK = _q(RDE, "watermark")
_MENU = _q(RDE, "rdeMenu")
_DELETES_EL = _q(RDE, "deletes")
_CONTENTS = _q(RDE, "contents")
_DELETE_TAGS = frozenset(_q(ns, "delete") for ns in _DELETES)
_CONTAINER_TAGS = frozenset({_DEPOSIT, _WATERMARK, _MENU, _DELETES_EL, _CONTENTS})
_ALL_TAGS = sorted(_CONTAINER_TAGS | set(_READERS) | _DELETE_TAGS)


def _syntax_reason(exc: etree.XMLSyntaxError) -> str:
    # libxml2 messages can quote input bytes ("Bytes: 0x.."): keep only the generic part.
    msg = str(exc.msg or "syntax error").split(", line ")[0].split("Bytes:")[0]
    msg = msg.strip().rstrip(",!").strip()
    return "malformed XML: " + msg[:_MAX_ERRORS_TEXT]


def _drop_previous(el: Any) -> None:
    """Free what has been read: the element's children and its earlier siblings."""
    el.clear(keep_tail=False)
    parent = el.getparent()
    if parent is None:
        return
    while el.getprevious() is not None:
        prev = el.getprevious()
        _check_known(prev)
        del parent[0]


def _check_known(el: Any) -> None:
    tag = el.tag
    if not isinstance(tag, str):  # comment / PI (normally removed by the parser)
        return
    if tag in _READERS or tag in _DELETE_TAGS or tag in _CONTAINER_TAGS:
        return
    _unknown(el)


def _unknown(el: Any) -> None:
    ns = _ns(el.tag)
    line = el.sourceline or 0
    if ns in OBJECT_NAMESPACES or ns == RDE:
        raise DepositError(line, f"unexpected element <{_show(el.tag)}>")
    raise DepositError(line, f"<{_show(el.tag)}>: unknown mandatory namespace {ns or '(none)'}")


PROLOG_SCAN = 64 * 1024


def check_prolog(head: bytes) -> None:
    """Refuse DTDs outright (entity-expansion bombs, external entities): RDE needs none."""
    # Security: a deposit is untrusted input; no DOCTYPE or ENTITY declaration is accepted.
    for marker in (b"<!DOCTYPE", b"<!ENTITY"):
        pos = head.find(marker)
        if pos >= 0:
            raise DepositError(
                head.count(b"\n", 0, pos) + 1, "DOCTYPE / entity declarations are not allowed"
            )


def parse(source: IO[bytes]) -> Iterator[Item]:
    """Stream a deposit, yielding the `Head` first and then deletes and objects in file order.

    Deletes come before contents in RFC 8909's schema; a deposit that puts them after is
    refused, so that deletes always apply before upserts. Contents may come in any order.
    """
    # Security: hardened parser — no entity resolution, no network, no DTD, no huge trees.
    ctx = etree.iterparse(
        source,
        events=("start", "end"),
        tag=_ALL_TAGS,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )
    reader = _Reader()
    try:
        for event, el in ctx:
            if event == "start":
                reader.start(el)
            else:
                yield from reader.end(el)
        if reader.root is None:
            raise DepositError(1, "not an RFC 8909 deposit: root is not <rde:deposit>")
    except etree.XMLSyntaxError as exc:
        raise DepositError(exc.lineno or 0, _syntax_reason(exc)) from None
    for ns, line in reader.skips.seen.items():
        yield Notice(f"skipped elements of unknown extension {ns or '(no namespace)'}", line)


class _Reader:
    """The container's state while streaming: the root, the watermark, the menu, the order."""

    def __init__(self) -> None:
        self.root: Any = None
        self.watermark: dt.datetime | None = None
        self.menu: frozenset[str] | None = None
        self.head: Head | None = None
        self.contents_seen = False
        self.skips = _Skips()
        self.unannounced: set[str] = set()  # RFC 9022 namespaces reported missing from the menu

    def start(self, el: Any) -> None:
        tag = el.tag
        line = el.sourceline or 0
        if self.root is None:
            if tag != _DEPOSIT or el.getparent() is not None:
                raise DepositError(line, "not an RFC 8909 deposit: root is not <rde:deposit>")
            self.root = el
            docinfo = el.getroottree().docinfo
            if docinfo.doctype or docinfo.internalDTD is not None:
                raise DepositError(1, "DOCTYPE / entity declarations are not allowed")
        elif tag in (_DELETES_EL, _CONTENTS):
            if el.getparent() is not self.root:
                raise DepositError(line, f"<{_show(tag)}> outside <rde:deposit>")
            if self.head is None:
                raise DepositError(line, f"<{_show(tag)}> before <rde:watermark> and <rde:rdeMenu>")
            if tag == _DELETES_EL and self.contents_seen:
                raise DepositError(line, "<rde:deletes> after <rde:contents> (RFC 8909 order)")
            self.contents_seen = self.contents_seen or tag == _CONTENTS

    def end(self, el: Any) -> Iterator[Item]:
        tag = el.tag
        line = el.sourceline or 0
        if self.root is None:
            raise DepositError(line, "not an RFC 8909 deposit: root is not <rde:deposit>")
        if tag in _READERS:
            yield from self._announced(el, _CONTENTS)
            read = _READERS[tag]
            if read is not None:
                yield read(el, self.skips)
            _drop_previous(el)
        elif tag in _DELETE_TAGS:
            yield from self._announced(el, _DELETES_EL)
            yield from _deletes(el)
            _drop_previous(el)
        elif tag == _WATERMARK:
            self.watermark = _time(_text(el), line, "rde:watermark")
        elif tag == _MENU:
            yield from self._read_menu(el)
        elif tag in (_DELETES_EL, _CONTENTS):
            for c in el:
                _check_known(c)
            el.clear(keep_tail=False)
        elif tag == _DEPOSIT:
            for c in el:
                if c.tag not in _CONTAINER_TAGS:
                    _check_known(c) if c.tag in _READERS else _unknown(c)
            if self.head is None:
                raise _missing(line, "deposit", _MENU)

    def _announced(self, el: Any, parent_tag: str) -> Iterator[Notice]:
        """An object or delete must sit in its section, in a namespace rdeMenu announces.

        RFC 8909 §5: the menu lists every object namespace in the deposit. Registry software
        forgets some (RFC 9022's own example deposit holds an rdePolicy:policy that its menu
        does not announce): an RFC 9022 object is known, so it is read and the omission is
        reported once per namespace. The project's extension must be announced.
        """
        tag = el.tag
        line = el.sourceline or 0
        parent = el.getparent()
        if parent is None or parent.tag != parent_tag:
            raise DepositError(line, f"<{_show(tag)}> outside <{_show(parent_tag)}>")
        ns = _ns(tag)
        if self.menu is None or ns in self.menu or ns in self.unannounced:
            return
        if ns not in RFC9022_NAMESPACES:
            raise DepositError(line, f"<{_show(tag)}>: namespace {ns} not announced in rdeMenu")
        self.unannounced.add(ns)
        yield Notice(f"<{_show(tag)}>: namespace {ns} not announced in rdeMenu (read anyway)", line)

    def _read_menu(self, el: Any) -> Iterator[Item]:
        """RFC 8909 §5: the version (1.0) and the object URIs; with the watermark, the head."""
        line = el.sourceline or 0
        menu: set[str] = set()
        version_ok = False
        for c in el:
            if c.tag == _q(RDE, "version"):
                version_ok = _text(c) == "1.0"
                if not version_ok:
                    raise DepositError(c.sourceline or line, "rdeMenu: version is not 1.0")
            elif c.tag == _q(RDE, "objURI"):
                menu.add(_text(c))
        if not version_ok:
            raise _missing(line, "rdeMenu", _q(RDE, "version"))
        if self.watermark is None:
            raise _missing(line, "deposit", _WATERMARK)
        self.menu = frozenset(menu)
        self.head = _head(self.root, self.watermark, self.menu)
        yield self.head
        for uri in sorted(menu - OBJECT_NAMESPACES):
            yield Notice(f"rdeMenu announces {uri}, which this importer does not use", line)


def _head(root: Any, watermark: dt.datetime, menu: frozenset[str]) -> Head:
    line = root.sourceline or 0
    dtype = root.get("type")
    if dtype not in ("FULL", "DIFF", "INCR"):
        raise DepositError(line, "rde:deposit: type is not FULL, DIFF or INCR")
    did = (root.get("id") or "").strip()
    if not did:
        raise DepositError(line, "rde:deposit: missing id attribute")
    prev = (root.get("prevId") or "").strip() or None
    if dtype != "FULL" and prev is None:
        raise DepositError(line, f"rde:deposit: a {dtype} needs a prevId attribute")
    resend = _int(root.get("resend") or "0", line, "rde:deposit: resend")
    return Head(dtype, did, prev, resend, watermark, menu, line)
