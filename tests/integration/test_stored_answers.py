"""Stored answers (`rdds answers`, `replica.answers`): a server answering from them sends the
very bytes a server rendering every lookup sends, on both front-ends; no write to a row an
answer is made of leaves that answer behind; answers made under another configuration are
never used; the command fails with one line.

Mutations that fail these tests:
- rdap/handler.py not splicing the watermark (`found.body(...)` -> `found.data`):
  `test_same_bytes_as_rendering` (a stored sentinel date instead of the watermark);
- core/lookup.py dropping the origin splice: `test_same_bytes_as_rendering`;
- a trigger removed from `replica.schema._ANSWER_DEPENDENCIES` (e.g. the contact one):
  `test_every_write_deletes_exactly_its_answers`;
- `rdds.answers.plan` leaving the policy out of the digest: `test_another_policy_renders`;
- `rdds.answers.canonical` keeping set order: `test_digest_is_the_same_in_every_process`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from core.lookup import Lookup
from rdds import answers, config, service
from registry.errors import ReplicaError
from replica import answers as stored
from replica.store import check_readable
from tests.integration.processes import rdds
from tests.integration.test_reload import reasons

LIFTED = (
    '[server]\nhost = "127.0.0.1"\n[metrics]\nport = 0\n'
    "[rdap]\nport = 0\nrate_per_second = 1e9\nrate_burst = 1000000000\n"
    "[whois]\nport = 0\nrate_per_second = 1e9\nrate_burst = 1000000000\n"
)
#: Two configurations: a plain base URL; a base URL with a path, its own port-43 name, terms
#: URL, a stricter policy and the web contact form (withheld emails point at the form).
CONFIGS = {
    "plain": '[rdap]\nbase_url = "https://rdap.test.example/"\n',
    "tuned": (
        '[rdap]\nbase_url = "https://registry.test.example/rdap/"\n'
        'port43 = "whois.test.example"\ntos_url = "https://registry.test.example/terms"\n'
        '[web]\nsmtp_host = "127.0.0.1"\nsender = "Form <form@registry.test.example>"\n'
        'relay_log = "{tmp}/relay.log"\n'
        '[default]\npublish_natural = []\nreason = "Registry privacy rules"\n'
    ),
}


def settings_for(text: str, replica: Path) -> config.Settings:
    merged = LIFTED + text
    # The later [rdap] table of `text` would be a duplicate table in TOML: merge by hand.
    sections: dict[str, list[str]] = {}
    current = ""
    for line in merged.splitlines():
        if line.startswith("["):
            current = line
            sections.setdefault(current, [])
        elif line:
            sections[current].append(line)
    body = "".join(
        f"{head}\n" + "".join(f"{v}\n" for v in lines) for head, lines in sections.items()
    )
    return dataclasses.replace(config.parse(body, "test config"), replica=replica)


def copy_without_answers(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    conn = sqlite3.connect(dst)
    with conn:
        conn.execute("DELETE FROM answer")
        conn.execute("DELETE FROM meta WHERE key LIKE 'answers_%'")
    conn.close()
    return dst


def stored_copy(
    demo_replica: Path, tmp_path: Path, text: str | None = None, *, build: bool = True
) -> tuple[Path, config.Settings]:
    """A copy of the demo replica and the settings of `text` (default: the plain
    configuration) for it, with every answer stored under them unless `build` is false."""
    path = tmp_path / "answers.sqlite"
    shutil.copyfile(demo_replica, path)
    settings = settings_for(CONFIGS["plain"] if text is None else text, path)
    if build:
        answers.build(path, settings)
    return path, settings


def domain_names(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM domain ORDER BY name")]
    finally:
        conn.close()


def answer_names(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM answer")}
    finally:
        conn.close()


async def whois(port: int, line: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(line.encode() + b"\r\n")
    await writer.drain()
    data = await reader.read()
    writer.close()
    return data


async def rdap(
    session: aiohttp.ClientSession, port: int, path: str, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    async with session.request(method, f"http://127.0.0.1:{port}{path}") as resp:
        body = await resp.read()
        headers = {
            k: v for k, v in resp.headers.items() if k.lower() not in ("x-request-id", "date")
        }
        return resp.status, headers, body


Started = Callable[[config.Settings], Awaitable[service.Running]]


@pytest.fixture
async def start() -> AsyncIterator[Started]:
    running: list[service.Running] = []

    async def go(settings: config.Settings) -> service.Running:
        up = await service.start(settings)
        running.append(up)
        return up

    try:
        yield go
    finally:
        for up in running:
            await up.close()


async def assert_same_answers(a: service.Running, b: service.Running, names: list[str]) -> int:
    """Every name asked of both servers, on both front-ends, in several spellings; returns
    how many requests were compared."""
    assert a.whois_port is not None and b.whois_port is not None
    compared = 0
    async with aiohttp.ClientSession() as session:
        for name in names:
            paths = [f"/domain/{name}", f"/domain/{name.upper()}", f"/domain/{name}?x=1"]
            for path in paths:
                assert await rdap(session, a.rdap_port, path) == await rdap(
                    session, b.rdap_port, path
                ), path
                compared += 1
            assert await whois(a.whois_port, name) == await whois(b.whois_port, name), name
            compared += 1
        head = f"/domain/{names[0]}"
        assert await rdap(session, a.rdap_port, head, "HEAD") == await rdap(
            session, b.rdap_port, head, "HEAD"
        )
    return compared


@pytest.mark.parametrize("which", sorted(CONFIGS))
async def test_same_bytes_as_rendering(
    which: str, demo_replica: Path, tmp_path: Path, start: Started
) -> None:
    # GIVEN a replica with answers stored under this configuration, and one without
    with_answers = tmp_path / "answers.sqlite"
    shutil.copyfile(demo_replica, with_answers)
    settings = settings_for(CONFIGS[which].format(tmp=tmp_path), with_answers)
    result = answers.build(with_answers, settings)
    names = domain_names(with_answers)
    assert result.rendered == len(names) and result.skipped == 0
    live = copy_without_answers(with_answers, tmp_path / "live.sqlite")
    a = await start(settings)
    b = await start(dataclasses.replace(settings, replica=live))
    assert a.lookup is not None and b.lookup is not None
    assert a.lookup.precomputed_ready() and not b.lookup.precomputed_ready()
    # THEN every domain (and names that are not) gets the same status, headers and bytes
    compared = await assert_same_answers(a, b, [*names, "no-such-name.org", "x.y.org"])
    assert compared == 4 * (len(names) + 2)


async def test_answers_come_from_the_stored_row(
    demo_replica: Path, tmp_path: Path, start: Started
) -> None:
    """The server really answers from the row (the test above would pass without it)."""
    path, settings = stored_copy(demo_replica, tmp_path)
    conn = sqlite3.connect(path)
    meta = stored.read_meta(conn)
    assert meta is not None
    packer = stored.Packer(meta)
    # A row rewritten by hand (writes to the answer table itself fire no trigger).
    with conn:
        conn.execute(
            "UPDATE answer SET rdap = ?, whois = ? WHERE name = 'example.org'",
            (
                packer.rdap((), b'{"marked":"' + meta.sentinel.encode() + b'"}'),
                packer.whois(b"X\n"),
            ),
        )
    conn.close()
    up = await start(settings)
    assert up.whois_port is not None
    async with aiohttp.ClientSession() as session:
        status, _, body = await rdap(session, up.rdap_port, "/domain/example.org")
    assert status == 200 and body == b'{"marked":"2026-11-22T00:00:00Z"}'
    assert await whois(up.whois_port, "example.org") == b"X\n"


async def test_another_policy_renders(demo_replica: Path, tmp_path: Path, start: Started) -> None:
    """Answers stored under one policy are never served under another (a stricter policy
    would otherwise be bypassed)."""
    path, _ = stored_copy(demo_replica, tmp_path)
    stricter = CONFIGS["plain"] + "[default]\npublish_natural = []\n"
    a = await start(settings_for(stricter, path))
    live = copy_without_answers(path, tmp_path / "live.sqlite")
    b = await start(settings_for(stricter, live))
    assert a.lookup is not None and not a.lookup.precomputed_ready()
    await assert_same_answers(a, b, ["example.org", "consent.org", "journalist.org"])
    async with aiohttp.ClientSession() as session:
        _, _, body = await rdap(session, a.rdap_port, "/domain/example.org")
    assert b'"WA"' not in body  # the state the default policy publishes is withheld now


def test_digest_is_the_same_in_every_process() -> None:
    code = (
        "from rdds import answers, config\n"
        's = config.parse(\'[default]\\npublish_natural = ["sp", "cc", "city"]\\n\', \'t\')\n'
        "print(answers.digest(s))\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(seed), "PATH": "/usr/bin:/bin"},
            cwd=Path(__file__).resolve().parents[2],
        ).stdout.strip()
        for seed in (1, 2, 3, 4)
    }
    assert len(digests) == 1 and len(next(iter(digests))) == 64


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (frozenset({"b", "a"}), ["set", ['"a"', '"b"']]),
        ({"b": 1, "a": 2}, [['"a"', 2], ['"b"', 1]]),
        ((1, "x", None), [1, "x", None]),
        (True, True),
    ],
)
def test_canonical_forms(value: Any, expected: Any) -> None:
    assert answers.canonical(value) == expected


def test_canonical_refuses_unknown_types() -> None:
    with pytest.raises(TypeError):
        answers.canonical(object())


@pytest.mark.parametrize(
    ("base", "split"),
    [
        ("https://rdap.example/", ("https://rdap.example", "/")),
        ("http://127.0.0.1:8080/", ("http://127.0.0.1:8080", "/")),
        ("https://registry.example/rdap/", ("https://registry.example", "/rdap/")),
        ("http://[::1]:8080/", ("http://[::1]:8080", "/")),
        ('https://ex"ample/', None),
        ("https://user@example/", None),
        ("HTTPS://rdap.example/", None),  # urljoin would lower-case it in registrar URLs
        ("https://RDAP.Example:8443/x/", ("https://RDAP.Example:8443", "/x/")),
        ("https://example/?q=1", None),
    ],
)
def test_origin_and_path(base: str, split: tuple[str, str] | None) -> None:
    assert answers.origin_and_path(base) == split


# --- no answer outlives a write to what it is made of ------------------------------------------


def _one(conn: sqlite3.Connection, sql: str) -> Any:
    return conn.execute(sql).fetchone()[0]


#: (what is written, SQL giving the domains whose answers it must delete) per table the
#: answer is made of; `{x}` is a key the test picks from the replica.
WRITES: dict[str, tuple[str, str, str]] = {
    "domain update": (
        "SELECT name FROM domain WHERE tld = 'org' LIMIT 1",
        "UPDATE domain SET statuses = 'ok' WHERE name = '{x}'",
        "SELECT '{x}'",
    ),
    "domain delete": (
        "SELECT name FROM domain WHERE tld = 'org' LIMIT 1 OFFSET 3",
        "DELETE FROM domain WHERE name = '{x}'",
        "SELECT '{x}'",
    ),
    "role added": (
        "SELECT name FROM domain LIMIT 1 OFFSET 5",
        "INSERT INTO domain_contact VALUES ('{x}', 'billing', 'no-such-contact')",
        "SELECT '{x}'",
    ),
    "nameserver removed": (
        "SELECT domain FROM domain_ns LIMIT 1",
        "DELETE FROM domain_ns WHERE domain = '{x}'",
        "SELECT '{x}'",
    ),
    "DS added": (
        "SELECT name FROM domain LIMIT 1 OFFSET 7",
        "INSERT INTO domain_ds VALUES ('{x}', 1, 13, 2, 'AB')",
        "SELECT '{x}'",
    ),
    "contact update": (
        "SELECT registrant FROM domain WHERE registrant IS NOT NULL LIMIT 1",
        "UPDATE contact SET at_risk = 1 WHERE id = '{x}'",
        "SELECT domain FROM domain_contact WHERE contact = '{x}' "
        "UNION SELECT name FROM domain WHERE registrant = '{x}'",
    ),
    "role contact update": (
        "SELECT contact FROM domain_contact WHERE role = 'technical' LIMIT 1",
        "UPDATE contact SET email = 'changed@example.invalid' WHERE id = '{x}'",
        "SELECT domain FROM domain_contact WHERE contact = '{x}' "
        "UNION SELECT name FROM domain WHERE registrant = '{x}'",
    ),
    "contact inserted that a domain names": (
        "SELECT 'late-contact'",
        "INSERT INTO domain_contact VALUES ((SELECT name FROM domain LIMIT 1 OFFSET 9), "
        "'administrative', '{x}'); INSERT INTO answer SELECT name, x'00', x'00' FROM domain "
        "WHERE name = (SELECT name FROM domain LIMIT 1 OFFSET 9); "
        "INSERT INTO contact(id, roid, postal, handle_key) VALUES ('{x}', 'R-LATE', '[]', '{x}')",
        "SELECT name FROM domain LIMIT 1 OFFSET 9",
    ),
    "host update": (
        "SELECT host FROM domain_ns WHERE addrs IS NULL LIMIT 1",
        "UPDATE host SET statuses = 'linked' WHERE name = '{x}'",
        "SELECT domain FROM domain_ns WHERE host = '{x}'",
    ),
    "host address added": (
        "SELECT host FROM domain_ns WHERE addrs IS NULL LIMIT 1",
        "INSERT INTO host_addr VALUES ('{x}', '192.0.2.99', 4)",
        "SELECT domain FROM domain_ns WHERE host = '{x}'",
    ),
    "registrar update": (
        "SELECT registrar FROM domain LIMIT 1",
        "UPDATE registrar SET abuse_phone = '+1.5550000000' WHERE id = '{x}'",
        "SELECT name FROM domain WHERE registrar = '{x}'",
    ),
    "TLD update": (
        "SELECT name FROM tld LIMIT 1",
        "UPDATE tld SET disclose_default = 1 WHERE name = '{x}'",
        "SELECT name FROM domain",
    ),
}


@pytest.mark.parametrize("what", sorted(WRITES))
def test_every_write_deletes_exactly_its_answers(what: str, answered: Path, tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    shutil.copyfile(answered, path)
    pick, write, affected = WRITES[what]
    conn = sqlite3.connect(path, isolation_level=None)
    key = _one(conn, pick)
    expected = {r[0] for r in conn.execute(affected.format(x=key))}
    assert expected  # the write concerns at least one domain
    before = answer_names(path)
    conn.execute("BEGIN")
    for statement in write.format(x=key).split("; "):
        conn.execute(statement)
    conn.execute("COMMIT")
    conn.close()
    after = answer_names(path)
    assert before - after == expected and not after & expected


async def test_after_a_diff_import_same_bytes(tmp_path: Path, start: Started) -> None:
    """A real DIFF (contacts, hosts, domains changed) into a replica with stored answers:
    what it touched is rendered again by lookups, the rest still stored, and both servers
    agree on every name; `rdds answers` then stores the missing ones again."""
    out = tmp_path / "rde"
    done = rdds("demo", "--format", "rde", "--out", str(out), "--domains", "60", "--seed", "5")
    assert done.returncode == 0, done.stderr
    deposits = [Path(line) for line in done.stdout.split()]
    replica = tmp_path / "replica.sqlite"
    fulls = [str(p) for p in deposits if "_full_" in p.name]
    assert rdds("import", "--replica", str(replica), *fulls).returncode == 0
    settings = settings_for(CONFIGS["plain"], replica)
    answers.build(replica, settings)
    before = answer_names(replica)
    diffs = [str(p) for p in deposits if "_diff_" in p.name and p.name.startswith("org_")]
    done = rdds("import", "--replica", str(replica), *diffs)
    assert done.returncode == 0, done.stderr
    after = answer_names(replica)
    # The DIFF's domains (and those of the objects it changed) lost their answers; every
    # other TLD's kept theirs (the TLD row the DIFF writes again is unchanged).
    assert after < before
    assert {n for n in before if not n.endswith(".org")} <= after
    assert any(n.endswith(".org") for n in after)
    live = copy_without_answers(replica, tmp_path / "live.sqlite")
    a = await start(settings)
    b = await start(dataclasses.replace(settings, replica=live))
    names = domain_names(replica)
    await assert_same_answers(a, b, names)
    result = answers.build(replica, settings)
    assert result.rendered == len(names) - len(after) and not result.rebuilt
    await assert_same_answers(a, b, names)


def test_a_build_replaced_by_another_stops(
    answered: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "r.sqlite"
    shutil.copyfile(answered, path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DELETE FROM answer")
    conn.close()
    monkeypatch.setattr(answers, "BATCH", 50)

    def other_build(done: int, total: int) -> None:
        c = sqlite3.connect(path)
        with c:
            c.execute("UPDATE meta SET value = 'other' WHERE key = ?", (stored.META_SENTINEL,))
        c.close()

    with pytest.raises(ReplicaError, match="another answers build"):
        answers.build(path, config.Settings(replica=path), report=other_build)


# --- the command ----------------------------------------------------------------------------


def test_command_stores_and_says_so(demo_replica: Path, tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    shutil.copyfile(demo_replica, path)
    done = rdds("answers", "--replica", str(path), "--jobs", "1")
    assert done.returncode == 0, done.stderr
    n = len(domain_names(path))
    assert f"{n:,} stored, 0 left to lookups, {n:,} domains" in done.stderr
    again = rdds("answers", "--replica", str(path), "--quiet")
    assert again.returncode == 0 and again.stderr == ""
    check_readable(path)
    assert answer_names(path) == set(domain_names(path))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--replica", "/nonexistent/r.sqlite"], "replica /nonexistent/r.sqlite: no such file"),
        (["--replica", "{r}", "--base-url", 'https://a"b/'], "cannot be spliced"),
        (["--replica", "{r}", "--config", "/nonexistent.toml"], "/nonexistent.toml"),
    ],
)
def test_command_failures_are_one_line(
    args: list[str], message: str, demo_replica: Path, tmp_path: Path
) -> None:
    path = tmp_path / "r.sqlite"
    shutil.copyfile(demo_replica, path)
    done = rdds("answers", *[a.format(r=path) for a in args])
    assert done.returncode != 0
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert answer_names(path) == set()  # nothing half-written


async def test_concurrent_reads_share_a_job_and_each_get_their_own(answered: Path) -> None:
    """Reads asked for in one turn of the event loop are one job on the store's thread; each
    caller still gets its own row, and a cancelled caller leaves the others alone."""
    from replica.store import SqliteStore

    store = SqliteStore(answered)
    await store.open()
    try:
        names = domain_names(answered)
        one_by_one = [await store.answer(n, "rdap") for n in names]
        assert all(b is not None for b in one_by_one)
        jobs = []
        run = store._run

        async def counted(job: Any) -> Any:
            jobs.append(job)
            return await run(job)

        store._run = counted  # type: ignore[method-assign]
        tasks = [asyncio.ensure_future(store.answer(n, "rdap")) for n in names]
        tasks.append(asyncio.ensure_future(store.answer("no-such-name.org", "whois")))
        tasks[3].cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(done[3], asyncio.CancelledError)
        assert [d for i, d in enumerate(done[:-1]) if i != 3] == [
            b for i, b in enumerate(one_by_one) if i != 3
        ]
        assert done[-1] is None
        assert len(jobs) == 1  # 301 reads, one hand-off to the thread
        whois_rows = await asyncio.gather(*(store.answer(n, "whois") for n in names[:5]))
        assert all(w is not None and w != r for w, r in zip(whois_rows, one_by_one, strict=False))
    finally:
        await store.close()


async def test_a_reloaded_policy_is_never_bypassed(
    demo_replica: Path, tmp_path: Path, start: Started
) -> None:
    """SIGHUP with another policy: stored answers (made under the old one) are no longer
    served; back to the policy they were made under, they are served again."""
    from rdds import reload

    files = {"text": CONFIGS["plain"] + '[default]\nreason = "Policy A"\n'}
    path, settings = stored_copy(demo_replica, tmp_path, files["text"])
    up = await start(settings)
    r = service.reloader(
        up, settings, lambda: settings_for(files["text"], path), "t", configure_logs=False
    )
    assert isinstance(r, reload.Reloader) and up.lookup is not None

    async def ask() -> set[str]:
        async with aiohttp.ClientSession() as session:
            status, _, body = await rdap(session, up.rdap_port, "/domain/example.org")
        assert status == 200
        return reasons(body)

    assert up.lookup.precomputed_ready() and await ask() == {"Policy A"}
    files["text"] = CONFIGS["plain"] + '[default]\nreason = "Policy B"\n'
    assert r.reload()
    assert not up.lookup.precomputed_ready() and await ask() == {"Policy B"}
    files["text"] = CONFIGS["plain"] + '[default]\nreason = "Policy A"\n'
    assert r.reload()
    assert up.lookup.precomputed_ready() and await ask() == {"Policy A"}


async def test_a_reload_keeps_withheld_emails_on_the_web_form(
    demo_replica: Path, tmp_path: Path, start: Started
) -> None:
    """A reloaded policy still points withheld emails at the contact form, as at start (it
    used to fall back to the registrar's URL until the next restart)."""
    files = {"text": CONFIGS["tuned"].format(tmp=tmp_path)}
    replica = copy_without_answers(demo_replica, tmp_path / "r")
    settings = settings_for(files["text"], replica)
    up = await start(settings)
    r = service.reloader(
        up, settings, lambda: settings_for(files["text"], replica), "t", configure_logs=False
    )

    async def body() -> bytes:
        async with aiohttp.ClientSession() as session:
            return (await rdap(session, up.rdap_port, "/domain/example.org"))[2]

    form = b"https://registry.test.example/rdap/contact"
    assert form in await body()
    files["text"] = files["text"].replace("Registry privacy rules", "Other rules")
    assert r.reload()
    after = await body()
    assert b"Other rules" in after and form in after


async def test_metrics_count_stored_answers(
    demo_replica: Path, tmp_path: Path, start: Started
) -> None:
    _, settings = stored_copy(demo_replica, tmp_path)
    up = await start(settings)
    assert up.whois_port is not None and up.metrics_port is not None
    async with aiohttp.ClientSession() as session:
        for name in ("example.org", "consent.org", "example.org"):  # the last: a cache hit
            assert (await rdap(session, up.rdap_port, f"/domain/{name}"))[0] == 200
        await whois(up.whois_port, "example.coop")
        async with session.get(f"http://127.0.0.1:{up.metrics_port}/metrics") as resp:
            text = await resp.text()
    assert 'rdds_stored_answers_total{frontend="rdap"} 2.0' in text
    assert 'rdds_stored_answers_total{frontend="whois"} 1.0' in text
    assert "rdds_stored_answers_usable 1.0" in text


def test_a_date_spelled_like_the_sentinel_is_left_to_lookups(
    answered: Path, tmp_path: Path
) -> None:
    """A domain whose own data holds the sentinel's instant is not stored (its date would be
    taken for the watermark); the others are."""
    path = tmp_path / "r.sqlite"
    shutil.copyfile(answered, path)
    conn = sqlite3.connect(path)
    meta = stored.read_meta(conn)
    assert meta is not None
    year, rest = meta.sentinel.split("-", 1)
    when = f"{int(year):04d}-{rest}"
    with conn:
        conn.execute("UPDATE domain SET created = ? WHERE name = 'example.org'", (when,))
    conn.close()
    result = answers.build(path, config.Settings(replica=path))
    assert result.rendered == 0 and result.skipped == 1
    assert "example.org" not in answer_names(path)
    assert len(answer_names(path)) == len(domain_names(path)) - 1


# --- served below the application (rdap.hits) --------------------------------------------------


STORED_CONFIG = '[rdap]\nbase_url = "https://rdap.test.example/"\nport43 = "whois.test.example"\n'


@contextlib.asynccontextmanager
async def served_stored(path: Path, *, fast: bool, burst: int = 0) -> AsyncIterator[int]:
    """The RDAP app on a replica with stored answers, fast path on or off; answers the
    application gave carry the test's mark (its on_response_prepare hook ran)."""
    from core.metrics import Metrics
    from rdap.server import bind, bound_port, make_app, serve
    from rdap.settings import RdapConfig
    from redaction import policy
    from replica.store import SqliteStore
    from tests.integration.test_hits import _mark

    base = "https://rdap.test.example/"
    settings = settings_for(STORED_CONFIG, path)
    store = SqliteStore(path)
    await store.open()
    lookup = Lookup(
        store,
        policy.default_policy(),
        answers_digest=answers.digest(settings),
        answers_origin=base.rstrip("/"),
    )
    from rdap.rates import Budget, Budgets, RatePolicy

    budget = Budgets(Budget(0.001, burst), Budget(0.001, burst))
    rate = RatePolicy(anonymous=budget) if burst else None
    config = RdapConfig(base_url=base, port43="whois.test.example", rate=rate)
    app = make_app(lookup, config, metrics=Metrics())
    app.on_response_prepare.append(_mark)
    sockets = bind("127.0.0.1", 0)
    runner = await serve(app, sockets, fast_hits=fast)
    try:
        assert lookup.precomputed_ready()
        yield bound_port(sockets)
    finally:
        await runner.cleanup()
        await store.close()


STORED_CASES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "domain": ("GET", "/domain/example.org", ()),
    "coop flags": ("GET", "/domain/unverified.coop", ()),
    "upper case": ("GET", "/domain/EXAMPLE.ORG", ()),
    "IDN as U-label": ("GET", "/domain/%D9%85%D8%AB%D8%A7%D9%84.%D8%B9%D8%B1%D8%A7%D9%82", ()),
    "HEAD": ("HEAD", "/domain/consent.org", ()),
    "with a tag": ("GET", "/domain/journalist.org", ('If-None-Match: "other"',)),
    "forwarded, not trusted": ("GET", "/domain/pending.gs", ("X-Forwarded-For: 192.0.2.7",)),
}


@pytest.mark.parametrize("case", sorted(STORED_CASES))
async def test_stored_answers_below_the_application(
    case: str, demo_replica: Path, tmp_path: Path
) -> None:
    """A first request (a cache miss) with a stored answer is answered below the application
    with the very bytes the application sends; a query string, a bad name or a name without
    a stored answer goes to the application."""
    from tests.integration.test_hits import ask

    path, _ = stored_copy(demo_replica, tmp_path, STORED_CONFIG)
    method, target, headers = STORED_CASES[case]
    got = {}
    for fast in (True, False):
        async with served_stored(path, fast=fast) as port:
            got[fast] = await ask(port, method, target, *headers)
            if fast:
                for other in (
                    "/domain/example.org?purpose=x",
                    "/domain/bad_name.org",
                    "/domain/no-such.org",
                ):
                    assert (await ask(port, "GET", other)).full, other
    assert not got[True].full and got[False].full
    assert got[True].comparable() == got[False].comparable()


async def test_stored_answers_below_the_application_spend_the_budget(
    demo_replica: Path, tmp_path: Path
) -> None:
    from tests.integration.test_hits import ask

    path, _ = stored_copy(demo_replica, tmp_path, STORED_CONFIG)
    async with served_stored(path, fast=True, burst=2) as port:
        first = await ask(port, "GET", "/domain/example.org")
        second = await ask(port, "GET", "/domain/consent.org")
        refused = await ask(port, "GET", "/domain/journalist.org")
    assert not first.full and not second.full and "200" in second.status
    assert refused.full and "429" in refused.status and refused.header("Retry-After")


async def test_a_marker_in_the_data_is_left_to_lookups(
    demo_replica: Path, tmp_path: Path, start: Started
) -> None:
    """Registry data that spells a marker (a registrar's name with the request-URL marker,
    a URL under the marker origin) is not stored: splicing would rewrite it."""
    path, settings = stored_copy(demo_replica, tmp_path, build=False)
    conn = sqlite3.connect(path)
    with conn:
        (rid,) = conn.execute("SELECT registrar FROM domain WHERE name = 'example.org'").fetchone()
        conn.execute(
            "UPDATE registrar SET name = name || ' ' || ?, url = ? WHERE id = ?",
            (stored.REQUEST_MARKER, stored.MARKER_ORIGIN + ".evil/", rid),
        )
        sponsored = {
            r[0] for r in conn.execute("SELECT name FROM domain WHERE registrar = ?", (rid,))
        }
    conn.close()
    result = answers.build(path, settings)
    assert result.skipped == len(sponsored) and not answer_names(path) & sponsored
    live = copy_without_answers(path, tmp_path / "live.sqlite")
    a = await start(settings)
    b = await start(dataclasses.replace(settings, replica=live))
    await assert_same_answers(a, b, ["example.org", *sorted(sponsored)[:5]])


async def test_a_damaged_row_is_rendered_instead(
    demo_replica: Path, tmp_path: Path, start: Started, caplog: pytest.LogCaptureFixture
) -> None:
    path, settings = stored_copy(demo_replica, tmp_path, build=False)
    answers.build(path, settings)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE answer SET rdap = x'00ff', whois = x'00ff' WHERE name = 'example.org'")
    conn.close()
    live = copy_without_answers(path, tmp_path / "live.sqlite")
    a = await start(settings)
    b = await start(dataclasses.replace(settings, replica=live))
    await assert_same_answers(a, b, ["example.org"])
    assert "a stored answer could not be read" in caplog.text


def test_an_import_defect_does_not_stop_the_build(answered: Path, tmp_path: Path) -> None:
    """A domain whose sponsor row is missing (an import defect: lookups answer 503) is left
    out; every other domain is stored."""
    path = tmp_path / "r.sqlite"
    shutil.copyfile(answered, path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DELETE FROM answer")
        conn.execute("UPDATE domain SET registrar = 'no-such-registrar' WHERE name = 'example.org'")
    conn.close()
    result = answers.build(path, config.Settings(replica=path))
    assert result.skipped == 1 and result.rendered == len(domain_names(path)) - 1


def test_the_demo_cache_stores_answers_again_after_an_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rdds serve --demo` on a cached demo whose answers another rdds version (or another
    configuration) made: they are made again, so the demo is served from stored answers."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    settings = dataclasses.replace(config.Settings(), demo_domains=20)
    path = service.demo_replica(settings)
    conn = sqlite3.connect(path)
    with conn:  # as if an older rdds had made them
        conn.execute("UPDATE meta SET value = 'older' WHERE key = ?", (stored.META_DIGEST,))
    conn.close()
    assert service.demo_replica(settings) == path
    conn = sqlite3.connect(path)
    meta = stored.read_meta(conn)
    conn.close()
    assert meta is not None and meta.digest == answers.digest(settings)
    assert answer_names(path) == set(domain_names(path))


@pytest.mark.parametrize("from_bytes", [True, False], ids=["bytes-path", "aiohttp-path"])
async def test_over_its_budget_a_client_costs_no_stored_read(
    demo_replica: Path,
    tmp_path: Path,
    start: Started,
    monkeypatch: pytest.MonkeyPatch,
    from_bytes: bool,
) -> None:
    from rdap import errors

    if not from_bytes:  # every request parsed by aiohttp: `Hits.stored` answers instead
        monkeypatch.setattr(errors, "_HANDLER_STATE", (*errors._HANDLER_STATE, "_gone"))
    path, settings = stored_copy(demo_replica, tmp_path)
    settings = dataclasses.replace(
        settings, rdap=dataclasses.replace(settings.rdap, rate_per_second=0.001, rate_burst=2)
    )
    up = await start(settings)
    read: list[str] = []
    real = up.store.answer_soon

    def counted(ldh: str, kind: stored.AnswerKind) -> Any:
        read.append(ldh)
        return real(ldh, kind)

    monkeypatch.setattr(up.store, "answer_soon", counted)
    names = [n for n in domain_names(path) if n.isascii()][:4]
    async with aiohttp.ClientSession() as session:  # one kept-alive connection
        statuses = [(await rdap(session, up.rdap_port, f"/domain/{n}"))[0] for n in names]
    # WHEN the burst of 2 is spent by two stored answers
    # THEN the next two are the application's 429s, and their names were never read
    assert statuses == [200, 200, 429, 429]
    assert read == names[:2]
