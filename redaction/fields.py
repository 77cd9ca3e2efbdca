"""The contact fields the policy decides on, their RFC 9537 / WHOIS names, and methods. Pure."""

from __future__ import annotations

import enum
from collections.abc import Callable

from registry.model import Contact, ContactRole, PostalInfo


class Field(enum.StrEnum):
    """A contact data element the policy decides on (policy-file spelling)."""

    HANDLE = "handle"
    NAME = "name"
    ORG = "org"
    STREET = "street"
    CITY = "city"
    SP = "sp"
    PC = "pc"
    CC = "cc"
    VOICE = "voice"
    VOICE_EXT = "voice_ext"
    FAX = "fax"
    FAX_EXT = "fax_ext"
    EMAIL = "email"


class Method(enum.StrEnum):
    """RFC 9537 §3 redaction methods."""

    REMOVAL = "removal"
    EMPTY_VALUE = "emptyValue"
    PARTIAL_VALUE = "partialValue"
    REPLACEMENT_VALUE = "replacementValue"


#: Field suffixes shared by the RFC 9537 names and the ICANN WHOIS keys.
_SUFFIX: dict[Field, str] = {
    Field.NAME: "Name",
    Field.ORG: "Organization",
    Field.STREET: "Street",
    Field.CITY: "City",
    Field.SP: "State/Province",
    Field.PC: "Postal Code",
    Field.CC: "Country",
    Field.VOICE: "Phone",
    Field.VOICE_EXT: "Phone Ext",
    Field.FAX: "Fax",
    Field.FAX_EXT: "Fax Ext",
    Field.EMAIL: "Email",
}

#: WHOIS / RFC 9537 prefix per role (ICANN uses "Admin", "Tech", "Billing").
ROLE_PREFIX: dict[ContactRole | None, str] = {
    ContactRole.REGISTRANT: "Registrant",
    ContactRole.ADMIN: "Admin",
    ContactRole.TECH: "Tech",
    ContactRole.BILLING: "Billing",
    None: "Contact",
}

#: IANA "RDAP JSON Values" registry, type "redacted name" (RFC 9537 §6.3 and the ICANN
#: registrations): these go in `name.type`; any other label goes in `name.description`.
REGISTERED_NAMES = frozenset(
    {
        "Registry Domain ID",
        "Registry Registrant ID",
        "Registrant Name",
        "Registrant Organization",
        "Registrant Street",
        "Registrant City",
        "Registrant Postal Code",
        "Registrant Phone",
        "Registrant Phone Ext",
        "Registrant Fax",
        "Registrant Fax Ext",
        "Registrant Email",
        "Registry Tech ID",
        "Tech Name",
        "Tech Phone",
        "Tech Phone Ext",
        "Tech Email",
    }
)

#: The ICANN 2024 RDAP profile's method for each withheld field. Country lives
#: in the jCard `cc` parameter, so withholding it removes the parameter.
DEFAULT_METHODS: dict[Field, Method] = {
    Field.HANDLE: Method.REMOVAL,
    Field.NAME: Method.EMPTY_VALUE,
    Field.ORG: Method.REMOVAL,
    Field.STREET: Method.EMPTY_VALUE,
    Field.CITY: Method.EMPTY_VALUE,
    Field.SP: Method.EMPTY_VALUE,
    Field.PC: Method.EMPTY_VALUE,
    Field.CC: Method.REMOVAL,
    Field.VOICE: Method.REMOVAL,
    Field.VOICE_EXT: Method.REMOVAL,
    Field.FAX: Method.REMOVAL,
    Field.FAX_EXT: Method.REMOVAL,
    Field.EMAIL: Method.REMOVAL,
}

#: Methods the renderers can honour per field (a policy file may only pick from these).
ALLOWED_METHODS: dict[Field, frozenset[Method]] = {
    f: frozenset({Method.REMOVAL, Method.EMPTY_VALUE})
    if f in (Field.NAME, Field.STREET, Field.CITY, Field.SP, Field.PC)
    else frozenset({Method.REMOVAL})
    for f in Field
}
ALLOWED_METHODS[Field.EMAIL] = frozenset({Method.REMOVAL, Method.REPLACEMENT_VALUE})

#: EPP disclose elements (RFC 5733 §2.9) -> the fields a flag on that element governs.
DISCLOSE_ELEMENT_FIELDS: dict[str, frozenset[Field]] = {
    "name": frozenset({Field.NAME}),
    "org": frozenset({Field.ORG}),
    "addr": frozenset({Field.STREET, Field.CITY, Field.SP, Field.PC, Field.CC}),
    "voice": frozenset({Field.VOICE, Field.VOICE_EXT}),
    "fax": frozenset({Field.FAX, Field.FAX_EXT}),
    "email": frozenset({Field.EMAIL}),
}

#: An extension is shown or withheld with its number (RFC 9537 declares both).
FOLLOWS: dict[Field, Field] = {Field.VOICE_EXT: Field.VOICE, Field.FAX_EXT: Field.FAX}


#: RFC 9537 names (unregistered: `name.description`) for a whole contact withheld at once.
ENTITY_LABEL: dict[ContactRole, str] = {
    ContactRole.REGISTRANT: "Registrant Contact",
    ContactRole.ADMIN: "Administrative Contact",
    ContactRole.TECH: "Technical Contact",
    ContactRole.BILLING: "Billing Contact",
}


def label(role: ContactRole | None, field: Field) -> str:
    """The field's RFC 9537 / WHOIS name for a role: "Registrant Name", "Registry Tech ID"."""
    return _LABELS[role, field]


def _label(role: ContactRole | None, field: Field) -> str:
    prefix = ROLE_PREFIX[role]
    if field is Field.HANDLE:
        return f"Registry {prefix} ID"
    return f"{prefix} {_SUFFIX[field]}"


#: Every (role, field) name, spelled once: both renderers ask for each field of each contact.
_LABELS: dict[tuple[ContactRole | None, Field], str] = {
    (role, f): _label(role, f) for role in ROLE_PREFIX for f in Field
}


def value(contact: Contact, field: Field) -> str | tuple[str, ...] | None:
    """The stored value of a field (None or empty when the contact has none)."""
    return _VALUE[field](contact)


_Value = str | tuple[str, ...] | None
_Getter = Callable[[Contact], _Value]


def _postal(get: Callable[[PostalInfo], _Value]) -> _Getter:
    def of(contact: Contact) -> _Value:
        postal = contact.postal_info
        return get(postal) if postal else None

    return of


#: One getter per field (a dictionary look-up, not a chain of comparisons: `shows` asks for
#: every field of every contact rendered).
_VALUE: dict[Field, _Getter] = {
    Field.HANDLE: lambda c: c.handle,
    Field.NAME: _postal(lambda p: p.name),
    Field.ORG: _postal(lambda p: p.org),
    Field.STREET: _postal(lambda p: p.street),
    Field.CITY: _postal(lambda p: p.city),
    Field.SP: _postal(lambda p: p.sp),
    Field.PC: _postal(lambda p: p.pc),
    Field.CC: _postal(lambda p: p.cc),
    Field.VOICE: lambda c: c.voice,
    # An extension without its number is not a value anyone can use.
    Field.VOICE_EXT: lambda c: c.voice_ext if c.voice else None,
    Field.FAX: lambda c: c.fax,
    Field.FAX_EXT: lambda c: c.fax_ext if c.fax else None,
    Field.EMAIL: lambda c: c.email,
}
assert set(_VALUE) == set(Field)


def has_value(contact: Contact, field: Field) -> bool:
    """True when the contact holds a value for the field (only those can be shown)."""
    return bool(value(contact, field))
