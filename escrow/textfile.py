"""Import runs for Prometheus, through node_exporter's textfile collector: `rdds import
--metrics-textfile PATH.prom` rewrites PATH after every run (atomically: a temporary file
renamed into place) with the run's outcome, its duration, running totals per outcome, and
the replica's generation and watermark after it. Nothing is pushed anywhere; without the
flag nothing is written. I/O: reads the previous file and the replica's metadata.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.exposition import write_to_textfile
from prometheus_client.parser import text_string_to_metric_families

from replica.schema import META_GENERATION, META_WATERMARK, parse_time

OUTCOMES = ("success", "failure")


def _previous(path: Path) -> dict[str, float]:
    """Totals and last success from the file the previous run wrote (absent: zeros)."""
    out: dict[str, float] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return out
    try:
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name == "rdds_import_runs_total":
                    out[s.labels.get("outcome", "")] = s.value
                elif s.name == "rdds_import_last_success_timestamp_seconds":
                    out["last_success"] = s.value
    except ValueError:
        return {}  # not ours, or damaged: start counting again
    return out


def _replica_meta(replica: Path | str) -> tuple[int, dt.datetime | None] | None:
    if not isinstance(replica, Path) or not replica.is_file():  # a database URL: not read
        return None
    try:
        conn = sqlite3.connect(f"{replica.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = dict(
                conn.execute(
                    "SELECT key, value FROM meta WHERE key IN (?, ?)",
                    (META_GENERATION, META_WATERMARK),
                ).fetchall()
            )
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return int(rows.get(META_GENERATION, 0)), parse_time(rows.get(META_WATERMARK))


def write(path: Path, replica: Path | str, *, ok: bool, seconds: float) -> None:
    """Record one import run in `path`; OSError when it cannot be written."""
    previous = _previous(path)
    now = time.time()
    registry = CollectorRegistry()
    runs = Counter(
        "rdds_import_runs", "rdds import runs, by outcome.", ["outcome"], registry=registry
    )
    for outcome in OUTCOMES:
        runs.labels(outcome).inc(
            previous.get(outcome, 0.0) + (1 if ok == (outcome == "success") else 0)
        )
    Gauge(
        "rdds_import_last_success", "1 when the last run succeeded, else 0.", registry=registry
    ).set(1 if ok else 0)
    Gauge(
        "rdds_import_last_run_timestamp_seconds", "When the last run ended.", registry=registry
    ).set(now)
    last_success = now if ok else previous.get("last_success")
    if last_success is not None:
        Gauge(
            "rdds_import_last_success_timestamp_seconds",
            "When the last successful run ended.",
            registry=registry,
        ).set(last_success)
    Gauge(
        "rdds_import_last_duration_seconds", "How long the last run took.", registry=registry
    ).set(seconds)
    meta = _replica_meta(replica)
    if meta is not None:
        generation, watermark = meta
        Gauge(
            "rdds_import_replica_generation",
            "The replica's generation after the last run.",
            registry=registry,
        ).set(generation)
        if watermark is not None:
            Gauge(
                "rdds_import_replica_watermark_timestamp_seconds",
                "The replica's watermark after the last run.",
                registry=registry,
            ).set(watermark.timestamp())
    write_to_textfile(str(path), registry)
