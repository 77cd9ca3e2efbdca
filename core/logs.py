"""Log output: the `[log]` section, the JSON-lines formatter, and the one call both
front-ends use for access lines. No personal data: callers pass the route kind (never the
name or handle), the truncated client network and a request id of our own making.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import os
import secrets
from dataclasses import dataclass
from typing import Any

import orjson

#: The `extra` key carrying an access line's structured fields.
ACCESS = "rdds_access"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogFormat(enum.StrEnum):
    """`[log] format`."""

    TEXT = "text"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class LogSettings:
    """The `[log]` section: `format = "text"` (default) or `"json"` (one object a line)."""

    format: str = LogFormat.TEXT


#: Request ids drawn ahead from the system's random source (one read per 256 ids, not one
#: system call per request); used up from the end.
_IDS: list[str] = []
_IDS_AHEAD = 256
# Security: a forked worker draws its own (ids drawn before the fork would repeat in each).
os.register_at_fork(after_in_child=_IDS.clear)


def request_id() -> str:
    """A new request id: 16 hex digits, random, carrying nothing about the request."""
    try:
        return _IDS.pop()
    except IndexError:
        raw = secrets.token_hex(8 * _IDS_AHEAD)
        _IDS.extend(raw[i : i + 16] for i in range(16, len(raw), 16))
        return raw[:16]


def access(
    logger: logging.Logger | logging.LoggerAdapter[Any],
    message: str,
    *args: object,
    frontend: str,
    route: str,
    status: int | str,
    seconds: float,
    client: str,
    request_id: str,
    method: str | None = None,
) -> None:
    """One access line: `message % args` for text logs; the fields for JSON logs."""
    if not logger.isEnabledFor(logging.INFO):
        return  # filtered out: nothing built
    fields: dict[str, Any] = {
        "frontend": frontend,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "client": client,
        "request_id": request_id,
    }
    if method is not None:
        fields["method"] = method
    extra = {ACCESS: fields}
    if isinstance(logger, logging.LoggerAdapter):
        logger.info(message, *args, extra=extra)
        return
    # The record made directly: `Logger.info` would also walk the stack for the caller's file
    # and line (no formatter here shows them), a large part of a cache hit's cost.
    logger.handle(
        logger.makeRecord(logger.name, logging.INFO, "", 0, message, args, None, extra=extra)
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, RFC 3339), level, logger, then either the access
    fields or the message."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line."""
        stamp = dt.datetime.fromtimestamp(record.created, dt.UTC)
        out: dict[str, Any] = {
            "time": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, ACCESS, None)
        if isinstance(fields, dict):
            out.update(fields)
        else:
            out["message"] = record.getMessage()
        if record.exc_info and record.exc_info[0] is not None:
            out["exception"] = record.exc_info[0].__name__
            out["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(out).decode("utf-8")


def formatter(fmt: str) -> logging.Formatter:
    """The formatter for a `[log] format` value."""
    if fmt == LogFormat.JSON:
        return JsonFormatter()
    return logging.Formatter(TEXT_FORMAT)


def configure(settings: LogSettings) -> None:
    """Apply `[log]` to the root logger's handlers (live: a reload calls it again)."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(formatter(settings.format))
