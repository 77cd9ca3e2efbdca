"""What a front-end asks of the authorized-access layer, and its anonymous default. No web
framework: the RDAP front-end hands over the header and parameter values it received.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from redaction.policy import Requester
from registry.errors import Unavailable


class Access(Protocol):
    """Identifies requesters and records disclosures."""

    async def identify(self, authorization: Sequence[str], purposes: Sequence[str]) -> Requester:
        """The requester behind the request's `Authorization` header values and `purpose`
        query parameters; anonymous when there is no credential."""
        ...

    async def record(
        self, requester: Requester, object_ref: str, fields: tuple[str, ...], body: bytes
    ) -> None:
        """Record that `fields` of `object_ref` were shown to `requester` in `body`, durably,
        before the answer is sent; raise Unavailable when it cannot be recorded."""
        ...

    def help_members(self) -> dict[str, Any]:
        """Members the `/help` answer carries for this access layer."""
        ...

    def extensions(self) -> tuple[str, ...]:
        """RDAP extension identifiers this access layer adds to `/help`."""
        ...


class AnonymousAccess:
    """Everyone is anonymous; nothing is ever disclosed (the default without a data dir)."""

    async def identify(self, authorization: Sequence[str], purposes: Sequence[str]) -> Requester:
        """Always the anonymous requester."""
        return Requester.anonymous()

    async def record(
        self, requester: Requester, object_ref: str, fields: tuple[str, ...], body: bytes
    ) -> None:
        """Refuse: without a disclosure log nothing withheld may be shown."""
        # Security: fail closed.
        raise Unavailable()

    def help_members(self) -> dict[str, Any]:
        """Nothing to add to `/help`."""
        return {}

    def extensions(self) -> tuple[str, ...]:
        """No extensions."""
        return ()
