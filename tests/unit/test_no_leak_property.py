"""Property: for random contacts and policies, no withheld value appears anywhere in the
serialized anonymous RDAP answer (other fields, links, remarks, the redacted array), in the
port-43 text, or in the web page's HTML; and a contact looked up by handle, shared by domains
under different policies, never shows what any of those domains' answers withholds from the
same requester."""

from __future__ import annotations

import string
from dataclasses import replace

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from rdap import render
from redaction import engine
from redaction.fields import ALLOWED_METHODS, Field, value
from redaction.policy import Requester, default_policy
from registry.model import Contact, ContactRole, PersonKind, PostalInfo, References, Tld, TldKind
from tests.conftest import make_record
from web import pages as web_pages
from web.render import RenderContext as WebContext
from web.render import Renderer
from whois43 import render as whois_render

WEB = Renderer(WebContext(site_name="Lookup", prefix="/", rdap_base_url="https://rdap.example/"))

# Values carry a marker so a substring search cannot match unrelated text by chance.
token = st.text(
    alphabet=string.ascii_letters + string.digits + " äöüßé", min_size=4, max_size=12
).map(lambda s: f"Zq{s}Qz")
optional = st.none() | token
countries = st.sampled_from(["GB", "US", "DE", "IQ", "CX", "GS"])


@st.composite
def contacts(draw: st.DrawFn) -> Contact:
    postal = PostalInfo(
        "int",
        draw(token),
        org=draw(optional),
        street=tuple(draw(st.lists(token, min_size=0, max_size=3))),
        city=draw(token),
        sp=draw(optional),
        pc=draw(optional),
        cc=draw(countries),
    )
    elements = st.frozensets(st.sampled_from(["name", "org", "addr", "voice", "fax", "email"]))
    digits = st.text(alphabet="0123456789", min_size=6, max_size=10)
    return Contact(
        handle=f"H{draw(digits)}-ZQ",
        roid=f"R{draw(digits)}-ZQ",
        postal=(postal,),
        email=f"zq{draw(digits)}@mail.example",
        voice=draw(st.none() | digits.map(lambda d: f"+44.9{d}")),
        voice_ext=draw(st.none() | digits.map(lambda d: f"7{d}")),
        fax=draw(st.none() | digits.map(lambda d: f"+44.8{d}")),
        fax_ext=draw(st.none() | digits.map(lambda d: f"6{d}")),
        kind=draw(st.sampled_from(list(PersonKind))),
        at_risk=draw(st.booleans()),
        verified=draw(st.booleans()),
        disclose_yes=draw(elements),
        disclose_no=draw(elements),
    )


@st.composite
def policies(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    base = default_policy()
    fields = st.frozensets(st.sampled_from(list(Field)))
    methods = {f: draw(st.sampled_from(sorted(ALLOWED_METHODS[f]))) for f in Field}
    rules = replace(
        base.default,
        disclose_default=draw(st.sampled_from([False, True, None])),
        publish_natural=draw(fields),
        publish_legal=draw(fields),
        methods=methods,
        email_contact_form=draw(
            st.sampled_from([None, "{registrar_url}", "https://form.example/{domain}"])
        ),
        pending_delete_minimal=draw(st.booleans()),
    )
    return replace(base, default=rules)


CTX = render.RenderContext(
    base_url="https://rdap.example/", request_url="https://rdap.example/domain/sample.org"
)


@settings(max_examples=300, deadline=None)
@given(registrant=contacts(), tech=contacts(), policy=policies(), pending=st.booleans())
def test_withheld_values_never_in_anonymous_body(
    registrant: Contact,
    tech: Contact,
    policy,
    pending: bool,  # type: ignore[no-untyped-def]
) -> None:
    # Distinct, non-nesting handles: a shown "H1-ZQT" would contain a withheld "H1-ZQ".
    tech = replace(tech, handle="K" + tech.handle[1:])
    record = make_record(registrant, tech=tech, statuses=("pendingDelete",) if pending else ("ok",))
    rd = engine.redact_domain(record, Requester.anonymous(), policy)
    doc = render.domain(rd, CTX)
    # Both front-ends' anonymous output: the RDAP body and the port-43 text.
    whois_text = whois_render.domain(
        rd, whois_render.RenderContext(watermark=record.info.watermark)
    )
    page_value = web_pages.domain(rd, "https://rdap.example/")
    page = WEB.page("domain.html", p=page_value, q="")
    body = orjson.dumps(doc).decode() + "\n" + whois_text + "\n" + page
    # Hypothesis may give both contacts the same value; one may show what the other withholds.
    shown = {
        piece
        for view in rd.contacts
        for f in Field
        if view.shows(f)
        for piece in (lambda v: v if isinstance(v, tuple) else (v,))(value(view.contact, f))
    }
    for view, on_page in zip(rd.contacts, page_value.contacts, strict=True):
        assert not view.disclosed  # the public is never "disclosed" anything
        for f in view.withheld:
            v = value(view.contact, f)
            if not v:
                continue
            if f is Field.CC:
                role = view.role.value if view.role else ""
                (ent,) = [e for e in doc["entities"] if e.get("roles") == [role]]
                adrs = [p for p in ent["vcardArray"][1] if p[0] == "adr"]
                assert all("cc" not in p[1] for p in adrs)
                # The page: the country row says withheld (two letters could match anything).
                rows = [r for r in on_page.rows if r.label == "Country"]
                assert all(isinstance(r, web_pages.WithheldRow) for r in rows)
                continue
            for piece in v if isinstance(v, tuple) else (v,):
                if piece not in shown:
                    assert piece not in body, (f, piece)
        # And what is shown is really there.
        for f in Field:
            v = value(view.contact, f)
            if view.shows(f) and isinstance(v, str) and f is not Field.CC:
                assert v in body, (f, v)
            if view.shows(f) and isinstance(v, str) and not view.omitted:
                assert str(escape(v)) in page, (f, v)


@st.composite
def two_section_policies(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    """A policy whose org and cx sections differ at random."""
    org = draw(policies()).default
    cx = draw(policies()).default
    return replace(default_policy(), sections={"org": org, "cx": replace(cx, name="cx")})


REQUESTERS = st.sampled_from(
    [
        Requester.anonymous(),
        Requester("registrar", "domainNameControl"),
        Requester("registrar", "technicalIssueResolution"),
        Requester("law-enforcement", "regulatoryAndContractEnforcement"),
        Requester("law-enforcement", "criminalInvestigationAndDNSAbuse"),
        Requester("registry-staff", "dnsTransparency"),
    ]
)
CX = Tld("cx", TldKind.CCTLD, "cx", "CX")


def _shown(view: engine.ContactView) -> set[Field]:
    return {f for f in Field if view.shows(f)}


@settings(max_examples=200, deadline=None)
@given(
    shared=contacts(),
    other=contacts(),
    policy=two_section_policies(),
    requester=REQUESTERS,
    roles=st.tuples(st.sampled_from(list(ContactRole)), st.sampled_from(list(ContactRole))),
    pending=st.tuples(st.booleans(), st.booleans()),
)
def test_entity_never_shows_more_than_any_domain_referencing_it(
    shared: Contact,
    other: Contact,
    policy,  # type: ignore[no-untyped-def]
    requester: Requester,
    roles: tuple[ContactRole, ContactRole],
    pending: tuple[bool, bool],
) -> None:
    # One contact referenced by an org and a cx domain, in random roles; where it is not the
    # registrant, the other (random, maybe at-risk) contact is.
    other = replace(other, handle="K" + other.handle[1:])
    records = []
    for tld, role, gone in zip((None, CX), roles, pending, strict=True):
        registrant = shared if role is ContactRole.REGISTRANT else other
        record = make_record(
            registrant,
            tld=tld,
            statuses=("pendingDelete",) if gone else ("ok",),
            name=f"sample.{tld.name if tld else 'org'}",
        )
        if role is not ContactRole.REGISTRANT:
            record = replace(record, contacts=(*record.contacts, (role, shared)))
        records.append(record)
    domain_views = [
        v
        for r in records
        for v in engine.redact_domain(r, requester, policy).contacts
        if v.contact is shared
    ]
    refs = References(frozenset(engine.domain_context(r) for r in records))
    view = engine.view_contact_by_handle(
        shared, refs, policy, requester, served=(records[0].tld, CX)
    )
    if any(not v.shows(Field.HANDLE) for v in domain_views if value(shared, Field.HANDLE)):
        assert view is None  # withheld in some domain answer: not confirmed by handle
        return
    assert view is not None
    assert _shown(view) <= set.intersection(*(_shown(v) for v in domain_views))
    # What the entity shows beyond what the policy publishes in every domain is recorded (as
    # `redact_domain` records it: by field, whether or not the whole contact is omitted).
    public = set.intersection(
        *(
            {f for f in Field if f not in v.withheld}
            for r in records
            for v in engine.redact_domain(r, Requester.anonymous(), policy).contacts
            if v.contact is shared
        )
    )
    assert _shown(view) - public <= view.disclosed
    if not requester.is_anonymous:
        return
    # No value withheld in any domain answer appears anywhere in the entity's RDAP body.
    body = orjson.dumps(
        render.contact(
            view,
            records[0].info,
            render.RenderContext(
                base_url="https://rdap.example/", request_url="https://rdap.example/entity/x"
            ),
        )
    ).decode()
    shown_values = {
        piece
        for f in Field
        if view.shows(f)
        for piece in (lambda v: v if isinstance(v, tuple) else (v,))(value(shared, f))
    }
    for v in domain_views:
        for f in v.withheld:
            stored = value(shared, f)
            if not stored or f is Field.CC:
                continue
            for piece in stored if isinstance(stored, tuple) else (stored,):
                if piece not in shown_values:
                    assert piece not in body, (f, piece)
    if not view.shows(Field.CC):
        (adr,) = [p for p in orjson.loads(body)["vcardArray"][1] if p[0] == "adr"] or [[0, {}]]
        assert "cc" not in adr[1]
