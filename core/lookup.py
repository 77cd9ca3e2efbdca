"""The lookup core both front-ends share: find an object in the replica, redact it once.

RDAP and WHOIS call these same functions with the same requester value, so they cannot
disagree about what exists or about what is withheld. Front-ends ask this object about the
replica (generation, watermark, served TLDs); they never reach into the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

from redaction.engine import ContactView, RedactedDomain, redact_domain, view_contact_by_handle
from redaction.policy import Policy, Requester
from registry import names
from registry.errors import NotFound
from registry.model import HostRecord, RegistrarRecord, ReplicaInfo, Tld, parse_iana_id
from replica import answers as stored
from replica.answers import AnswerKind, AnswerMeta
from replica.store import REFERENCE_CAP, Store


@dataclass(frozen=True, slots=True)
class Precomputed:
    """A stored anonymous domain answer (`replica.answers`) made under this server's
    configuration, its base URL origin already this server's: `body(watermark)` gives the
    bytes to send."""

    data: bytes
    #: Extra response headers (RDAP: the .coop flags); none for port 43.
    headers: tuple[tuple[str, str], ...]
    sentinel: bytes
    watermark: dt.datetime
    #: What stands in the body for the request URL (links' `value`), to be split out.
    request_url: str = stored.REQUEST_MARKER

    def body(self, watermark: str) -> bytes:
        """The answer with the replica's watermark spelled in (`watermark`, as the
        front-end's renderer spells dates: plain ASCII)."""
        return self.data.replace(self.sentinel, watermark.encode("ascii"))


@dataclass(frozen=True, slots=True)
class StoredRead:
    """A stored answer's read under way (`Lookup.precomputed_soon`)."""

    meta: AnswerMeta
    kind: AnswerKind
    future: asyncio.Future[bytes | None]


_MARKER_ORIGIN = stored.MARKER_ORIGIN.encode("ascii")

log = logging.getLogger("rdds.lookup")


@dataclass(frozen=True, slots=True)
class ContactResult:
    """A contact found by handle, redacted for the requester."""

    view: ContactView
    info: ReplicaInfo


class Lookup:
    """Point lookups over a store, redacted under a policy."""

    def __init__(
        self,
        store: Store,
        policy: Policy,
        *,
        reference_cap: int = REFERENCE_CAP,
        answers_digest: str | None = None,
        answers_origin: str = "",
    ) -> None:
        self._store = store
        self.policy = policy
        self._reference_cap = reference_cap
        #: The digest of this server's rendering configuration (`rdds.answers.digest`):
        #: stored answers made under any other are never used. None: never use them.
        self.answers_digest = answers_digest
        #: This server's base URL origin (scheme://host[:port]), spliced into stored answers.
        self._origin = answers_origin.encode("ascii")

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

    def precomputed_ready(self) -> bool:
        """Whether the replica's stored answers were made under this configuration."""
        meta = self._store.answers
        return meta is not None and meta.digest == self.answers_digest

    async def precomputed(self, name: names.Name, kind: AnswerKind) -> Precomputed | None:
        """The stored anonymous answer of `kind` for a domain, when the replica has one made
        under this configuration; None otherwise (then `domain` answers, as always). Only
        for the anonymous requester: the stored answers are the anonymous view."""
        reading = self.precomputed_soon(name, kind)
        if reading is None:
            return None
        with contextlib.suppress(Exception):
            await reading.future  # its outcome, exceptions too, is `precomputed_done`'s
        return self.precomputed_done(reading)

    def precomputed_soon(self, name: names.Name, kind: AnswerKind) -> StoredRead | None:
        """`precomputed` started now, from synchronous code (`rdap.hits` answers from a
        request's bytes): the read under way, for `precomputed_done` once its future is done;
        None when no stored answer can answer (not made under this configuration, not a
        domain of this registry)."""
        meta = self._store.answers
        if meta is None or meta.digest != self.answers_digest:
            return None
        if name.tld not in self._store.served or len(name.labels) != 2:
            return None  # not ours: `domain` says 404
        future = self._store.answer_soon(name.ldh, kind)
        return None if future is None else StoredRead(meta, kind, future)

    def precomputed_done(self, reading: StoredRead) -> Precomputed | None:
        """The answer a finished `precomputed_soon` read (see `precomputed`); raises what the
        read raised (ReplicaError), but a damaged row is rendered instead."""
        meta = reading.meta
        try:
            data = reading.future.result()
            if (
                data is None
                or self._store.answers is not meta
                or meta.digest != self.answers_digest
            ):
                # Gone, or the configuration changed (a reload) or the replica's answers were
                # rebuilt while we read: the caller renders (and caches) under what holds now.
                return None
            headers: tuple[tuple[str, str], ...] = ()
            if reading.kind == "rdap":
                headers, data = stored.split_rdap(data)
        except stored.Damaged:
            # A damaged row: the lookup renders instead (`rdds answers --rebuild` repairs it).
            log.warning("a stored answer could not be read: rendering it instead")
            return None
        watermark = self._store.info.watermark
        sentinel = meta.sentinel.encode("ascii")
        return Precomputed(data.replace(_MARKER_ORIGIN, self._origin), headers, sentinel, watermark)

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
