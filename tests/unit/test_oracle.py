"""The privacy oracle, pure: the reference model of docs/policy.md against what the renderers
emit for random registries, policies and requesters — not against the engine's own decisions.

First the model itself is pinned to the document's sentences (table tests), then the property:
for every contact in every role, the fields the RDAP JSON and the WHOIS text show are exactly
the fields the model says, and no withheld value appears anywhere in either.

Mutations of redaction/engine.py that fail the property (tried): public_fields returning
frozenset(Field) (an engine that withholds nothing); `at_risk = at_risk or contact.at_risk`
reduced to `at_risk = at_risk`; `_follow` returning its input (extensions alone); the ICANN
omission of admin/billing contacts removed from redact_domain; the highest-rank condition on
at-risk grants removed; refusals no longer subtracted from consent.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rdap import render
from redaction import engine
from redaction import policy as product_policy
from redaction.policy import Requester
from registry.model import DomainRecord
from tests.oracle import model, observe, world
from whois43 import render as whois_render

# --- the model says what the document says -----------------------------------------------

EVERYTHING = model.ALL
NATURAL = model.Person("natural", False, False, frozenset(), frozenset(), EVERYTHING)
LEGAL = replace(NATURAL, kind="legal", verified=True)
GTLD = model.Context("gtld", "org", False, False, False)
CCTLD = replace(GTLD, tld_kind="cctld", section="cx")
DEFAULT = model.PolicyModel()
LE = "law-enforcement"


def shown(
    person: model.Person,
    ctx: model.Context = GTLD,
    asker: model.Asker = model.PUBLIC,
    role: str = "registrant",
    policy: model.PolicyModel = DEFAULT,
) -> set[str]:
    return set(model.decide(person, role, ctx, policy, asker).shown)


@pytest.mark.parametrize(
    ("case", "got", "want"),
    [
        # "Natural persons ... publish publish_natural" (default sp, cc).
        ("natural", lambda: shown(NATURAL), {"sp", "cc"}),
        # An unverified legal person is treated as a natural one.
        ("unverified legal", lambda: shown(replace(LEGAL, verified=False)), {"sp", "cc"}),
        (
            "verified legal",
            lambda: shown(LEGAL),
            {"handle", "org", "street", "city", "sp", "pc", "cc"}
            | {"voice", "voice_ext", "fax", "fax_ext"},
        ),
        # Consent adds exactly the consented elements.
        (
            "consent name+email",
            lambda: shown(replace(NATURAL, consent=frozenset({"name", "email"}))),
            {"sp", "cc", "name", "email"},
        ),
        (
            "consent addr",
            lambda: shown(replace(NATURAL, consent=frozenset({"addr"}))),
            {"street", "city", "sp", "pc", "cc"},
        ),
        # At risk: nothing public, consent ignored, only the highest tier sees anything.
        (
            "at risk with consent",
            lambda: shown(replace(NATURAL, at_risk=True, consent=frozenset({"name"}))),
            set(),
        ),
        (
            "registrant at risk",
            lambda: shown(NATURAL, replace(GTLD, registrant_at_risk=True), role="technical"),
            set(),
        ),
        (
            "at risk, law enforcement",
            lambda: shown(replace(NATURAL, at_risk=True), asker=model.Asker(LE, "legalActions")),
            set(),
        ),
        (
            "at risk, registry staff",
            lambda: shown(
                replace(NATURAL, at_risk=True),
                asker=model.Asker("registry-staff", "dnsTransparency"),
            ),
            set(EVERYTHING),
        ),
        # Pending delete, minimal: nothing public; authorized grants still apply.
        ("pending delete", lambda: shown(LEGAL, replace(GTLD, pending_delete=True)), set()),
        (
            "pending delete, registrar",
            lambda: shown(
                LEGAL,
                replace(GTLD, pending_delete=True),
                model.Asker("registrar", "technicalIssueResolution"),
            ),
            {"handle", "name", "voice", "voice_ext", "email"},
        ),
        # Disclose default true: everything but what the contact flagged "0".
        (
            "disclose default, addr refused",
            lambda: shown(
                replace(NATURAL, refusal=frozenset({"addr"})),
                policy=model.PolicyModel(model.Section(disclose_default=True)),
            ),
            set(EVERYTHING) - {"street", "city", "sp", "pc", "cc"},
        ),
        # "replica": the deposit's data collection policy decides.
        (
            "replica publishes",
            lambda: shown(
                NATURAL,
                replace(GTLD, replica_discloses=True),
                policy=model.PolicyModel(model.Section(disclose_default="replica")),
            ),
            set(EVERYTHING),
        ),
        (
            "replica private",
            lambda: shown(
                NATURAL, policy=model.PolicyModel(model.Section(disclose_default="replica"))
            ),
            {"sp", "cc"},
        ),
        # An extension is shown or withheld with its number.
        (
            "extension follows",
            lambda: shown(
                NATURAL,
                policy=model.PolicyModel(
                    model.Section(publish_natural=frozenset({"voice_ext", "fax"}))
                ),
            ),
            {"fax", "fax_ext"},
        ),
        # Law enforcement, regulatoryAndContractEnforcement: identity and contact fields.
        (
            "law enforcement, regulatory",
            lambda: shown(NATURAL, asker=model.Asker(LE, "regulatoryAndContractEnforcement")),
            {"sp", "cc", "handle", "name", "org", "email", "voice", "voice_ext"},
        ),
        # A purpose the tier has no grant for adds nothing.
        (
            "registrar, other purpose",
            lambda: shown(NATURAL, asker=model.Asker("registrar", "legalActions")),
            {"sp", "cc"},
        ),
        # Only fields the contact holds are shown.
        (
            "absent fields",
            lambda: shown(replace(LEGAL, present=frozenset({"org", "voice_ext"}))),
            {"org"},
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_model_follows_the_document(case: str, got: Any, want: set[str]) -> None:
    assert got() == want, case


def test_model_withholds_gtld_admin_and_billing_whole() -> None:
    # "In gTLDs (ICANN profile), an administrative or billing contact whose handle is withheld
    # is withheld whole."
    for role in ("administrative", "billing"):
        assert model.decide(NATURAL, role, GTLD, DEFAULT, model.PUBLIC).omitted
        assert not model.decide(NATURAL, role, CCTLD, DEFAULT, model.PUBLIC).omitted
        assert not model.decide(LEGAL, role, GTLD, DEFAULT, model.PUBLIC).omitted
        staff = model.Asker("registry-staff")
        assert not model.decide(NATURAL, role, GTLD, DEFAULT, staff).omitted
    assert not model.decide(NATURAL, "technical", GTLD, DEFAULT, model.PUBLIC).omitted


def test_model_reads_sections_and_tiers() -> None:
    policy = model.parse(
        '[default]\npublish_natural = ["cc"]\n[tld.gs]\npending_delete = "normal"\n'
        "[tiers.researcher]\nrank = 5\n[tiers.researcher.purposes]\n"
        'academicPublicInterestDNSResearch = ["sp", "cc"]\n'
    )
    assert policy.section("gs").publish_natural == {"cc"}  # inherits [default]
    assert policy.section("gs").pending_delete == "normal"
    assert policy.section("org") is policy.default
    assert set(policy.tiers) == {"researcher"} and policy.highest_rank == 5


def test_entity_bound_is_the_intersection() -> None:
    a = model.Decision(frozenset({"handle", "sp", "cc"}))
    b = model.Decision(frozenset({"handle", "cc", "name"}))
    assert model.entity_bound([a, b]) == ({"handle", "cc"}, False)
    assert model.entity_bound([a, model.Decision(frozenset({"cc"}))])[1] is True
    assert model.entity_bound([a, model.Decision(frozenset(), omitted=True)]) == (set(), True)


def test_model_search_grants_follow_the_documents() -> None:
    # docs/policy.md "Defaults": "law-enforcement and registry-staff may search registrant
    # data and use reverse search"; the registrar may not.
    crime = model.Asker(LE, "criminalInvestigationAndDNSAbuse")
    registrar = model.Asker("registrar", "domainNameControl")
    assert model.may_search(DEFAULT, crime, "fn") and model.may_search(DEFAULT, crime, "handle")
    assert all(model.may_search(DEFAULT, crime, p, reverse=True) for p in model.REVERSE_SEARCH)
    assert not model.may_search(DEFAULT, registrar, "fn")
    assert not model.may_search(DEFAULT, registrar, "handle", reverse=True)
    # "never open to the public".
    assert not model.may_search(DEFAULT, model.PUBLIC, "fn")
    # "for a purpose the tier has grants for": none for academic research by default.
    assert not model.may_search(DEFAULT, model.Asker(LE, "academicPublicInterestDNSResearch"), "fn")
    # A file's tier has no grant unless it names one, whatever its name (docs/policy.md).
    policy = model.parse(
        '[tiers.law-enforcement]\nrank = 20\nreverse_search = ["email"]\n'
        '[tiers.law-enforcement.purposes]\nlegalActions = ["*"]\n'
        '[tiers.staff]\nrank = 30\nsearch = ["*"]\n'
        '[tiers.staff.purposes]\n"*" = ["*"]\n'
    )
    legal = model.Asker(LE, "legalActions")
    assert not model.may_search(policy, legal, "fn")
    assert model.may_search(policy, legal, "email", reverse=True)
    assert not model.may_search(policy, legal, "handle", reverse=True)
    assert model.may_search(policy, model.Asker("staff", "dnsTransparency"), "handle")


HIDDEN = frozenset({"sp", "cc"})  # what the public sees of a natural person


@pytest.mark.parametrize(
    ("case", "prop", "present", "mine", "public", "may", "want"),
    [
        # "a contact is a candidate only if its lookup by handle would answer for this
        # requester": a withheld handle is never found, whatever the grant.
        ("handle withheld", "fn", EVERYTHING, (EVERYTHING, True), HIDDEN, True, False),
        # "it matches only on a value that answer shows".
        ("name withheld", "fn", EVERYTHING, (frozenset({"handle"}), False), HIDDEN, True, False),
        # A value seen only by authorization: only with the search grant.
        ("authorized only", "fn", EVERYTHING, (EVERYTHING, False), HIDDEN, False, False),
        ("granted", "fn", EVERYTHING, (EVERYTHING, False), HIDDEN, True, True),
        # A published value matches for anyone who sees the contact.
        ("public", "handle", EVERYTHING, (EVERYTHING, False), EVERYTHING, False, True),
        # addr: every part the contact holds must be shown; a missing part is left out.
        ("addr, pc withheld", "addr", EVERYTHING, ({"street", "city"}, False), HIDDEN, True, False),
        (
            "addr without pc",
            "addr",
            EVERYTHING - {"pc"},
            ({"street", "city"}, False),
            HIDDEN,
            True,
            True,
        ),
        ("addr, none held", "addr", frozenset({"name"}), (EVERYTHING, False), HIDDEN, True, False),
    ],
)
def test_model_search_matching(
    case: str,
    prop: str,
    present: frozenset[str],
    mine: tuple[frozenset[str], bool],
    public: frozenset[str],
    may: bool,
    want: bool,
) -> None:
    got = model.search_matchable(prop, present, (frozenset(mine[0]), mine[1]), public, may)
    assert got is want, case


# --- the property ------------------------------------------------------------------------


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[DomainRecord, dict[str, Any], str | None, str | None]:
    c = world.Draws(draw)
    tokens = world.Tokens()
    tables = world.policy_tables(c)
    tld = c.choice(world.TLDS)
    tld = replace(tld, disclose_default=c.chance(0.5))
    roles: dict[str, Any] = {"registrant": world.contact(c, tokens)}
    for role in model.ROLES[1:]:
        pick = c.choice(("none", "own", "registrant"))
        if pick == "own":
            roles[role] = world.contact(c, tokens)
        elif pick == "registrant":
            roles[role] = roles["registrant"]
    record = world.record(c, tokens, f"oracle.{tld.name}", tld, roles)
    tier = c.choice((None, None, *world.tier_names(tables)))
    purpose = c.choice(world.PURPOSES) if tier is not None else None
    return record, tables, tier, purpose


RDAP_CTX = render.RenderContext(
    base_url="https://rdap.example/", request_url="https://rdap.example/x"
)
WHOIS_CTX = whois_render.RenderContext(watermark=world.WATERMARK)


def check_answer(
    record: DomainRecord,
    decisions: dict[str, model.Decision],
    doc: dict[str, Any],
    text: str | None,
) -> None:
    body = orjson.dumps(doc).decode()
    for role, contact in world.roles_of(record).items():
        want = decisions[role]
        entities = observe.rdap_entities(doc, role)
        if want.omitted:
            assert entities == [], (role, "must be withheld whole")
        else:
            (entity,) = entities
            assert observe.rdap_shown(entity, contact) == want.shown, (role, contact)
        if text is not None:
            assert observe.whois_shown(text, role, contact) == want.shown, (role, contact)
    # Nothing withheld in every role of a contact appears anywhere (links, redacted, remarks).
    for contact in {k.handle: k for k in world.roles_of(record).values()}.values():
        seen = frozenset().union(
            *(decisions[r].shown for r, k in world.roles_of(record).items() if k is contact)
        )
        withheld = observe.person(contact).present - seen
        assert observe.leaks(body, contact, withheld) == []
        if text is not None:
            assert observe.leaks(text, contact, withheld) == []


@settings(max_examples=400, deadline=None)
@given(scenario=scenarios())
def test_front_end_output_matches_the_model(scenario: Any) -> None:
    record, tables, tier, purpose = scenario
    product = product_policy.from_mapping(tables)
    reference = model.from_mapping(tables)
    requester = Requester.anonymous() if tier is None else Requester(tier, purpose)
    rd = engine.redact_domain(record, requester, product)
    doc = render.domain(rd, RDAP_CTX)
    # Port 43 is always anonymous: its text is checked for the public only.
    text = whois_render.domain(rd, WHOIS_CTX) if tier is None else None
    decisions = world.expected(record, reference, model.Asker(tier, purpose))
    check_answer(record, decisions, doc, text)
