"""One exception root for the service, each carrying the HTTP status to answer with. Pure."""

from __future__ import annotations


class RddsError(Exception):
    """Something went wrong."""

    #: The HTTP status a front-end answers with (RFC 7480 §5.3); WHOIS prints the message.
    status: int = 500
    #: The short RDAP error title (RFC 9083 §6).
    title: str = "Internal Server Error"

    def __init__(self, message: str | None = None) -> None:
        # The docstring of each leaf is its default message: clients read it, so it must
        # never carry internals or personal data.
        super().__init__(message or (self.__doc__ or "").strip().splitlines()[0])

    @property
    def message(self) -> str:
        """The client-facing message."""
        return str(self.args[0])


class BadQuery(RddsError):
    """The query is not valid."""

    status = 400
    title = "Bad Request"


class InvalidName(BadQuery):
    """The name is not a valid domain or host name."""


class NotFound(RddsError):
    """No object matches the query."""

    status = 404
    title = "Not Found"


class NotImplementedQuery(RddsError):
    """This server does not support that query type."""

    status = 501
    title = "Not Implemented"


class Unauthorized(RddsError):
    """The credentials are missing, invalid, expired or revoked."""

    status = 401
    title = "Unauthorized"


class Forbidden(RddsError):
    """The credentials do not allow this request."""

    status = 403
    title = "Forbidden"


class Unavailable(RddsError):
    """The service is temporarily unavailable; try again later."""

    status = 503
    title = "Service Unavailable"


class ReplicaError(RddsError):
    """The replica cannot be read."""

    status = 503
    title = "Service Unavailable"


class ConfigError(RddsError):
    """The configuration is invalid."""


class RateLimited(RddsError):
    """Too many requests from your network; try again later."""

    status = 429
    title = "Too Many Requests"

    def __init__(self, message: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(message)
        #: Whole seconds until the client's next request is allowed (`Retry-After`).
        self.retry_after = retry_after
