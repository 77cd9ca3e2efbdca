"""The privacy policy: typed values, safe defaults, and a strict TOML loader. Pure (the
caller reads the file; `parse` takes its text).

With no policy file the service is private by default: natural persons show only
state/province and country, legal persons show organisational data only once verified, and
at-risk registrants show nothing about themselves at all.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from redaction.fields import ALLOWED_METHODS, DEFAULT_METHODS, Field, Method
from registry.errors import ConfigError

#: RFC 9560 §6 / IANA "RDAP Purpose" registry values.
PURPOSES = frozenset(
    {
        "domainNameControl",
        "personalDataProtection",
        "technicalIssueResolution",
        "domainNameCertification",
        "individualInternetUse",
        "businessDomainNameUse",
        "academicPublicInterestDNSResearch",
        "legalActions",
        "regulatoryAndContractEnforcement",
        "criminalInvestigationAndDNSAbuse",
        "dnsTransparency",
    }
)

ANONYMOUS = "anonymous"
ANY = "*"

#: RFC 9082 §3.2.3 entity search properties over registrant data that a tier may be allowed
#: to search (`[tiers.NAME] search`); registrars' names and ids are public and always
#: searchable.
SEARCH_PROPERTIES = frozenset({"fn", "handle"})
#: RFC 9536 reverse search properties a tier may be allowed (`[tiers.NAME] reverse_search`).
REVERSE_SEARCH_PROPERTIES = frozenset({"fn", "handle", "email", "addr"})


@dataclass(frozen=True, slots=True)
class Requester:
    """Who is asking. Anonymous is a value (`Requester.anonymous()`), never None."""

    tier: str = ANONYMOUS
    purpose: str | None = None
    credential_id: str | None = None
    organisation: str | None = None
    issuer: str | None = None

    @classmethod
    def anonymous(cls) -> Requester:
        """The public: no credential, no purpose."""
        return _ANON

    @property
    def is_anonymous(self) -> bool:
        """True for the public."""
        return self.tier == ANONYMOUS


_ANON = Requester()


@dataclass(frozen=True, slots=True)
class Tier:
    """An authorized tier: its rank (highest may see at-risk data) and grants per purpose."""

    name: str
    rank: int
    grants: Mapping[str, frozenset[Field]] = field(default_factory=dict)
    #: Entity search properties this tier may search registrant data by (SEARCH_PROPERTIES).
    search: frozenset[str] = frozenset()
    #: Reverse search properties this tier may use (REVERSE_SEARCH_PROPERTIES).
    reverse_search: frozenset[str] = frozenset()

    def granted(self, purpose: str | None) -> frozenset[Field]:
        """Fields this tier may see for the purpose (grants under "*" apply to any purpose)."""
        out = self.grants.get(ANY, frozenset())
        if purpose is not None:
            out = out | self.grants.get(purpose, frozenset())
        return out

    @property
    def purposes(self) -> frozenset[str]:
        """The purposes this tier has grants for ("*" meaning any)."""
        return frozenset(self.grants)

    def may_search(self, prop: str, purpose: str | None, *, reverse: bool = False) -> bool:
        """True when this tier may search registrant data by `prop` for `purpose`: the tier
        lists the property, and the purpose is one the policy grants this tier fields for."""
        allowed = self.reverse_search if reverse else self.search
        return prop in allowed and bool(self.granted(purpose))


@dataclass(frozen=True, slots=True)
class TldPolicy:
    """The rules for one TLD (or the default section)."""

    name: str = "default"
    #: None: honour the replica's data collection policy (deposit eppParams); False/True force.
    disclose_default: bool | None = False
    publish_natural: frozenset[Field] = frozenset({Field.SP, Field.CC})
    publish_legal: frozenset[Field] = frozenset(
        {
            Field.HANDLE,
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
        }
    )
    methods: Mapping[Field, Method] = field(
        default_factory=lambda: {**DEFAULT_METHODS, Field.EMAIL: Method.REPLACEMENT_VALUE}
    )
    #: Where a withheld email points instead (RFC 9537 replacementValue as a jCard
    #: contact-uri). Placeholders: {domain}, {handle} (the domain's ROID), {role},
    #: {registrar_url}. The default sends people to the sponsoring registrar, which holds
    #: the customer relationship; an operator with a relay form configures its URL.
    email_contact_form: str | None = "{registrar_url}"
    email_pointer: str = (
        "Please query the RDDS service of the Registrar of Record identified in this output "
        "for information on how to contact the Registrant, Admin, or Tech contact of the "
        "queried domain name."
    )
    reason: str = "Server policy"
    pending_delete_minimal: bool = True


@dataclass(frozen=True, slots=True)
class Policy:
    """The whole deployment's policy."""

    default: TldPolicy = field(default_factory=TldPolicy)
    sections: Mapping[str, TldPolicy] = field(default_factory=dict)
    tiers: Mapping[str, Tier] = field(default_factory=dict)

    def for_section(self, name: str) -> TldPolicy:
        """The policy for a TLD's policy section, falling back to the default section."""
        return self.sections.get(name, self.default)

    @property
    def highest_rank(self) -> int | None:
        """The rank of the highest tier (the only one that may see at-risk data)."""
        return max((t.rank for t in self.tiers.values()), default=None)

    def tier(self, name: str) -> Tier | None:
        """A configured tier by name."""
        return self.tiers.get(name)

    def may_search(self, requester: Requester, prop: str, *, reverse: bool = False) -> bool:
        """True when `requester` may search registrant data by `prop` (an entity search
        property, or with `reverse` an RFC 9536 reverse search property). Never the public."""
        if requester.is_anonymous:
            return False
        tier = self.tier(requester.tier)
        return tier is not None and tier.may_search(prop, requester.purpose, reverse=reverse)

    @property
    def reverse_search_offered(self) -> frozenset[str]:
        """Reverse search properties at least one tier may use (what /help advertises)."""
        out: frozenset[str] = frozenset()
        for tier in self.tiers.values():
            out |= tier.reverse_search
        return out


_ALL = frozenset(Field)

DEFAULT_TIERS: dict[str, Tier] = {
    "registrar": Tier(
        "registrar",
        10,
        {
            "domainNameControl": _ALL,
            "technicalIssueResolution": frozenset(
                {Field.HANDLE, Field.NAME, Field.VOICE, Field.VOICE_EXT, Field.EMAIL}
            ),
        },
    ),
    "law-enforcement": Tier(
        "law-enforcement",
        20,
        {
            "criminalInvestigationAndDNSAbuse": _ALL,
            "legalActions": _ALL,
            "regulatoryAndContractEnforcement": frozenset(
                {Field.HANDLE, Field.NAME, Field.ORG, Field.EMAIL, Field.VOICE, Field.VOICE_EXT}
            ),
        },
        search=SEARCH_PROPERTIES,
        reverse_search=REVERSE_SEARCH_PROPERTIES,
    ),
    "registry-staff": Tier(
        "registry-staff",
        30,
        {ANY: _ALL},
        search=SEARCH_PROPERTIES,
        reverse_search=REVERSE_SEARCH_PROPERTIES,
    ),
}


def default_policy() -> Policy:
    """Private by default: the policy in force when no file is given."""
    return Policy(tiers=dict(DEFAULT_TIERS))


# --- loader --------------------------------------------------------------------------------

_SECTION_KEYS = {
    "disclose_default",
    "publish_natural",
    "publish_legal_verified",
    "methods",
    "email_contact_form",
    "email_pointer",
    "reason",
    "pending_delete",
}
_TIER_KEYS = {"rank", "purposes", "search", "reverse_search"}
_TOP_KEYS = {"default", "tld", "tiers"}


def parse(text: str, source: str = "policy") -> Policy:
    """Parse and validate a policy file; ConfigError names the key and the problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    return from_mapping(data, source)


def from_mapping(data: Mapping[str, Any], source: str = "policy") -> Policy:
    """Validate already-parsed policy tables (`default`, `tld`, `tiers`)."""
    _no_unknown(data, _TOP_KEYS, source, "")
    default = _section(data.get("default", {}), TldPolicy(), source, "default")
    sections: dict[str, TldPolicy] = {}
    tlds = _table(data.get("tld", {}), source, "tld")
    for name, body in tlds.items():
        sections[name] = _section(body, replace(default, name=name), source, f"tld.{name}")
    tiers: dict[str, Tier] = dict(DEFAULT_TIERS) if "tiers" not in data else {}
    for name, body in _table(data.get("tiers", {}), source, "tiers").items():
        tiers[name] = _tier(name, body, source)
    if ANONYMOUS in tiers:
        raise ConfigError(
            f"{source}: tiers.{ANONYMOUS}: reserved for the public; choose another name"
        )
    ranks = [t.rank for t in tiers.values()]
    if ranks and ranks.count(max(ranks)) > 1:
        raise ConfigError(f"{source}: tiers: more than one tier has the highest rank {max(ranks)}")
    return Policy(default=default, sections=sections, tiers=tiers)


def _no_unknown(data: Mapping[str, Any], allowed: set[str], source: str, where: str) -> None:
    for key in data:
        if key not in allowed:
            path = f"{where}.{key}" if where else key
            raise ConfigError(
                f"{source}: {path}: unknown key (allowed: {', '.join(sorted(allowed))})"
            )


def _table(value: Any, source: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: {where}: expected a table")
    for key, body in value.items():
        if not isinstance(body, dict):
            raise ConfigError(f"{source}: {where}.{key}: expected a table")
    return value


def _fields(value: Any, source: str, where: str) -> frozenset[Field]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source}: {where}: expected a list of field names")
    if ANY in value:
        return frozenset(Field)
    out = set()
    for v in value:
        try:
            out.add(Field(v))
        except ValueError:
            known = ", ".join(f.value for f in Field)
            raise ConfigError(
                f"{source}: {where}: unknown field {v!r} (known: {known}, *)"
            ) from None
    return frozenset(out)


def _section(body: Any, base: TldPolicy, source: str, where: str) -> TldPolicy:
    if not isinstance(body, dict):
        raise ConfigError(f"{source}: {where}: expected a table")
    _no_unknown(body, _SECTION_KEYS, source, where)
    out = base
    if "disclose_default" in body:
        v = body["disclose_default"]
        if v == "replica":
            out = replace(out, disclose_default=None)
        elif isinstance(v, bool):
            out = replace(out, disclose_default=v)
        else:
            raise ConfigError(
                f'{source}: {where}.disclose_default: expected true, false or "replica"'
            )
    if "publish_natural" in body:
        out = replace(
            out,
            publish_natural=_fields(body["publish_natural"], source, f"{where}.publish_natural"),
        )
    if "publish_legal_verified" in body:
        out = replace(
            out,
            publish_legal=_fields(
                body["publish_legal_verified"], source, f"{where}.publish_legal_verified"
            ),
        )
    if "methods" in body:
        methods = dict(out.methods)
        table = body["methods"]
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: {where}.methods: expected a table")
        for key, v in table.items():
            try:
                f = Field(key)
            except ValueError:
                raise ConfigError(f"{source}: {where}.methods.{key}: unknown field") from None
            try:
                m = Method(v)
            except ValueError:
                raise ConfigError(
                    f"{source}: {where}.methods.{key}: unknown method {v!r}"
                ) from None
            if m not in ALLOWED_METHODS[f]:
                allowed = ", ".join(sorted(x.value for x in ALLOWED_METHODS[f]))
                raise ConfigError(
                    f"{source}: {where}.methods.{key}: {m.value} not allowed here ({allowed})"
                )
            methods[f] = m
        out = replace(out, methods=methods)
    for key in ("email_contact_form", "email_pointer", "reason"):
        if key in body:
            v = body[key]
            if not isinstance(v, str) or not v.strip():
                raise ConfigError(f"{source}: {where}.{key}: expected a non-empty string")
            if key == "email_contact_form":
                _check_template(v, source, f"{where}.{key}")
                out = replace(out, email_contact_form=v)
            elif key == "email_pointer":
                out = replace(out, email_pointer=v)
            else:
                out = replace(out, reason=v)
    if "pending_delete" in body:
        v = body["pending_delete"]
        if v not in ("minimal", "normal"):
            raise ConfigError(f'{source}: {where}.pending_delete: expected "minimal" or "normal"')
        out = replace(out, pending_delete_minimal=v == "minimal")
    if (
        out.email_contact_form
        and out.methods.get(Field.EMAIL) is Method.REMOVAL
        and "methods" not in body
    ):
        # A contact form configured without an explicit method means "replace the address".
        out = replace(out, methods={**out.methods, Field.EMAIL: Method.REPLACEMENT_VALUE})
    if out.methods.get(Field.EMAIL) is Method.REPLACEMENT_VALUE and not out.email_contact_form:
        raise ConfigError(
            f"{source}: {where}.methods.email: replacementValue needs email_contact_form"
        )
    return out


_PLACEHOLDERS = {"domain", "handle", "role", "registrar_url"}


def _check_template(value: str, source: str, where: str) -> None:
    if not value.startswith(("https://", "http://", "mailto:", "{registrar_url}")):
        raise ConfigError(f"{source}: {where}: expected an https:// URL or a mailto: URI")
    import string

    for _, name, _, _ in string.Formatter().parse(value):
        if name is not None and name not in _PLACEHOLDERS:
            raise ConfigError(
                f"{source}: {where}: unknown placeholder {{{name}}} "
                "(known: {domain}, {handle}, {role}, {registrar_url})"
            )


def _tier(name: str, body: dict[str, Any], source: str) -> Tier:
    where = f"tiers.{name}"
    _no_unknown(body, _TIER_KEYS, source, where)
    rank = body.get("rank")
    if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
        raise ConfigError(f"{source}: {where}.rank: expected a positive integer")
    purposes = body.get("purposes", {})
    if not isinstance(purposes, dict):
        raise ConfigError(f"{source}: {where}.purposes: expected a table")
    grants: dict[str, frozenset[Field]] = {}
    for purpose, fields in purposes.items():
        if purpose != ANY and purpose not in PURPOSES:
            raise ConfigError(
                f"{source}: {where}.purposes.{purpose}: not an RDAP purpose (RFC 9560 registry: "
                f"{', '.join(sorted(PURPOSES))})"
            )
        grants[purpose] = _fields(fields, source, f"{where}.purposes.{purpose}")
    search = _properties(body.get("search", []), SEARCH_PROPERTIES, source, f"{where}.search")
    reverse = _properties(
        body.get("reverse_search", []),
        REVERSE_SEARCH_PROPERTIES,
        source,
        f"{where}.reverse_search",
    )
    return Tier(name, rank, grants, search=search, reverse_search=reverse)


def _properties(value: Any, known: frozenset[str], source: str, where: str) -> frozenset[str]:
    """A list of search properties (or ["*"] for all of them)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source}: {where}: expected a list of search properties")
    if ANY in value:
        return known
    for v in value:
        if v not in known:
            raise ConfigError(
                f"{source}: {where}: unknown search property {v!r} "
                f"(known: {', '.join(sorted(known))}, *)"
            )
    return frozenset(value)
