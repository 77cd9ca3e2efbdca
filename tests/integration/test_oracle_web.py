"""The privacy oracle over the web page and the contact form (docs/web.md): the generated
registry of tests/oracle/world.py (gTLDs, a sponsored TLD, ccTLDs and the IDN ccTLD with
`loc` addresses, at-risk registrants, pending-delete domains, admin and billing roles) in a
real SQLite replica, served by the real page and a real SMTP server on loopback, every page
compared with the reference model of docs/policy.md for the public — never with the
engine's own decisions.

- Each domain page (asked by A-label and, for IDNs, by U-label; with and without an
  authorized requester's credential, which the page ignores) shows, per contact, exactly the
  fields the model shows the public, the Country row included; a contact the model withholds
  whole is one "Withheld for privacy" line; no withheld value is anywhere in the HTML.
- The contact form is offered exactly where the model withholds a contact's email from the
  public, and its page, its acknowledgement and the message relayed show the writer nothing
  of any contact; the message reaches the contact the form names.
- Nameserver, registrar, address and not-found pages (a contact's handle asked as a lookup
  included) hold no contact data.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient

from rdap.server import make_app
from rdap.settings import RdapConfig
from registry import names
from registry.model import Contact, DomainRecord
from replica.store import open_store
from tests.integration.test_oracle_frontends import (
    POLICY,
    REFERENCE,
    all_tokens_absent,
    replica,
    the_world,
)
from tests.oracle import model, observe, world
from tests.web_support import BASE, Inbox, build, cookie_of, form_token, inbox, settings_text

__all__ = ["inbox", "replica", "the_world"]  # fixtures

Client = TestClient[Any, Any]
RDAP = RdapConfig(base_url=BASE, port43=None)
#: The oracle's policy with the built-in contact form target, so that the page's form is the
#: replacement every withheld email points at (docs/web.md "The contact form").
FORM_LINE = 'email_contact_form = "https://registry.example/contact?domain={domain}&role={role}"\n'
assert FORM_LINE in POLICY
WEB_POLICY = POLICY.replace(FORM_LINE, "")
#: No limit gets in the way of asking every domain and writing to every contact.
LIMITS = (
    "lookups_per_minute = 0\n"
    "messages_per_sender_per_day = 100000\n"
    "messages_per_recipient_per_day = 100000\n"
    "messages_per_network_per_hour = 100000\n"
)
WRITER = "writer@mail.example"


@dataclass
class Web:
    client: Client
    inbox: Inbox

    async def get(self, path: str, **headers: str) -> tuple[int, str, Any]:
        async with self.client.get(path, headers=headers) as resp:
            return resp.status, await resp.text(), resp.headers


@pytest.fixture
async def web(
    replica: Path,
    tmp_path: Path,
    inbox: Inbox,
    aiohttp_client: Callable[..., Awaitable[Client]],
) -> AsyncIterator[Web]:
    store = await open_store(replica, pool_size=2)
    text = settings_text(inbox.port, tmp_path / "relay.jsonl", LIMITS) + WEB_POLICY
    lookup, site = build(store, text)
    app = make_app(lookup, RDAP, pages=site.routes())
    try:
        yield Web(await aiohttp_client(app, cookie_jar=DummyCookieJar()), inbox)
    finally:
        await store.close()


# --- observing a page ------------------------------------------------------------------------

#: The page's title of each role's card (web/templates/domain.html).
TITLES = {
    "Registrant": "registrant",
    "Administrative contact": "administrative",
    "Technical contact": "technical",
    "Billing contact": "billing",
}
_CARD = re.compile(
    r'<section class="card contact"[^>]*>\s*<h3[^>]*>(.*?)</h3>(.*?)</section>', re.DOTALL
)
_ROW = re.compile(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def text_of(fragment: str) -> str:
    """The text a person reads (tags dropped, entities decoded)."""
    return html.unescape(_TAG.sub(" ", fragment))


@dataclass(frozen=True)
class Card:
    """One contact's card on a domain page."""

    markup: str
    rows: tuple[tuple[str, str], ...]  # (label, text)

    @property
    def text(self) -> str:
        return text_of(self.markup)

    @property
    def omitted(self) -> bool:
        return not self.rows and "Withheld for privacy" in self.text


def cards(page: str) -> dict[str, list[Card]]:
    out: dict[str, list[Card]] = {}
    for title, body in _CARD.findall(page):
        rows = tuple((text_of(k).strip(), text_of(v)) for k, v in _ROW.findall(body))
        out.setdefault(TITLES[text_of(title).strip()], []).append(Card(body, rows))
    return out


def web_shown(card: Card, contact: Contact) -> frozenset[str]:
    """Fields of `contact` that one card shows: a value's presence in the card's text, and
    the country from its own row (two letters are found anywhere)."""
    text = card.text
    shown = {
        f for f in model.FIELDS if f != "cc" and any(v in text for v in observe.values(contact, f))
    }
    if any(
        label == "Country" and v.strip() in observe.values(contact, "cc") for label, v in card.rows
    ):
        shown.add("cc")
    return frozenset(shown)


#: The page's role word in the contact form's URL (docs/web.md).
FORM_ROLE = {
    "registrant": "registrant",
    "administrative": "admin",
    "technical": "tech",
    "billing": "billing",
}


def form_href(record: DomainRecord, role: str) -> str:
    """The link a withheld email's row carries: the policy's replacement, pointed at the form
    with `{role}` an RDAP role word (docs/policy.md placeholders; docs/web.md)."""
    url = f"{BASE}contact?domain={record.domain.name}&role={role}"
    return f'href="{html.escape(url)}"'


def page_problems(record: DomainRecord, page: str) -> list[tuple[Any, ...]]:
    """Differences between a domain page and the model's decisions for the public."""
    decisions = world.expected(record, REFERENCE, model.PUBLIC)
    roles = world.roles_of(record)
    got = cards(page)
    problems: list[tuple[Any, ...]] = []
    if set(got) != set(roles):
        problems.append(("roles", sorted(got), sorted(roles)))
    for role, contact in roles.items():
        want = decisions[role]
        (card,) = got.get(role, [Card("", ())])
        if want.omitted:
            if not card.omitted:
                problems.append(("not withheld whole", role))
            continue
        shown = web_shown(card, contact)
        if shown != want.shown:
            problems.append(("fields", role, sorted(shown ^ want.shown)))
        # A withheld email points at the form (the policy's replacement); a shown one does not.
        offers_form = form_href(record, role) in card.markup
        if offers_form != ("email" not in want.shown):
            problems.append(("form link", role, offers_form))
    for contact in {k.handle: k for k in roles.values()}.values():
        seen = frozenset().union(*(decisions[r].shown for r, k in roles.items() if k is contact))
        withheld = observe.person(contact).present - seen
        leaked = observe.leaks(html.unescape(page), contact, withheld)
        problems += [("leak", contact.handle, f) for f, _ in leaked]
    return problems


# --- domain pages ----------------------------------------------------------------------------


def queries(record: DomainRecord) -> list[str]:
    """How a person may type the domain: its A-label, and its U-label for an IDN."""
    ldh = record.domain.name
    unicode = names.to_unicode(ldh)
    return [ldh] if unicode == ldh else [ldh, unicode]


async def test_web_domain_pages_match_the_model(
    web: Web, the_world: world.World, tmp_path: Path
) -> None:
    """GIVEN every generated domain WHEN its page is asked (by A-label and U-label, and with
    a registry-staff credential the page must ignore) THEN each contact card shows exactly the
    model's public fields, withheld-whole contacts are one line, a withheld email offers the
    form, and no withheld value is anywhere in the HTML.

    Mutations that fail this, in web/pages.py contact(): a withheld email's row carrying its
    value (`rows.append(Row(FIELD_LABEL[f], (Link(field_value(view.contact, f), None),)))`
    for Field.EMAIL instead of the WithheldRow); the omitted branch removed (a withheld-whole
    contact rendered with its rows)."""
    from tests.integration.test_oracle_frontends import issue

    staff = issue(tmp_path / "access")[-1].headers
    problems: list[tuple[Any, ...]] = []
    seen: list[str] = []
    idn = 0
    for record in the_world.records:
        for q in queries(record):
            idn += q != record.domain.name
            for headers in ({}, staff):
                status, page, _ = await web.get(f"/lookup?q={quote(q)}", **headers)
                if status != 200:
                    problems.append((record.domain.name, q, status))
                    continue
                problems += [(record.domain.name, q, *p) for p in page_problems(record, page)]
                seen.append(page)
    assert problems == []
    assert idn > 0  # the IDN ccTLD's domains were asked by U-label too
    # The pages showed `loc` values and withheld contacts whole: the checks above saw both.
    assert any("لوك" in "".join(c.text for cs in cards(p).values() for c in cs) for p in seen)
    assert any(c.omitted for p in seen for cs in cards(p).values() for c in cs)


# --- the contact form ------------------------------------------------------------------------


def reachable(record: DomainRecord, role: str) -> bool:
    """docs/web.md: "A contact can be written to exactly where the public answer withholds its
    email" (an omitted contact has no answer to withhold it from)."""
    want = world.expected(record, REFERENCE, model.PUBLIC)[role]
    return not want.omitted and "email" not in want.shown


async def test_contact_form_is_offered_exactly_where_the_model_withholds_the_email(
    web: Web, the_world: world.World
) -> None:
    """GIVEN every domain and every role WHEN the form is asked THEN it is there (200) exactly
    where the model withholds that contact's email from the public, 404 elsewhere (a role
    the domain does not have included), and no page of it shows any contact's value.

    Mutation that fails this: web/app.py Site._recipient accepting a published address (its
    `Field.EMAIL in view.withheld` condition removed)."""
    problems: list[tuple[Any, ...]] = []
    offered = 0
    for record in the_world.records:
        roles = world.roles_of(record)
        for role in model.ROLES:
            path = f"/contact?domain={record.domain.name}&role={FORM_ROLE[role]}"
            status, page, _ = await web.get(path)
            want = 200 if role in roles and reachable(record, role) else 404
            offered += want == 200
            if status != want:
                problems.append((record.domain.name, role, status, want))
            if all_tokens_absent(html.unescape(page), the_world.contacts):
                problems.append((record.domain.name, role, "leak"))
    assert problems == []
    assert 0 < offered < sum(len(world.roles_of(r)) for r in the_world.records)


async def test_contact_relay_reaches_the_contact_and_echoes_nothing(
    web: Web, the_world: world.World
) -> None:
    """GIVEN every contact the form is offered for WHEN a message is sent THEN the answer says
    "Message sent" and holds no contact value, exactly one message goes to the stored address
    of the contact in that role, and nothing in it but its recipient names a contact.

    Mutation that fails this: web/app.py Site._post naming the recipient in the
    acknowledgement (`title=pages.contact_title(role) + " " + to` for sent.html)."""
    problems: list[tuple[Any, ...]] = []
    for record in the_world.records:
        for role, contact in world.roles_of(record).items():
            if not reachable(record, role):
                continue
            path = f"/contact?domain={record.domain.name}&role={FORM_ROLE[role]}"
            async with web.client.get(path) as resp:
                form = await resp.text()
                cookie = cookie_of(resp.headers)
            data = {
                "domain": record.domain.name,
                "role": FORM_ROLE[role],
                "token": form_token(form),
                "sender": WRITER,
                "subject": "About your domain",
                "message": "Hello, is the name for sale?",
            }
            before = len(web.inbox.messages)
            async with web.client.post("/contact", data=data, headers={"Cookie": cookie}) as resp:
                status, ack = resp.status, await resp.text()
            if status != 200 or "Message sent" not in ack:
                problems.append((record.domain.name, role, status))
                continue
            if all_tokens_absent(html.unescape(ack), the_world.contacts):
                problems.append((record.domain.name, role, "acknowledgement leaks"))
            got = web.inbox.messages[before:]
            if [m.rcpt_tos for m in got] != [[contact.email]]:
                problems.append((record.domain.name, role, [m.rcpt_tos for m in got]))
                continue
            msg = got[0].message
            rest = msg.as_string().replace(contact.email, "")
            if all_tokens_absent(rest, the_world.contacts):
                problems.append((record.domain.name, role, "message names a contact"))
    assert problems == []
    assert web.inbox.messages


# --- pages with no contact -------------------------------------------------------------------


def unechoed(page: str, q: str) -> str:
    """The page without the search box's echo of what was typed."""
    return html.unescape(page).replace(q, "\x00")


async def test_other_pages_hold_no_contact_data(web: Web, the_world: world.World) -> None:
    """Home, nameserver, registrar, address and not-found pages, and every contact's handle,
    email and name asked as a lookup (contacts are never looked up on the page): no contact
    value, apart from the echo of what was typed."""
    lookups = ["ns1.company.org", "ns1.oracle-dns.example", "9999", "R9999", "192.0.2.53"]
    lookups += ["nosuch.org", "nosuch.xn--mgbtx2b", "bad..name"]
    for contact in the_world.contacts.values():
        lookups += [contact.handle, contact.email, contact.postal[0].name]
    status, page, _ = await web.get("/")
    assert status == 200 and all_tokens_absent(page, the_world.contacts) == []
    for q in lookups:
        status, page, _ = await web.get(f"/lookup?q={quote(q)}")
        assert status in (200, 400, 404), (q, status)
        assert all_tokens_absent(unechoed(page, q), the_world.contacts) == [], q
