"""Property on real replica files: for random registries written through the row codecs and
random requesters, the store's contexts for a handle are exactly those of the domains that
reference it, and the answer by handle shows a subset of what every one of those domains'
answers shows of the contact (or is the unknown-handle 404 where any withholds the handle)."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.lookup import Lookup
from redaction import engine
from redaction.fields import Field
from redaction.policy import Policy, Requester
from registry import names
from registry.errors import NotFound
from registry.model import Contact, ContactRole, DomainContext, DomainRecord, Tld, TldKind
from replica.store import open_store
from tests.conftest import make_record, write_replica
from tests.unit.test_no_leak_property import REQUESTERS, contacts, two_section_policies

CX = Tld("cx", TldKind.CCTLD, "cx", "CX")
ORG = Tld("org", TldKind.GTLD, "org", "ORG")
COUNTER = itertools.count()


@st.composite
def registries(draw: st.DrawFn) -> tuple[list[DomainRecord], list[Contact]]:
    """2-4 contacts (one maybe referenced by nothing) and 1-5 domains over org and cx."""
    people = [
        replace(c, handle=f"H{n}-ZQ", roid=f"R{n}-ZQ")
        for n, c in enumerate(draw(st.lists(contacts(), min_size=2, max_size=4)))
    ]
    records = []
    for n in range(draw(st.integers(1, 5))):
        tld = draw(st.sampled_from([ORG, CX]))
        record = make_record(
            draw(st.sampled_from(people)),
            tld=tld,
            name=f"d{n}.{tld.name}",
            statuses=draw(st.sampled_from([("ok",), ("pendingDelete",), ("serverHold",)])),
        )
        extra = draw(
            st.lists(
                st.tuples(
                    st.sampled_from([ContactRole.ADMIN, ContactRole.TECH, ContactRole.BILLING]),
                    st.sampled_from(people),
                ),
                max_size=3,
                unique_by=lambda rc: rc[0],
            )
        )
        record = replace(record, contacts=(*record.contacts, *extra))
        records.append(replace(record, domain=replace(record.domain, roid=f"D{n}-ZQ")))
    return records, people


def context_of(record: DomainRecord, handle: str) -> DomainContext:
    """The context a referencing domain gives a contact: the domain's, and whether the
    contact is only its administrative or billing contact under the ICANN profile."""
    roles = {role for role, c in record.contacts if c.handle == handle}
    side = roles <= {ContactRole.ADMIN, ContactRole.BILLING} and record.tld.kind.icann_profile
    return replace(engine.domain_context(record), side_only=side)


def _shown(view: engine.ContactView) -> set[Field]:
    return {f for f in Field if view.shows(f)}


async def _check(
    path: Path,
    records: list[DomainRecord],
    people: list[Contact],
    policy: Policy,
    requester: Requester,
) -> None:
    store = await open_store(path, pool_size=1)
    try:
        lookup = Lookup(store, policy)
        for person in people:
            referencing = [
                r for r in records if any(c.handle == person.handle for _, c in r.contacts)
            ]
            found = await store.contact(person.handle)
            assert found is not None and found.references.complete
            assert found.references.contexts == {context_of(r, person.handle) for r in referencing}
            views = []
            for r in referencing:
                rd = await lookup.domain(names.from_text(r.domain.name), requester)
                views += [v for v in rd.contacts if v.contact.handle == person.handle]
            try:
                entity = (await lookup.contact(person.handle, requester)).view
            except NotFound:
                entity = None
            if any(Field.HANDLE in v.withheld or v.omitted for v in views):
                assert entity is None
            if entity is not None:
                for v in views:
                    assert _shown(entity) <= _shown(v), (v.role, v.contact.handle)
    finally:
        await store.close()


@settings(max_examples=25, deadline=None)
@given(registry=registries(), policy=two_section_policies(), requester=REQUESTERS)
def test_entity_answers_against_domain_answers_on_real_files(
    tmp_path_factory: pytest.TempPathFactory,
    registry: tuple[list[DomainRecord], list[Contact]],
    policy: Policy,
    requester: Requester,
) -> None:
    records, people = registry
    path = tmp_path_factory.mktemp("prop") / f"r{next(COUNTER)}.sqlite"
    write_replica(path, records, people)
    asyncio.run(_check(path, records, people, policy, requester))
