"""Page values and HTML: only what the engine shows reaches a template; statuses in plain
language; stored values escaped and linked only when safe."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from redaction import engine
from redaction.fields import Field
from redaction.policy import Requester, default_policy
from registry.model import ContactRole, PersonKind, PostalInfo
from tests.conftest import WATERMARK, make_contact, make_record, make_registrar
from web import pages
from web.render import RenderContext, Renderer

BASE = "https://rdap.registry.example/"
CTX = RenderContext(site_name="Lookup", prefix="/", rdap_base_url=BASE)
HOSTILE = '<script>alert("x")</script>'


def redacted(**kw: object):  # type: ignore[no-untyped-def]
    record = make_record(**kw)  # type: ignore[arg-type]
    return engine.redact_domain(record, Requester.anonymous(), default_policy())


def html(rd) -> str:  # type: ignore[no-untyped-def]
    return Renderer(CTX).page("domain.html", p=pages.domain(rd, BASE), q="")


def test_natural_person_page_shows_only_what_the_engine_shows() -> None:
    rd = redacted()
    page = pages.domain(rd, BASE)
    (registrant,) = [c for c in page.contacts if c.title == "Registrant"]
    shown = {
        r.label: [v.text for v in r.values] for r in registrant.rows if isinstance(r, pages.Row)
    }
    held = [r.label for r in registrant.rows if isinstance(r, pages.WithheldRow)]
    assert shown == {"State or province": ["Samplia"], "Country": ["GB"]}
    assert "Name" in held and "Email" in held and "Street" in held
    assert all(
        r.reason == "Server policy" for r in registrant.rows if isinstance(r, pages.WithheldRow)
    )
    text = html(rd)
    for secret in ("Quinn", "Testperson", "Sample Street", "Sampleton", "SA1 2MP", "quinn."):
        assert secret not in text
    assert "5550100111" not in text and "Withheld for privacy" in text


def test_consented_fields_appear() -> None:
    contact = make_contact(disclose_yes=frozenset({"name", "email"}))
    text = html(redacted(registrant=contact))
    assert "Quinn Testperson" in text
    assert 'href="mailto:quinn.testperson@mail.example"' in text


def test_withheld_email_points_where_the_policy_says() -> None:
    rd = redacted()
    (c,) = [c for c in pages.domain(rd, BASE).contacts if c.title == "Registrant"]
    # The default policy: the registrar's URL, as RDAP's contact-uri says.
    assert c.reach == pages.Link(
        "https://www.testing-registrar.example", "https://www.testing-registrar.example"
    )
    assert not c.reach_is_form
    form = "https://rdap.registry.example/contact"
    policy = default_policy()
    policy = replace(
        policy,
        default=replace(policy.default, email_contact_form=form + "?domain={domain}&role={role}"),
    )
    rd = engine.redact_domain(make_record(), Requester.anonymous(), policy)
    (c,) = [c for c in pages.domain(rd, BASE, form).contacts if c.title == "Registrant"]
    assert c.reach_is_form and c.reach is not None
    assert c.reach.href == form + "?domain=sample.org&role=registrant"


def test_omitted_contact_has_no_rows() -> None:
    rd = redacted()
    view = replace(rd.contacts[0], omitted=True, role=ContactRole.ADMIN)
    c = pages.contact(view)
    assert c.omitted and c.rows == () and c.reason == "Server policy"
    assert c.title == "Administrative contact"


def test_hostile_values_are_escaped_and_not_linked() -> None:
    legal = make_contact(
        kind=PersonKind.LEGAL,
        verified=True,
        postal=(PostalInfo("int", "Desk", org=HOSTILE, street=(HOSTILE,), city="x", cc="GB"),),
    )
    record = make_record(registrant=legal)
    record = replace(
        record,
        registrar=make_registrar(
            name='"><img src=x onerror=alert(1)>',
            url="javascript:alert(1)",
            abuse_email='a"onmouseover="alert(1)@x.example',
        ),
    )
    rd = engine.redact_domain(record, Requester.anonymous(), default_policy())
    text = html(rd)
    assert HOSTILE not in text and "<img" not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text
    assert 'href="javascript:' not in text and "javascript:alert(1)" in text  # text, not a link
    assert 'onmouseover="' not in text


@pytest.mark.parametrize(
    ("epp", "rgp", "updated", "expected"),
    [
        (("ok",), (), None, "Active: registered, no restrictions"),
        (("serverHold",), (), None, "Suspended by the registry: the name does not work"),
        (
            ("pendingDelete",),
            ("redemptionPeriod",),
            dt.datetime(2026, 11, 10, tzinfo=dt.UTC),
            "Pending deletion — restorable through the registrar until 10 December 2026",
        ),
        (
            ("pendingDelete",),
            ("redemptionPeriod",),
            dt.datetime(2026, 1, 1, tzinfo=dt.UTC),  # the computed date has passed: no date
            "Pending deletion — restorable through the registrar during the redemption period",
        ),
        (("pendingDelete",), (), None, "Pending deletion: it can no longer be restored"),
        (("pendingDelete",), ("pendingRestore",), None, "Pending deletion, restore requested"),
        (("madeUpStatus",), (), None, "Registry status madeUpStatus"),
    ],
)
def test_status_words(
    epp: tuple[str, ...], rgp: tuple[str, ...], updated: dt.datetime | None, expected: str
) -> None:
    (first, *_) = pages.statuses(epp, rgp, updated=updated, watermark=WATERMARK)
    assert first.text.startswith(expected) and first.code == epp[0]


def test_suspension_reason_in_plain_words() -> None:
    (s,) = pages.statuses(("serverHold",), suspension_reason="acceptable-use")
    assert s.text.startswith("Suspended by the registry under its acceptable-use policy")
    assert pages.summary([s]) == (s.text, "alert")
    assert pages.summary(pages.statuses(("ok",))) == ("Registered and active", "ok")


def test_every_epp_status_has_words() -> None:
    from registry.status import EPP_STATUSES

    assert set(pages.STATUS_TEXT) == set(EPP_STATUSES)


@pytest.mark.parametrize(
    ("url", "href"),
    [
        ("https://www.example", "https://www.example"),
        ("HTTP://www.example/x", "HTTP://www.example/x"),
        ("javascript:alert(1)", None),
        ("data:text/html,x", None),
        ("https://www.example/ x", None),
        ("www.example", None),
    ],
)
def test_web_links(url: str, href: str | None) -> None:
    link = pages.web_link(url)
    assert link is not None and link.text == url and link.href == href


def test_email_and_tel_links() -> None:
    assert pages.email_link("abuse@registrar.example") == pages.Link(
        "abuse@registrar.example", "mailto:abuse@registrar.example"
    )
    assert pages.email_link("a b@x.example") == pages.Link("a b@x.example", None)
    assert pages.tel_link("+1.5550100123", "42") == pages.Link(
        "+1.5550100123 ext. 42", "tel:+15550100123;ext=42"
    )
    assert pages.tel_link("call me") == pages.Link("call me", None)


def test_idn_name_shows_both_forms() -> None:
    n = pages.Name.of("xn--mgbh0fb.xn--mgbtx2b")
    assert n.unicode == "مثال.عراق"
    assert pages.Name.of("example.org").unicode is None


def test_result_list_pages() -> None:
    from registry.model import Host, HostRecord, ReplicaInfo

    info = ReplicaInfo(1, WATERMARK)
    records = [HostRecord(Host(f"ns{i}.example.org"), None, info) for i in range(45)]
    first = pages.result_list("192.0.2.1", records, 1, limit=50, watermark=WATERMARK)
    assert (first.page, first.pages, first.total, len(first.items)) == (1, 3, 45, 20)
    last = pages.result_list("192.0.2.1", records, 99, limit=50, watermark=WATERMARK)
    assert last.page == 3 and len(last.items) == 5 and not last.truncated
    full = pages.result_list("192.0.2.1", records + records[:5], 0, limit=50, watermark=WATERMARK)
    assert full.page == 1 and full.truncated


def test_dates_in_words() -> None:
    w = pages.when(dt.datetime(2019, 3, 14, 9, 26, 53, tzinfo=dt.UTC))
    assert (w.iso, w.text) == ("2019-03-14T09:26:53Z", "14 March 2019")


def test_fields_have_page_words() -> None:
    assert set(pages.FIELD_LABEL) == set(Field)
