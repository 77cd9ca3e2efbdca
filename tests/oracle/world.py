"""Generated registries for the privacy oracle: contacts whose every value is unique, in every
role, in gTLDs, a sponsored TLD and ccTLDs (an IDN one with `loc` postal info), with at-risk
markers, consent and refusal flags, pending-delete domains, contacts shared between TLDs, and
policies with `tld.X` sections and tiers with partial grants.

One generator serves two drivers: hypothesis (`Draws`) and a seeded `random.Random`.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from hypothesis import strategies as st

from registry.model import (
    Contact,
    ContactRole,
    Domain,
    DomainRecord,
    Host,
    PersonKind,
    PostalInfo,
    Registrar,
    ReplicaInfo,
    Tld,
    TldKind,
)
from tests.oracle import model

T = TypeVar("T")
WATERMARK = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
ELEMENTS = ("name", "org", "addr", "voice", "fax", "email")
COUNTRIES = ("GB", "US", "DE", "IQ", "CX", "GS", "CH")
PURPOSES = (
    "domainNameControl",
    "technicalIssueResolution",
    "legalActions",
    "regulatoryAndContractEnforcement",
    "criminalInvestigationAndDNSAbuse",
    "academicPublicInterestDNSResearch",
    "dnsTransparency",
)
TLDS = (
    Tld("org", TldKind.GTLD, "org", "ORG"),
    Tld("coop", TldKind.SPONSORED, "coop", "COOP"),
    Tld("cx", TldKind.CCTLD, "cx", "CX", disclose_default=True),
    Tld("gs", TldKind.CCTLD, "gs", "GS"),
    Tld("xn--mgbtx2b", TldKind.CCTLD, "iq", "IQ"),
)
ROLE = {
    "registrant": ContactRole.REGISTRANT,
    "administrative": ContactRole.ADMIN,
    "technical": ContactRole.TECH,
    "billing": ContactRole.BILLING,
}


class Chooser(Protocol):
    def choice(self, options: Sequence[T]) -> T: ...
    def chance(self, p: float) -> bool: ...
    def subset(self, options: Sequence[T]) -> list[T]: ...


class Seeded:
    """A `Chooser` over `random.Random`."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def subset(self, options: Sequence[T]) -> list[T]:
        return [o for o in options if self.rng.random() < 0.5]


class Draws:
    """A `Chooser` over a hypothesis draw function."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw

    def choice(self, options: Sequence[T]) -> T:
        return self.draw(st.sampled_from(list(options)))

    def chance(self, p: float) -> bool:
        # Hypothesis explores both outcomes whatever p is; p only documents the intent.
        return self.draw(st.booleans())

    def subset(self, options: Sequence[T]) -> list[T]:
        return self.draw(st.lists(st.sampled_from(list(options)), unique=True))


class Tokens:
    """Unique values: no value is a substring of another, nor of any fixed text."""

    def __init__(self) -> None:
        self.n = 0

    def _next(self) -> int:
        self.n += 1
        return self.n

    def text(self, what: str) -> str:
        return f"Zq{what}{self._next()}Qz"

    def loc(self, what: str) -> str:
        return f"Zqلوك{what}{self._next()}Qz"

    def handle(self) -> str:
        return f"ZH{self._next()}-OR"

    def email(self) -> str:
        return f"zq{self._next()}e@mail.example"

    def phone(self) -> str:
        # The serial in base 5 written with digits 5-9 (fixed width: none contains another);
        # extensions use base 4 in digits 1-4: no phone contains an extension or vice versa.
        return "+44." + _digits(self._next(), "56789", 9)

    def ext(self) -> str:
        return _digits(self._next(), "1234", 7)


def _digits(n: int, alphabet: str, width: int) -> str:
    out = ""
    for _ in range(width):
        n, r = divmod(n, len(alphabet))
        out = alphabet[r] + out
    assert n == 0, "serial too large for the width"
    return out


def _postal(kind: str, tokens: Tokens, has: dict[str, bool], cc: str, loc: bool) -> PostalInfo:
    t = tokens.loc if loc else tokens.text
    return PostalInfo(
        kind,
        t("name"),
        org=t("org") if has["org"] else None,
        street=tuple(t("street") for _ in range(has["streets"])),
        city=t("city") if has["city"] else "",
        sp=t("sp") if has["sp"] else None,
        pc=t("pc") if has["pc"] else None,
        cc=cc,
    )


def contact(c: Chooser, tokens: Tokens, **fixed: Any) -> Contact:
    """A contact with random markers and optional data; `fixed` overrides attributes."""
    has = {
        "org": c.chance(0.5),
        "streets": c.choice((0, 1, 2)),
        "city": c.chance(0.9),
        "sp": c.chance(0.7),
        "pc": c.chance(0.8),
    }
    cc = c.choice(COUNTRIES)
    # The same optional elements in both blocks: which block a renderer picks changes no
    # field's presence.
    blocks = c.choice((("int",), ("int", "loc"), ("loc",)))
    postal = tuple(_postal(b, tokens, has, cc, loc=b == "loc") for b in blocks)
    voice = tokens.phone() if c.chance(0.8) else None
    fax = tokens.phone() if c.chance(0.3) else None
    base: dict[str, Any] = {
        "handle": tokens.handle(),
        "roid": f"ZR{tokens.n}-ROID",
        "postal": postal,
        "email": tokens.email(),
        "voice": voice,
        "voice_ext": tokens.ext() if c.chance(0.4) else None,
        "fax": fax,
        "fax_ext": tokens.ext() if c.chance(0.4) else None,
        "kind": c.choice((PersonKind.NATURAL, PersonKind.LEGAL)),
        "at_risk": c.chance(0.1),
        "verified": c.chance(0.5),
        "disclose_yes": frozenset(c.subset(ELEMENTS) if c.chance(0.3) else ()),
        "disclose_no": frozenset(c.subset(ELEMENTS) if c.chance(0.2) else ()),
        "registrar": "R9999",
    }
    base.update(fixed)
    return Contact(**base)


# --- policies -------------------------------------------------------------------------------


def _fields(c: Chooser) -> list[str]:
    return ["*"] if c.chance(0.1) else sorted(c.subset(model.FIELDS))


def _section(c: Chooser, full: bool) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if full or c.chance(0.5):
        body["disclose_default"] = c.choice((False, False, True, "replica"))
    if full or c.chance(0.5):
        body["publish_natural"] = _fields(c)
    if full or c.chance(0.5):
        body["publish_legal_verified"] = _fields(c)
    if full or c.chance(0.5):
        body["pending_delete"] = c.choice(("minimal", "normal"))
    return body


def policy_tables(c: Chooser) -> dict[str, Any]:
    """Random `default`, `tld.X` and `tiers` tables, valid for the loader."""
    data: dict[str, Any] = {}
    if c.chance(0.8):
        data["default"] = _section(c, full=False)
    sections = {t.policy: _section(c, full=False) for t in TLDS if c.chance(0.5)}
    if sections:
        data["tld"] = sections
    if c.chance(0.6):
        names = c.choice((("alpha",), ("alpha", "beta"), ("alpha", "beta", "gamma")))
        ranks = list(range(1, len(names) + 1))
        tiers: dict[str, Any] = {}
        for name in names:
            rank = c.choice(ranks)
            ranks.remove(rank)
            grants = {p: _fields(c) for p in c.subset((*PURPOSES[:4], "*"))}
            tiers[name] = {"rank": rank * 10, "purposes": grants}
            # Search grants (docs/policy.md "Searches over registrant data"), often none.
            for key, props in (
                ("search", model.ENTITY_SEARCH),
                ("reverse_search", model.REVERSE_SEARCH),
            ):
                if c.chance(0.6):
                    tiers[name][key] = ["*"] if c.chance(0.3) else sorted(c.subset(props))
        data["tiers"] = tiers
    return data


def tier_names(tables: dict[str, Any]) -> tuple[str, ...]:
    if "tiers" in tables:
        return tuple(tables["tiers"])
    return tuple(model.DEFAULT_TIERS)


# --- records --------------------------------------------------------------------------------


def registrar() -> Registrar:
    return Registrar(
        id="R9999",
        name="Oracle Registrar Ltd",
        iana_id=9999,
        email="info@oracle-registrar.example",
        url="https://www.oracle-registrar.example",
        whois_server="whois.oracle-registrar.example",
        abuse_email="abuse@oracle-registrar.example",
        abuse_phone="+1.5550100000",
        rdap_base_url="https://rdap.oracle-registrar.example/",
    )


def statuses(c: Chooser) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """EPP statuses and RGP statuses of a domain (pending delete some of the time)."""
    if c.chance(0.2):
        return ("pendingDelete", "serverHold"), ("redemptionPeriod",)
    return c.choice((("ok",), ("clientTransferProhibited",))), ()


def record(
    c: Chooser, tokens: Tokens, name: str, tld: Tld, contacts: dict[str, Contact]
) -> DomainRecord:
    """A domain record with the given contact per role."""
    epp, rgp = statuses(c)
    domain = Domain(
        name=name,
        roid=f"ZD{tokens._next()}-{tld.roid_suffix}",
        tld=tld.name,
        statuses=epp,
        rgp_statuses=rgp,
        registrar="R9999",
        created=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        expires=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
        registrant=contacts["registrant"].handle,
        contacts=tuple((ROLE[r], k.handle) for r, k in contacts.items() if r != "registrant"),
    )
    return DomainRecord(
        domain=domain,
        tld=tld,
        registrar=registrar(),
        contacts=tuple((ROLE[r], k) for r, k in contacts.items()),
        info=ReplicaInfo(1, WATERMARK),
    )


def roles_of(rec: DomainRecord) -> dict[str, Contact]:
    return {role.value: k for role, k in rec.contacts}


def context(rec: DomainRecord) -> model.Context:
    registrant = rec.registrant
    return model.Context(
        tld_kind=rec.tld.kind.value,
        section=rec.tld.policy,
        replica_discloses=rec.tld.disclose_default,
        pending_delete="pendingDelete" in rec.domain.statuses,
        registrant_at_risk=registrant is not None and registrant.at_risk,
    )


def expected(
    rec: DomainRecord, policy: model.PolicyModel, asker: model.Asker
) -> dict[str, model.Decision]:
    """The model's decision for every role of a domain."""
    from tests.oracle.observe import person

    ctx = context(rec)
    return {
        role: model.decide(person(k), role, ctx, policy, asker) for role, k in roles_of(rec).items()
    }


# --- contacts by handle, and what searches compare -----------------------------------------


def references(w: World) -> dict[str, list[tuple[DomainRecord, str]]]:
    """Every contact's (domain, role) references; [] for a contact no domain references."""
    out: dict[str, list[tuple[DomainRecord, str]]] = {h: [] for h in w.contacts}
    for rec in w.records:
        for role, k in roles_of(rec).items():
            out[k.handle].append((rec, role))
    return out


def by_handle(
    w: World, handle: str, policy: model.PolicyModel, asker: model.Asker
) -> tuple[frozenset[str], bool]:
    """docs/policy.md "Contacts looked up by handle": the fields `/entity/HANDLE` may show
    this requester, and whether it must be the 404 of an unknown handle."""
    from tests.oracle.observe import person

    refs = references(w)[handle]
    k = person(w.contacts[handle])
    if not refs:
        # "A contact no domain references is decided under every served TLD's section at
        # once".
        contexts = [
            model.Context(t.kind.value, t.policy, t.disclose_default, False, False) for t in TLDS
        ]
        return model.entity_bound(
            [model.decide(k, "registrant", ctx, policy, asker) for ctx in contexts]
        )
    return model.entity_bound(
        [model.decide(k, role, context(rec), policy, asker) for rec, role in refs]
    )


def public_answers(w: World, handle: str, policy: model.PolicyModel) -> frozenset[str]:
    """The fields of a contact that every domain answer referencing it shows the public (in
    any of its roles there): what the public sees of it wherever it appears. A field outside
    this set is one "any of the domains withholds from the public" (docs/policy.md); a value
    of it that a requester sees was seen only because of its authorization."""
    from tests.oracle.observe import person

    k = person(w.contacts[handle])
    per_domain: dict[str, frozenset[str]] = {}
    for rec, role in references(w)[handle]:
        d = model.decide(k, role, context(rec), policy, model.PUBLIC)
        per_domain[rec.domain.name] = per_domain.get(rec.domain.name, frozenset()) | d.shown
    if not per_domain:
        return by_handle(w, handle, policy, model.PUBLIC)[0]
    out = model.ALL
    for shown in per_domain.values():
        out &= shown
    return out


def shown_postal(k: Contact) -> PostalInfo | None:
    """The one postal-info block answers show (docs/whois.md "Postal info"): `int` when the
    contact has one, otherwise `loc`."""
    for kind in ("int", "loc"):
        for p in k.postal:
            if p.type == kind:
                return p
    return None


def search_value(k: Contact, prop: str) -> str | None:
    """The value of a contact an entity or reverse search by `prop` compares: docs/search.md
    ("contacts by the name their answer shows"; `addr` "the street lines, city and postal
    code of the address the answer shows, joined by ', '")."""
    if prop == "handle":
        return k.handle
    if prop == "email":
        return k.email
    p = shown_postal(k)
    if p is None:
        return None
    if prop == "fn":
        return p.name
    parts = [*p.street, p.city, p.pc or ""]
    return ", ".join(x for x in parts if x) or None


def fold(text: str) -> str:
    """docs/search.md: text patterns "compare case-folded after Unicode NFC"."""
    return unicodedata.normalize("NFC", text).casefold()


def pattern_matches(pattern: str, value: str | None) -> bool:
    """RFC 9082 §4.1 as docs/search.md applies it to text: exact, or a prefix and `*`."""
    if not value:
        return False
    if pattern.endswith("*"):
        return fold(value).startswith(fold(pattern[:-1].lstrip()))
    return fold(value) == fold(pattern.strip())


# --- a whole replica on disk ------------------------------------------------------------------


@dataclass(slots=True)
class World:
    records: list[DomainRecord] = field(default_factory=list)
    contacts: dict[str, Contact] = field(default_factory=dict)
    hosts: list[Host] = field(default_factory=list)


def build_world(seed: int, n_random: int = 40) -> World:
    """A deterministic registry: constructed cases the documents name, then random ones."""
    c = Seeded(seed)
    tokens = Tokens()
    w = World()
    org, _coop, cx, gs, iq = TLDS

    def add(name: str, tld: Tld, contacts: dict[str, Contact], **kw: Any) -> None:
        for k in contacts.values():
            w.contacts.setdefault(k.handle, k)
        rec = record(c, tokens, name, tld, contacts)
        if kw:
            from dataclasses import replace

            kw.setdefault("rgp_statuses", ())
            rec = replace(rec, domain=replace(rec.domain, **kw))
        w.records.append(rec)

    natural = {"kind": PersonKind.NATURAL, "at_risk": False, "disclose_yes": frozenset()}
    # Issue 11 item 1: an at-risk registrant's domain with a separate admin contact who is a
    # natural person not marked at risk.
    journalist = contact(c, tokens, **natural | {"at_risk": True})
    admin = contact(c, tokens, **natural)
    add("atrisk-admin.cx", cx, {"registrant": journalist, "administrative": admin})
    # The same admin elsewhere, in an ordinary domain.
    add(
        "plain-admin.cx", cx, {"registrant": contact(c, tokens, **natural), "administrative": admin}
    )
    # A contact shared by a TLD that publishes less (.gs section) and one that publishes more.
    shared = contact(c, tokens, **natural)
    add("shared-less.gs", gs, {"registrant": shared})
    add("shared-more.org", org, {"registrant": shared, "technical": contact(c, tokens)})
    # A pending-delete domain's contact that also serves an ordinary domain.
    pending = contact(c, tokens, **natural)
    add("pending-one.org", org, {"registrant": pending}, statuses=("pendingDelete",))
    add("alive-one.xn--mgbtx2b", iq, {"registrant": pending})
    # A verified organisation (handle public) in admin and billing roles of a gTLD.
    company = contact(
        c, tokens, kind=PersonKind.LEGAL, verified=True, at_risk=False, disclose_yes=frozenset()
    )
    add(
        "company.org",
        org,
        {"registrant": company, "administrative": company, "billing": company},
        statuses=("ok",),
    )
    # A contact no domain references.
    lonely = contact(c, tokens, **natural)
    w.contacts[lonely.handle] = lonely

    pool: list[Contact] = []
    for i in range(n_random):
        tld = c.choice(TLDS)
        roles: dict[str, Contact] = {}
        for role in model.ROLES:
            if role != "registrant" and not c.chance(0.5):
                continue
            if pool and c.chance(0.25):
                k = c.choice(pool)  # shared with another domain, maybe of another TLD
            elif role != "registrant" and c.chance(0.2):
                k = roles["registrant"]  # the registrant again, in another role
            else:
                k = contact(c, tokens)
                pool.append(k)
            roles[role] = k
        label = f"rnd{i}"
        add(f"{label}.{tld.name}", tld, roles)
    w.hosts = [
        Host(name="ns1.oracle-dns.example", roid="ZHOST1-ROID", registrar="R9999"),
        Host(
            name="ns1.company.org",
            roid="ZHOST2-ROID",
            registrar="R9999",
            v4=("192.0.2.53",),
            statuses=("linked",),
        ),
    ]
    return w


def write(w: World, path: Path) -> None:
    """The world as a replica file (the store's own schema and row codecs)."""
    from replica import rows, schema

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        schema.create(conn)
        conn.execute("BEGIN")
        conn.executemany(rows.UPSERT_TLD, [rows.tld_row(t) for t in TLDS])
        rows.write_registrars(conn, [registrar()])
        rows.write_contacts(conn, w.contacts.values())
        for h in w.hosts:
            rows.write_host(conn, h)
        for rec in w.records:
            d = rec.domain
            conn.execute(rows.UPSERT_DOMAIN, rows.domain_row(d))
            conn.executemany(
                "INSERT INTO domain_contact VALUES (?, ?, ?)",
                [(d.name, role.value, handle) for role, handle in d.contacts],
            )
            conn.executemany(
                "INSERT INTO domain_ns VALUES (?, ?, ?, NULL)",
                [(d.name, h.name, pos) for pos, h in enumerate(w.hosts)],
            )
        schema.bump_generation(conn, WATERMARK)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
