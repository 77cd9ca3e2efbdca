"""docs/configuration.md, promise by promise: each `RDDS_*` variable, the precedence file <
environment < flags (real `rdds serve` processes), `--host`, `--base-url`, `--data-dir`, and
`[rdap] cache_entries` / `refresh_seconds` / `port43`, `[whois] enabled = false` (the service
as `rdds.service.start` runs it).

Mutations that fail these (tried): rdds/config.py ignoring RDDS_BASE_URL, or port43 falling
back to the base URL's host even when set; rdds/cli.py not applying the environment;
rdds/service.py ignoring cache_entries, refresh_seconds (a fixed 1.0) or whois.enabled.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import re
import shutil
import socket
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from access import credentials, disclosures
from access.credentials import CredentialStore
from rdap.state import CACHE
from rdds import config, service
from registry.errors import ConfigError
from replica import demo, schema
from tests.integration.processes import (
    ROOT,
    free_port,
    http_get,
    rdds,
    serve,
    wait_for,
    whois_query,
)

# --- RDDS_* variables ----------------------------------------------------------------------

ENV_CASES: list[tuple[str, str, Any]] = [
    ("RDDS_HOST", "127.0.0.1", lambda s: s.host == "127.0.0.1"),
    ("RDDS_REPLICA", "/srv/r.sqlite", lambda s: s.replica == Path("/srv/r.sqlite")),
    ("RDDS_RDAP_PORT", "8181", lambda s: s.rdap.port == 8181),
    (
        "RDDS_BASE_URL",
        "https://rdap.env.example",
        lambda s: (
            s.rdap.base_url == "https://rdap.env.example"
            and s.base_url == "https://rdap.env.example/"
        ),
    ),
    ("RDDS_WHOIS_PORT", "4444", lambda s: s.whois.port == 4444),
    ("RDDS_DATA_DIR", "/srv/access", lambda s: s.auth.data_dir == Path("/srv/access")),
    (
        "RDDS_AUTH_DATABASE",
        "postgresql://node@primary/rdds",
        lambda s: s.auth.database == "postgresql://node@primary/rdds",
    ),
    ("RDDS_METRICS_PORT", "9200", lambda s: s.metrics.port == 9200),
    ("RDDS_LOG_FORMAT", "json", lambda s: s.log.format == "json"),
    ("RDDS_SMTP_PASSWORD", "zq-secret", lambda s: s.web.smtp_password == "zq-secret"),
]


def documented_variables() -> set[str]:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    table = text.split("## Environment", 1)[1].split("##", 1)[0]
    return set(re.findall(r"`(RDDS_[A-Z_]+)`", table))


def test_every_documented_variable_is_read_and_every_read_one_documented() -> None:
    code = (ROOT / "rdds" / "config.py").read_text(encoding="utf-8")
    read = set(re.findall(r'"(RDDS_[A-Z_]+)"', code))
    assert documented_variables() == read == {name for name, _, _ in ENV_CASES}


@pytest.mark.parametrize(("name", "value", "holds"), ENV_CASES, ids=[c[0] for c in ENV_CASES])
def test_each_variable_sets_its_setting(name: str, value: str, holds: Any) -> None:
    base = config.parse(
        '[server]\nhost = "file-host.invalid"\nreplica = "/file/r.sqlite"\n'
        '[rdap]\nport = 1\nbase_url = "https://file.example/"\n[whois]\nport = 2\n'
        '[auth]\ndata_dir = "/file/access"\n'
    )
    got = config.apply_env(base, {name: value})
    assert holds(got) and not holds(base)
    # ... and only that setting: every other one keeps the file's value.
    for other, _, other_holds in ENV_CASES:
        if other != name:
            assert other_holds(got) == other_holds(base), other
    assert got.policy == base.policy and got.demo_domains == base.demo_domains
    assert config.apply_env(base, {}) == base


@pytest.mark.parametrize(
    ("replica", "database", "shared"),
    [
        ("/srv/r.sqlite", "", None),
        ("postgresql://reader@db/rdds", "", "postgresql://reader@db/rdds"),
        (
            "postgresql://reader@standby/rdds",
            "postgres://node@primary/rdds",
            "postgres://node@primary/rdds",
        ),
        ("/srv/r.sqlite", "postgresql://node@primary/rdds", "postgresql://node@primary/rdds"),
    ],
)
def test_where_credentials_and_the_log_are_shared(
    replica: str, database: str, shared: str | None
) -> None:
    text = f'[server]\nreplica = "{replica}"\n[auth]\ndata_dir = "/d"\ndatabase = "{database}"\n'
    assert config.parse(text).access_database == shared


def test_auth_database_must_be_a_postgresql_url() -> None:
    with pytest.raises(ConfigError, match=r"config: auth\.database: expected a postgresql:// URL"):
        config.parse('[auth]\ndatabase = "/var/lib/rdds.sqlite"\n')
    with pytest.raises(ConfigError, match=r"environment: auth\.database"):
        config.apply_env(config.Settings(), {"RDDS_AUTH_DATABASE": "db.example"})


@pytest.mark.parametrize("name", ["RDDS_RDAP_PORT", "RDDS_WHOIS_PORT"])
def test_a_bad_number_is_refused(name: str) -> None:
    with pytest.raises(ConfigError):
        config.apply_env(config.Settings(), {name: "eighty"})


def test_a_bad_number_names_its_variable() -> None:
    with pytest.raises(ConfigError, match="RDDS_RDAP_PORT"):
        config.apply_env(config.Settings(), {"RDDS_RDAP_PORT": "eighty"})


# --- precedence, with real processes ----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Replicas:
    a: Path
    b: Path
    only_a: str
    only_b: str


def _names(path: Path) -> set[str]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM domain")}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Replicas:
    folder = tmp_path_factory.mktemp("replicas")
    a, b = folder / "a.sqlite", folder / "b.sqlite"
    demo.write(a, 30, seed=1)
    demo.write(b, 30, seed=2)
    na, nb = _names(a), _names(b)
    return Replicas(a, b, sorted(na - nb)[0], sorted(nb - na)[0])


def bearer(data_dir: Path) -> dict[str, str]:
    """A law-enforcement credential issued into `data_dir`."""
    disclosures.set_up(data_dir)  # starts the chain: the anchor vouches for an empty log
    cred, token = credentials.issue(
        "law-enforcement", "Example Police", ("legalActions",), dt.datetime.now(dt.UTC)
    )
    CredentialStore(data_dir).add(cred)
    return {"Authorization": f"Bearer {token}"}


def registrant_name(doc: dict[str, Any]) -> str:
    (reg,) = [e for e in doc["entities"] if e.get("roles") == ["registrant"]]
    return str(next(p[3] for p in reg["vcardArray"][1] if p[0] == "fn"))


def check_run(
    up: Any,
    *,
    rdap_port: int,
    whois_port: int,
    links: str,
    port43: str,
    serves: str,
    not_serves: str,
    token: dict[str, str],
    foreign_token: dict[str, str],
) -> None:
    assert (up.host, up.rdap_port, up.links, up.whois_port) == (
        "127.0.0.1",
        rdap_port,
        links,
        whois_port,
    )
    status, _, doc = http_get(rdap_port, "/domain/example.org")
    assert status == 200
    (self_link,) = [x for x in doc["links"] if x["rel"] == "self"]
    assert self_link["href"] == links + "domain/example.org"
    assert doc["port43"] == port43
    assert registrant_name(doc) == ""  # the public sees no name
    assert http_get(rdap_port, f"/domain/{serves}")[0] == 200
    assert http_get(rdap_port, f"/domain/{not_serves}")[0] == 404
    status, _, doc = http_get(rdap_port, "/domain/example.org", token)
    assert status == 200 and registrant_name(doc) == "Dara Ashdown"
    assert http_get(rdap_port, "/domain/example.org", foreign_token)[0] == 401
    assert "Domain Name: example.org\r\n" in whois_query(whois_port, "example.org")


def test_file_then_environment_then_flags(replicas: Replicas, tmp_path: Path) -> None:
    """GIVEN a config file naming every setting WHEN the environment names them again, and
    then flags do THEN each later source wins, setting by setting (docs/configuration.md)."""
    dirs = {k: tmp_path / f"access-{k}" for k in ("file", "env", "flag")}
    tokens = {k: bearer(d) for k, d in dirs.items()}
    ports = {k: (free_port(), free_port()) for k in dirs}
    cfg = tmp_path / "rdds.toml"
    cfg.write_text(
        f'[server]\nhost = "127.0.0.1"\nreplica = "{replicas.a}"\n'
        f'[rdap]\nport = {ports["file"][0]}\nbase_url = "https://file.example/"\n'
        'port43 = "whois.file.example"\n'
        f"[whois]\nport = {ports['file'][1]}\n"
        f'[auth]\ndata_dir = "{dirs["file"]}"\n'
    )
    with serve(["--config", str(cfg)], tmp_path / "file.log") as up:
        check_run(
            up,
            rdap_port=ports["file"][0],
            whois_port=ports["file"][1],
            links="https://file.example/",
            port43="whois.file.example",
            serves=replicas.only_a,
            not_serves=replicas.only_b,
            token=tokens["file"],
            foreign_token=tokens["env"],
        )

    env = {
        "RDDS_HOST": "127.0.0.1",
        "RDDS_REPLICA": str(replicas.b),
        "RDDS_RDAP_PORT": str(ports["env"][0]),
        "RDDS_BASE_URL": "https://env.example/",
        "RDDS_WHOIS_PORT": str(ports["env"][1]),
        "RDDS_DATA_DIR": str(dirs["env"]),
    }
    cfg_elsewhere = tmp_path / "elsewhere.toml"
    cfg_elsewhere.write_text(cfg.read_text().replace('"127.0.0.1"', '"file-host.invalid"'))
    with serve(["--config", str(cfg_elsewhere)], tmp_path / "env.log", env) as up:
        check_run(
            up,
            rdap_port=ports["env"][0],
            whois_port=ports["env"][1],
            links="https://env.example/",
            port43="whois.file.example",  # not set by any variable: the file's value stays
            serves=replicas.only_b,
            not_serves=replicas.only_a,
            token=tokens["env"],
            foreign_token=tokens["file"],
        )

    flags = ["--config", str(cfg_elsewhere), "--host", "127.0.0.1"]
    flags += ["--replica", str(replicas.a), "--rdap-port", str(ports["flag"][0])]
    flags += ["--whois-port", str(ports["flag"][1]), "--base-url", "https://flag.example/"]
    flags += ["--data-dir", str(dirs["flag"])]
    env_elsewhere = env | {"RDDS_HOST": "env-host.invalid"}
    with serve(flags, tmp_path / "flag.log", env_elsewhere) as up:
        check_run(
            up,
            rdap_port=ports["flag"][0],
            whois_port=ports["flag"][1],
            links="https://flag.example/",
            port43="whois.file.example",
            serves=replicas.only_a,
            not_serves=replicas.only_b,
            token=tokens["flag"],
            foreign_token=tokens["env"],
        )


def test_the_environment_host_is_used_without_a_flag(replicas: Replicas) -> None:
    # The name cannot be resolved, so nothing is bound anywhere: the error names it.
    done = rdds(
        "serve",
        "--replica",
        str(replicas.a),
        "--rdap-port",
        "0",
        env={"RDDS_HOST": "env-host.invalid"},
    )
    assert done.returncode == 2
    assert done.stderr.startswith("rdds: cannot listen on env-host.invalid:0 for RDAP")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_links_use_the_bound_port_when_port_0_is_asked(replicas: Replicas, tmp_path: Path) -> None:
    args = ["--replica", str(replicas.a), "--rdap-port", "0", "--whois-port", "0"]
    with serve(args, tmp_path / "serve.log") as up:
        _, _, doc = http_get(up.rdap_port, "/domain/example.org")
        (self_link,) = [x for x in doc["links"] if x["rel"] == "self"]
        assert self_link["href"] == f"http://127.0.0.1:{up.rdap_port}/domain/example.org"


# --- [rdap] and [whois] settings, on the service as the composition root starts it ----------


@pytest.fixture
def replica(demo_replica: Path, tmp_path: Path) -> Path:
    path = tmp_path / "replica.sqlite"
    shutil.copyfile(demo_replica, path)
    return path


@pytest.fixture
async def started(replica: Path) -> AsyncIterator[Any]:
    """`start(text)` -> a running service for config text (plus the replica, port 0)."""
    running: list[service.Running] = []

    async def start(text: str, path: Path = replica) -> service.Running:
        # Never the default metrics port: the operations listener on a free one.
        text = '[server]\nhost = "127.0.0.1"\n[metrics]\nport = 0\n' + text
        settings = config.parse(text, "test config")
        settings = dataclasses.replace(settings, replica=path)
        up = await service.start(settings)
        running.append(up)
        return up

    try:
        yield start
    finally:
        for up in running:
            await up.close()


async def get(port: int, path: str) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as resp,
    ):
        return resp.status, orjson.loads(await resp.read())


async def test_cache_entries(started: Any) -> None:
    up = await started("[rdap]\nport = 0\ncache_entries = 2\n[whois]\nport = 0\n")
    cache = up.runner.app[CACHE]
    assert cache.max_entries == 2
    for name in ("example.org", "consent.org", "example.coop", "pending.gs"):
        assert (await get(up.rdap_port, f"/domain/{name}"))[0] == 200
    assert len(cache) == 2  # the two most recent answers, nothing more


async def test_port43_and_its_default(started: Any) -> None:
    up = await started(
        '[rdap]\nport = 0\nbase_url = "https://rdap.cfg.example/"\nport43 = "whois.cfg.example"\n'
        "[whois]\nport = 0\n"
    )
    assert (await get(up.rdap_port, "/domain/example.org"))[1]["port43"] == "whois.cfg.example"
    up = await started(
        '[rdap]\nport = 0\nbase_url = "https://rdap.cfg.example/"\n[whois]\nport = 0\n'
    )
    # "shown as port43 (default: base URL host)"
    assert (await get(up.rdap_port, "/domain/example.org"))[1]["port43"] == "rdap.cfg.example"


async def test_whois_can_be_disabled(started: Any) -> None:
    port = free_port()
    up = await started(f"[rdap]\nport = 0\n[whois]\nenabled = false\nport = {port}\n")
    assert up.whois_port is None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert (await get(up.rdap_port, "/domain/example.org"))[0] == 200


def bump(replica: Path) -> None:
    conn = sqlite3.connect(replica)
    with conn:
        schema.bump_generation(conn, dt.datetime(2026, 11, 25, tzinfo=dt.UTC))
    conn.close()


def last_update(doc: dict[str, Any]) -> str:
    (when,) = [
        e["eventDate"] for e in doc["events"] if e["eventAction"] == "last update of RDAP database"
    ]
    return str(when)


async def test_refresh_seconds(started: Any, replica: Path, demo_replica: Path) -> None:
    """GIVEN a service polling every 0.05 s and one polling every hour WHEN the replica gets a
    new generation THEN the first serves it (and empties its cache), the second keeps
    serving the old one for as long as we watch (2.5 s, longer than the 1 s default).

    Mutation that fails this: rdds/service.py building the watcher with a fixed 1.0 s
    instead of `settings.rdap.refresh_seconds`."""
    fast = await started("[rdap]\nport = 0\nrefresh_seconds = 0.05\n[whois]\nenabled = false\n")
    slow_replica = replica.with_name("slow.sqlite")
    shutil.copyfile(demo_replica, slow_replica)
    slow = await started(
        "[rdap]\nport = 0\nrefresh_seconds = 3600\n[whois]\nenabled = false\n", slow_replica
    )
    for up in (fast, slow):
        doc = (await get(up.rdap_port, "/domain/example.org"))[1]
        assert last_update(doc).startswith("2026-11-22")
    bump(replica)
    bump(slow_replica)

    async def fresh() -> bool:
        doc = (await get(fast.rdap_port, "/domain/example.org"))[1]
        return last_update(doc) == "2026-11-25T00:00:00Z"

    deadline = asyncio.get_running_loop().time() + 60
    while not await fresh():
        assert asyncio.get_running_loop().time() < deadline, "never refreshed"
        await asyncio.sleep(0.05)
    assert len(fast.runner.app[CACHE]) == 1  # emptied, then this one answer

    await asyncio.sleep(2.5)
    doc = (await get(slow.rdap_port, "/domain/example.org"))[1]
    assert last_update(doc).startswith("2026-11-22")


def test_wait_for_reports_what_never_happened() -> None:
    with pytest.raises(AssertionError, match="never happened: the moon"):
        wait_for(lambda: False, "the moon", seconds=0.1)
