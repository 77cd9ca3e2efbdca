"""EPP status values and their RDAP mapping (RFC 8056 §2, RFC 3915 for RGP). Pure, no I/O."""

from __future__ import annotations

#: RFC 8056 §2: EPP domain/host/contact status -> RDAP status value.
EPP_TO_RDAP: dict[str, str] = {
    "ok": "active",
    "inactive": "inactive",
    "linked": "associated",
    "serverHold": "server hold",
    "clientHold": "client hold",
    "pendingCreate": "pending create",
    "pendingDelete": "pending delete",
    "pendingRenew": "pending renew",
    "pendingTransfer": "pending transfer",
    "pendingUpdate": "pending update",
    "clientDeleteProhibited": "client delete prohibited",
    "clientRenewProhibited": "client renew prohibited",
    "clientTransferProhibited": "client transfer prohibited",
    "clientUpdateProhibited": "client update prohibited",
    "serverDeleteProhibited": "server delete prohibited",
    "serverRenewProhibited": "server renew prohibited",
    "serverTransferProhibited": "server transfer prohibited",
    "serverUpdateProhibited": "server update prohibited",
    # RFC 3915 registry grace period states (RFC 8056 §2).
    "addPeriod": "add period",
    "autoRenewPeriod": "auto renew period",
    "renewPeriod": "renew period",
    "transferPeriod": "transfer period",
    "redemptionPeriod": "redemption period",
    "pendingRestore": "pending restore",
}

EPP_STATUSES = frozenset(EPP_TO_RDAP)


def to_rdap(epp: tuple[str, ...], rgp: tuple[str, ...] = ()) -> tuple[str, ...]:
    """RDAP status values for a set of EPP (and RGP) statuses, in a stable order.

    Unknown values are dropped rather than invented: the replica validates them on import.
    """
    seen: list[str] = []
    for value in (*epp, *rgp):
        mapped = EPP_TO_RDAP.get(value)
        if mapped is not None and mapped not in seen:
            seen.append(mapped)
    return tuple(seen)


def is_pending_delete(epp: tuple[str, ...]) -> bool:
    """True when the object is in the pending-delete lifecycle state."""
    return "pendingDelete" in epp
