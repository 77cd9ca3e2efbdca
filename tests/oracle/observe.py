"""Observers: which of a contact's fields a front-end's output actually shows.

They read the bytes sent — an RDAP JSON document, WHOIS text — and the stored values of the
contact, and ask only "is this value there?". Values are generated unique (no value is a
substring of another, see tests/oracle/world.py), so presence of the text is presence of the
field. The country, two letters, is read from its place instead: the jCard `cc` parameter,
the WHOIS `Country` line.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from registry.model import Contact
from tests.oracle import model

#: The WHOIS key prefix of each role (ICANN RDDS format).
WHOIS_PREFIX = {
    "registrant": "Registrant",
    "administrative": "Admin",
    "technical": "Tech",
    "billing": "Billing",
}


def values(contact: Contact, f: str) -> tuple[str, ...]:
    """Every stored value of a field, from every postal-info block (int and loc)."""
    out: list[str] = []
    for p in contact.postal:
        match f:
            case "name":
                out.append(p.name)
            case "org":
                out.append(p.org or "")
            case "street":
                out.extend(p.street)
            case "city":
                out.append(p.city)
            case "sp":
                out.append(p.sp or "")
            case "pc":
                out.append(p.pc or "")
            case "cc":
                out.append(p.cc)
    match f:
        case "handle":
            # The registry's identifiers of the contact: its handle (RDAP `handle`) and its
            # ROID (what port 43 prints as "Registry Registrant ID").
            out += [contact.handle, contact.roid]
        case "voice":
            out.append(contact.voice or "")
        case "voice_ext":
            out.append(contact.voice_ext or "" if contact.voice else "")
        case "fax":
            out.append(contact.fax or "")
        case "fax_ext":
            out.append(contact.fax_ext or "" if contact.fax else "")
        case "email":
            out.append(contact.email)
    return tuple(v for v in out if v)


def person(contact: Contact) -> model.Person:
    """The model's view of a stored contact."""
    return model.Person(
        kind=contact.kind.value,
        verified=contact.verified,
        at_risk=contact.at_risk,
        consent=frozenset(contact.disclose_yes),
        refusal=frozenset(contact.disclose_no),
        present=frozenset(f for f in model.FIELDS if values(contact, f)),
    )


def _text(node: Any) -> str:
    return orjson.dumps(node).decode()


def _found(text: str, contact: Contact, fields: Iterable[str]) -> frozenset[str]:
    return frozenset(f for f in fields if any(v in text for v in values(contact, f)))


def rdap_entities(doc: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """The top-level entities of a domain answer holding `role`."""
    return [e for e in doc.get("entities", []) if role in e.get("roles", [])]


def rdap_cc(entity: dict[str, Any]) -> set[str]:
    """Countries an entity's jCard shows (the adr `cc` parameter, RFC 8605)."""
    out: set[str] = set()
    for prop in entity.get("vcardArray", ["vcard", []])[1]:
        if prop[0] == "adr" and isinstance(prop[1], dict) and prop[1].get("cc"):
            out.add(prop[1]["cc"])
    return out


def rdap_shown(entity: dict[str, Any], contact: Contact) -> frozenset[str]:
    """Fields of `contact` that one RDAP entity shows."""
    shown = _found(_text(entity), contact, (f for f in model.FIELDS if f != "cc"))
    if rdap_cc(entity) & set(values(contact, "cc")):
        shown |= {"cc"}
    return shown


def whois_pairs(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            out.append((key, value.strip()))
    return out


def whois_block(text: str, role: str) -> list[tuple[str, str]]:
    """The `Key: value` lines of one role's contact block."""
    prefix = WHOIS_PREFIX[role]
    return [
        (k, v)
        for k, v in whois_pairs(text)
        if k == f"Registry {prefix} ID" or k.startswith(f"{prefix} ")
    ]


def whois_shown(text: str, role: str, contact: Contact) -> frozenset[str]:
    """Fields of `contact` that the WHOIS text shows in `role`'s block."""
    block = whois_block(text, role)
    joined = "\n".join(v for _, v in block)
    shown = _found(joined, contact, (f for f in model.FIELDS if f != "cc"))
    country = WHOIS_PREFIX[role] + " Country"
    if any(k == country and v in values(contact, "cc") for k, v in block):
        shown |= {"cc"}
    return shown


def leaks(body: str, contact: Contact, withheld: Iterable[str]) -> list[tuple[str, str]]:
    """(field, value) pairs of withheld fields whose value appears anywhere in `body` (the
    country excepted: two letters appear everywhere; its place is checked instead)."""
    return [(f, v) for f in withheld if f != "cc" for v in values(contact, f) if v in body]


#: docs/policy.md "Fields": the RFC 9537 / WHOIS name of each field (ICANN's RDAP response
#: profile names), with the role prefix; the handle is "Registry <Prefix> ID".
LABEL_SUFFIX = {
    "name": "Name",
    "org": "Organization",
    "street": "Street",
    "city": "City",
    "sp": "State/Province",
    "pc": "Postal Code",
    "cc": "Country",
    "voice": "Phone",
    "voice_ext": "Phone Ext",
    "fax": "Fax",
    "fax_ext": "Fax Ext",
    "email": "Email",
}


def label(role: str, f: str) -> str:
    prefix = WHOIS_PREFIX[role]
    return f"Registry {prefix} ID" if f == "handle" else f"{prefix} {LABEL_SUFFIX[f]}"
