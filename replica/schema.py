"""The replica's SQLite schema, and the row codecs shared by its writers and its reader.

Writers (the demo generator, the escrow importer) and the reader (`replica.store`) agree on
this file only. Every lookup and search path has an index (never a scan).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any

from registry import patterns

#: Bumped whenever a reader needs something older writers did not write. 2: the case-folded
#: lookup key of contact handles (`contact.handle_key`). 3: the search keys (`contact.fn_key`,
#: `email_key`, `addr_key`; `host.rname`) and their indexes. A reader refuses any other
#: version (`replica.store.check_readable`); the importer upgrades an older replica in place
#: (`migrate`).
SCHEMA_VERSION = 3


#: The answer table and the triggers that keep it from ever going stale: any write to a row
#: a domain's answer is made of deletes that answer in the same transaction, whoever writes.
#: (What `replica.store.read_domain` reads: domain, domain_contact, domain_ns, domain_ds,
#: contact, host, host_addr, registrar, tld.) A missing answer is served by the normal lookup.
_ANSWER_TABLE = """
CREATE TABLE IF NOT EXISTS answer (
    name  TEXT PRIMARY KEY,                         -- the domain's A-label
    rdap  BLOB NOT NULL,                            -- zlib, preset dictionary (replica.answers)
    whois BLOB NOT NULL
)"""

#: (table, the answers a row's key invalidates): `{k}` is OLD.col or NEW.col.
_ANSWER_DEPENDENCIES = (
    ("domain", "name", "DELETE FROM answer WHERE name = {k}"),
    ("domain_contact", "domain", "DELETE FROM answer WHERE name = {k}"),
    ("domain_ns", "domain", "DELETE FROM answer WHERE name = {k}"),
    ("domain_ds", "domain", "DELETE FROM answer WHERE name = {k}"),
    (
        "contact",
        "id",
        "DELETE FROM answer WHERE name IN (SELECT domain FROM domain_contact WHERE contact = {k});"
        " DELETE FROM answer WHERE name IN (SELECT name FROM domain WHERE registrant = {k})",
    ),
    (
        "host",
        "name",
        "DELETE FROM answer WHERE name IN (SELECT domain FROM domain_ns WHERE host = {k})",
    ),
    (
        "host_addr",
        "host",
        "DELETE FROM answer WHERE name IN (SELECT domain FROM domain_ns WHERE host = {k})",
    ),
    (
        "registrar",
        "id",
        "DELETE FROM answer WHERE name IN (SELECT name FROM domain WHERE registrar = {k})",
    ),
    # Any change to the served TLDs may change every answer (the ICANN profile's presence).
    ("tld", "name", "DELETE FROM answer"),
)


def _answer_triggers() -> list[str]:
    out = []
    for table, column, action in _ANSWER_DEPENDENCIES:
        for event, keys in (
            ("INSERT", ("NEW",)),
            ("DELETE", ("OLD",)),
            ("UPDATE", ("OLD", "NEW")),
        ):
            body = " ".join(action.format(k=f"{row}.{column}") + ";" for row in keys)
            if table == "tld":
                body = action + ";"
            # Nothing to delete while the table is empty (a FULL into a new replica): one probe.
            out.append(
                f"CREATE TRIGGER IF NOT EXISTS answer_{table}_{event.lower()} "
                f"AFTER {event} ON {table} WHEN EXISTS (SELECT 1 FROM answer) BEGIN {body} END"
            )
    return out


#: Statements creating the answer table and its triggers (idempotent; also a migration).
ANSWER_STATEMENTS = (_ANSWER_TABLE, *_answer_triggers())
ANSWER_DDL = "".join(f"{statement};\n" for statement in ANSWER_STATEMENTS)

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- TLDs served, the policy section that governs each, and the disclose default that the
-- deposit's eppParams data collection policy sets (1 = publish unless flagged otherwise).
CREATE TABLE IF NOT EXISTS tld (
    name             TEXT PRIMARY KEY,          -- A-label
    kind             TEXT NOT NULL,             -- gtld | sponsored | cctld
    policy           TEXT NOT NULL,             -- policy section name
    roid_suffix      TEXT NOT NULL,
    disclose_default INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS registrar (
    id           TEXT PRIMARY KEY,              -- RDE registrar id (clID)
    name         TEXT NOT NULL,
    iana_id      INTEGER,
    status       TEXT NOT NULL DEFAULT 'ok',
    street       TEXT NOT NULL DEFAULT '[]',    -- JSON array
    city         TEXT NOT NULL DEFAULT '',
    sp           TEXT,
    pc           TEXT,
    cc           TEXT NOT NULL DEFAULT '',
    voice        TEXT,
    fax          TEXT,
    email        TEXT NOT NULL DEFAULT '',
    url          TEXT,
    whois_server TEXT,
    abuse_email  TEXT,
    abuse_phone  TEXT,
    created      TEXT,
    updated      TEXT,
    rdap_base_url TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS registrar_iana ON registrar(iana_id) WHERE iana_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS registrar_name ON registrar(name COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS registrar_id_nocase ON registrar(id COLLATE NOCASE);

CREATE TABLE IF NOT EXISTS contact (
    id           TEXT PRIMARY KEY,
    roid         TEXT NOT NULL,
    kind         TEXT NOT NULL DEFAULT 'natural',   -- natural | legal
    at_risk      INTEGER NOT NULL DEFAULT 0,
    verified     INTEGER NOT NULL DEFAULT 0,
    postal       TEXT NOT NULL,                     -- JSON: [{type,name,org,street,city,sp,pc,cc}]
    voice        TEXT,
    voice_ext    TEXT,
    fax          TEXT,
    fax_ext      TEXT,
    email        TEXT NOT NULL DEFAULT '',
    disclose_yes TEXT NOT NULL DEFAULT '',          -- space-separated element names
    disclose_no  TEXT NOT NULL DEFAULT '',
    registrar    TEXT NOT NULL DEFAULT '',
    statuses     TEXT NOT NULL DEFAULT 'ok',
    created      TEXT,
    updated      TEXT,
    handle_key   TEXT NOT NULL,                     -- fold(id): lookups by handle ignore case
    fn_key       TEXT NOT NULL DEFAULT '',          -- search keys (patterns.fold): the name
    email_key    TEXT NOT NULL DEFAULT '',          -- shown (int first), the email, and the
    addr_key     TEXT NOT NULL DEFAULT ''           -- street, city, postal code (addr_text)
);
CREATE UNIQUE INDEX IF NOT EXISTS contact_roid ON contact(roid);
CREATE UNIQUE INDEX IF NOT EXISTS contact_handle_key ON contact(handle_key);
CREATE INDEX IF NOT EXISTS contact_fn_key ON contact(fn_key, id);
CREATE INDEX IF NOT EXISTS contact_email_key ON contact(email_key, id);
CREATE INDEX IF NOT EXISTS contact_addr_key ON contact(addr_key, id);

CREATE TABLE IF NOT EXISTS host (
    name      TEXT PRIMARY KEY,                     -- A-label
    roid      TEXT,
    statuses  TEXT NOT NULL DEFAULT 'ok',
    registrar TEXT NOT NULL DEFAULT '',
    created   TEXT,
    updated   TEXT,
    rname     TEXT NOT NULL DEFAULT ''              -- labels reversed: suffix searches
);
CREATE INDEX IF NOT EXISTS host_registrar ON host(registrar);
CREATE INDEX IF NOT EXISTS host_rname ON host(rname);

CREATE TABLE IF NOT EXISTS host_addr (
    host    TEXT NOT NULL,
    ip      TEXT NOT NULL,                          -- canonical (RFC 5952 for v6)
    version INTEGER NOT NULL,                       -- 4 | 6
    PRIMARY KEY (host, ip)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS host_addr_ip ON host_addr(ip);

CREATE TABLE IF NOT EXISTS domain (
    name              TEXT PRIMARY KEY,             -- lower-case A-label
    roid              TEXT NOT NULL,
    uname             TEXT,                         -- U-label form for IDNs
    tld               TEXT NOT NULL,
    statuses          TEXT NOT NULL,                -- space-separated EPP statuses
    rgp               TEXT NOT NULL DEFAULT '',     -- space-separated RGP statuses
    registrant        TEXT,
    registrar         TEXT NOT NULL,
    created           TEXT NOT NULL,
    expires           TEXT,
    updated           TEXT,
    transferred       TEXT,
    idn_table         TEXT,
    coop_category     TEXT,                         -- COOP | CA | CC | CS
    coop_certified    INTEGER,                      -- X-COOP-ELIGIBILITY
    suspension_reason TEXT                          -- e.g. acceptable-use
);
CREATE UNIQUE INDEX IF NOT EXISTS domain_roid ON domain(roid);
CREATE INDEX IF NOT EXISTS domain_uname ON domain(uname) WHERE uname IS NOT NULL;
CREATE INDEX IF NOT EXISTS domain_registrant ON domain(registrant);
CREATE INDEX IF NOT EXISTS domain_registrar ON domain(registrar);
CREATE INDEX IF NOT EXISTS domain_tld_name ON domain(tld, name);
CREATE INDEX IF NOT EXISTS domain_tld_uname ON domain(tld, uname) WHERE uname IS NOT NULL;

CREATE TABLE IF NOT EXISTS domain_contact (
    domain  TEXT NOT NULL,
    role    TEXT NOT NULL,                          -- administrative | technical | billing
    contact TEXT NOT NULL,
    PRIMARY KEY (domain, role, contact)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS domain_contact_contact ON domain_contact(contact);

-- Nameservers of a domain. `addrs` is NULL for host objects (addresses live in host_addr)
-- and a JSON array of addresses for RFC 5731 host attributes.
CREATE TABLE IF NOT EXISTS domain_ns (
    domain TEXT NOT NULL,
    host   TEXT NOT NULL,
    pos    INTEGER NOT NULL DEFAULT 0,
    addrs  TEXT,
    PRIMARY KEY (domain, host)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS domain_ns_host ON domain_ns(host);

CREATE TABLE IF NOT EXISTS domain_ds (
    domain      TEXT NOT NULL,
    key_tag     INTEGER NOT NULL,
    algorithm   INTEGER NOT NULL,
    digest_type INTEGER NOT NULL,
    digest      TEXT NOT NULL,
    PRIMARY KEY (domain, key_tag, algorithm, digest_type, digest)
) WITHOUT ROWID;

-- The deposit chain (RFC 8909): one row per applied deposit, in order.
CREATE TABLE IF NOT EXISTS deposit (
    seq       INTEGER PRIMARY KEY,
    id        TEXT NOT NULL,
    type      TEXT NOT NULL,                        -- FULL | DIFF | INCR
    prev_id   TEXT,
    watermark TEXT NOT NULL,
    resend    INTEGER NOT NULL DEFAULT 0,
    digest    TEXT NOT NULL,
    applied   TEXT NOT NULL,
    tld       TEXT                                  -- escrow chains are per TLD
);
CREATE INDEX IF NOT EXISTS deposit_id ON deposit(id);

-- Which TLDs' deposits carry each shared object (contacts, hosts, registrars and IDN tables
-- have no TLD of their own). A FULL of TLD X replaces X's claims; an object that no TLD
-- claims any more is removed. Written by the escrow importer only.
CREATE TABLE IF NOT EXISTS claim (
    kind TEXT NOT NULL,                             -- contact | host | registrar | idn
    key  TEXT NOT NULL,
    tld  TEXT NOT NULL,
    PRIMARY KEY (kind, key, tld)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS claim_tld ON claim(tld, kind);

-- Reserved / blocked names (RFC 9022 NNDN) and IDN table references.
CREATE TABLE IF NOT EXISTS nndn (
    aname       TEXT PRIMARY KEY,
    uname       TEXT,
    state       TEXT NOT NULL,                      -- blocked | withheld | mirrored
    tld         TEXT,
    created     TEXT
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS idn_table (
    id   TEXT PRIMARY KEY,
    url  TEXT,
    urlPolicy TEXT
) WITHOUT ROWID;
-- Precomputed anonymous domain answers (`replica.answers`, written by `rdds answers`).
"""
    + ANSWER_DDL
)

META_GENERATION = "generation"
META_WATERMARK = "watermark"
META_SCHEMA = "schema_version"


def create(conn: sqlite3.Connection) -> None:
    """Create every table and index (idempotent) and stamp the schema version."""
    conn.executescript(SCHEMA)
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
        (META_SCHEMA, str(SCHEMA_VERSION)),
    )
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, '0') ON CONFLICT(key) DO NOTHING",
        (META_GENERATION,),
    )


#: Statements that bring a replica written before the deposit.tld / claim additions up to
#: date; each is safe inside a write transaction (no executescript, which would commit).
MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS claim (kind TEXT NOT NULL, key TEXT NOT NULL, "
    "tld TEXT NOT NULL, PRIMARY KEY (kind, key, tld)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS claim_tld ON claim(tld, kind)",
    "CREATE INDEX IF NOT EXISTS registrar_id_nocase ON registrar(id COLLATE NOCASE)",
    *ANSWER_STATEMENTS,
)


def fold(key: str) -> str:
    """The lookup key of a contact handle: EPP clients and RDAP clients (some lower-case every
    query) treat handles as case-insensitive, so lookups compare folded keys. Writers store it
    next to the id (`replica.rows`); answers keep the handle as stored."""
    return key.casefold()


#: Columns added after version 1, appended (so positional inserts stay valid), with their
#: unique indexes: (table, column, source column, index).
_FOLDED = (("contact", "handle_key", "id", "contact_handle_key"),)


def _postal_info(postal_json: str) -> dict[str, Any] | None:
    """The postal info an answer shows (`int` first, as `Contact.postal_info`)."""
    postal = json.loads(postal_json or "[]")
    for kind in ("int", "loc"):
        for p in postal:
            if p.get("type") == kind:
                return dict(p)
    return None


def fn_key(postal_json: str) -> str:
    """The search key of a contact's name, from its stored postal JSON."""
    p = _postal_info(postal_json)
    return patterns.fold(p.get("name") or "") if p else ""


def addr_key(postal_json: str) -> str:
    """The search key of a contact's address, from its stored postal JSON."""
    p = _postal_info(postal_json)
    if p is None:
        return ""
    return patterns.fold(
        patterns.addr_text(p.get("street") or (), p.get("city") or "", p.get("pc"))
    )


#: Search key columns added in version 3: (table, column, SQL computing it from the row; the
#: statements in `migrate` use the same functions).
_SEARCH_KEYS = (
    ("contact", "fn_key", "rdds_fn_key(postal)"),
    ("contact", "email_key", "rdds_text_key(email)"),
    ("contact", "addr_key", "rdds_addr_key(postal)"),
    ("host", "rname", "rdds_rname(name)"),
)
#: Their indexes (the same statements as in SCHEMA).
_SEARCH_INDEXES = (
    "CREATE INDEX IF NOT EXISTS contact_fn_key ON contact(fn_key, id)",
    "CREATE INDEX IF NOT EXISTS contact_email_key ON contact(email_key, id)",
    "CREATE INDEX IF NOT EXISTS contact_addr_key ON contact(addr_key, id)",
    "CREATE INDEX IF NOT EXISTS host_rname ON host(rname)",
    "CREATE INDEX IF NOT EXISTS domain_tld_uname ON domain(tld, uname) WHERE uname IS NOT NULL",
)


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the additive migrations in the caller's transaction (idempotent); bring a
    version-1 replica to the current version."""
    for statement in MIGRATIONS:
        conn.execute(statement)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(deposit)")}
    if "tld" not in columns:
        conn.execute("ALTER TABLE deposit ADD COLUMN tld TEXT")
    conn.create_function("rdds_fold", 1, fold, deterministic=True)
    for table, column, source, index in _FOLDED:
        if column not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")
            conn.execute(f"UPDATE {table} SET {column} = rdds_fold({source})")
        # Two ids differing only in case cannot both be looked up: the index refuses them.
        conn.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {index} ON {table}({column})")
    conn.create_function("rdds_fn_key", 1, fn_key, deterministic=True)
    conn.create_function("rdds_addr_key", 1, addr_key, deterministic=True)
    conn.create_function("rdds_text_key", 1, lambda v: patterns.fold(v or ""), deterministic=True)
    conn.create_function("rdds_rname", 1, patterns.reverse_labels, deterministic=True)
    for table, column, _ in _SEARCH_KEYS:
        if column not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")
    for statement in _SEARCH_INDEXES:
        conn.execute(statement)
    # Keys never computed (a column just added, or rows a PostgreSQL replica kept from before
    # its upgrade): every key of a contact empty, a host's reversed name empty. Through the
    # indexes on the keys, so an up-to-date replica costs two index probes.
    conn.execute(
        "UPDATE contact SET fn_key = rdds_fn_key(postal), email_key = rdds_text_key(email), "
        "addr_key = rdds_addr_key(postal) "
        "WHERE fn_key = '' AND email_key = '' AND addr_key = ''"
    )
    conn.execute("UPDATE host SET rname = rdds_rname(name) WHERE rname = ''")
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (META_SCHEMA, str(SCHEMA_VERSION)),
    )


def bump_generation(conn: sqlite3.Connection, watermark: dt.datetime) -> int:
    """Advance the generation serial and set the watermark; call inside the write transaction."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (META_GENERATION,)).fetchone()
    generation = (int(row[0]) if row else 0) + 1
    conn.executemany(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [(META_GENERATION, str(generation)), (META_WATERMARK, format_time(watermark))],
    )
    return generation


def format_time(value: dt.datetime) -> str:
    """Store instants as RFC 3339 UTC with a Z, to the second."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str | None) -> dt.datetime | None:
    """Inverse of `format_time` (also accepts fractional seconds and offsets)."""
    if not value:
        return None
    if value[-1] == "Z" and len(value) == 20:
        # What `format_time` writes (the common case): fromisoformat reads the Z as UTC.
        return dt.datetime.fromisoformat(value)
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def split_words(value: str | None) -> tuple[str, ...]:
    """Space-separated column -> tuple."""
    return tuple(value.split()) if value else ()
