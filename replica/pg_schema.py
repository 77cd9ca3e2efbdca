"""The replica's PostgreSQL schema: the same tables, columns and encodings as the SQLite
replica (`replica.schema`), so one set of row decoders reads both and a SQLite replica copies
into PostgreSQL row for row (`replica.pg_sync`). Beside them, outside `TABLES` (an import
never touches them), the shared credentials and disclosure log of authorized access
(`ACCESS_DDL`; read and written by `access.pgcredentials` and `access.pglog`).

Values keep the SQLite encodings (RFC 3339 text instants, space-separated statuses, JSON
text), which keeps the answers of both stores byte-identical. Ordering and case-insensitive
comparisons use the "C" collation and ASCII-only folding, as SQLite's BINARY and NOCASE do.
"""

from __future__ import annotations

from typing import Any

from replica.schema import META_GENERATION, META_SCHEMA, SCHEMA_VERSION

#: The channel `rdds import` notifies on commit; the payload is the new generation.
CHANNEL = "rdds_generation"

#: Serialises importers (pg_advisory_xact_lock); any constant unlikely to collide.
IMPORT_LOCK = 0x72646473

_C = 'TEXT COLLATE "C"'

DDL = f"""
CREATE TABLE IF NOT EXISTS meta (
    key   {_C} PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS tld (
    name             {_C} PRIMARY KEY,
    kind             TEXT NOT NULL,
    policy           TEXT NOT NULL,
    roid_suffix      TEXT NOT NULL,
    disclose_default BIGINT NOT NULL DEFAULT 0
);

-- ASCII-only lower case, as SQLite's NOCASE collation compares.
CREATE OR REPLACE FUNCTION rdds_nocase(TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN translate($1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');

CREATE TABLE IF NOT EXISTS registrar (
    id           {_C} PRIMARY KEY,
    name         TEXT NOT NULL,
    iana_id      BIGINT,
    status       TEXT NOT NULL DEFAULT 'ok',
    street       TEXT NOT NULL DEFAULT '[]',
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
CREATE INDEX IF NOT EXISTS registrar_name ON registrar(rdds_nocase(name));
CREATE INDEX IF NOT EXISTS registrar_id_nocase ON registrar(rdds_nocase(id));

CREATE TABLE IF NOT EXISTS contact (
    id           {_C} PRIMARY KEY,
    roid         TEXT NOT NULL,
    kind         TEXT NOT NULL DEFAULT 'natural',
    at_risk      BIGINT NOT NULL DEFAULT 0,
    verified     BIGINT NOT NULL DEFAULT 0,
    postal       TEXT NOT NULL,
    voice        TEXT,
    voice_ext    TEXT,
    fax          TEXT,
    fax_ext      TEXT,
    email        TEXT NOT NULL DEFAULT '',
    disclose_yes TEXT NOT NULL DEFAULT '',
    disclose_no  TEXT NOT NULL DEFAULT '',
    registrar    TEXT NOT NULL DEFAULT '',
    statuses     TEXT NOT NULL DEFAULT 'ok',
    created      TEXT,
    updated      TEXT,
    handle_key   {_C} NOT NULL,
    fn_key       {_C} NOT NULL DEFAULT '',
    email_key    {_C} NOT NULL DEFAULT '',
    addr_key     {_C} NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS contact_roid ON contact(roid);
CREATE UNIQUE INDEX IF NOT EXISTS contact_handle_key ON contact(handle_key);

CREATE TABLE IF NOT EXISTS host (
    name      {_C} PRIMARY KEY,
    roid      TEXT,
    statuses  TEXT NOT NULL DEFAULT 'ok',
    registrar TEXT NOT NULL DEFAULT '',
    created   TEXT,
    updated   TEXT,
    rname     {_C} NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS host_registrar ON host(registrar);

CREATE TABLE IF NOT EXISTS host_addr (
    host    {_C} NOT NULL,
    ip      {_C} NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (host, ip)
);
CREATE INDEX IF NOT EXISTS host_addr_ip ON host_addr(ip, host);

CREATE TABLE IF NOT EXISTS domain (
    name              {_C} PRIMARY KEY,
    roid              TEXT NOT NULL,
    uname             TEXT,
    tld               TEXT NOT NULL,
    statuses          TEXT NOT NULL,
    rgp               TEXT NOT NULL DEFAULT '',
    registrant        {_C},
    registrar         TEXT NOT NULL,
    created           TEXT NOT NULL,
    expires           TEXT,
    updated           TEXT,
    transferred       TEXT,
    idn_table         TEXT,
    coop_category     TEXT,
    coop_certified    BIGINT,
    suspension_reason TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS domain_roid ON domain(roid);
CREATE INDEX IF NOT EXISTS domain_uname ON domain(uname) WHERE uname IS NOT NULL;
CREATE INDEX IF NOT EXISTS domain_registrant ON domain(registrant);
CREATE INDEX IF NOT EXISTS domain_registrar ON domain(registrar);
CREATE INDEX IF NOT EXISTS domain_tld_name ON domain(tld, name);

CREATE TABLE IF NOT EXISTS domain_contact (
    domain  {_C} NOT NULL,
    role    {_C} NOT NULL,
    contact {_C} NOT NULL,
    PRIMARY KEY (domain, role, contact)
);
CREATE INDEX IF NOT EXISTS domain_contact_contact ON domain_contact(contact);

CREATE TABLE IF NOT EXISTS domain_ns (
    domain {_C} NOT NULL,
    host   {_C} NOT NULL,
    pos    BIGINT NOT NULL DEFAULT 0,
    addrs  TEXT,
    PRIMARY KEY (domain, host)
);
CREATE INDEX IF NOT EXISTS domain_ns_host ON domain_ns(host);

CREATE TABLE IF NOT EXISTS domain_ds (
    domain      {_C} NOT NULL,
    key_tag     BIGINT NOT NULL,
    algorithm   BIGINT NOT NULL,
    digest_type BIGINT NOT NULL,
    digest      {_C} NOT NULL,
    PRIMARY KEY (domain, key_tag, algorithm, digest_type, digest)
);

CREATE TABLE IF NOT EXISTS deposit (
    seq       BIGINT PRIMARY KEY,
    id        TEXT NOT NULL,
    type      TEXT NOT NULL,
    prev_id   TEXT,
    watermark TEXT NOT NULL,
    resend    BIGINT NOT NULL DEFAULT 0,
    digest    TEXT NOT NULL,
    applied   TEXT NOT NULL,
    tld       TEXT
);
CREATE INDEX IF NOT EXISTS deposit_id ON deposit(id);

CREATE TABLE IF NOT EXISTS claim (
    kind {_C} NOT NULL,
    key  {_C} NOT NULL,
    tld  {_C} NOT NULL,
    PRIMARY KEY (kind, key, tld)
);
CREATE INDEX IF NOT EXISTS claim_tld ON claim(tld, kind);

CREATE TABLE IF NOT EXISTS nndn (
    aname       {_C} PRIMARY KEY,
    uname       TEXT,
    state       TEXT NOT NULL,
    tld         TEXT,
    created     TEXT
);

CREATE TABLE IF NOT EXISTS idn_table (
    id   {_C} PRIMARY KEY,
    url  TEXT,
    "urlPolicy" TEXT
);

-- Schema 3: the search keys (the SQLite importer computes them; replica.schema) and the
-- indexes of every search path (replica.postgres.SEARCH_SQL). Ranges compare in "C" order,
-- as SQLite's BINARY does.
ALTER TABLE contact ADD COLUMN IF NOT EXISTS fn_key {_C} NOT NULL DEFAULT '';
ALTER TABLE contact ADD COLUMN IF NOT EXISTS email_key {_C} NOT NULL DEFAULT '';
ALTER TABLE contact ADD COLUMN IF NOT EXISTS addr_key {_C} NOT NULL DEFAULT '';
ALTER TABLE host ADD COLUMN IF NOT EXISTS rname {_C} NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS contact_fn_key ON contact(fn_key, id);
CREATE INDEX IF NOT EXISTS contact_email_key ON contact(email_key, id);
CREATE INDEX IF NOT EXISTS contact_addr_key ON contact(addr_key, id);
CREATE INDEX IF NOT EXISTS host_rname ON host(rname);
CREATE INDEX IF NOT EXISTS domain_ns_host_domain ON domain_ns(host, domain);
CREATE INDEX IF NOT EXISTS domain_uname_c ON domain((uname COLLATE "C")) WHERE uname IS NOT NULL;
CREATE INDEX IF NOT EXISTS domain_tld_uname ON domain(tld, (uname COLLATE "C"))
    WHERE uname IS NOT NULL;
"""

#: The access tables: credentials (token hashes only) and the disclosure log, one record per
#: row as the exact canonical line of the file log (`access.chain`), and its head (the file
#: log's anchor: count and newest hash), one row, advanced in the same transaction as each
#: append. Append-only by trigger (the serving role has no UPDATE or DELETE on them anyway):
#: a change needs the owner to switch the triggers off, and `rdds audit verify` still sees it.
ACCESS_DDL = f"""
CREATE TABLE IF NOT EXISTS credential (
    id           {_C} PRIMARY KEY,
    tier         TEXT NOT NULL,
    organisation TEXT NOT NULL,
    purposes     TEXT NOT NULL,
    created      TEXT NOT NULL,
    expires      TEXT,
    revoked      TEXT,
    token_sha256 {_C} NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS disclosure (
    seq    BIGINT PRIMARY KEY CONSTRAINT disclosure_seq_positive CHECK (seq > 0),
    record TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS disclosure_head (
    one   BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
    count BIGINT NOT NULL,
    head  TEXT NOT NULL
);

CREATE OR REPLACE FUNCTION rdds_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the disclosure log is append-only';
END $$;

CREATE OR REPLACE FUNCTION rdds_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.count < OLD.count THEN
        RAISE EXCEPTION 'the disclosure log head only moves forward';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER disclosure_append_only BEFORE UPDATE OR DELETE ON disclosure
    FOR EACH ROW EXECUTE FUNCTION rdds_append_only();
CREATE OR REPLACE TRIGGER disclosure_no_truncate BEFORE TRUNCATE ON disclosure
    FOR EACH STATEMENT EXECUTE FUNCTION rdds_append_only();
CREATE OR REPLACE TRIGGER disclosure_head_forward BEFORE UPDATE ON disclosure_head
    FOR EACH ROW EXECUTE FUNCTION rdds_head_forward();
CREATE OR REPLACE TRIGGER disclosure_head_kept BEFORE DELETE OR TRUNCATE ON disclosure_head
    FOR EACH STATEMENT EXECUTE FUNCTION rdds_append_only();
"""

#: The genesis head (count 0, 64 zeros), written only by the `create` that creates the head
#: table, and only when no record and no credential exists: from then on a missing head row
#: is evidence of deletion, never silently replaced (as the file log's genesis anchor).
_GENESIS_SQL = """
INSERT INTO disclosure_head(one, count, head)
SELECT true, 0, $1
WHERE NOT EXISTS (SELECT 1 FROM disclosure) AND NOT EXISTS (SELECT 1 FROM credential)
"""

GENESIS = "0" * 64

#: Every table with its primary key columns, in the order a copy writes them.
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("meta", ("key",)),
    ("tld", ("name",)),
    ("registrar", ("id",)),
    ("contact", ("id",)),
    ("host", ("name",)),
    ("host_addr", ("host", "ip")),
    ("domain", ("name",)),
    ("domain_contact", ("domain", "role", "contact")),
    ("domain_ns", ("domain", "host")),
    ("domain_ds", ("domain", "key_tag", "algorithm", "digest_type", "digest")),
    ("deposit", ("seq",)),
    ("claim", ("kind", "key", "tld")),
    ("nndn", ("aname",)),
    ("idn_table", ("id",)),
)


async def create(conn: Any) -> None:
    """Create every table, function and index (idempotent), the access tables with their
    genesis head, and stamp the schema version, in one transaction on an asyncpg connection."""
    async with conn.transaction():
        # Two `db init` at once: the second waits, then finds everything there.
        await conn.execute(f"SELECT pg_advisory_xact_lock({IMPORT_LOCK})")
        await conn.execute(DDL)
        fresh = await conn.fetchval("SELECT to_regclass('disclosure_head') IS NULL")
        await conn.execute(ACCESS_DDL)
        if fresh:
            await conn.execute(_GENESIS_SQL, GENESIS)
        await conn.execute(
            "INSERT INTO meta(key, value) VALUES ($1, $2), ($3, '0') ON CONFLICT (key) DO NOTHING",
            META_SCHEMA,
            str(SCHEMA_VERSION),
            META_GENERATION,
        )
        # An older replica (schema 2) now has every table, column and index of this one: it is
        # upgraded. The search keys of its rows are filled by the next import (`rdds import`
        # computes missing keys, replica.schema.migrate) or `load`.
        await conn.execute(
            "UPDATE meta SET value = $2 WHERE key = $1 AND value ~ '^[0-9]+$' AND value::int = 2",
            META_SCHEMA,
            str(SCHEMA_VERSION),
        )


async def create_url(url: str) -> None:
    """`create` on a connection of its own to `url`."""
    import asyncpg

    conn = await asyncpg.connect(url, timeout=10)
    try:
        await create(conn)
    finally:
        await conn.close()
