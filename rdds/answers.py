"""Precomputed anonymous domain answers (`rdds answers`): render every domain's anonymous
RDAP and port-43 answer once, with the same lookup, redaction and renderers the servers use,
and store them in the replica (`replica.answers` is the format).

The answers are made under the serving configuration (the same `--config` and flags as
`rdds serve`): `digest` condenses everything of it that shapes an anonymous domain answer
(the policy, the port-43 host, the terms URL, the base URL's path) together with the
rendering code itself, and a server uses stored answers only when its own digest is equal.
What varies per node, request or import is left out and spliced in when serving: the base
URL's origin, the request URL, the replica's watermark.

Composition-root code: it ties the replica, the redaction engine and both renderers together.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import enum
import hashlib
import multiprocessing
import random
import re
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from rdap import render as rdap_render
from rdds import config as rdds_config
from redaction.engine import redact_domain
from redaction.policy import Policy, Requester
from registry import coop
from registry.errors import ReplicaError
from registry.model import Registrar, ReplicaInfo, Tld
from replica import answers as stored
from replica import schema
from replica import store as replica_store
from whois43 import render as whois_render

#: The origin answers are rendered under (the base URL's path is kept: relative registrar
#: URLs resolve against it exactly as under the real base).
MARKER_ORIGIN = stored.MARKER_ORIGIN
#: What both markers (`replica.answers`) contain; a record whose data holds it is not stored.
_MARKER_TEXT = "rdds-precomputed"
#: Domains each process renders per write transaction (about a second of work: an import
#: waits at most that long for the lock, well within its 10 s busy timeout).
BATCH = 1_000
#: Domains sampled for the preset dictionaries.
SAMPLES = 48
#: Packages whose code shapes an answer: any change to them makes stored answers unusable.
_CODE_PACKAGES = ("registry", "redaction", "replica", "rdap", "whois43", "core", "rdds", "web")
#: A base URL whose origin can be spliced into JSON and text unchanged (no quoting needed).
_PLAIN_ORIGIN = re.compile(r"https?://[A-Za-z0-9.:\[\]-]+")


@dataclass(frozen=True, slots=True)
class Plan:
    """How anonymous domain answers are rendered under one configuration."""

    policy: Policy
    rdap: rdap_render.RenderContext  # with the marker base and request URL
    digest: str


def origin_and_path(base_url: str) -> tuple[str, str] | None:
    """The base URL split into its origin and its path; None when the origin is not plain
    enough to splice (then nothing precomputed is used)."""
    parts = urlsplit(base_url)
    # As written: urlsplit (and urljoin, for registrar URLs) lower-case the scheme while
    # links keep the base URL as configured, so an upper-case scheme is refused here.
    origin = base_url[: len(parts.scheme) + 3 + len(parts.netloc)]
    if not _PLAIN_ORIGIN.fullmatch(origin) or parts.query or parts.fragment:
        return None
    return origin, parts.path or "/"


def plan(settings: rdds_config.Settings) -> Plan | None:
    """The rendering plan for `settings` (as `rdds serve` reads them, before the web form is
    applied), or None when this configuration cannot use precomputed answers."""
    split = origin_and_path(settings.base_url)
    if split is None:
        return None
    _, path = split
    marked = replace(
        settings,
        rdap=replace(settings.rdap, base_url=MARKER_ORIGIN + path, port43=settings.port43),
    )
    marked = rdds_config.with_contact_form(marked)  # as `rdds.service.start` does
    ctx = rdap_render.RenderContext(
        base_url=marked.base_url,
        request_url=stored.REQUEST_MARKER,
        port43=marked.port43,
        tos_url=marked.rdap.tos_url,
    )
    shape = {
        "policy": canonical(marked.policy),
        "rdap": canonical(replace(ctx, request_url="", icann_deployment=True)),
        "whois_terms": canonical(whois_render.DEFAULT_TERMS),
        "code": code_fingerprint(),
    }
    digest = hashlib.sha256(orjson.dumps(shape, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return Plan(policy=marked.policy, rdap=ctx, digest=digest)


def digest(settings: rdds_config.Settings) -> str | None:
    """The digest a server with these settings accepts (None: it uses no stored answers)."""
    p = plan(settings)
    return p.digest if p is not None else None


def canonical(value: Any) -> Any:
    """A JSON-ready form of a settings value that is the same in every process (sets and
    mappings sorted; no hash order, no object ids). Unknown types are refused."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return canonical(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [
            type(value).__name__,
            {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)},
        ]
    if isinstance(value, Mapping):
        items = [[orjson.dumps(canonical(k)).decode(), canonical(v)] for k, v in value.items()]
        return sorted(items, key=lambda item: str(item[0]))
    if isinstance(value, frozenset | set):
        return ["set", sorted(orjson.dumps(canonical(v)).decode() for v in value)]
    if isinstance(value, tuple | list):
        return [canonical(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | Path):
        return str(value)
    raise TypeError(f"no canonical form for {type(value).__name__}")


_FINGERPRINT: list[str] = []


def code_fingerprint() -> str:
    """A digest of the source of every package that shapes an answer (computed once)."""
    if not _FINGERPRINT:
        h = hashlib.sha256()
        root = Path(__file__).resolve().parents[1]
        for package in _CODE_PACKAGES:
            for path in sorted((root / package).rglob("*.py")):
                h.update(str(path.relative_to(root)).encode() + b"\0")
                h.update(path.read_bytes() + b"\0")
        _FINGERPRINT.append(h.hexdigest())
    return _FINGERPRINT[0]


# --- building ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What one `build` did."""

    rendered: int
    skipped: int
    total: int
    seconds: float
    rebuilt: bool


class _Renderer:
    """Renders one domain's two stored answers under a plan."""

    def __init__(self, conn: sqlite3.Connection, p: Plan, sentinel: dt.datetime) -> None:
        row = conn.execute(
            "SELECT value FROM meta WHERE key = ?", (schema.META_GENERATION,)
        ).fetchone()
        self.info = ReplicaInfo(int(row[0]) if row else 0, sentinel)
        self.tlds: dict[str, Tld] = {
            r["name"]: replica_store._tld(r) for r in conn.execute("SELECT * FROM tld")
        }
        icann = any(t.kind.icann_profile for t in self.tlds.values())
        self.ctx = replace(p.rdap, icann_deployment=icann)
        self.whois_ctx = whois_render.RenderContext(watermark=sentinel)
        self.sentinel = rdap_render.date_text(sentinel)
        if whois_render.date_text(sentinel) != self.sentinel:  # pragma: no cover - same format
            raise AssertionError("the two renderers spell the watermark differently")
        self.policy = p.policy
        self.registrars: dict[str, Registrar] = {}
        self.conn = conn

    def render(self, name: str) -> tuple[tuple[tuple[str, str], ...], bytes, bytes] | None:
        """(headers, RDAP body, port-43 text) for a domain, or None when it cannot be stored
        (gone, or the sentinel is not where only the watermark is)."""
        try:
            record = replica_store.read_domain(
                self.conn, name, self.tlds, self.info, self.registrars
            )
        except ReplicaError:
            return None  # an import defect (no sponsor row): lookups answer it (a 503)
        if record is None:
            return None
        if _MARKER_TEXT in repr(record):
            return None  # the data spells a marker: splicing would rewrite it; lookups answer
        rd = redact_domain(record, Requester.anonymous(), self.policy)
        body = orjson.dumps(rdap_render.domain(rd, self.ctx))
        text = whois_render.domain(rd, self.whois_ctx).encode("utf-8")
        mark = self.sentinel.encode()
        watermarks = body.count(b'"last update of RDAP database","eventDate":"' + mark + b'"')
        if watermarks < 1 or body.count(mark) != watermarks or text.count(mark) != 1:
            return None  # a date in the data spelled like the sentinel: leave it to lookups
        return coop.flags(record), body, text


def _names_without_answers(conn: sqlite3.Connection, after: str, limit: int) -> list[str]:
    rows = conn.execute(
        "SELECT d.name FROM domain d WHERE d.name > ? "
        "AND NOT EXISTS (SELECT 1 FROM answer a WHERE a.name = d.name) ORDER BY d.name LIMIT ?",
        (after, limit),
    ).fetchall()
    return [r[0] for r in rows]


def _sentinel() -> dt.datetime:
    """A watermark no deposit carries (a random instant in the first centuries AD, chosen per
    build): stored answers carry its spelling where the real watermark goes."""
    start = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    return start + dt.timedelta(seconds=random.SystemRandom().randrange(1, 10**10))


def _start(conn: sqlite3.Connection, p: Plan, rebuild: bool) -> tuple[stored.AnswerMeta, bool]:
    """Make sure the table is there and its rows were made under `p`; otherwise empty it and
    choose a new sentinel and dictionaries (inside the caller's write transaction)."""
    for statement in schema.ANSWER_STATEMENTS:
        conn.execute(statement)
    meta = stored.read_meta(conn)
    if meta is not None and meta.digest == p.digest and not rebuild:
        return meta, False
    conn.execute("DELETE FROM answer")
    sentinel = _sentinel()
    renderer = _Renderer(conn, p, sentinel)
    samples = [
        renderer.render(r[0])
        for r in conn.execute("SELECT name FROM domain ORDER BY name LIMIT ?", (SAMPLES,))
    ]
    found = [s for s in samples if s is not None]
    meta = stored.AnswerMeta(
        digest=p.digest,
        sentinel=renderer.sentinel,
        rdap_dict=stored.make_dict([b for _, b, _ in found]),
        whois_dict=stored.make_dict([t for _, _, t in found]),
    )
    stored.write_meta(conn, meta)
    # A new generation: servers re-read the metadata (and drop answers cached under the old).
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (schema.META_WATERMARK,)).fetchone()
    watermark = schema.parse_time(row[0] if row else None)
    schema.bump_generation(conn, watermark or dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    return meta, True


def build(
    path: Path,
    settings: rdds_config.Settings,
    *,
    rebuild: bool = False,
    jobs: int = 1,
    report: Callable[[int, int], None] | None = None,
) -> BuildResult:
    """Render and store every domain's answers that the replica at `path` lacks (all of them
    when the configuration changed, or with `rebuild`), in `jobs` processes. Each batch is
    one write transaction, taken before the batch is read: an import cannot change a row
    between its reading and the storing of its answer, a server keeps reading, an import
    waits at most one batch, and an interrupted build keeps what it committed. Raises
    ReplicaError with a one-line reason."""
    p = plan(settings)
    if p is None:
        raise ReplicaError(
            f"base URL {settings.base_url}: its origin cannot be spliced into stored answers"
        )
    started = time.monotonic()
    replica_store.check_readable(path)
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=60)
    except sqlite3.Error as exc:
        raise ReplicaError(f"replica {path}: cannot open for writing ({exc})") from None
    conn.row_factory = sqlite3.Row
    rendered = skipped = 0
    pool: concurrent.futures.ProcessPoolExecutor | None = None
    try:
        conn.execute("BEGIN IMMEDIATE")
        meta, rebuilt = _start(conn, p, rebuild)
        conn.execute("COMMIT")
        total = conn.execute("SELECT count(*) FROM domain").fetchone()[0]
        done = conn.execute("SELECT count(*) FROM answer").fetchone()[0]
        if jobs > 1 and total - done > BATCH:
            # Spawned, not forked: the caller may be a server with threads.
            pool = concurrent.futures.ProcessPoolExecutor(
                jobs,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init,
                initargs=(str(path), p, meta),
            )
        else:
            _worker_init(str(path), p, meta, conn)
        after = ""
        while True:
            conn.execute("BEGIN IMMEDIATE")
            # The write lock first, then the reads (here or in the workers, which start their
            # read transactions now): nothing can commit in between.
            current = stored.read_meta(conn)
            if current is None or current.sentinel != meta.sentinel:
                # Another build (another configuration) started over: its rows, not ours.
                conn.execute("ROLLBACK")
                raise ReplicaError(f"replica {path}: another answers build replaced this one")
            names = _names_without_answers(conn, after, BATCH * max(1, jobs))
            if not names:
                conn.execute("COMMIT")
                break
            if pool is not None:
                chunks = [names[i : i + BATCH] for i in range(0, len(names), BATCH)]
                results = list(pool.map(_render_batch, chunks))
            else:
                results = [_render_batch(names)]
            out = [row for rows, _ in results for row in rows]
            skipped += sum(n for _, n in results)
            conn.executemany("INSERT INTO answer(name, rdap, whois) VALUES (?, ?, ?)", out)
            conn.execute("COMMIT")
            rendered += len(out)
            after = names[-1]
            if report is not None:
                report(done + rendered, total)
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise ReplicaError(f"replica {path}: {exc}") from None
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        _WORKER.clear()
        conn.close()
    return BuildResult(rendered, skipped, total, time.monotonic() - started, rebuilt)


#: The rendering state of this process (a worker's, or the building process's own).
_WORKER: dict[str, Any] = {}


def _worker_init(
    path: str, p: Plan, meta: stored.AnswerMeta, conn: sqlite3.Connection | None = None
) -> None:
    if conn is None:
        conn = sqlite3.connect(
            f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
        )
        conn.row_factory = sqlite3.Row
        _WORKER["own"] = conn
    _WORKER.update(conn=conn, plan=p, meta=meta, packer=stored.Packer(meta))


def _render_batch(names: list[str]) -> tuple[list[tuple[str, bytes, bytes]], int]:
    """Rendered and packed answers for `names` (in this process's read transaction), and
    how many could not be stored."""
    conn: sqlite3.Connection = _WORKER["conn"]
    own = "own" in _WORKER
    if own:
        conn.execute("BEGIN")
    try:
        meta: stored.AnswerMeta = _WORKER["meta"]
        renderer = _Renderer(conn, _WORKER["plan"], _parse_sentinel(meta.sentinel))
        packer: stored.Packer = _WORKER["packer"]
        out = []
        skipped = 0
        for name in names:
            found = renderer.render(name)
            if found is None:
                skipped += 1
                continue
            headers, body, text = found
            out.append((name, packer.rdap(headers, body), packer.whois(text)))
        return out, skipped
    finally:
        if own:
            conn.execute("COMMIT")


def _parse_sentinel(text: str) -> dt.datetime:
    """The sentinel instant back from its spelling (strftime of a year below 1000)."""
    year, rest = text.split("-", 1)
    return dt.datetime.strptime(f"{int(year):04d}-{rest}", "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=dt.UTC
    )
