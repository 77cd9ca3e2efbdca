"""The search core (RFC 9082 §3.2, RFC 9536): run a `SearchRequest` against the replica and
decide every object with the same redaction engine functions as the lookups.

Privacy rules, each enforced here and nowhere else:
- A contact appears only as its lookup by handle would show it (`view_contact_by_handle`, the
  one entity-by-handle rule): where that lookup is a 404, the contact is not found by any
  search either; and it matches only on a value that answer shows the requester.
- A value the requester sees only because of its authorization (not published) matches only
  for tiers whose policy grants that search (`Policy.may_search`); such searches, and every
  reverse search, are disclosures the caller records before answering (fail closed).
- An entity search examines the same window of candidates (the first `entity_window` index
  entries from where the pattern starts, matching or not) whatever the pattern matches, so a
  search for a withheld name costs what a search for an absent one costs, and both answer
  the same: no result, no total, no next page.
"""

from __future__ import annotations

import asyncio
import bisect
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from core import cursor
from core.search import (
    ContactHit,
    Hit,
    Item,
    Page,
    SearchRequest,
    SearchSettings,
    Target,
    check_breadth,
    page_after,
)
from redaction.engine import redact_domain, view_contact_by_handle
from redaction.fields import Field, has_value
from redaction.policy import Policy, Requester
from registry import names, patterns
from registry.errors import Forbidden, SearchTimeout, UnsupportedPattern
from registry.model import ContactRecord, RegistrarRecord, Tld
from registry.patterns import NamePattern, TextPattern
from replica.store import REFERENCE_CAP, DomainKey, Store

#: The field an entity or reverse search property compares, in the answer by handle.
_FIELDS: dict[str, tuple[Field, ...]] = {
    "fn": (Field.NAME,),
    "handle": (Field.HANDLE,),
    "email": (Field.EMAIL,),
    "addr": (Field.STREET, Field.CITY, Field.PC),
}


def _shown_value(record: ContactRecord, prop: str) -> str | None:
    """The contact's value for a search property (before any decision)."""
    c = record.contact
    postal = c.postal_info
    if prop == "handle":
        return c.handle
    if prop == "email":
        return c.email
    if postal is None:
        return None
    if prop == "fn":
        return postal.name
    return patterns.addr_text(postal.street, postal.city, postal.pc)


def _date(value: object) -> str:
    return value if isinstance(value, str) else ""


def domain_sort_key(key: DomainKey, prop: str) -> tuple[str, ...]:
    """A domain's position under a sort property; the name breaks ties (a total order)."""
    if prop == "registrationDate":
        return (_date(key.created), key.name)
    if prop == "expirationDate":
        return (_date(key.expires), key.name)
    if prop == "lastChangedDate":
        return (_date(key.updated), key.name)
    return (key.name,)


@dataclass(frozen=True, slots=True)
class _Registrars:
    """The replica's registrars for one generation, indexed by folded name and handle."""

    generation: int
    by_name: tuple[tuple[str, str, RegistrarRecord], ...]
    by_handle: tuple[tuple[str, str, RegistrarRecord], ...]


def registrar_handle(record: RegistrarRecord) -> str:
    """The handle a registrar entity carries (its IANA Registrar ID, else its registry id)."""
    reg = record.registrar
    return str(reg.iana_id) if reg.iana_id is not None else reg.id


class Searcher:
    """Runs searches over a store, redacted under a policy, within the configured limits."""

    def __init__(
        self,
        store: Store,
        policy: Policy,
        settings: SearchSettings,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[int], bytes] = os.urandom,
        reference_cap: int = REFERENCE_CAP,
    ) -> None:
        self._store = store
        self.policy = policy
        self.settings = settings
        self._clock = clock
        self._nonce = nonce
        self._reference_cap = reference_cap
        # Security: without a configured secret, a random key per start (cursors then do not
        # survive a restart, and each server of a pool refuses the others' cursors).
        self._key = cursor.key_from_secret(settings.secret or os.urandom(32))
        self._registrars: _Registrars | None = None

    async def search(self, request: SearchRequest, requester: Requester) -> Page:
        """One page of results for `requester`; raises Forbidden for a reverse search the
        policy does not grant, PatternTooBroad (422), BadCursor (400) or SearchTimeout (503)."""
        if request.reverse and not self.policy.may_search(requester, request.prop, reverse=True):
            raise Forbidden(_refusal(requester, request.prop))
        check_breadth(request, self.settings)
        try:
            async with asyncio.timeout(self.settings.time_budget):
                return await self._run(request, requester)
        except TimeoutError:
            raise SearchTimeout() from None

    # --- the page ---------------------------------------------------------------------------

    async def _run(self, request: SearchRequest, requester: Requester) -> Page:
        info = self._store.info
        binding = cursor.Binding(
            request.query, request.sort.text, requester.tier, requester.purpose
        )
        after: tuple[str, ...] | None = None
        number, changed = 1, False
        if request.cursor is not None:
            position = cursor.open_(request.cursor, binding, self._key, self._clock())
            after, number = position.after, position.page
            changed = position.generation != info.generation
        match request.target:
            case Target.DOMAINS:
                items, truncated = await self._domain_items(request)
                window = None
            case Target.NAMESERVERS:
                items, truncated = await self._nameserver_items(request)
                window = None
            case Target.ENTITIES:
                items = await self._entity_items(request, requester)
                truncated, window = False, self.settings.entity_window
            case Target.REVERSE:
                items, truncated = await self._reverse_items(request, requester)
                window = self.settings.entity_window
        chosen, more = page_after(items, request.sort, after, self.settings.page_size)
        hits = await self._resolve(request, requester, [i.value for i in chosen])
        next_cursor = None
        if more and chosen:
            next_cursor = cursor.seal(
                cursor.Position(
                    chosen[-1].key,
                    number + 1,
                    info.generation,
                    int(self._clock()) + self.settings.cursor_ttl,
                ),
                binding,
                self._key,
                self._nonce,
            )
        registrant = request.reverse or (
            request.target is Target.ENTITIES and self.policy.may_search(requester, request.prop)
        )
        return Page(
            request=request,
            hits=tuple(hits),
            number=number,
            size=self.settings.page_size,
            total=len(items),
            truncated=truncated,
            next_cursor=next_cursor,
            generation_changed=changed,
            info=info,
            window=window,
            registrant_search=registrant,
        )

    async def _resolve(
        self, request: SearchRequest, requester: Requester, values: Sequence[object]
    ) -> list[Hit]:
        """Full objects for the chosen results, decided for the requester."""
        if request.target in (Target.DOMAINS, Target.REVERSE):
            records = await self._store.domains([str(v) for v in values])
            return [redact_domain(r, requester, self.policy) for r in records]
        if request.target is Target.NAMESERVERS:
            return list(await self._store.hosts([str(v) for v in values]))
        return [v for v in values if isinstance(v, ContactHit | RegistrarRecord)]

    # --- domains ----------------------------------------------------------------------------

    def _cut(self, keys: list[DomainKey]) -> tuple[list[DomainKey], bool]:
        cap = self.settings.max_results
        return keys[:cap], len(keys) > cap

    def _domain_sorted(
        self, request: SearchRequest, keys: Iterable[DomainKey]
    ) -> list[Item[object]]:
        return [Item(domain_sort_key(k, request.sort.prop), k.name) for k in keys]

    async def _domain_items(self, request: SearchRequest) -> tuple[list[Item[object]], bool]:
        limit = self.settings.max_results + 1
        if request.prop == "name":
            assert isinstance(request.pattern, NamePattern)
            keys = await self._domains_by_name(request.pattern, limit)
        else:
            hosts, hosts_cut = await self._host_names(request, self.settings.max_hosts)
            keys = await self._store.domain_keys_by_hosts(hosts, limit) if hosts else []
            cut_keys, truncated = self._cut(keys)
            return self._domain_sorted(request, cut_keys), truncated or hosts_cut
        cut_keys, truncated = self._cut(keys)
        return self._domain_sorted(request, cut_keys), truncated

    async def _domains_by_name(self, pattern: NamePattern, limit: int) -> list[DomainKey]:
        tlds = await self._store.tlds()
        labels = pattern.labels
        if len(labels) > 2 or (pattern.exact and len(labels) != 2):
            return []  # a domain of this registry is one label under a served TLD
        if pattern.exact:
            return await self._store.domain_keys_exact([pattern.ldh]) if labels[1] in tlds else []
        if pattern.wildcard == 1:
            # `example.co*`: the exact first label under every served TLD the prefix fits.
            fits = [
                t
                for t in sorted(tlds)
                if (names.to_unicode(t) if pattern.unicode_prefix else t).startswith(pattern.prefix)
            ]
            found = await self._store.domain_keys_exact([f"{labels[0]}.{t}" for t in fits])
            return [k for k in found if pattern.matches(k.name, k.uname)]
        tld = labels[1] if len(labels) == 2 else None
        if tld is not None and tld not in tlds:
            return []
        found = await self._store.domain_keys_by_name(
            pattern.prefix,
            patterns.upper_bound(pattern.prefix),
            tld=tld,
            unicode=pattern.unicode_prefix,
            limit=limit,
        )
        return [k for k in found if pattern.matches(k.name, k.uname)]

    # --- nameservers ------------------------------------------------------------------------

    async def _host_names(self, request: SearchRequest, limit: int) -> tuple[list[str], bool]:
        """Host names matching a nameserver pattern or address, at most `limit` (and whether
        more matched)."""
        pattern = request.pattern
        if isinstance(pattern, NamePattern):
            if pattern.exact:
                return [pattern.ldh], False
            if pattern.unicode_prefix:
                # Host names are stored as A-labels only: a U-label prefix cannot be ranged.
                raise UnsupportedPattern(
                    "Nameserver patterns take A-labels before the '*' (xn--...)."
                )
            forward = pattern.forward_literal
            reverse = pattern.reverse_literal
            use_reverse = bool(pattern.after) and len(reverse) > len(forward)
            literal = reverse if use_reverse else forward
            found = await self._store.host_names(
                literal, patterns.upper_bound(literal), reverse=use_reverse, limit=limit + 1
            )
            matched = [n for n in found if pattern.matches(n)]
            # The scan stops at limit+1 index entries: past it, unseen hosts may match.
            return matched[:limit], len(found) > limit
        found = await self._store.host_names_by_ip(str(pattern), limit + 1)
        return found[:limit], len(found) > limit

    async def _nameserver_items(self, request: SearchRequest) -> tuple[list[Item[object]], bool]:
        found, truncated = await self._host_names(request, self.settings.max_results)
        if isinstance(request.pattern, NamePattern) and request.pattern.exact:
            found = [h.host.name for h in await self._store.hosts(found)]
        return [Item((n,), n) for n in found], truncated

    # --- entities ---------------------------------------------------------------------------

    def _contact_hit(
        self,
        requester: Requester,
        record: ContactRecord,
        prop: str,
        pattern: TextPattern,
        *,
        reverse: bool,
        served: Sequence[Tld],
    ) -> ContactHit | None:
        view = view_contact_by_handle(
            record.contact,
            record.references,
            self.policy,
            requester,
            served=served,
            registrar_url=record.registrar_url or "",
        )
        if view is None:
            return None  # Security: not confirmed by handle, so not found by any search
        # The parts of the value the contact has (an address may lack a postal code), each of
        # which the requester must see.
        fields = [f for f in _FIELDS[prop] if has_value(record.contact, f)]
        if not fields or not all(view.shows(f) for f in fields):
            return None  # Security: the requester does not see the value: it never matches
        if any(f in view.disclosed for f in fields) and not self.policy.may_search(
            requester, prop, reverse=reverse
        ):
            return None  # seen only by authorization, and no search grant for it
        if not pattern.matches(_shown_value(record, prop)):
            return None
        return ContactHit(view, record.info)

    async def _contact_candidates(self, prop: str, pattern: TextPattern) -> list[ContactRecord]:
        return await self._store.contacts_window(
            prop, pattern.literal, self.settings.entity_window, self._reference_cap
        )

    async def _registrar_index(self) -> _Registrars:
        generation = self._store.info.generation
        cached = self._registrars
        if cached is not None and cached.generation == generation:
            return cached
        records = await self._store.registrars()
        by_name = sorted((patterns.fold(r.registrar.name), r.registrar.id, r) for r in records)
        by_handle = sorted((patterns.fold(registrar_handle(r)), r.registrar.id, r) for r in records)
        self._registrars = _Registrars(generation, tuple(by_name), tuple(by_handle))
        return self._registrars

    async def _registrar_candidates(self, prop: str, pattern: TextPattern) -> list[RegistrarRecord]:
        index = await self._registrar_index()
        rows = index.by_name if prop == "fn" else index.by_handle
        start = bisect.bisect_left(rows, (pattern.literal,))
        window = rows[start : start + self.settings.entity_window]
        return [r for key, _, r in window if pattern.matches(key)]

    def _entity_key(
        self, request: SearchRequest, hit: ContactHit | RegistrarRecord
    ) -> tuple[str, ...]:
        """Order by what the answer shows: a withheld value sorts as empty (never by itself)."""
        if isinstance(hit, RegistrarRecord):
            handle, fn = registrar_handle(hit), hit.registrar.name
        else:
            view = hit.view
            handle = view.contact.handle
            postal = view.contact.postal_info
            fn = postal.name if postal is not None and view.shows(Field.NAME) else ""
        if request.sort.prop == "fn":
            return (patterns.fold(fn), patterns.fold(handle), handle)
        return (patterns.fold(handle), handle)

    async def _entity_items(
        self, request: SearchRequest, requester: Requester
    ) -> list[Item[object]]:
        pattern = request.pattern
        assert isinstance(pattern, TextPattern)
        served = list((await self._store.tlds()).values())
        hits: list[ContactHit | RegistrarRecord] = []
        for record in await self._contact_candidates(request.prop, pattern):
            hit = self._contact_hit(
                requester, record, request.prop, pattern, reverse=False, served=served
            )
            if hit is not None:
                hits.append(hit)
        # Registrars are public (RFC 9083 §5.1 registrar entities): matched by name or handle.
        hits += await self._registrar_candidates(request.prop, pattern)
        return [Item(self._entity_key(request, h), h) for h in hits]

    # --- reverse search ---------------------------------------------------------------------

    async def _reverse_items(
        self, request: SearchRequest, requester: Requester
    ) -> tuple[list[Item[object]], bool]:
        pattern = request.pattern
        assert isinstance(pattern, TextPattern)
        served = list((await self._store.tlds()).values())
        handles = [
            record.contact.handle
            for record in await self._contact_candidates(request.prop, pattern)
            if self._contact_hit(
                requester, record, request.prop, pattern, reverse=True, served=served
            )
            is not None
        ]
        keys = (
            await self._store.domain_keys_by_contacts(
                handles, request.role, self.settings.max_results + 1
            )
            if handles
            else []
        )
        cut_keys, truncated = self._cut(keys)
        return self._domain_sorted(request, cut_keys), truncated


def _refusal(requester: Requester, prop: str) -> str:
    """Why a reverse search is refused (RFC 9536 §7: servers restrict reverse search)."""
    if requester.is_anonymous:
        return (
            "Reverse search links a person's registrations: it is open only to authorized "
            "requesters whose access policy allows it. Present a credential and a purpose."
        )
    return (
        f"Your access tier and purpose do not allow reverse search by {prop}; ask the registry "
        "which searches your credential may run."
    )
