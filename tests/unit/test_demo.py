"""replica.demo's showcase: dates that fit each domain's status, postal info that agrees."""

from __future__ import annotations

import datetime as dt

import pytest

from registry.model import Contact, Domain
from replica import demo

SHOWCASE = demo.showcase(demo.registrars())
DOMAINS = {d.name: d for d in SHOWCASE.domains}
CONTACTS = {c.handle: c for c in SHOWCASE.contacts}
REDEMPTION = dt.timedelta(days=30)  # RFC 3915 §2: the redemption period


def test_every_showcase_domain_has_its_own_dates() -> None:
    triples = [(d.created, d.updated, d.expires) for d in SHOWCASE.domains]
    assert len(set(triples)) == len(triples)
    assert len({d.created for d in SHOWCASE.domains}) == len(triples)


@pytest.mark.parametrize("domain", SHOWCASE.domains, ids=lambda d: d.name)
def test_dates_fit_the_status(domain: Domain) -> None:
    assert domain.updated is not None and domain.expires is not None
    assert domain.created < domain.updated < demo.WATERMARK
    if "pendingDelete" in domain.statuses:
        # Deleted after it expired; the redemption period that the delete started is running.
        assert "redemptionPeriod" in domain.rgp_statuses
        assert domain.expires < domain.updated
        assert domain.updated > demo.WATERMARK - REDEMPTION
    else:
        assert domain.expires > demo.WATERMARK


def test_the_pending_delete_showcase_is_in_its_redemption_period() -> None:
    pending = DOMAINS["pending.gs"]
    assert pending.statuses == ("pendingDelete", "serverHold")
    assert pending.expires is not None and pending.expires < demo.WATERMARK


@pytest.mark.parametrize("domain", SHOWCASE.domains, ids=lambda d: d.name)
def test_the_registrant_was_created_with_its_domain(domain: Domain) -> None:
    assert domain.registrant is not None
    registrant = CONTACTS[domain.registrant]
    assert registrant.created == domain.created
    assert registrant.updated is not None and registrant.updated < demo.WATERMARK


def _postal_pairs() -> list[Contact]:
    return [c for c in SHOWCASE.contacts if {p.type for p in c.postal} == {"int", "loc"}]


@pytest.mark.parametrize("contact", _postal_pairs(), ids=lambda c: c.handle)
def test_int_and_loc_postal_info_are_one_address(contact: Contact) -> None:
    # RFC 5733 §2.3: `int` is the ASCII form, `loc` the localized form, of the same data.
    by_type = {p.type: p for p in contact.postal}
    intl, loc = by_type["int"], by_type["loc"]
    assert (intl.cc, intl.pc, intl.sp) == (loc.cc, loc.pc, loc.sp)
    assert all(s.isascii() for s in (intl.name, intl.city, *intl.street)), (
        "int postal info is ASCII"
    )
    assert not loc.city.isascii() and not loc.name.isascii()


def test_the_idn_registrant_lives_where_its_loc_address_says() -> None:
    assert _postal_pairs() == [CONTACTS["IDNIQ-1"]]
    assert {p.cc for p in CONTACTS["IDNIQ-1"].postal} == {"IQ"}
