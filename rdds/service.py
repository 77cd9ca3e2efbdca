"""Composition root: open the replica, wire RDAP and WHOIS to one lookup core and one
replica watcher, run until a signal. The only module that knows both front-ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from aiohttp import web

from access import credentials as access_credentials
from access import disclosures as access_disclosures
from access import service as access_service
from access.protocol import Access, AnonymousAccess
from core import logs, network
from core.lookup import Lookup
from core.searcher import Searcher
from core.watcher import ReplicaWatcher
from rdap import limits as rdap_limits
from rdap import server as rdap_server
from rdap.settings import RdapConfig
from rdds import answers as rdds_answers
from rdds import config as rdds_config
from rdds import descriptors
from rdds import ops as ops_mod
from rdds import reload as reload_mod
from rdds.config import Settings
from rdds.paths import default_demo_path
from registry.errors import ConfigError, ReplicaError
from replica import answers as stored_answers
from replica import demo, schema
from replica import open as replica_open
from replica.open import OpenStore
from replica.postgres import PostgresStore
from replica.store import SqliteStore, check_readable
from web import app as web_app
from whois43 import server as whois_server

log = logging.getLogger("rdds")


@dataclass(slots=True)
class Running:
    """A started service: its bound ports and what to close."""

    store: replica_open.OpenStore
    runner: web.AppRunner
    watcher: ReplicaWatcher
    rdap_port: int
    whois_port: int | None
    #: The public base URL the answers' links use (the bound port when none is configured).
    base_url: str
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    #: Operations: metrics and health, the listener's port (None: off), what a reload swaps.
    ops: ops_mod.Ops | None = None
    metrics_port: int | None = None
    lookup: Lookup | None = None
    access: Access | None = None
    app: web.Application | None = None
    whois: whois_server.WhoisServer | None = None

    async def close(self) -> None:
        """Stop accepting, finish in-flight requests, close the replica."""
        await self.watcher.stop()
        for closer in reversed(self.closers):
            await closer()
        await self.runner.cleanup()
        if isinstance(self.access, access_service.AuthorizedAccess):
            await self.access.close()  # after the in-flight requests, which may append
        await self.store.close()


def demo_replica(settings: Settings) -> Path:
    """The demo replica for `--demo`, built once at the documented cache path. The name
    carries the schema version and the demo data's revision, so a cache built by an older
    rdds is never served: a new one is built beside it."""
    name = f"demo-{settings.demo_domains}-v{schema.SCHEMA_VERSION}-r{demo.REVISION}.sqlite"
    path = default_demo_path() / name
    if path.exists():
        try:
            check_readable(path)
        except ReplicaError:
            path.unlink()  # a stale or damaged cache: ours to rebuild
    if not path.exists():
        print(
            f"building demo replica ({settings.demo_domains:,} domains) at {path}", file=sys.stderr
        )
        demo.write(path, settings.demo_domains, seed=1, progress=demo.TerminalProgress())
    if _answers_missing(path, rdds_answers.digest(settings)):
        # Absent, or made by another rdds version or configuration (an upgrade): again.
        print(f"storing the demo's answers in {path}", file=sys.stderr)
        try:
            rdds_answers.build(path, settings)
        except ReplicaError as exc:  # another server built them first, differently: fine
            log.warning("demo answers not stored: %s", exc.message)
    return path


def _answers_missing(path: Path, digest: str | None) -> bool:
    """Whether the demo lacks answers made under `digest` (None: none can be used)."""
    if digest is None:
        return False
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        if not stored_answers.has_table(conn):
            return True
        meta = stored_answers.read_meta(conn)
        return meta is None or meta.digest != digest
    finally:
        conn.close()


async def _access(settings: Settings) -> Access:
    """Credentials and the disclosure log: shared in PostgreSQL (a PostgreSQL replica, or
    `auth.database`), else in the data directory, else nobody is authorized."""
    url = settings.access_database
    if url is not None:
        if settings.auth.data_dir is not None and any(
            (settings.auth.data_dir / name).exists()
            for name in (access_credentials.FILE, access_disclosures.LOG)
        ):
            log.warning(
                "credentials and the disclosure log are in the database; those in %s are not "
                "used (rdds credential import, rdds audit import copy them)",
                settings.auth.data_dir,
            )
        return await access_service.open_database(url, settings.auth, settings.policy)
    if settings.auth.data_dir is None:
        return AnonymousAccess()
    return access_service.build(settings.auth, settings.policy)


async def start(settings: Settings, *, reuse_port: bool = False) -> Running:
    """Open the replica and start both front-ends; raise RddsError on bad settings.
    `reuse_port`: other worker processes listen on the same ports (`rdds.workers`)."""
    replica = settings.replica if settings.replica is not None else demo_replica(settings)
    replica_open.check(replica)
    settings = _within_descriptors(settings)
    try:
        sockets = rdap_server.bind(settings.host, settings.rdap.port, reuse_port=reuse_port)
    except (OSError, OverflowError) as exc:
        raise ConfigError(_cannot_listen(settings.host, settings.rdap.port, "RDAP", exc)) from None
    # Port 0 picks a free port: from here on the settings say which (links, port43 default).
    settings = replace(settings, rdap=replace(settings.rdap, port=rdap_server.bound_port(sockets)))
    async with contextlib.AsyncExitStack() as stack:
        # Whatever fails from here on, everything already opened is closed again: an open
        # store's threads would keep the process alive after the error.
        stack.callback(_close_all, sockets)
        # Stored answers (`rdds answers`) are used only when made under these very settings.
        answers_digest = rdds_answers.digest(settings)
        answers_origin = rdds_answers.origin_and_path(settings.base_url)
        settings = rdds_config.with_contact_form(settings)  # withheld emails -> the web form
        access = await _access(settings)
        if isinstance(access, access_service.AuthorizedAccess):
            stack.push_async_callback(access.close)
        store = await replica_open.open_replica(replica)
        stack.push_async_callback(store.close)
        lookup = Lookup(
            store,
            settings.policy,
            answers_digest=answers_digest,
            answers_origin=answers_origin[0] if answers_origin else "",
        )
        usable = _report_answers(lookup, store, replica)
        if usable and settings.read_ahead and isinstance(store, SqliteStore):
            store.read_ahead_answers()  # into the OS page cache, on a thread of its own
        watcher = ReplicaWatcher(lookup, settings.rdap.refresh_seconds)
        lag: Callable[[], float | None] | None = None
        if isinstance(store, PostgresStore):
            store.on_notify(watcher.wake)  # LISTEN: refresh at once; polling stays the fallback
            lag = _replication_lag(store)
        ops = ops_mod.build(settings, lookup, watcher, lag, worker=reuse_port)
        config = RdapConfig(
            base_url=settings.base_url,
            port43=settings.port43,
            tos_url=settings.rdap.tos_url,
            cache_entries=settings.rdap.cache_entries,
            rate=rdap_limits.from_settings(settings.rdap),
            header_timeout=settings.rdap.header_timeout,
            keepalive_timeout=settings.rdap.keepalive_timeout,
            max_connections=settings.rdap.max_connections,
            max_per_address=settings.rdap.max_per_address,
            cache_bytes=settings.rdap.cache_bytes,
            max_age=settings.rdap.max_age,
            trusted_proxies=network.parse_networks(settings.trusted_proxies),
            health_path=settings.rdap.health_path,
        )
        # The web page shares the port: its routes are matched before RDAP's catch-all.
        web_config = rdds_config.web_config(settings) if settings.web.enabled else None
        page = web_app.build(lookup, web_config) if web_config else None
        # Searches: the same store and policy as the lookups; off with [search] enabled = false.
        searcher = (
            Searcher(store, settings.policy, settings.search) if settings.search.enabled else None
        )
        app = rdap_server.make_app(
            lookup,
            config,
            access,
            pages=page.routes() if page else (),
            metrics=ops.metrics,
            health=ops.health,
            searcher=searcher,
        )
        watcher.subscribe(lambda _generation: rdap_server.clear_cache(app))
        runner = await rdap_server.serve(app, sockets)
        stack.push_async_callback(runner.cleanup)
        running = Running(
            store=store,
            runner=runner,
            watcher=watcher,
            rdap_port=settings.rdap.port,
            whois_port=None,
            base_url=settings.base_url,
        )
        running.ops, running.lookup, running.access, running.app = ops, lookup, access, app
        ops_mod.probe_rdap(ops.metrics, runner, app)
        if settings.whois.enabled:
            try:
                w = await whois_server.start(
                    lookup,
                    settings.whois,
                    settings.host,
                    metrics=ops.metrics,
                    reuse_port=reuse_port,
                )
            except (OSError, OverflowError) as exc:
                port = settings.whois.port
                raise ConfigError(_cannot_listen(settings.host, port, "WHOIS", exc)) from None
            stack.push_async_callback(w.close)
            watcher.subscribe(w.replica_changed)
            running.whois_port = w.port
            running.whois = w
            running.closers.append(w.close)
            ops_mod.probe_whois(ops.metrics, w)
        try:
            listener = await ops_mod.listen(settings, ops, reuse_port=reuse_port)
        except (OSError, OverflowError) as exc:
            m = settings.metrics
            raise ConfigError(_cannot_listen(m.host, m.port, "metrics", exc)) from None
        if listener is not None:
            running.metrics_port = listener.port
            running.closers.append(listener.close)
        watcher.start()
        stack.pop_all()  # started: from now on `Running.close` owns all of it
    return running


def _report_answers(lookup: Lookup, store: OpenStore, replica: Path | str) -> bool:
    """Say at start whether the replica's stored answers are used (no data in the line);
    True when they are."""
    meta = store.answers
    if meta is None:
        log.debug("no stored answers in the replica: every lookup renders")
    elif not lookup.precomputed_ready():
        log.warning(
            "the stored answers in %s were made under another configuration or rdds version: "
            "lookups render them instead (run rdds answers with this configuration)",
            replica,
        )
    else:
        log.info("serving stored answers from %s", replica)
        return True
    return False


def _replication_lag(store: PostgresStore) -> Callable[[], float | None]:
    """The standby's replay lag as of the store's last refresh (None on a primary)."""
    return lambda: store.replication_lag


def _within_descriptors(settings: Settings) -> Settings:
    """Raise the descriptor limit, and cap each front-end's connections at its share of it, so
    that connections exhausting one front-end leave the other (and the reserve) alone."""
    cap = descriptors.share(descriptors.raise_limit())
    rdap, whois = settings.rdap, settings.whois
    if rdap.max_connections > cap or whois.max_connections > cap:
        log.debug("connections capped at %d per front-end by the descriptor limit", cap)
    return replace(
        settings,
        rdap=replace(rdap, max_connections=min(rdap.max_connections, cap)),
        whois=replace(whois, max_connections=min(whois.max_connections, cap)),
    )


def _cannot_listen(host: str, port: int, what: str, exc: OSError | OverflowError) -> str:
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if isinstance(exc, OverflowError):
        reason = "the port must be 0-65535"
    elif isinstance(exc, socket.gaierror):
        reason = f"cannot resolve the host ({exc.strerror})"
    else:
        reason = exc.strerror or str(exc)
    return f"cannot listen on {where} for {what}: {reason}"


def _close_all(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


def reloader(
    running: Running,
    settings: Settings,
    load: Callable[[], Settings],
    source: str,
    *,
    configure_logs: bool = True,
) -> reload_mod.Reloader:
    """The SIGHUP handler's object for a started service (`settings` as configured)."""
    assert running.lookup and running.access and running.app and running.ops  # set by start
    return reload_mod.Reloader(
        settings,
        load,
        source,
        lookup=running.lookup,
        access=running.access,
        app=running.app,
        whois=running.whois,
        ops=running.ops,
        configure_logs=configure_logs,
    )


async def serve(
    settings: Settings,
    load: Callable[[], Settings] | None = None,
    source: str = "(defaults)",
    *,
    reuse_port: bool = False,
) -> None:
    """Run until SIGINT or SIGTERM, then stop cleanly; SIGHUP reloads (`load` re-reads the
    configuration: file, environment, flags). `reuse_port`: one of several workers."""
    logs.configure(settings.log)
    descriptors.install(asyncio.get_running_loop())  # repeated accept errors: one line a second
    # Signal handlers first: a SIGTERM that arrives while starting still stops cleanly, and a
    # SIGHUP (whose default action ends the process) is kept for after the start.
    stop = asyncio.Event()
    reload_now: Callable[[], object] | None = None
    early = False

    def on_hup() -> None:
        nonlocal early
        if reload_now is None:
            early = True
        else:
            reload_now()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGHUP, on_hup)
    running = await start(settings, reuse_port=reuse_port)
    if load is not None:
        reload_now = reloader(running, settings, load, source).reload
        if early:
            reload_now()
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(
        f"rdds: RDAP on http://{host}:{running.rdap_port}/ (links use {running.base_url})",
        flush=True,
    )
    if running.whois_port is not None:
        print(f"rdds: WHOIS on {settings.host} port {running.whois_port}", flush=True)
    if running.metrics_port is not None:
        where = f"{settings.metrics.host}:{running.metrics_port}"
        print(f"rdds: metrics and health on http://{where}/metrics", flush=True)
    # Everything made until now (modules, the app, the policy) lives as long as the process:
    # out of the collector's way, so that its full collections, which stop every request
    # for as long as they walk the heap, walk only what serving makes.
    gc.collect()
    gc.freeze()
    try:
        await stop.wait()
    finally:
        logs.flush_access()  # before the line that says it stops
        print("rdds: stopping", flush=True)
        await running.close()
        logs.flush_access()  # the requests answered while it stopped


def run(
    settings: Settings, load: Callable[[], Settings] | None = None, source: str = "(defaults)"
) -> int:
    """Blocking entry point for `rdds serve`."""
    asyncio.run(serve(settings, load, source))
    return 0
