"""Prometheus metrics both front-ends feed: the metric objects, the `[metrics]` settings and
the small calls the front-ends make. No I/O: the operations listener (`core.opsserver`)
serves the exposition.

Security: no label ever holds a queried name, a handle, a token or a client address. Label
values come from closed sets (front-end, route kind, HTTP-equivalent status, cache outcome)
or from the operator's own policy file (tier and purpose names), never from a request.

Several worker processes (`--workers N`, docs/operations.md "Metrics"): prometheus-client's
multiprocess mode. The supervisor sets `PROMETHEUS_MULTIPROC_DIR` (`use_multiprocess`) before
it forks; every metric below then writes its values to memory-mapped files in that directory,
one set per process, and `Metrics.exposition` merges every process's files
(`MultiProcessCollector`). Counters and histograms add up, and a dead worker's files stay, so
its counts stay in the totals; `mark_process_dead` removes only its `live*` gauges. Each gauge
declares how workers combine (`multiprocess_mode`), over live workers only: open connections
and cache sizes add up (`livesum`); the replica generation and watermark are the lowest
(`livemin`) and the replica age and time since the last check the highest (`livemax`), so
the figure is the worst worker's: one still serving an older deposit shows. Live gauges are
set by `sample()`: at each scrape in the answering process, and on every replica watcher tick
in each worker.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

#: Latency buckets (seconds): sub-millisecond cache hits to multi-second stalls.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

#: The exposition's media type (Prometheus text format 0.0.4).
CONTENT_TYPE = CONTENT_TYPE_LATEST


#: The supervisor's one metric (`rdds.workers`): every worker declares it too, at 0.
WORKER_RESTARTS = ("rdds_worker_restarts", "Worker processes restarted after dying.")


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    """The `[metrics]` section: the operations listener (metrics and health), off the
    public port. `port = 0` picks a free port; `enabled = false` starts no listener."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 9108


def use_multiprocess(directory: str) -> None:
    """Switch this process (and the processes it forks from now on) to prometheus-client's
    multiprocess mode, writing into `directory`. Call before the first metric is built.

    prometheus-client chooses how metric values are stored once, when it is first imported,
    from `PROMETHEUS_MULTIPROC_DIR` (`values.get_value_class`). `rdds serve` has imported it
    long before it knows it will run workers, so the supervisor sets the variable and asks
    the library to choose again; the workers it forks inherit both."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def multiprocess_dir() -> str | None:
    """The multiprocess directory when prometheus-client's multiprocess mode is on."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return path if path and os.path.isdir(path) else None


def _status(status: int | str) -> str:
    # Closed set: three digits, or "other" (never anything a client sent).
    text = str(status)
    return text if len(text) == 3 and text.isdigit() else "other"


class Metrics:
    """Every metric of one process, registered in its own registry (tests get fresh ones)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = CollectorRegistry() if registry is None else registry
        r = self.registry
        self.requests = Counter(
            "rdds_requests",
            "Answers sent, by front-end, route kind and HTTP(-equivalent) status.",
            ["frontend", "route", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "rdds_request_duration_seconds",
            "Whole request: from the request (WHOIS: the query line) to the answer.",
            ["frontend"],
            buckets=BUCKETS,
            registry=r,
        )
        self.lookup_seconds = Histogram(
            "rdds_lookup_duration_seconds",
            "Uncached answers: replica lookup, redaction and rendering.",
            ["frontend", "route"],
            buckets=BUCKETS,
            registry=r,
        )
        self.search_seconds = Histogram(
            "rdds_search_duration_seconds",
            "Searches (RFC 9082 §3.2), once they are served.",
            ["frontend", "route"],
            buckets=BUCKETS,
            registry=r,
        )
        self.cache_hits = Counter(
            "rdds_answer_cache_hits",
            "Answers served from the answer cache.",
            ["frontend"],
            registry=r,
        )
        self.cache_misses = Counter(
            "rdds_answer_cache_misses",
            "Cacheable requests not found in the answer cache.",
            ["frontend"],
            registry=r,
        )
        self.cache_entries = Gauge(
            "rdds_answer_cache_entries",
            "Answers held in the answer cache.",
            ["frontend"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.cache_bytes = Gauge(
            "rdds_answer_cache_bytes",
            "Body bytes held in the answer cache.",
            ["frontend"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.rate_limited = Counter(
            "rdds_rate_limited",
            "Requests refused by a rate limit, by front-end and budget (lookup, search).",
            ["frontend", "kind"],
            registry=r,
        )
        self.connections = Gauge(
            "rdds_open_connections",
            "Client connections open now.",
            ["frontend"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.connections_refused = Counter(
            "rdds_connections_refused",
            "Connections refused at admission, by front-end and cap (total, per_network).",
            ["frontend", "cap"],
            registry=r,
        )
        self.replica_generation = Gauge(
            "rdds_replica_generation",
            "Replica generation being served (lowest of the workers).",
            multiprocess_mode="livemin",
            registry=r,
        )
        self.replica_watermark = Gauge(
            "rdds_replica_watermark_timestamp_seconds",
            "The served replica's watermark: the instant its data represents.",
            multiprocess_mode="livemin",
            registry=r,
        )
        self.replica_age = Gauge(
            "rdds_replica_age_seconds",
            "Now minus the served replica's watermark.",
            multiprocess_mode="livemax",
            registry=r,
        )
        self.replication_lag = Gauge(
            "rdds_replica_replication_lag_seconds",
            "A streaming standby's replay lag at the last check (0 on a primary or SQLite).",
            multiprocess_mode="livemax",
            registry=r,
        )
        self.refresh_age = Gauge(
            "rdds_replica_refresh_age_seconds",
            "Seconds since the last successful check of the replica.",
            multiprocess_mode="livemax",
            registry=r,
        )
        self.refresh_failures = Counter(
            "rdds_replica_refresh_failures", "Failed checks of the replica.", registry=r
        )
        self.disclosures = Counter(
            "rdds_disclosures",
            "Answers that disclosed withheld data (recorded in the disclosure log), counts only.",
            ["tier", "purpose"],
            registry=r,
        )
        self.reloads = Counter(
            "rdds_reloads", "Configuration reloads (SIGHUP), by outcome.", ["outcome"], registry=r
        )
        self.worker_restarts = Counter(*WORKER_RESTARTS, registry=r)
        self.stored_answers = Counter(
            "rdds_stored_answers",
            "Anonymous domain lookups answered from the replica's stored answers (rdds answers).",
            ["frontend"],
            registry=r,
        )
        self.stored_answers_usable = Gauge(
            "rdds_stored_answers_usable",
            "1 when the replica's stored answers were made under this configuration and rdds "
            "version (else every lookup renders); the lowest of the workers.",
            multiprocess_mode="livemin",
            registry=r,
        )
        self._probes: list[Callable[[], None]] = []
        # `labels()` costs microseconds per call; the per-request calls reuse the children.
        self._children: dict[tuple[str, ...], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (metric._name, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    # --- what the front-ends call -----------------------------------------------------------

    def request(self, frontend: str, route: str, status: int | str, seconds: float) -> None:
        """One answer sent: count it and time the whole request."""
        self._child(self.requests, frontend, route, _status(status)).inc()
        self._child(self.request_seconds, frontend).observe(seconds)

    def lookup(self, frontend: str, route: str, seconds: float) -> None:
        """One uncached answer computed (lookup, redaction, rendering)."""
        self._child(self.lookup_seconds, frontend, route).observe(seconds)

    def cache(self, frontend: str, *, hit: bool) -> None:
        """One answer-cache consultation."""
        self._child(self.cache_hits if hit else self.cache_misses, frontend).inc()

    def stored(self, frontend: str) -> None:
        """One anonymous domain lookup answered from a stored answer."""
        self._child(self.stored_answers, frontend).inc()

    def limited(self, frontend: str, kind: str = "lookup") -> None:
        """One request refused by a rate limit; `kind` is the budget (`lookup`, `search`)."""
        self._child(self.rate_limited, frontend, kind).inc()

    def refused(self, frontend: str, cap: str) -> None:
        """One connection refused at admission; `cap` is the cap (`core.limits.Cap`)."""
        self._child(self.connections_refused, frontend, cap).inc()

    def disclosure(self, tier: str, purpose: str | None) -> None:
        """One answer with withheld data shown (after the disclosure log recorded it)."""
        self.disclosures.labels(tier, purpose or "-").inc()

    # --- live gauges ------------------------------------------------------------------------

    def observe_replica(
        self,
        generation: int,
        watermark: dt.datetime,
        last_refresh: dt.datetime | None,
        now: dt.datetime,
        replication_lag: float | None = None,
    ) -> None:
        """Set the replica gauges for `now` (`replication_lag`: None when not a standby)."""
        self.replica_generation.set(generation)
        self.replica_watermark.set(watermark.timestamp())
        self.replica_age.set(max(0.0, (now - watermark).total_seconds()))
        self.replication_lag.set(replication_lag or 0.0)
        if last_refresh is not None:
            self.refresh_age.set(max(0.0, (now - last_refresh).total_seconds()))

    def observe_cache(self, frontend: str, entries: int, size: int) -> None:
        """Set one front-end's answer-cache gauges."""
        self.cache_entries.labels(frontend).set(entries)
        self.cache_bytes.labels(frontend).set(size)

    def observe_connections(self, frontend: str, count: int) -> None:
        """Set one front-end's open-connection gauge."""
        self.connections.labels(frontend).set(count)

    def add_probe(self, probe: Callable[[], None]) -> None:
        """Call `probe` at each `sample()` (it sets live gauges from the running service)."""
        self._probes.append(probe)

    def sample(self) -> None:
        """Refresh every live gauge from its probe."""
        for probe in self._probes:
            probe()

    def exposition(self) -> bytes:
        """The text exposition: this process's metrics, or every worker's in multiprocess
        mode."""
        self.sample()
        directory = multiprocess_dir()
        if directory is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=directory)  # type: ignore[no-untyped-call]
        return generate_latest(merged)
