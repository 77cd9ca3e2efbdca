"""The authorized-access layer's settings (the `[auth]` configuration section). Pure values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """Authorized access: where credentials and the disclosure log live (a data directory, or
    a PostgreSQL database shared by every node), and OIDC issuers."""

    data_dir: Path | None = None
    #: A postgresql:// URL (the primary) holding credentials and the disclosure log for every
    #: node; "" means the replica's URL when the replica is PostgreSQL, else the data dir.
    database: str = ""
    #: Each issuer: {"issuer": URL, "audience": str, "jwks": path-or-URL, "tier_claim": str}.
    oidc_issuers: tuple[Mapping[str, str], ...] = ()
