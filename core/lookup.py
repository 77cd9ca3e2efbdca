"""The lookup core both front-ends share: find an object in the replica, redact it once.

RDAP and WHOIS call these same functions with the same requester value, so they cannot
disagree about what exists or about what is withheld. Front-ends ask this object about the
replica (generation, watermark, served TLDs); they never reach into the store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from redaction.engine import ContactView, RedactedDomain, redact_domain, view_contact_by_handle
from redaction.policy import Policy, Requester
from registry import names
from registry.errors import NotFound
from registry.model import HostRecord, RegistrarRecord, ReplicaInfo, Tld, parse_iana_id
from replica.store import REFERENCE_CAP, Store


@dataclass(frozen=True, slots=True)
class ContactResult:
    """A contact found by handle, redacted for the requester."""

    view: ContactView
    info: ReplicaInfo


class Lookup:
    """Point lookups over a store, redacted under a policy."""

    def __init__(self, store: Store, policy: Policy, *, reference_cap: int = REFERENCE_CAP) -> None:
        self._store = store
        self.policy = policy
        self._reference_cap = reference_cap

    # --- the replica, as front-ends need to know it ----------------------------------------

    @property
    def generation(self) -> int:
        """The replica generation answers are computed from (caches key on it)."""
        return self._store.info.generation

    @property
    def watermark(self) -> dt.datetime:
        """The replica's data time (the last applied deposit's watermark)."""
        return self._store.info.watermark

    async def tlds(self) -> dict[str, Tld]:
        """The served TLDs by A-label."""
        return await self._store.tlds()

    async def icann_deployment(self) -> bool:
        """True when at least one served TLD follows the ICANN RDAP profile."""
        return any(t.kind.icann_profile for t in (await self._store.tlds()).values())

    async def refresh(self) -> bool:
        """Pick up a new replica generation; True when the generation changed."""
        return await self._store.refresh()

    # --- lookups ---------------------------------------------------------------------------

    async def served_tld(self, name: names.Name) -> Tld | None:
        """The served TLD a name falls under, if any."""
        return (await self._store.tlds()).get(name.tld)

    async def domain(self, name: names.Name, requester: Requester) -> RedactedDomain:
        """A registered domain, redacted; NotFound outside the served TLDs or when absent."""
        tld = await self.served_tld(name)
        # A domain of this registry is exactly one label under a served TLD; anything else
        # (the TLD itself, a third-level name, another TLD) is not ours: 404.
        if tld is None or len(name.labels) != 2:
            raise NotFound()
        record = await self._store.domain(name.ldh)
        if record is None:
            raise NotFound()
        return redact_domain(record, requester, self.policy)

    async def nameserver(self, name: names.Name) -> HostRecord:
        """A host object by name."""
        record = await self._store.host(name.ldh)
        if record is None:
            raise NotFound()
        return record

    async def nameservers_by_ip(self, ip: str) -> list[HostRecord]:
        """Host objects with this address; NotFound when none."""
        found = await self._store.hosts_by_ip(ip)
        if not found:
            raise NotFound()
        return found

    async def registrar(self, key: str) -> RegistrarRecord:
        """A registrar by IANA id, registry id, or exact name (case-insensitive)."""
        iana = parse_iana_id(key)
        if iana is not None:
            found = await self._store.registrar_by_iana(iana)
            if found is not None:
                return found
        by_id = await self._store.registrar_by_id(key)
        if by_id is not None:
            return by_id
        by_name = await self._store.registrars_by_name(key)
        if len(by_name) == 1:
            return by_name[0]
        raise NotFound()

    async def contact(self, handle: str, requester: Requester) -> ContactResult:
        """A contact by handle, decided under every referencing domain's context at once
        (`view_contact_by_handle`); NotFound when absent, and NotFound too when the requester
        may not learn that the handle exists."""
        record = await self._store.contact(handle, self._reference_cap)
        if record is None:
            raise NotFound()
        view = view_contact_by_handle(
            record.contact,
            record.references,
            self.policy,
            requester,
            served=(await self._store.tlds()).values(),
            registrar_url=record.registrar_url or "",
        )
        if view is None:
            # Security: the same error as for a handle that does not exist.
            raise NotFound()
        return ContactResult(view=view, info=record.info)
