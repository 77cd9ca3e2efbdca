"""Composition root, reload part: SIGHUP re-reads the configuration file (with the privacy
policy in it) and the credential store, and applies what can change live to the running
service without closing a connection or cancelling a request.

All or nothing: the new file and the credential store are read and checked first; any
problem is one log line naming the file, the key and the problem, and the old settings
stay. Settings that only take effect at start (ports, host, workers, …) are reported as
"needs restart" in one line; the service keeps running with the old values for those.

Why no answer computed under the old policy survives a policy change: the swap and the
cache flush happen together in one synchronous call on the event loop, and the front-ends
redact, render and store an answer without yielding in between; so an answer is either
stored before the flush (and flushed) or computed under the new policy. Stored answers
(`rdds answers`) are used only under the digest the swap also replaces, and
`Lookup.precomputed` checks it again after its read, with no yield before the answer is
cached.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from access.protocol import Access
from access.service import AuthorizedAccess
from core import logs
from core.lookup import Lookup
from rdap import server as rdap_server
from rdap.state import CONFIG
from rdds import answers as rdds_answers
from rdds import config as rdds_config
from rdds.config import Settings
from rdds.ops import Ops
from registry.errors import RddsError
from whois43.server import WhoisServer

log = logging.getLogger("rdds.reload")

#: Keys applied live. Every other changed key needs a restart.
LIVE = frozenset(
    {
        "policy",
        "whois.max_query_bytes",
        "whois.read_timeout",
        "whois.max_connections",
        "whois.max_per_address",
        "whois.rate_per_second",
        "whois.rate_burst",
        "health.max_replica_age",
        "health.max_replication_lag",
        "log.format",
    }
)


def flatten(settings: Settings) -> dict[str, Any]:
    """Settings as dotted keys (`rdap.port`, `policy`) -> values. Pure."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if f.name != "policy" and dataclasses.is_dataclass(value):
            for sub in dataclasses.fields(value):
                out[f"{f.name}.{sub.name}"] = getattr(value, sub.name)
        else:
            out[f.name] = value
    return out


def changed(old: Settings, new: Settings) -> list[str]:
    """The dotted keys whose values differ, in declaration order. Pure."""
    a, b = flatten(old), flatten(new)
    return [key for key in a if a[key] != b[key]]


def effective(old: Settings, new: Settings) -> Settings:
    """What runs after a reload: `new` for the live keys, `old` for everything else. Pure."""
    whois = dataclasses.replace(new.whois, port=old.whois.port, enabled=old.whois.enabled)
    return dataclasses.replace(old, policy=new.policy, whois=whois, health=new.health, log=new.log)


class Reloader:
    """Applies a re-read configuration to a running service (`reload` is SIGHUP's handler)."""

    def __init__(
        self,
        settings: Settings,
        load: Callable[[], Settings],
        source: str,
        *,
        lookup: Lookup,
        access: Access,
        app: web.Application,
        whois: WhoisServer | None,
        ops: Ops,
        configure_logs: bool = True,
    ) -> None:
        self._lookup, self._access, self._app, self._whois = lookup, access, app, whois
        self._ops = ops
        #: The settings in force (as configured, before ports were bound).
        self.settings = settings
        self._load = load
        self._source = source
        self._configure_logs = configure_logs

    def _count(self, outcome: str) -> None:
        self._ops.metrics.reloads.labels(outcome).inc()

    def reload(self) -> bool:
        """Re-read and apply; False (one error line, nothing changed) when refused."""
        try:
            new = self._load()
            if isinstance(self._access, AuthorizedAccess):
                self._access.reload(new.policy)  # re-reads the credential store; raises first
        except RddsError as exc:
            log.error("reload refused: %s; the previous settings stay", exc.message)
            self._count("refused")
            return False
        except Exception as exc:  # never a traceback from a signal handler; the type only
            log.error(
                "reload refused: internal error (%s); the previous settings stay",
                type(exc).__name__,
            )
            self._count("refused")
            return False
        old = self.settings
        keys = changed(old, new)
        live = [k for k in keys if k in LIVE]
        restart = [k for k in keys if k not in LIVE]
        self._apply(old, new, live)
        self.settings = effective(old, new)
        self._count("applied")
        applied = ", ".join(live) if live else "no live setting changed"
        log.info("reloaded %s: %s; credentials re-read", self._source, applied)
        if restart:
            log.warning("reload of %s: needs restart: %s", self._source, ", ".join(restart))
        return True

    def _apply(self, old: Settings, new: Settings, live: list[str]) -> None:
        if "policy" in live:
            # One synchronous step (see the module docstring): swap, then flush every cache.
            # As at start: on the running base URL, with withheld emails pointing at the web
            # form; stored answers only if they were made under this very policy.
            current = effective(old, new)
            bound = dataclasses.replace(
                current, rdap=dataclasses.replace(current.rdap, base_url=self._app[CONFIG].base_url)
            )
            self._lookup.policy = rdds_config.with_contact_form(bound).policy
            self._lookup.answers_digest = rdds_answers.digest(bound)
            rdap_server.clear_cache(self._app)
            if self._whois is not None:
                self._whois.cache.clear()
        if self._whois is not None and any(k.startswith("whois.") for k in live):
            w = self._whois
            w.settings = effective(old, new).whois
            w.limiter.rate = w.settings.rate_per_second
            w.limiter.burst = max(1, w.settings.rate_burst)
        self._ops.health.settings = new.health
        if "log.format" in live and self._configure_logs:
            logs.configure(new.log)
