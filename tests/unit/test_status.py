"""EPP -> RDAP status mapping (RFC 8056 §2, RFC 3915)."""

from __future__ import annotations

import pytest

from registry import status

TABLE = [
    ("ok", "active"),
    ("inactive", "inactive"),
    ("linked", "associated"),
    ("serverHold", "server hold"),
    ("clientHold", "client hold"),
    ("pendingCreate", "pending create"),
    ("pendingDelete", "pending delete"),
    ("pendingRenew", "pending renew"),
    ("pendingTransfer", "pending transfer"),
    ("pendingUpdate", "pending update"),
    ("clientDeleteProhibited", "client delete prohibited"),
    ("clientRenewProhibited", "client renew prohibited"),
    ("clientTransferProhibited", "client transfer prohibited"),
    ("clientUpdateProhibited", "client update prohibited"),
    ("serverDeleteProhibited", "server delete prohibited"),
    ("serverRenewProhibited", "server renew prohibited"),
    ("serverTransferProhibited", "server transfer prohibited"),
    ("serverUpdateProhibited", "server update prohibited"),
    ("addPeriod", "add period"),
    ("autoRenewPeriod", "auto renew period"),
    ("renewPeriod", "renew period"),
    ("transferPeriod", "transfer period"),
    ("redemptionPeriod", "redemption period"),
    ("pendingRestore", "pending restore"),
]


@pytest.mark.parametrize(("epp", "rdap"), TABLE)
def test_each_epp_status_maps(epp: str, rdap: str) -> None:
    assert status.to_rdap((epp,)) == (rdap,)


def test_table_is_complete() -> None:
    assert {e for e, _ in TABLE} == status.EPP_STATUSES


def test_rgp_follows_epp_and_order_is_stable() -> None:
    got = status.to_rdap(("pendingDelete", "serverHold"), ("redemptionPeriod",))
    assert got == ("pending delete", "server hold", "redemption period")


def test_unknown_and_duplicates_dropped() -> None:
    assert status.to_rdap(("ok", "ok", "bogusStatus")) == ("active",)


def test_pending_delete() -> None:
    assert status.is_pending_delete(("pendingDelete",))
    assert not status.is_pending_delete(("ok",))
