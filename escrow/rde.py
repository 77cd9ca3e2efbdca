"""Pure RFC 8909 / RFC 9022 escrow-deposit parsing: XML bytes in, model values out. No SQLite.

`parse` streams a deposit with lxml's `iterparse`, yields one item per object (or delete) as
soon as its element ends, and clears what it has read, so memory stays flat whatever the file
size. Elements are matched on namespace URI, never on prefix. Every failure is a
`DepositError(line, reason)`; reasons name elements and object keys, never data values.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, TypeAlias

from lxml import etree

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

#: Namespaces whose elements may appear directly under <rde:contents> / <rde:deletes>.
OBJECT_NAMESPACES = frozenset(
    {HEADER, DOMAIN, HOST, CONTACT, REGISTRAR, IDN, NNDN, EPP_PARAMS, POLICY, EXT}
)

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


# Clark names used on the hot path.
_D = {
    k: _q(DOMAIN, k)
    for k in [
        "name",
        "roid",
        "uName",
        "idnTableId",
        "originalName",
        "status",
        "registrant",
        "contact",
        "ns",
        "clID",
        "crRr",
        "crDate",
        "exDate",
        "upRr",
        "upDate",
        "secDNS",
        "trDate",
        "trnData",
    ]
}
_H = {
    k: _q(HOST, k)
    for k in ["name", "roid", "status", "addr", "clID", "crRr", "crDate", "upRr", "upDate"]
}
_C = {
    k: _q(CONTACT, k)
    for k in [
        "id",
        "roid",
        "status",
        "postalInfo",
        "voice",
        "fax",
        "email",
        "clID",
        "crRr",
        "crDate",
        "upRr",
        "upDate",
        "trDate",
        "trnData",
        "disclose",
    ]
}
_EC = {k: _q(EPP_CONTACT, k) for k in ["name", "org", "addr", "street", "city", "sp", "pc", "cc"]}
_R = {
    k: _q(REGISTRAR, k)
    for k in [
        "id",
        "name",
        "gurid",
        "status",
        "postalInfo",
        "addr",
        "street",
        "city",
        "sp",
        "pc",
        "cc",
        "voice",
        "fax",
        "email",
        "url",
        "whoisInfo",
        "crDate",
        "upDate",
    ]
}
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


class _Skips:
    """Collects foreign child elements skipped inside objects: reported once per namespace."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def add(self, tag: Any, line: int) -> None:
        ns = _ns(tag)
        if ns not in self.seen:
            self.seen[ns] = line


def _domain(el: Any, skips: _Skips) -> DomainItem:
    line = el.sourceline or 0
    d = _D
    name = roid = clid = None
    created = expires = updated = transferred = None
    uname_given = idn_table = registrant = None
    statuses: list[str] = []
    rgp: list[str] = []
    contacts: list[tuple[ContactRole, str]] = []
    ns: list[str] = []
    attrs: dict[str, tuple[str, ...]] | None = None
    ds: list[DsData] = []
    category: CoopCategory | None = None
    certified: bool | None = None
    suspension: str | None = None
    for c in el:
        tag = c.tag
        if tag == d["name"]:
            name = _text(c)
        elif tag == d["roid"]:
            roid = _text(c)
        elif tag == d["status"]:
            s = c.get("s")
            if not s:
                raise DepositError(c.sourceline or line, "domain: <rdeDomain:status> without s")
            statuses.append(s)
        elif tag == d["registrant"]:
            registrant = _text(c)
        elif tag == d["contact"]:
            role = _ROLE.get(c.get("type", ""))
            if role is None:
                raise DepositError(
                    c.sourceline or line, "domain: contact type not admin|tech|billing"
                )
            contacts.append((role, _text(c)))
        elif tag == d["ns"]:
            for h in c:
                if h.tag == _HOST_OBJ:
                    ns.append(_host_obj(_text(h), h.sourceline or line))
                elif h.tag == _HOST_ATTR:
                    hname = addrs = None
                    addr_list: list[str] = []
                    for a in h:
                        if a.tag == _HOST_NAME:
                            hname = _name(_text(a), a.sourceline or line, "domain: hostAttr").ldh
                        elif a.tag == _HOST_ADDR:
                            addr_list.append(_text(a))
                    if hname is None:
                        raise _missing(h.sourceline or line, "domain: hostAttr", _HOST_NAME)
                    addrs = tuple(addr_list)
                    ns.append(hname)
                    if attrs is None:
                        attrs = {}
                    attrs[hname] = addrs
        elif tag == d["clID"]:
            clid = _text(c)
        elif tag == d["crDate"]:
            created = _time(_text(c), c.sourceline or line, "domain: crDate")
        elif tag == d["exDate"]:
            expires = _time(_text(c), c.sourceline or line, "domain: exDate")
        elif tag == d["upDate"]:
            updated = _time(_text(c), c.sourceline or line, "domain: upDate")
        elif tag == d["trDate"]:
            transferred = _time(_text(c), c.sourceline or line, "domain: trDate")
        elif tag == _RGP_STATUS:
            s = c.get("s")
            if s:
                rgp.append(s)
        elif tag == d["secDNS"]:
            for k in c:
                if k.tag == _DS_DATA:
                    ds.append(_ds(k))
        elif tag == d["uName"]:
            uname_given = _text(c)
        elif tag == d["idnTableId"]:
            idn_table = _text(c) or None
        elif tag == _EXT_DOMAIN:
            cl = c.sourceline or line
            cat = c.get("coopCategory")
            if cat is not None:
                try:
                    category = CoopCategory(cat)
                except ValueError:
                    raise DepositError(cl, "domain: coopCategory not COOP|CA|CC|CS") from None
            cert = c.get("coopCertified")
            certified = None if cert is None else _bool(cert, cl, "domain: coopCertified")
            suspension = c.get("suspension") or None
        elif tag in _DOMAIN_IGNORED:
            pass
        elif _ns(tag) not in _DOMAIN_OWN:
            skips.add(tag, c.sourceline or line)
    if not name:
        raise _missing(line, "domain", d["name"])
    where = f"domain {name}"
    if not roid:
        raise _missing(line, where, d["roid"])
    if not statuses:
        raise _missing(line, where, d["status"])
    if not clid:
        raise _missing(line, where, d["clID"])
    if created is None:
        raise _missing(line, where, d["crDate"])
    n = _name(name, line, "domain")
    if n.ldh.count(".") == 0:
        raise DepositError(line, f"{where}: not below a TLD")
    unicode_name = n.unicode if n.is_idn else None
    if unicode_name is None and uname_given and uname_given != n.ldh:
        # RFC 9022 §5.1.1.1: uName is the U-label form; an ASCII name has none of its own.
        unicode_name = None
    return DomainItem(
        Domain(
            name=n.ldh,
            roid=roid,
            tld=n.tld,
            statuses=tuple(statuses),
            registrar=clid,
            created=created,
            unicode_name=unicode_name,
            rgp_statuses=tuple(rgp),
            registrant=registrant or None,
            contacts=tuple(contacts),
            nameservers=tuple(ns),
            expires=expires,
            updated=updated,
            transferred=transferred,
            ds_data=tuple(ds),
            idn_table=idn_table,
            coop_category=category,
            coop_certified=certified,
            suspension_reason=suspension,
        ),
        attrs,
        line,
    )


_DOMAIN_IGNORED = frozenset({_D["originalName"], _D["crRr"], _D["upRr"], _D["trnData"]})
_DOMAIN_OWN = frozenset({DOMAIN, EPP_DOMAIN, RGP, SECDNS})


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


def _host(el: Any, skips: _Skips) -> HostItem:
    line = el.sourceline or 0
    h = _H
    name = roid = clid = None
    created = updated = None
    statuses: list[str] = []
    v4: list[str] = []
    v6: list[str] = []
    for c in el:
        tag = c.tag
        if tag == h["name"]:
            name = _text(c)
        elif tag == h["roid"]:
            roid = _text(c)
        elif tag == h["status"]:
            s = c.get("s")
            if s:
                statuses.append(s)
        elif tag == h["addr"]:
            (v6 if c.get("ip") == "v6" else v4).append(_text(c))
        elif tag == h["clID"]:
            clid = _text(c)
        elif tag == h["crDate"]:
            created = _time(_text(c), c.sourceline or line, "host: crDate")
        elif tag == h["upDate"]:
            updated = _time(_text(c), c.sourceline or line, "host: upDate")
        elif _ns(tag) != HOST:
            skips.add(tag, c.sourceline or line)
    if not name:
        raise _missing(line, "host", h["name"])
    where = f"host {name}"
    if not roid:
        raise _missing(line, where, h["roid"])
    if not statuses:
        raise _missing(line, where, h["status"])
    if not clid:
        raise _missing(line, where, h["clID"])
    n = _name(name, line, "host")
    return HostItem(
        Host(
            name=n.ldh,
            roid=roid,
            statuses=tuple(statuses),
            v4=tuple(_ip(a, 4, line, where) for a in v4),
            v6=tuple(_ip(a, 6, line, where) for a in v6),
            registrar=clid,
            created=created,
            updated=updated,
        ),
        line,
    )


def _ip(text: str, version: int, line: int, where: str) -> str:
    import ipaddress

    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise DepositError(line, f"{where}: invalid IP address") from None
    if addr.version != version:
        raise DepositError(line, f"{where}: address is not IPv{version}")
    return str(addr)


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
                    cc = _text(a)
    return PostalInfo(ptype, name, org, tuple(street), city, sp, pc, cc)


def _contact(el: Any, skips: _Skips) -> ContactItem:
    line = el.sourceline or 0
    k = _C
    handle = roid = clid = email = None
    voice = voice_ext = fax = fax_ext = None
    created = updated = None
    statuses: list[str] = []
    postal: list[PostalInfo] = []
    yes: set[str] = set()
    no: set[str] = set()
    kind = PersonKind.NATURAL
    at_risk = verified = False
    for c in el:
        tag = c.tag
        if tag == k["id"]:
            handle = _text(c)
        elif tag == k["roid"]:
            roid = _text(c)
        elif tag == k["status"]:
            s = c.get("s")
            if s:
                statuses.append(s)
        elif tag == k["postalInfo"]:
            postal.append(_postal(c, line))
        elif tag == k["voice"]:
            voice, voice_ext = _text(c) or None, c.get("x") or None
        elif tag == k["fax"]:
            fax, fax_ext = _text(c) or None, c.get("x") or None
        elif tag == k["email"]:
            email = _text(c)
        elif tag == k["clID"]:
            clid = _text(c)
        elif tag == k["crDate"]:
            created = _time(_text(c), c.sourceline or line, "contact: crDate")
        elif tag == k["upDate"]:
            updated = _time(_text(c), c.sourceline or line, "contact: upDate")
        elif tag == k["disclose"]:
            flag = _bool(c.get("flag"), c.sourceline or line, "contact: disclose flag")
            target = yes if flag else no
            for f in c:
                local = f.tag.rpartition("}")[2] if isinstance(f.tag, str) else ""
                if local in _DISCLOSABLE:
                    target.add(local)
        elif tag == _EXT_CONTACT:
            cl = c.sourceline or line
            kv = c.get("kind", "natural")
            try:
                kind = PersonKind(kv)
            except ValueError:
                raise DepositError(cl, "contact: kind not natural|legal") from None
            at_risk = _bool(c.get("atRisk"), cl, "contact: atRisk")
            verified = _bool(c.get("verified"), cl, "contact: verified")
        elif _ns(tag) not in (CONTACT, EPP_CONTACT):
            skips.add(tag, c.sourceline or line)
    if not handle:
        raise _missing(line, "contact", k["id"])
    where = f"contact {handle}"
    if not roid:
        raise _missing(line, where, k["roid"])
    if not postal:
        raise _missing(line, where, k["postalInfo"])
    if email is None:
        raise _missing(line, where, k["email"])
    if not clid:
        raise _missing(line, where, k["clID"])
    return ContactItem(
        Contact(
            handle=handle,
            roid=roid,
            postal=tuple(postal),
            email=email,
            voice=voice,
            voice_ext=voice_ext,
            fax=fax,
            fax_ext=fax_ext,
            kind=kind,
            at_risk=at_risk,
            verified=verified,
            disclose_yes=frozenset(yes),
            disclose_no=frozenset(no),
            registrar=clid,
            statuses=tuple(statuses) or ("ok",),
            created=created,
            updated=updated,
        ),
        line,
    )


# RFC 5733 §2.9: the disclose children; postal ones carry a type we fold (model.py).
_DISCLOSABLE = frozenset({"name", "org", "addr", "voice", "fax", "email"})


def _registrar(el: Any, skips: _Skips) -> RegistrarItem:
    line = el.sourceline or 0
    r = _R
    rid = name = None
    iana: int | None = None
    status = "ok"
    addr: dict[str, Any] = {}
    addr_type = ""
    voice = fax = url = whois = abuse_email = abuse_phone = rdap_base = None
    email = ""
    created = updated = None
    for c in el:
        tag = c.tag
        if tag == r["id"]:
            rid = _text(c)
        elif tag == r["name"]:
            name = _text(c)
        elif tag == r["gurid"]:
            iana = _int(_text(c), c.sourceline or line, "registrar: gurid")
        elif tag == r["status"]:
            status = _text(c) or "ok"
        elif tag == r["postalInfo"]:
            ptype = c.get("type", "")
            if addr_type == "int":  # int first, like Contact.postal_info
                continue
            addr_type = ptype
            addr = {"street": []}
            for a in c.iter(r["street"], r["city"], r["sp"], r["pc"], r["cc"]):
                local = a.tag.rpartition("}")[2]
                if local == "street":
                    addr["street"].append(_text(a))
                else:
                    addr[local] = _text(a)
        elif tag == r["voice"]:
            voice = _text(c) or None
        elif tag == r["fax"]:
            fax = _text(c) or None
        elif tag == r["email"]:
            email = _text(c)
        elif tag == r["url"]:
            url = _text(c) or None
        elif tag == r["whoisInfo"]:
            for w in c:
                if w.tag == r["name"]:
                    whois = _text(w) or None
        elif tag == r["crDate"]:
            created = _time(_text(c), c.sourceline or line, "registrar: crDate")
        elif tag == r["upDate"]:
            updated = _time(_text(c), c.sourceline or line, "registrar: upDate")
        elif tag == _EXT_REGISTRAR:
            abuse_email = c.get("abuseEmail") or None
            abuse_phone = c.get("abuseVoice") or None
            rdap_base = c.get("rdapBaseUrl") or None
        elif _ns(tag) != REGISTRAR:
            skips.add(tag, c.sourceline or line)
    if not rid:
        raise _missing(line, "registrar", r["id"])
    if not name:
        raise _missing(line, f"registrar {rid}", r["name"])
    return RegistrarItem(
        Registrar(
            id=rid,
            name=name,
            iana_id=iana,
            status=status,
            street=tuple(addr.get("street", ())),
            city=addr.get("city", ""),
            sp=addr.get("sp") or None,
            pc=addr.get("pc") or None,
            cc=addr.get("cc", ""),
            voice=voice,
            fax=fax,
            email=email,
            url=url,
            whois_server=whois,
            abuse_email=abuse_email,
            abuse_phone=abuse_phone,
            created=created,
            updated=updated,
            rdap_base_url=rdap_base,
        ),
        line,
    )


def _header(el: Any) -> Header:
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


def _epp_params(el: Any) -> EppParams:
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


def _tld_facts(el: Any) -> TldFacts:
    line = el.sourceline or 0
    kind = el.get("kind")
    try:
        tk = TldKind(kind) if kind is not None else None
    except ValueError:
        raise DepositError(line, "rddsExt:tld: kind not gtld|sponsored|cctld") from None
    return TldFacts(tk, el.get("policy") or None, el.get("roidSuffix") or None, line)


def _idn(el: Any) -> IdnTable:
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


def _nndn(el: Any) -> Nndn:
    line = el.sourceline or 0
    aname = state = None
    uname = None
    created = None
    for c in el:
        if c.tag == _q(NNDN, "aName"):
            aname = _text(c)
        elif c.tag == _q(NNDN, "uName"):
            uname = _text(c) or None
        elif c.tag == _q(NNDN, "nameState"):
            state = _text(c)
        elif c.tag == _q(NNDN, "crDate"):
            created = _time(_text(c), c.sourceline or line, "NNDN: crDate")
    if not aname:
        raise _missing(line, "NNDN", _q(NNDN, "aName"))
    if not state:
        raise _missing(line, f"NNDN {aname}", _q(NNDN, "nameState"))
    return Nndn(_name(aname, line, "NNDN").ldh, uname, state, created, line)


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
_OBJECT_TAGS = {
    _q(DOMAIN, "domain"): "domain",
    _q(HOST, "host"): "host",
    _q(CONTACT, "contact"): "contact",
    _q(REGISTRAR, "registrar"): "registrar",
    _q(HEADER, "header"): "header",
    _q(EPP_PARAMS, "eppParams"): "eppParams",
    _q(IDN, "idnTableRef"): "idn",
    _q(NNDN, "NNDN"): "nndn",
    _q(POLICY, "policy"): "policy",
    _q(EXT, "tld"): "tld",
}
_DELETE_TAGS = frozenset(_q(ns, "delete") for ns in _DELETES)
_CONTAINER_TAGS = frozenset({_DEPOSIT, _WATERMARK, _MENU, _DELETES_EL, _CONTENTS})
_ALL_TAGS = sorted(_CONTAINER_TAGS | set(_OBJECT_TAGS) | _DELETE_TAGS)


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
    if tag in _OBJECT_TAGS or tag in _DELETE_TAGS or tag in _CONTAINER_TAGS:
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
    root: Any = None
    watermark: dt.datetime | None = None
    menu: set[str] | None = None
    version_ok = False
    head: Head | None = None
    contents_seen = False
    skips = _Skips()
    try:
        for event, el in ctx:
            tag = el.tag
            if event == "start":
                if root is None:
                    if tag != _DEPOSIT or el.getparent() is not None:
                        raise DepositError(
                            el.sourceline or 0, "not an RFC 8909 deposit: root is not <rde:deposit>"
                        )
                    root = el
                    docinfo = el.getroottree().docinfo
                    if docinfo.doctype or docinfo.internalDTD is not None:
                        raise DepositError(1, "DOCTYPE / entity declarations are not allowed")
                elif tag in (_DELETES_EL, _CONTENTS):
                    if el.getparent() is not root:
                        raise DepositError(
                            el.sourceline or 0, f"<{_show(tag)}> outside <rde:deposit>"
                        )
                    if head is None:
                        raise DepositError(
                            el.sourceline or 0,
                            f"<{_show(tag)}> before <rde:watermark> and <rde:rdeMenu>",
                        )
                    if tag == _DELETES_EL and contents_seen:
                        raise DepositError(
                            el.sourceline or 0,
                            "<rde:deletes> after <rde:contents> (RFC 8909 order)",
                        )
                    contents_seen = contents_seen or tag == _CONTENTS
                continue
            # end events
            line = el.sourceline or 0
            if root is None:
                raise DepositError(line, "not an RFC 8909 deposit: root is not <rde:deposit>")
            parent = el.getparent()
            if tag in _OBJECT_TAGS:
                if parent is None or parent.tag != _CONTENTS:
                    raise DepositError(line, f"<{_show(tag)}> outside <rde:contents>")
                ns = _ns(tag)
                if menu is not None and ns not in menu:
                    raise DepositError(
                        line, f"<{_show(tag)}>: namespace {ns} not announced in rdeMenu"
                    )
                kind = _OBJECT_TAGS[tag]
                if kind == "domain":
                    yield _domain(el, skips)
                elif kind == "contact":
                    yield _contact(el, skips)
                elif kind == "host":
                    yield _host(el, skips)
                elif kind == "registrar":
                    yield _registrar(el, skips)
                elif kind == "header":
                    yield _header(el)
                elif kind == "eppParams":
                    yield _epp_params(el)
                elif kind == "idn":
                    yield _idn(el)
                elif kind == "nndn":
                    yield _nndn(el)
                elif kind == "tld":
                    yield _tld_facts(el)
                # rdePolicy:policy says which optional elements the registry escrows: nothing
                # for a replica to do.
                _drop_previous(el)
            elif tag in _DELETE_TAGS:
                if parent is None or parent.tag != _DELETES_EL:
                    raise DepositError(line, f"<{_show(tag)}> outside <rde:deletes>")
                ns = _ns(tag)
                if menu is not None and ns not in menu:
                    raise DepositError(
                        line, f"<{_show(tag)}>: namespace {ns} not announced in rdeMenu"
                    )
                yield from _deletes(el)
                _drop_previous(el)
            elif tag == _WATERMARK:
                watermark = _time(_text(el), line, "rde:watermark")
            elif tag == _MENU:
                menu = set()
                for c in el:
                    if c.tag == _q(RDE, "version"):
                        version_ok = _text(c) == "1.0"
                        if not version_ok:
                            raise DepositError(c.sourceline or line, "rdeMenu: version is not 1.0")
                    elif c.tag == _q(RDE, "objURI"):
                        menu.add(_text(c))
                if not version_ok:
                    raise _missing(line, "rdeMenu", _q(RDE, "version"))
                if watermark is None:
                    raise _missing(line, "deposit", _WATERMARK)
                head = _head(root, watermark, frozenset(menu))
                yield head
                for uri in sorted(menu - OBJECT_NAMESPACES):
                    yield Notice(f"rdeMenu announces {uri}, which this importer does not use", line)
            elif tag in (_DELETES_EL, _CONTENTS):
                for c in el:
                    _check_known(c)
                el.clear(keep_tail=False)
            elif tag == _DEPOSIT:
                for c in el:
                    if c.tag not in _CONTAINER_TAGS:
                        _check_known(c) if c.tag in _OBJECT_TAGS else _unknown(c)
                if head is None:
                    raise _missing(line, "deposit", _MENU)
        if root is None:
            raise DepositError(1, "not an RFC 8909 deposit: root is not <rde:deposit>")
    except etree.XMLSyntaxError as exc:
        raise DepositError(exc.lineno or 0, _syntax_reason(exc)) from None
    for ns, line in skips.seen.items():
        yield Notice(f"skipped elements of unknown extension {ns or '(no namespace)'}", line)


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
