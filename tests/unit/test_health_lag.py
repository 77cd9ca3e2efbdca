"""The replication-lag rule of readiness (`core.health.lag_reason`) and its setting, as a
table: pure, no I/O."""

from __future__ import annotations

import pytest

from core.health import HealthSettings, lag_reason
from rdds import config, reload

CASES = [
    (None, 300.0, None),  # not a standby: no lag to judge
    (0.0, 300.0, None),  # a standby that has replayed all it received
    (0.0, 0.0, None),
    (300.0, 300.0, None),  # at the limit is still ready
    (300.1, 300.0, "the standby's replay is 300.1 s behind (max 300 s)"),
    (0.31, 0.0, "the standby's replay is 0.3 s behind (max 0 s)"),
    (7200.0, 60.5, "the standby's replay is 7200.0 s behind (max 60.5 s)"),
]


@pytest.mark.parametrize(("lag", "limit", "want"), CASES)
def test_lag_reason(lag: float | None, limit: float, want: str | None) -> None:
    got = lag_reason(lag, limit)
    assert got == (None if want is None else f"replica is lagging: {want}")


def test_the_limit_defaults_to_five_minutes_is_read_from_health_and_applies_live() -> None:
    assert HealthSettings().max_replication_lag == 300.0
    settings = config.parse("[health]\nmax_replication_lag = 30.0\n")
    assert settings.health.max_replication_lag == 30.0
    assert reload.changed(config.parse(""), settings) == ["health.max_replication_lag"]
    assert "health.max_replication_lag" in reload.LIVE  # SIGHUP applies it, no restart
