"""Model -> replica row encoders and the upsert/delete statements every writer uses.

The demo generator and the escrow importer both write through these, so the reader in
`replica.store` sees the same encoding whichever produced the file.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from registry import patterns
from registry.model import Contact, ContactRole, Domain, Host, Registrar, Tld
from replica.schema import fold, format_time


def _t(value: dt.datetime | None) -> str | None:
    return format_time(value) if value is not None else None


def tld_row(t: Tld) -> tuple[Any, ...]:
    return (t.name, t.kind.value, t.policy, t.roid_suffix, int(t.disclose_default))


#: Written by every deposit: a row that does not change is not written again, so the stored
#: answers' triggers (`replica.schema`) only see a TLD that really changed.
UPSERT_TLD = (
    "INSERT INTO tld VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
    "kind = excluded.kind, policy = excluded.policy, roid_suffix = excluded.roid_suffix, "
    "disclose_default = excluded.disclose_default "
    "WHERE (kind, policy, roid_suffix, disclose_default) IS NOT "
    "(excluded.kind, excluded.policy, excluded.roid_suffix, excluded.disclose_default)"
)


def registrar_row(r: Registrar) -> tuple[Any, ...]:
    return (
        r.id,
        r.name,
        r.iana_id,
        r.status,
        json.dumps(list(r.street), ensure_ascii=False),
        r.city,
        r.sp,
        r.pc,
        r.cc,
        r.voice,
        r.fax,
        r.email,
        r.url,
        r.whois_server,
        r.abuse_email,
        r.abuse_phone,
        _t(r.created),
        _t(r.updated),
        r.rdap_base_url,
    )


UPSERT_REGISTRAR = "INSERT OR REPLACE INTO registrar VALUES (" + ", ".join("?" * 19) + ")"


def contact_row(c: Contact) -> tuple[Any, ...]:
    postal = [
        {
            "type": p.type,
            "name": p.name,
            "org": p.org,
            "street": list(p.street),
            "city": p.city,
            "sp": p.sp,
            "pc": p.pc,
            "cc": p.cc,
        }
        for p in c.postal
    ]
    return (
        c.handle,
        c.roid,
        c.kind.value,
        int(c.at_risk),
        int(c.verified),
        json.dumps(postal, ensure_ascii=False, separators=(",", ":")),
        c.voice,
        c.voice_ext,
        c.fax,
        c.fax_ext,
        c.email,
        " ".join(sorted(c.disclose_yes)),
        " ".join(sorted(c.disclose_no)),
        c.registrar,
        " ".join(c.statuses),
        _t(c.created),
        _t(c.updated),
        fold(c.handle),
        *search_keys(c),
    )


def search_keys(c: Contact) -> tuple[str, str, str]:
    """The contact's search keys: its shown name, its email, its address (`patterns.fold`)."""
    p = c.postal_info
    name = patterns.fold(p.name) if p else ""
    addr = patterns.fold(patterns.addr_text(p.street, p.city, p.pc)) if p else ""
    return name, patterns.fold(c.email or ""), addr


def _upsert(table: str, columns: tuple[str, ...]) -> str:
    # Replace by primary key only: any other unique key (a folded handle equal to another's,
    # a ROID already taken) is a contradiction that must fail, not delete a row.
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    marks = ", ".join("?" * len(columns))
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "
        f"ON CONFLICT({columns[0]}) DO UPDATE SET {updates}"
    )


CONTACT_COLUMNS = (
    "id",
    "roid",
    "kind",
    "at_risk",
    "verified",
    "postal",
    "voice",
    "voice_ext",
    "fax",
    "fax_ext",
    "email",
    "disclose_yes",
    "disclose_no",
    "registrar",
    "statuses",
    "created",
    "updated",
    "handle_key",
    "fn_key",
    "email_key",
    "addr_key",
)
UPSERT_CONTACT = _upsert("contact", CONTACT_COLUMNS)


def host_rows(h: Host) -> tuple[tuple[Any, ...], list[tuple[str, str, int]]]:
    """The host row and its address rows (canonical addresses, RFC 5952 for IPv6)."""
    row = (
        h.name,
        h.roid,
        " ".join(h.statuses),
        h.registrar,
        _t(h.created),
        _t(h.updated),
        patterns.reverse_labels(h.name),
    )
    addrs = [(h.name, str(ipaddress.ip_address(a)), 4) for a in h.v4]
    addrs += [(h.name, str(ipaddress.ip_address(a)), 6) for a in h.v6]
    return row, addrs


UPSERT_HOST = (
    "INSERT OR REPLACE INTO host (name, roid, statuses, registrar, created, updated, rname) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
INSERT_HOST_ADDR = "INSERT OR REPLACE INTO host_addr VALUES (?, ?, ?)"


def domain_row(d: Domain) -> tuple[Any, ...]:
    return (
        d.name,
        d.roid,
        d.unicode_name,
        d.tld,
        " ".join(d.statuses),
        " ".join(d.rgp_statuses),
        d.registrant,
        d.registrar,
        format_time(d.created),
        _t(d.expires),
        _t(d.updated),
        _t(d.transferred),
        d.idn_table,
        d.coop_category.value if d.coop_category else None,
        None if d.coop_certified is None else int(d.coop_certified),
        d.suspension_reason,
    )


UPSERT_DOMAIN = "INSERT OR REPLACE INTO domain VALUES (" + ", ".join("?" * 16) + ")"


_DOMAIN_TABLES = (
    ("domain_contact", "domain"),
    ("domain_ns", "domain"),
    ("domain_ds", "domain"),
    ("domain", "name"),
)


@dataclass(slots=True)
class DomainRows:
    """Encoded rows for a batch of domains (picklable: the importer encodes in a worker)."""

    keys: list[tuple[str]]
    domains: list[tuple[Any, ...]]
    contacts: list[tuple[str, str, str]]
    nameservers: list[tuple[str, str, int, str | None]]
    ds: list[tuple[str, int, int, int, str]]


def encode_domains(
    items: Sequence[tuple[Domain, dict[str, tuple[str, ...]] | None]],
) -> DomainRows:
    """The rows `write_domains` writes, without a connection."""
    return DomainRows(
        keys=[(d.name,) for d, _ in items],
        domains=[domain_row(d) for d, _ in items],
        contacts=[
            (d.name, role.value, handle)
            for d, _ in items
            for role, handle in d.contacts
            if role is not ContactRole.REGISTRANT
        ],
        nameservers=[
            (d.name, ns, pos, json.dumps(list(attrs[ns])) if attrs and ns in attrs else None)
            for d, attrs in items
            for pos, ns in enumerate(d.nameservers)
        ],
        ds=[
            (d.name, s.key_tag, s.algorithm, s.digest_type, s.digest)
            for d, _ in items
            for s in d.ds_data
        ],
    )


def write_domain_rows(conn: sqlite3.Connection, r: DomainRows, *, replace: bool = True) -> None:
    """Replace the encoded domains and their child rows.

    `replace=False` skips deleting old child rows: only for domains known to be absent (a
    FULL importer that has just removed its TLD's domains).
    """
    if replace:
        for table, column in _DOMAIN_TABLES:
            conn.executemany(f"DELETE FROM {table} WHERE {column} = ?", r.keys)
    conn.executemany(UPSERT_DOMAIN, r.domains)
    conn.executemany("INSERT OR IGNORE INTO domain_contact VALUES (?, ?, ?)", r.contacts)
    conn.executemany("INSERT OR IGNORE INTO domain_ns VALUES (?, ?, ?, ?)", r.nameservers)
    conn.executemany("INSERT OR IGNORE INTO domain_ds VALUES (?, ?, ?, ?, ?)", r.ds)


def write_domains(
    conn: sqlite3.Connection,
    items: Sequence[tuple[Domain, dict[str, tuple[str, ...]] | None]],
) -> None:
    """Replace domains and their child rows (contacts, nameservers, DS) as one snapshot each.

    An item's host map gives a nameserver's addresses when the domain uses RFC 5731 host
    attributes instead of host objects. One executemany per table.
    """
    write_domain_rows(conn, encode_domains(items))


def delete_domain(conn: sqlite3.Connection, name: str) -> None:
    """Remove a domain and its child rows."""
    for table, column in _DOMAIN_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (name,))


def write_host(conn: sqlite3.Connection, h: Host) -> None:
    """Replace a host object and its addresses."""
    write_hosts(conn, [h])


def encode_hosts(hosts: Sequence[Host]) -> tuple[list[tuple[Any, ...]], list[tuple[str, str, int]]]:
    """The host rows and address rows `write_hosts` writes, without a connection."""
    encoded = [host_rows(h) for h in hosts]
    return [row for row, _ in encoded], [a for _, addrs in encoded for a in addrs]


def write_host_rows(
    conn: sqlite3.Connection,
    encoded: tuple[list[tuple[Any, ...]], list[tuple[str, str, int]]],
) -> None:
    """Replace encoded hosts and their addresses."""
    host_list, addrs = encoded
    conn.executemany("DELETE FROM host_addr WHERE host = ?", [(row[0],) for row in host_list])
    conn.executemany(UPSERT_HOST, host_list)
    conn.executemany(INSERT_HOST_ADDR, addrs)


def write_hosts(conn: sqlite3.Connection, hosts: Sequence[Host]) -> None:
    """Batch form of `write_host` (same rows)."""
    write_host_rows(conn, encode_hosts(hosts))


def delete_host(conn: sqlite3.Connection, name: str) -> None:
    """Remove a host object and its addresses."""
    conn.execute("DELETE FROM host_addr WHERE host = ?", (name,))
    conn.execute("DELETE FROM host WHERE name = ?", (name,))


def write_contacts(conn: sqlite3.Connection, contacts: Iterable[Contact]) -> None:
    """Replace contacts."""
    conn.executemany(UPSERT_CONTACT, [contact_row(c) for c in contacts])


def write_registrars(conn: sqlite3.Connection, registrars: Iterable[Registrar]) -> None:
    """Replace registrars."""
    conn.executemany(UPSERT_REGISTRAR, [registrar_row(r) for r in registrars])
