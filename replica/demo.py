"""Deterministic synthetic demo registry: showcase objects plus N random domains.

Every value is invented (names from small word lists, `.example` mail domains, 555-01xx phone
numbers); nothing here describes a real person. The same seed and N always give the same
replica, byte for byte apart from SQLite page layout.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO, TypeVar

from registry import names
from registry.model import (
    Contact,
    ContactRole,
    CoopCategory,
    Domain,
    DsData,
    Host,
    PersonKind,
    PostalInfo,
    Registrar,
    Tld,
    TldKind,
)
from replica import rows, schema

_T = TypeVar("_T")

WATERMARK = dt.datetime(2026, 11, 22, 0, 0, 0, tzinfo=dt.UTC)
#: The demo data's revision, part of the `--demo` cache file name beside the schema version:
#: bumped whenever the generated registry changes, so an older cached demo is rebuilt.
#: 2: registrars' RDAP base URL relative to the serving host.
REVISION = 2
#: The demo registrars' RDAP base URL: relative, so resolved against the public base URL.
REGISTRAR_RDAP_BASE = "./"
_BASE = dt.datetime(1998, 1, 1, tzinfo=dt.UTC)

TLDS: tuple[Tld, ...] = (
    Tld("coop", TldKind.SPONSORED, "coop", "COOP"),
    Tld("org", TldKind.GTLD, "org", "ORG"),
    Tld("cx", TldKind.CCTLD, "cx", "CX"),
    Tld("gs", TldKind.CCTLD, "gs", "GS"),
    Tld("xn--mgbtx2b", TldKind.CCTLD, "iq", "IQ"),
)
_SUFFIX = {t.name: t.roid_suffix for t in TLDS}
_UTLD = {t.name: names.to_unicode(t.name) for t in TLDS}

_FIRST = [
    "Alex",
    "Ana",
    "Ben",
    "Carla",
    "Dara",
    "Eli",
    "Femi",
    "Gita",
    "Hana",
    "Ivo",
    "Jun",
    "Kai",
    "Lena",
    "Milo",
    "Nia",
    "Omar",
    "Pia",
    "Quin",
    "Rosa",
    "Sami",
    "Tara",
    "Uma",
    "Vik",
    "Wren",
    "Xena",
    "Yuri",
    "Zoe",
]
_LAST = [
    "Ashdown",
    "Birchley",
    "Calder",
    "Dunmore",
    "Elford",
    "Fenwick",
    "Garside",
    "Hollins",
    "Ingleby",
    "Jessop",
    "Kettle",
    "Lindqvist",
    "Marlow",
    "Norcott",
    "Oakes",
    "Pellow",
    "Quarry",
    "Rendall",
    "Stott",
    "Thornby",
    "Underhill",
    "Varley",
    "Whitlock",
    "Yardley",
]
_CITIES = (
    ("Northbridge", "NB", "GB"),
    ("Lakeside", "ON", "CA"),
    ("Riverton", "WA", "US"),
    ("Fairhaven", "MA", "US"),
    ("Kestrel Bay", "NSW", "AU"),
    ("Altstadt", "BY", "DE"),
    ("Marisol", "Valencia", "ES"),
    ("Port Ember", "Christmas Island", "CX"),
    ("Grytviken", None, "GS"),
    ("Bellmont", "VD", "CH"),
)
_WORDS = [
    "acorn",
    "amber",
    "anchor",
    "apple",
    "arbor",
    "aspen",
    "atlas",
    "beacon",
    "birch",
    "bloom",
    "brook",
    "canyon",
    "cedar",
    "clover",
    "coast",
    "comet",
    "coral",
    "crest",
    "delta",
    "dune",
    "ember",
    "fable",
    "fern",
    "field",
    "fjord",
    "flint",
    "forge",
    "glade",
    "grove",
    "harbor",
    "hazel",
    "heron",
    "island",
    "ivy",
    "juniper",
    "kelp",
    "lagoon",
    "lark",
    "laurel",
    "linden",
    "lotus",
    "maple",
    "marsh",
    "meadow",
    "mesa",
    "mill",
    "moss",
    "nova",
    "oak",
    "orchid",
    "otter",
    "pebble",
    "pine",
    "prairie",
    "quartz",
    "quill",
    "raven",
    "reed",
    "ridge",
    "river",
    "sage",
    "shore",
    "sparrow",
    "spruce",
    "stone",
    "summit",
    "thistle",
    "tide",
    "timber",
    "vale",
    "willow",
    "wren",
]
_IDN_WORDS = ("café", "straße", "ñandú", "über", "façade", "œuvre", "smörgås", "ålesund")
_AR_WORDS = ("بيت", "نور", "سوق", "مكتبة", "حديقة", "جسر", "نخلة", "قمر")
_AR_NAMES = ("سارة", "علي", "ليلى", "يوسف", "مريم", "حسن")
_AR_FAMILY = ("الحديدي", "البستاني", "النجار", "الصباغ")


@dataclass(slots=True)
class DemoData:
    """Everything the generator produced for one batch (the showcase set, or a chunk)."""

    registrars: list[Registrar] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    hosts: list[Host] = field(default_factory=list)
    domains: list[Domain] = field(default_factory=list)


def _pick(rng: random.Random, seq: Sequence[_T]) -> _T:
    # One random() draw: several times cheaper than randrange on the 1M-domain path.
    return seq[int(rng.random() * len(seq))]


def _phone(rng: random.Random) -> str:
    # 555-0100..0199 is reserved for fiction in the North American numbering plan.
    return f"+1.55501{rng.randrange(100):02d}{rng.randrange(1000):03d}"


def _public_v4(rng: random.Random) -> str:
    while True:
        addr = ipaddress.IPv4Address(rng.randrange(0x05000000, 0xDF000000))
        if addr.is_global and not addr.is_multicast:
            return str(addr)


def _public_v6(rng: random.Random) -> str:
    while True:
        addr = ipaddress.IPv6Address((0x2A0F << 112) | rng.getrandbits(100))
        if addr.is_global:
            return str(addr)


def registrars() -> list[Registrar]:
    """The demo registrars: gTLD-accredited ones with IANA ids, and two ccTLD-only ones."""
    brands = [
        ("Alder Registrar Ltd", "alder-registrar"),
        ("Bramble Names Inc", "bramble-names"),
        ("Cobalt Domains LLC", "cobalt-domains"),
        ("Driftwood Registry Services", "driftwood-rs"),
        ("Elmstead Hosting Co", "elmstead"),
        ("Foxglove Internet AG", "foxglove"),
        ("Granite Web Oy", "granite-web"),
        ("Harbour Names Pty", "harbour-names"),
        ("Islay Net SARL", "islay-net"),
        ("Juniper Domains BV", "juniper-domains"),
    ]
    out = []
    for i, (name, slug) in enumerate(brands):
        iana = 9100 + i
        out.append(
            Registrar(
                id=f"R{iana}",
                name=name,
                iana_id=iana,
                street=(f"{10 + i} Registrar Row",),
                city=_CITIES[i % len(_CITIES)][0],
                sp=_CITIES[i % len(_CITIES)][1],
                pc=f"{10000 + i * 7}",
                cc=_CITIES[i % len(_CITIES)][2],
                voice=f"+1.55501{i:02d}000",
                email=f"info@{slug}.example",
                url=f"https://www.{slug}.example",
                whois_server=f"whois.{slug}.example",
                abuse_email=f"abuse@{slug}.example",
                abuse_phone=f"+1.55501{i:02d}999",
                created=_BASE + dt.timedelta(days=30 * i),
                # Relative: "this server" (`RenderContext.registrar_base`). The ICANN gTLD
                # profile wants a `related` link to the registrar's RDAP record on every gTLD
                # domain answer; an invented registrar host would not answer the clients that
                # follow links, so the demo's registrars are served by the server itself.
                rdap_base_url=REGISTRAR_RDAP_BASE,
            )
        )
    for j, (name, slug, cc) in enumerate(
        (("Island Names Registry Partner", "island-names", "CX"), ("Polar Domains", "polar", "GS"))
    ):
        out.append(
            Registrar(
                id=f"{cc}R{j + 1}",
                name=name,
                iana_id=None,
                street=(f"{j + 1} Harbour Road",),
                city="Flying Fish Cove" if cc == "CX" else "Grytviken",
                cc=cc,
                voice=f"+61.55501{j:02d}777",
                email=f"info@{slug}.example",
                url=f"https://www.{slug}.example",
                whois_server=f"whois.{slug}.example",
                abuse_email=f"abuse@{slug}.example",
                abuse_phone=f"+61.55501{j:02d}888",
                created=_BASE + dt.timedelta(days=400 + j),
            )
        )
    return out


def _role_contact(reg: Registrar) -> Contact:
    """A registrar's technical role account: a legal person, no personal data."""
    return Contact(
        handle=f"{reg.id}-TECH",
        roid=f"{reg.id}TECH-ROID",
        postal=(
            PostalInfo(
                "int",
                "Hostmaster",
                org=reg.name,
                street=reg.street,
                city=reg.city,
                sp=reg.sp,
                pc=reg.pc,
                cc=reg.cc,
            ),
        ),
        email=f"hostmaster@{(reg.url or '').removeprefix('https://www.')}",
        voice=reg.voice,
        kind=PersonKind.LEGAL,
        verified=True,
        # A role account: its name and address are the registrar's, published by consent.
        disclose_yes=frozenset({"name", "email"}),
        registrar=reg.id,
        created=reg.created,
    )


def _shared_hosts(regs: list[Registrar]) -> list[Host]:
    """Each registrar's hosting nameservers: out-of-zone, so no glue."""
    out = []
    for reg in regs:
        slug = (reg.url or "").removeprefix("https://www.")
        for k in (1, 2):
            out.append(
                Host(
                    name=f"ns{k}.dns.{slug}",
                    roid=f"H{reg.id}{k}-ROID",
                    registrar=reg.id,
                    created=reg.created,
                )
            )
    return out


def _utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)


#: Each showcase domain's (created, last updated, expires), plausible for its status and
#: distinct from the others': created and updated before the watermark (2026-11-22), expiry
#: after it except where the status says otherwise. Its registrant was created with it.
_SC_DATES: dict[str, tuple[dt.datetime, dt.datetime, dt.datetime]] = {
    "example.coop": (
        _utc(2019, 3, 14, 9, 26, 53),
        _utc(2026, 6, 1, 12),
        _utc(2027, 3, 14, 9, 26, 53),
    ),
    "unverified.coop": (
        _utc(2021, 8, 9, 14, 3, 11),
        _utc(2025, 8, 10, 8, 30, 45),
        _utc(2027, 8, 9, 14, 3, 11),
    ),
    "example.org": (
        _utc(2012, 5, 21, 16, 40, 2),
        _utc(2026, 5, 22, 7, 12, 9),
        _utc(2027, 5, 21, 16, 40, 2),
    ),
    # Renewed for a year two months ago.
    "consent.org": (
        _utc(2016, 10, 3, 11, 22, 33),
        _utc(2026, 9, 28, 9),
        _utc(2027, 10, 3, 11, 22, 33),
    ),
    # Registered for five years.
    "journalist.org": (_utc(2023, 1, 17, 19, 45), _utc(2025, 1, 18, 8), _utc(2028, 1, 17, 19, 45)),
    # Put on serverHold for the acceptable-use suspension three weeks ago.
    "suspended.cx": (_utc(2024, 3, 1, 12), _utc(2026, 11, 3, 15, 27, 40), _utc(2027, 3, 1, 12)),
    # Expired on 21 September; deleted 45 days later, when the auto-renew grace period ended,
    # which started the 30-day redemption period (RFC 3915 §2): 17 days of it are gone at
    # the watermark. The last update is the delete.
    "pending.gs": (
        _utc(2018, 9, 21, 8, 5, 31),
        _utc(2026, 11, 5, 8, 5, 31),
        _utc(2026, 9, 21, 8, 5, 31),
    ),
    "xn--mgbh0fb.xn--mgbtx2b": (
        _utc(2020, 11, 30, 6, 30),
        _utc(2026, 1, 12, 10, 10, 10),
        _utc(2027, 11, 30, 6, 30),
    ),
}


def showcase(regs: list[Registrar]) -> DemoData:
    """The fixed objects docs and tests rely on; present whatever N is."""
    alder, bramble = regs[0], regs[1]
    cx_reg = next(r for r in regs if r.id == "CXR1")
    gs_reg = next(r for r in regs if r.id == "GSR2")
    return DemoData(
        contacts=_showcase_contacts(alder, cx_reg, gs_reg),
        hosts=_showcase_hosts(alder),
        domains=_showcase_domains(alder, bramble, cx_reg, gs_reg),
    )


def _person(
    handle: str,
    name: str,
    city: tuple[str, str | None, str],
    registrar: Registrar,
    domain: str,
    *,
    org: str | None = None,
) -> Contact:
    """`domain`'s registrant with the usual details; callers `replace` what differs."""
    created, updated, _ = _SC_DATES[domain]
    postal = [
        PostalInfo(
            "int",
            name,
            org=org,
            street=(f"{len(handle) * 7} Example Lane", "Unit 2"),
            city=city[0],
            sp=city[1],
            pc="EX1 2MP" if city[2] == "GB" else "55501",
            cc=city[2],
        )
    ]
    return Contact(
        handle=handle,
        roid=f"{handle.replace('-', '')}-ROID",
        postal=tuple(postal),
        email=f"{handle.lower()}@mail.example",
        voice="+1.5550100123",
        voice_ext="42",
        fax="+1.5550100199",
        registrar=registrar.id,
        created=created,
        updated=updated,
    )


def _showcase_contacts(alder: Registrar, cx_reg: Registrar, gs_reg: Registrar) -> list[Contact]:
    legal = PersonKind.LEGAL
    return [
        replace(
            _person(
                "EXCOOP-1",
                "Membership Office",
                _CITIES[0],
                alder,
                "example.coop",
                org="Example Cooperative Ltd",
            ),
            kind=legal,
            verified=True,
            email="members@example-cooperative.example",
        ),
        replace(
            _person(
                "UNVCOOP-1",
                "Service Desk",
                _CITIES[1],
                alder,
                "unverified.coop",
                org="Cooperative Services Unverified Inc",
            ),
            kind=legal,
            verified=False,
        ),
        _person("EXORG-1", "Dara Ashdown", _CITIES[2], alder, "example.org"),
        replace(
            _person("CONSENT-1", "Lena Birchley", _CITIES[3], alder, "consent.org"),
            disclose_yes=frozenset({"name", "email"}),
            email="lena.birchley@mail.example",
        ),
        replace(
            _person("JOURNO-1", "Sami Calder", _CITIES[5], alder, "journalist.org"), at_risk=True
        ),
        _person("SUSP-1", "Omar Dunmore", _CITIES[7], cx_reg, "suspended.cx"),
        # Deleting the domain did not touch its registrant.
        replace(
            _person("PEND-1", "Pia Elford", _CITIES[8], gs_reg, "pending.gs"),
            updated=_utc(2024, 4, 2, 10),
        ),
        # One (invented) address twice: `loc` in Arabic script, `int` its ASCII form.
        replace(
            _person("IDNIQ-1", "Sara Alhadidi", _CITIES[9], alder, "xn--mgbh0fb.xn--mgbtx2b"),
            postal=(
                PostalInfo(
                    "int",
                    "Sara Alhadidi",
                    street=("7 Al-Mithal Street",),
                    city="Madinat al-Mithal",
                    pc="10001",
                    cc="IQ",
                ),
                PostalInfo(
                    "loc",
                    "سارة الحديدي",
                    street=("شارع المثال ٧",),
                    city="مدينة المثال",
                    pc="10001",
                    cc="IQ",
                ),
            ),
            email="sara@mail.example",
        ),
    ]


def _showcase_hosts(alder: Registrar) -> list[Host]:
    """example.coop's own nameservers, in-bailiwick with glue."""
    return [
        Host(
            name="ns1.example.coop",
            roid="HEXCOOP1-COOP",
            v4=("45.142.220.11",),
            v6=("2a0f:9400:7e11::53",),
            registrar=alder.id,
            created=_SC_DATES["example.coop"][0],
            statuses=("linked",),
        ),
        Host(
            name="ns2.example.coop",
            roid="HEXCOOP2-COOP",
            v4=("45.142.221.12",),
            registrar=alder.id,
            created=_SC_DATES["example.coop"][0],
            statuses=("linked",),
        ),
    ]


def _showcase_domains(
    alder: Registrar, bramble: Registrar, cx_reg: Registrar, gs_reg: Registrar
) -> list[Domain]:
    shared = (f"ns1.dns.{(alder.url or '')[12:]}", f"ns2.dns.{(alder.url or '')[12:]}")

    def dom(name: str, roid: str, registrant: str, reg: Registrar) -> Domain:
        """A showcase domain: the registrar's technical contact, Alder's hosting servers."""
        n = names.from_text(name)
        created, updated, expires = _SC_DATES[n.ldh]
        return Domain(
            name=n.ldh,
            roid=f"SC{roid}-{_SUFFIX[n.tld]}",
            tld=n.tld,
            statuses=("clientTransferProhibited",),
            registrar=reg.id,
            created=created,
            unicode_name=n.unicode if n.is_idn else None,
            registrant=registrant,
            contacts=((ContactRole.TECH, f"{reg.id}-TECH"),),
            nameservers=shared,
            expires=expires,
            updated=updated,
        )

    return [
        replace(
            dom("example.coop", "D1001", "EXCOOP-1", alder),
            nameservers=("ns1.example.coop", "ns2.example.coop"),
            ds_data=(DsData(2371, 13, 2, "4F3C2B1A" * 8),),
            coop_category=CoopCategory.COOP,
            coop_certified=True,
            contacts=((ContactRole.ADMIN, "EXCOOP-1"), (ContactRole.TECH, f"{alder.id}-TECH")),
        ),
        replace(
            dom("unverified.coop", "D1002", "UNVCOOP-1", bramble),
            coop_category=CoopCategory.CS,
            coop_certified=True,
        ),
        dom("example.org", "D1003", "EXORG-1", alder),
        dom("consent.org", "D1004", "CONSENT-1", alder),
        dom("journalist.org", "D1005", "JOURNO-1", alder),
        replace(
            dom("suspended.cx", "D1006", "SUSP-1", cx_reg),
            statuses=("serverHold", "clientTransferProhibited"),
            suspension_reason="acceptable-use",
        ),
        replace(
            dom("pending.gs", "D1007", "PEND-1", gs_reg),
            statuses=("pendingDelete", "serverHold"),
            rgp_statuses=("redemptionPeriod",),
        ),
        replace(dom("مثال.عراق", "D1008", "IDNIQ-1", alder), idn_table="ar"),
    ]


def _random_batch(
    rng: random.Random, start: int, count: int, regs: list[Registrar], hosts: list[Host]
) -> DemoData:
    """Random domains start..start+count-1, each with its own registrant."""
    out = DemoData()
    gtld_regs = [r for r in regs if r.iana_id is not None]
    cc_regs = {r.cc: r for r in regs if r.iana_id is None}
    reg_index = {r.id: n for n, r in enumerate(regs)}
    tld_pick = ["org"] * 9 + ["coop"] * 3 + ["cx"] * 3 + ["gs"] * 3 + ["xn--mgbtx2b"] * 2
    for i in range(start, start + count):
        tld = _pick(rng, tld_pick)
        if tld in ("cx", "gs") and rng.random() < 0.5:
            reg = cc_regs[tld.upper()]
        else:
            reg = gtld_regs[rng.randrange(len(gtld_regs))]
        roll = rng.random()
        if tld == "xn--mgbtx2b" and roll < 0.6:
            label = f"{_pick(rng, _AR_WORDS)}{i}"
        elif roll < 0.04:
            label = f"{_pick(rng, _IDN_WORDS)}{i}"
        else:
            label = f"{_pick(rng, _WORDS)}{_pick(rng, _WORDS)}{i}"
        if label.isascii():  # fast path: already a lower-case LDH label
            n = names.Name(f"{label}.{tld}", f"{label}.{_UTLD[tld]}")
        else:
            n = names.from_text(f"{label}.{tld}")
        created = _BASE + dt.timedelta(seconds=rng.randrange(900_000_000))
        years = max(1, (WATERMARK - created).days // 365 + rng.randrange(1, 4))
        expires = created + dt.timedelta(days=365 * years)
        updated = created + dt.timedelta(
            seconds=rng.randrange(max(1, int((WATERMARK - created).total_seconds())))
        )
        # Registrant: mostly natural persons; some organisations (half verified).
        city = _pick(rng, _CITIES)
        legal = rng.random() < 0.3
        first, last = _pick(rng, _FIRST), _pick(rng, _LAST)
        handle = f"C{i}-{_SUFFIX[tld]}"
        consent_roll = rng.random()
        disclose_yes: frozenset[str] = frozenset()
        if consent_roll < 0.05:
            disclose_yes = frozenset({"name", "email"})
        elif consent_roll < 0.08:
            disclose_yes = frozenset({"name", "org", "addr", "voice", "email"})
        postal = [
            PostalInfo(
                "int",
                "Domain Manager" if legal else f"{first} {last}",
                org=f"{last} {_pick(rng, _WORDS).title()} Ltd" if legal else None,
                street=(f"{rng.randrange(1, 999)} {_pick(rng, _WORDS).title()} Street",),
                city=city[0],
                sp=city[1],
                pc=f"{rng.randrange(10000, 99999)}",
                cc=city[2],
            )
        ]
        if tld == "xn--mgbtx2b":
            postal.append(
                PostalInfo(
                    "loc",
                    f"{_pick(rng, _AR_NAMES)} {_pick(rng, _AR_FAMILY)}",
                    street=(f"شارع {_pick(rng, _AR_WORDS)}",),
                    city="البصرة",
                    cc="IQ",
                )
            )
        has_fax = rng.random() < 0.1
        out.contacts.append(
            Contact(
                handle=handle,
                roid=f"C{i}-{_SUFFIX[tld]}",
                postal=tuple(postal),
                email=f"{first.lower()}.{last.lower()}{i}@mail.example",
                voice=_phone(rng),
                fax=_phone(rng) if has_fax else None,
                kind=PersonKind.LEGAL if legal else PersonKind.NATURAL,
                at_risk=(not legal) and rng.random() < 0.005,
                verified=legal and rng.random() < 0.5,
                disclose_yes=disclose_yes,
                registrar=reg.id,
                created=created,
            )
        )
        # Lifecycle and statuses.
        statuses: tuple[str, ...] = ("ok",)
        rgp: tuple[str, ...] = ()
        suspension = None
        s = rng.random()
        if s < 0.01:
            statuses, rgp = ("pendingDelete", "serverHold"), ("redemptionPeriod",)
        elif s < 0.02 and tld in ("cx", "gs", "xn--mgbtx2b"):
            statuses, suspension = ("serverHold",), "acceptable-use"
        elif s < 0.5:
            statuses = ("clientTransferProhibited",)
        elif s < 0.55:
            statuses = (
                "clientDeleteProhibited",
                "clientTransferProhibited",
                "clientUpdateProhibited",
            )
        if (WATERMARK - created).days < 5 and statuses == ("ok",):
            rgp = ("addPeriod",)
        # Nameservers: the registrar's hosting servers, or in-bailiwick with glue.
        g = rng.random()
        ns: tuple[str, ...]
        if g < 0.08:
            ns = (f"ns1.{n.ldh}", f"ns2.{n.ldh}")
            for k, host in enumerate(ns):
                out.hosts.append(
                    Host(
                        name=host,
                        roid=f"H{i}{k}-{_SUFFIX[tld]}",
                        v4=(_public_v4(rng),),
                        v6=(_public_v6(rng),) if rng.random() < 0.5 else (),
                        registrar=reg.id,
                        created=created,
                        statuses=("linked",),
                    )
                )
        elif g < 0.97:
            k = reg_index[reg.id] * 2
            ns = (hosts[k % len(hosts)].name, hosts[(k + 1) % len(hosts)].name)
        else:
            ns = ()
            if statuses == ("ok",):
                statuses = ("inactive",)
        ds: tuple[DsData, ...] = ()
        if rng.random() < 0.1:
            ds = (DsData(rng.randrange(1, 65535), 13, 2, f"{rng.getrandbits(256):064X}"),)
        contacts: list[tuple[ContactRole, str]] = [(ContactRole.TECH, f"{reg.id}-TECH")]
        if rng.random() < 0.2:
            contacts.insert(0, (ContactRole.ADMIN, handle))
        category, certified = None, None
        if tld == "coop":
            category = (CoopCategory.COOP, CoopCategory.CA, CoopCategory.CC, CoopCategory.CS)[
                rng.randrange(4)
            ]
            certified = rng.random() < 0.9
        out.domains.append(
            Domain(
                name=n.ldh,
                roid=f"D{i}-{_SUFFIX[tld]}",
                tld=tld,
                statuses=statuses,
                registrar=reg.id,
                created=created,
                unicode_name=n.unicode if n.is_idn else None,
                rgp_statuses=rgp,
                registrant=handle,
                contacts=tuple(contacts),
                nameservers=ns,
                expires=expires,
                updated=updated,
                ds_data=ds,
                coop_category=category,
                coop_certified=certified,
                suspension_reason=suspension,
            )
        )
    return out


def generate(n_domains: int, seed: int = 1, chunk: int = 20_000) -> Iterator[tuple[DemoData, int]]:
    """Yield the registry in batches: (batch, domains produced so far). The first batch holds
    the TLD-independent objects (registrars, role contacts, shared hosts) and the showcase."""
    rng = random.Random(seed)
    regs = registrars()
    hosts = _shared_hosts(regs)
    first = showcase(regs)
    first.registrars = regs
    first.hosts = hosts + first.hosts
    first.contacts += [_role_contact(r) for r in regs]
    done = len(first.domains)
    yield first, done
    i = 1
    while done < n_domains:
        count = min(chunk, n_domains - done)
        yield _random_batch(rng, i, count, regs, hosts), done + count
        i += count
        done += count


def write(
    out: Path,
    n_domains: int = 2_000,
    seed: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Build the demo replica at `out` atomically: a temporary file, then a rename."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp, isolation_level=None)
    try:
        # A private temporary file: durability comes from the final fsync + rename.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -262144")
        schema.create(conn)  # executescript commits: create before the write transaction
        conn.execute("BEGIN")
        conn.executemany(rows.UPSERT_TLD, [rows.tld_row(t) for t in TLDS])
        for batch, done in generate(n_domains, seed):
            rows.write_registrars(conn, batch.registrars)
            rows.write_contacts(conn, batch.contacts)
            for h in batch.hosts:
                rows.write_host(conn, h)
            conn.executemany(rows.UPSERT_DOMAIN, [rows.domain_row(d) for d in batch.domains])
            conn.executemany(
                "INSERT INTO domain_contact VALUES (?, ?, ?)",
                [
                    (d.name, role.value, handle)
                    for d in batch.domains
                    for role, handle in d.contacts
                ],
            )
            conn.executemany(
                "INSERT INTO domain_ns VALUES (?, ?, ?, NULL)",
                [(d.name, ns, pos) for d in batch.domains for pos, ns in enumerate(d.nameservers)],
            )
            conn.executemany(
                "INSERT INTO domain_ds VALUES (?, ?, ?, ?, ?)",
                [
                    (d.name, s.key_tag, s.algorithm, s.digest_type, s.digest)
                    for d in batch.domains
                    for s in d.ds_data
                ],
            )
            if progress is not None:
                progress(done, n_domains)
        schema.bump_generation(conn, WATERMARK)
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('source', ?)",
            (f"demo n={n_domains} seed={seed}",),
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")  # readers and the importer coexist
        conn.execute("ANALYZE")
    except BaseException:
        conn.close()
        tmp.unlink(missing_ok=True)
        raise
    conn.close()
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, out)


class TerminalProgress:
    """A one-line progress bar on a terminal; silent otherwise."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream: TextIO = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        frac = done / total if total else 1.0
        bar = "#" * int(frac * 30)
        elapsed = time.monotonic() - self.start
        self.stream.write(f"\r[{bar:<30}] {done:>9,}/{total:,} domains  {elapsed:5.1f}s")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()
