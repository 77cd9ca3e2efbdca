"""The reference model: docs/policy.md as a table, written from the document, not from the code.

It deliberately imports nothing of `redaction` (no engine, no field table, no policy loader):
it reads the same TOML the product reads, with its own defaults copied from the document's
"Defaults (no file)" table, and decides, for one contact in one role of one domain and one
requester, which fields are shown. Tests compare what the front-ends sent with this, so an
engine that withheld nothing (or everything) fails them.

Where the document is silent, the decisions are marked DECISION below.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

# docs/policy.md "Fields", in the order of the document.
FIELDS: tuple[str, ...] = (
    "handle",
    "name",
    "org",
    "street",
    "city",
    "sp",
    "pc",
    "cc",
    "voice",
    "voice_ext",
    "fax",
    "fax_ext",
    "email",
)
ALL = frozenset(FIELDS)
#: "An extension is always shown or withheld with its number."
EXTENSION_OF = {"voice_ext": "voice", "fax_ext": "fax"}
#: Rule 5: what each EPP disclose element covers ("addr = street/city/sp/pc/cc").
ELEMENTS: dict[str, frozenset[str]] = {
    "name": frozenset({"name"}),
    "org": frozenset({"org"}),
    "addr": frozenset({"street", "city", "sp", "pc", "cc"}),
    "voice": frozenset({"voice", "voice_ext"}),
    "fax": frozenset({"fax", "fax_ext"}),
    "email": frozenset({"email"}),
}
ROLES = ("registrant", "administrative", "technical", "billing")
#: docs/search.md "What can be searched": the entity search properties over contacts, and the
#: reverse search properties (RFC 9536 and this server's `addr`).
ENTITY_SEARCH: tuple[str, ...] = ("fn", "handle")
REVERSE_SEARCH: tuple[str, ...] = ("handle", "fn", "email", "addr")
#: The fields a search property compares (docs/search.md: `addr` is "the street lines, city
#: and postal code of the address the answer shows").
SEARCH_FIELDS: dict[str, frozenset[str]] = {
    "fn": frozenset({"name"}),
    "handle": frozenset({"handle"}),
    "email": frozenset({"email"}),
    "addr": frozenset({"street", "city", "pc"}),
}
#: "In gTLDs (ICANN profile)": DECISION: the sponsored kind (.coop, under an ICANN registry
#: agreement) follows the profile as the generic kind does; ccTLDs do not.
ICANN_KINDS = frozenset({"gtld", "sponsored"})
ANYONE = "*"


@dataclass(frozen=True, slots=True)
class Section:
    """One policy section as docs/policy.md describes it."""

    disclose_default: bool | str = False  # True | False | "replica"
    publish_natural: frozenset[str] = frozenset({"sp", "cc"})
    publish_legal_verified: frozenset[str] = frozenset(
        {"handle", "org", "street", "city", "sp", "pc", "cc"}
        | {"voice", "voice_ext", "fax", "fax_ext"}
    )
    pending_delete: str = "minimal"  # "minimal" | "normal"


@dataclass(frozen=True, slots=True)
class TierModel:
    rank: int
    grants: Mapping[str, frozenset[str]]  # purpose (or "*") -> fields
    #: docs/policy.md "Searches over registrant data": `search` and `reverse_search`.
    search: frozenset[str] = frozenset()
    reverse_search: frozenset[str] = frozenset()

    def granted(self, purpose: str | None) -> frozenset[str]:
        """'grants under "*" apply to any purpose'."""
        out = self.grants.get(ANYONE, frozenset())
        if purpose is not None:
            out = out | self.grants.get(purpose, frozenset())
        return out


_IDENTITY_AND_CONTACT = frozenset({"handle", "name", "org", "email", "voice", "voice_ext"})

#: docs/policy.md "Defaults (no file)", tiers row.
DEFAULT_TIERS: dict[str, TierModel] = {
    "registrar": TierModel(
        10,
        {
            "domainNameControl": ALL,
            # "handle, name, phone, email for technicalIssueResolution"
            "technicalIssueResolution": frozenset({"handle", "name", "voice", "email"}),
        },
    ),
    "law-enforcement": TierModel(
        20,
        {
            "criminalInvestigationAndDNSAbuse": ALL,
            "legalActions": ALL,
            # "identity and contact fields for regulatoryAndContractEnforcement"
            "regulatoryAndContractEnforcement": _IDENTITY_AND_CONTACT,
        },
        # "law-enforcement and registry-staff may search registrant data and use reverse
        # search"; docs/search.md: "by fn and handle and use every reverse search property".
        search=frozenset(ENTITY_SEARCH),
        reverse_search=frozenset(REVERSE_SEARCH),
    ),
    "registry-staff": TierModel(
        30,
        {ANYONE: ALL},
        search=frozenset(ENTITY_SEARCH),
        reverse_search=frozenset(REVERSE_SEARCH),
    ),
}


@dataclass(frozen=True, slots=True)
class PolicyModel:
    default: Section = field(default_factory=Section)
    sections: Mapping[str, Section] = field(default_factory=dict)
    tiers: Mapping[str, TierModel] = field(default_factory=lambda: dict(DEFAULT_TIERS))

    def section(self, name: str) -> Section:
        """'a section per policy name (the replica's tld.policy column)', else [default]."""
        return self.sections.get(name, self.default)

    @property
    def highest_rank(self) -> int | None:
        return max((t.rank for t in self.tiers.values()), default=None)


def _fields(names: list[str]) -> frozenset[str]:
    return ALL if ANYONE in names else frozenset(names)


def _section(body: Mapping[str, Any], base: Section) -> Section:
    out = base
    if "disclose_default" in body:
        out = replace(out, disclose_default=body["disclose_default"])
    if "publish_natural" in body:
        out = replace(out, publish_natural=_fields(body["publish_natural"]))
    if "publish_legal_verified" in body:
        out = replace(out, publish_legal_verified=_fields(body["publish_legal_verified"]))
    if "pending_delete" in body:
        out = replace(out, pending_delete=body["pending_delete"])
    return out


def _properties(names: list[str], known: tuple[str, ...]) -> frozenset[str]:
    return frozenset(known) if ANYONE in names else frozenset(names)


def from_mapping(data: Mapping[str, Any]) -> PolicyModel:
    """The model of a policy file's tables (`default`, `tld`, `tiers`).

    DECISION: a `[tld.X]` section starts from `[default]` (the document's example sets only
    what differs). DECISION: a file with a `[tiers]` table defines every tier; the built-in
    tiers apply only to a file without one. A tier of the file without `search` or
    `reverse_search` may use neither (docs/policy.md: private by default; the example gives
    both keys to the tiers that search).
    """
    default = _section(data.get("default", {}), Section())
    sections = {name: _section(body, default) for name, body in data.get("tld", {}).items()}
    tiers = dict(DEFAULT_TIERS)
    if "tiers" in data:
        tiers = {
            name: TierModel(
                body["rank"],
                {purpose: _fields(names) for purpose, names in body.get("purposes", {}).items()},
                search=_properties(body.get("search", []), ENTITY_SEARCH),
                reverse_search=_properties(body.get("reverse_search", []), REVERSE_SEARCH),
            )
            for name, body in data["tiers"].items()
        }
    return PolicyModel(default, sections, tiers)


def parse(text: str) -> PolicyModel:
    """The model of a policy file's text (service tables are ignored)."""
    return from_mapping(tomllib.loads(text))


# --- the subjects --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    """What the policy looks at in a contact."""

    kind: str  # "natural" | "legal"
    verified: bool
    at_risk: bool
    consent: frozenset[str]  # EPP disclose flag="1" elements
    refusal: frozenset[str]  # EPP disclose flag="0" elements
    #: Fields for which the contact holds a value (an extension only with its number).
    present: frozenset[str]


@dataclass(frozen=True, slots=True)
class Context:
    """The domain a contact is shown in."""

    tld_kind: str  # "gtld" | "sponsored" | "cctld"
    section: str  # the TLD's policy section name
    replica_discloses: bool  # the TLD's deposit data collection policy publishes
    pending_delete: bool  # EPP status pendingDelete on the domain
    registrant_at_risk: bool


@dataclass(frozen=True, slots=True)
class Asker:
    """The requester: anonymous (tier None) or a tier with the purpose it stated."""

    tier: str | None = None
    purpose: str | None = None


PUBLIC = Asker()


@dataclass(frozen=True, slots=True)
class Decision:
    shown: frozenset[str]
    #: The whole contact is withheld (gTLD admin/billing contact whose handle is withheld).
    omitted: bool = False


def _with_extensions(fields: frozenset[str]) -> frozenset[str]:
    """An extension goes with its number: shown with it, never without it."""
    out = set(fields)
    for ext, number in EXTENSION_OF.items():
        if number in out:
            out.add(ext)
        else:
            out.discard(ext)
    return frozenset(out)


def _elements(names: frozenset[str]) -> frozenset[str]:
    out: set[str] = set()
    for element in names:
        out |= ELEMENTS.get(element, frozenset())
    return frozenset(out)


def public_fields(person: Person, ctx: Context, policy: PolicyModel) -> frozenset[str]:
    """Rules 1 to 5: what anyone may see."""
    section = policy.section(ctx.section)
    # Rule 1: "the registrant or the contact is marked at risk: nothing is public — not even
    # state/province or country; consent is ignored."
    if person.at_risk or ctx.registrant_at_risk:
        return frozenset()
    # Rule 2: pending delete, minimal: nothing is public. DECISION: consent does not reopen
    # it (rules 1 and 2 say "nothing"), and only the EPP status pendingDelete counts.
    if ctx.pending_delete and section.pending_delete == "minimal":
        return frozenset()
    default = section.disclose_default
    if default == "replica":
        default = ctx.replica_discloses
    if default is True:
        # Rule 3: every element except those flagged disclose flag="0".
        return _with_extensions(ALL - _elements(person.refusal))
    # Rule 4.
    if person.kind == "legal" and person.verified:
        shown = section.publish_legal_verified
    else:
        shown = section.publish_natural
    # Rule 5: consent adds exactly the consented elements. DECISION: an element flagged both
    # "1" and "0" stays withheld (the refusal wins), and a refusal does not withdraw what
    # rule 4 publishes for everyone (the document attaches flag="0" to rule 3 only).
    shown = shown | (_elements(person.consent) - _elements(person.refusal))
    return _with_extensions(shown)


def granted_fields(
    person: Person, ctx: Context, policy: PolicyModel, asker: Asker
) -> frozenset[str]:
    """Rule 6: what an authorized requester's tier is granted for its purpose."""
    if asker.tier is None:
        return frozenset()
    tier = policy.tiers.get(asker.tier)
    if tier is None:
        return frozenset()
    # Rule 1: "Only the highest-ranked tier may see any of it" (an at-risk contact).
    if (person.at_risk or ctx.registrant_at_risk) and tier.rank != policy.highest_rank:
        return frozenset()
    return _with_extensions(tier.granted(asker.purpose))


def decide(person: Person, role: str, ctx: Context, policy: PolicyModel, asker: Asker) -> Decision:
    """Which fields of one contact, in one role of one domain, this requester sees."""
    visible = public_fields(person, ctx, policy) | granted_fields(person, ctx, policy, asker)
    # An extension without its number is not a value anyone can use.
    present = {f for f in person.present if EXTENSION_OF.get(f, f) in person.present}
    # "In gTLDs (ICANN profile), an administrative or billing contact whose handle is withheld
    # is withheld whole."
    gtld_side_role = ctx.tld_kind in ICANN_KINDS and role in ("administrative", "billing")
    if gtld_side_role and "handle" not in visible:
        return Decision(frozenset(), omitted=True)
    return Decision(visible & frozenset(present))


def entity_bound(decisions: list[Decision]) -> tuple[frozenset[str], bool]:
    """Issue 11, item 1, for a contact looked up by handle: the fields it may show (the
    intersection of what every domain answer referencing it shows the same requester), and
    whether its handle must be denied (withheld in any of those answers: the 404 of an
    unknown handle)."""
    shown = ALL
    for d in decisions:
        shown = shown & d.shown
    hidden = any("handle" not in d.shown for d in decisions)
    return shown, hidden


# --- searches (docs/search.md, docs/policy.md "Searches over registrant data") ----------------


def may_search(policy: PolicyModel, asker: Asker, prop: str, *, reverse: bool = False) -> bool:
    """A search by registrant data is granted: "a tier whose `search` list names the property,
    for a purpose the tier has grants for" (`reverse_search` for a reverse search); "never
    open to the public"."""
    if asker.tier is None:
        return False
    tier = policy.tiers.get(asker.tier)
    if tier is None:
        return False
    allowed = tier.reverse_search if reverse else tier.search
    return prop in allowed and bool(tier.granted(asker.purpose))


def search_matchable(
    prop: str,
    present: frozenset[str],
    mine: tuple[frozenset[str], bool],
    public: frozenset[str],
    may: bool,
) -> bool:
    """Whether an entity or reverse search by `prop` may match a contact at all.

    `mine` is `entity_bound` for the requester; `public` the fields every domain answer
    referencing the contact shows the public (in any of its roles there); `present` is what
    the contact holds; `may` is `may_search` for this search. docs/search.md: "a contact
    is a candidate only if its lookup by handle would answer for this requester" and "it
    matches only on a value that answer shows"; "a value they see only because of their
    authorization ... matches only if" the search is granted. DECISION: a value with several
    parts (`addr`) matches on the parts the contact holds (docs/search.md: "a part the
    address lacks is left out, and every part it has must be shown"); a contact holding none
    of them never matches.
    """
    shown, hidden = mine
    if hidden:
        return False
    fields = SEARCH_FIELDS[prop] & present
    if not fields or not fields <= shown:
        return False
    # DECISION: "seen only because of their authorization" is a part that some domain answer
    # withholds from the public, as for the disclosure log ("whatever the answer shows that
    # any of the domains withholds from the public"); a name every domain answer publishes is
    # public even where the public's lookup by handle is a 404.
    return may or fields <= public
