"""Log output: the `[log]` section, the JSON-lines formatter, and the one call both
front-ends use for access lines. No personal data: callers pass the route kind (never the
name or handle), the truncated client network and a request id of our own making.
"""

from __future__ import annotations

import asyncio
import atexit
import enum
import logging
import os
import secrets
import threading
import time
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
    if isinstance(logger, logging.LoggerAdapter):
        logger.info(message, *args, extra={ACCESS: fields})
        return
    sinks = _plain_sinks(logger)
    if sinks is not None:
        _write(logger, sinks, message, args, fields)
        return
    # The record made directly: `Logger.info` would also walk the stack for the caller's file
    # and line (no formatter here shows them), a large part of a cache hit's cost.
    logger.handle(
        logger.makeRecord(
            logger.name, logging.INFO, "", 0, message, args, None, extra={ACCESS: fields}
        )
    )


# --- access lines without a LogRecord ----------------------------------------------------------
#
# An access line is written for every request; through `logging` it costs a LogRecord (thread,
# process and time look-ups), a formatter pass and a strftime each time, which is more than
# a cached answer costs. When every handler the line would reach is a plain stream handler
# with one of the two formatters of `[log] format` (what `configure` installs), the line is
# formatted here with string operations, the time text reused within the second, and written
# as the handler would write it (under its lock, then flushed). Any other setup (a filter,
# another handler or formatter class, a changed time format or converter) gets the record as
# before, so every destination and level `logging` offers keeps working.

_STREAM_HANDLERS = (logging.StreamHandler, logging.FileHandler)


def _plain_sinks(logger: logging.Logger) -> list[tuple[logging.StreamHandler[Any], bool]] | None:
    """The handlers an INFO record of `logger` would be emitted by, each with whether its
    formatter is the JSON one; None unless each is a plain stream handler with one of our
    formatters, no filter on the way (`Logger.callHandlers` walks the same chain)."""
    sinks: list[tuple[logging.StreamHandler[Any], bool]] = []
    found = False
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        for handler in current.handlers:
            found = True
            if handler.level > logging.INFO:
                continue
            if type(handler) not in _STREAM_HANDLERS or handler.filters:
                return None
            assert isinstance(handler, logging.StreamHandler)
            if getattr(handler, "stream", None) is None:
                return None  # a FileHandler not yet open: `emit` opens it
            fmt = handler.formatter
            if type(fmt) is JsonFormatter:
                sinks.append((handler, True))
            elif type(fmt) is logging.Formatter and _plain_text(fmt):
                sinks.append((handler, False))
            else:
                return None
        if not current.propagate:
            break
        current = current.parent
    # No handler at all: `logging.lastResort` decides (it drops INFO); leave it to logging.
    return sinks if found else None


def _plain_text(fmt: logging.Formatter) -> bool:
    """`fmt` formats as `logging.Formatter(TEXT_FORMAT)` does by default."""
    return (
        fmt._fmt == TEXT_FORMAT
        and fmt.datefmt is None
        and type(fmt._style) is logging.PercentStyle
        and fmt.converter is time.localtime
        and fmt.default_time_format == logging.Formatter.default_time_format
        and fmt.default_msec_format == logging.Formatter.default_msec_format
    )


def _write(
    logger: logging.Logger,
    sinks: list[tuple[logging.StreamHandler[Any], bool]],
    message: str,
    args: tuple[object, ...],
    fields: dict[str, Any],
) -> None:
    created = time.time()
    text = json = ""
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None  # no loop in this thread: written at once
    for handler, is_json in sinks:
        if is_json:
            if not json:
                json = json_line(created, "info", logger.name, fields)
            line = json
        else:
            if not text:
                text = _text_line(created, logger.name, message % args)
            line = text
        if loop is None:
            _emit(handler, line + handler.terminator)
        else:
            _queue(loop, handler, line + handler.terminator)


# --- one write per event-loop turn -------------------------------------------------------------
#
# Under load one turn of the loop answers a request on each ready connection; writing each
# access line with its own system call (a line-buffered stream flushes at every newline) was
# about a fifth of the loop's time when it answered cached answers. Lines made during a turn
# are written together by a callback the first of them schedules, which runs at the start of
# the next turn, before any bytes read in that turn are handled. Another log line (not an
# access line) written during the same turn may therefore come before them; each line carries
# its own time. Lines not yet written when the process ends are written by `flush_access` (the
# service calls it when it stops; at exit it is called too).


class _Turn:
    """The access lines of one thread's current loop turn, per handler, in order."""

    __slots__ = ("lines", "loop")

    def __init__(self) -> None:
        self.lines: dict[logging.StreamHandler[Any], list[str]] = {}
        #: The loop the write is scheduled on (None: none scheduled). A loop closed before
        #: it ran the write is not this thread's next loop, which schedules its own.
        self.loop: asyncio.AbstractEventLoop | None = None


_TURNS = threading.local()


def _queue(loop: asyncio.AbstractEventLoop, handler: logging.StreamHandler[Any], line: str) -> None:
    turn: _Turn | None = getattr(_TURNS, "turn", None)
    if turn is None:
        turn = _TURNS.turn = _Turn()
    pending = turn.lines.get(handler)
    if pending is None:
        turn.lines[handler] = [line]
    else:
        pending.append(line)
    if turn.loop is not loop:
        turn.loop = loop
        loop.call_soon(_write_turn, turn)


def _write_turn(turn: _Turn) -> None:
    turn.loop = None
    lines, turn.lines = turn.lines, {}
    for handler, pending in lines.items():
        _emit(handler, "".join(pending))


def flush_access() -> None:
    """Write this thread's access lines not yet written (a stopping loop runs no more turns)."""
    turn: _Turn | None = getattr(_TURNS, "turn", None)
    if turn is not None:
        _write_turn(turn)


def _forked() -> None:
    # Security and order: a forked worker does not write its parent's pending lines again.
    _TURNS.__dict__.clear()


os.register_at_fork(after_in_child=_forked)
atexit.register(flush_access)


def _emit(handler: logging.StreamHandler[Any], text: str) -> None:
    """Write `text` (whole lines) as the handler's `emit` would: under its lock, flushed."""
    handler.acquire()
    try:
        stream = getattr(handler, "stream", None)
        if stream is None:
            raise ValueError("the handler's stream is closed")
        stream.write(text)
        handler.flush()
    except Exception:
        # As `StreamHandler.emit` does: report through the handler's own error path (the
        # record names the failure; the lines carry no personal data, but are not repeated).
        handler.handleError(
            logging.makeLogRecord({"msg": "access lines not written", "levelno": logging.INFO})
        )
    finally:
        handler.release()


class _Clock:
    """A time text per whole second, reused within it (strftime is the costly part)."""

    __slots__ = ("_convert", "_format", "_second", "_text")

    def __init__(self, convert: Any, format: str) -> None:
        self._convert = convert
        self._format = format
        self._second = -1
        self._text = ""

    def text(self, created: float) -> str:
        second = int(created)
        if second != self._second:
            self._text = time.strftime(self._format, self._convert(second))
            self._second = second
        return self._text


_LOCAL = _Clock(time.localtime, logging.Formatter.default_time_format)
_UTC = _Clock(time.gmtime, "%Y-%m-%dT%H:%M:%S.")


def _text_line(created: float, name: str, message: str) -> str:
    # What `logging.Formatter(TEXT_FORMAT)` makes of a record created at `created`.
    msecs = int((created - int(created)) * 1000)
    level = logging.getLevelName(logging.INFO)
    return f"{_LOCAL.text(created)},{msecs:03d} {level} {name}: {message}"


def json_line(created: float, level: str, name: str, fields: dict[str, Any]) -> str:
    """One JSON log line: time (UTC, RFC 3339, milliseconds), level, logger, then `fields`."""
    # As `datetime.fromtimestamp` splits it: microseconds rounded half to even.
    second = int(created)
    micros = round((created - second) * 1e6)
    if micros >= 1_000_000:
        second, micros = second + 1, micros - 1_000_000
    out: dict[str, Any] = {
        "time": f"{_UTC.text(second)}{micros // 1000:03d}Z",
        "level": level,
        "logger": name,
    }
    out.update(fields)
    return orjson.dumps(out).decode("utf-8")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, RFC 3339), level, logger, then either the access
    fields or the message."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line."""
        fields = getattr(record, ACCESS, None)
        out: dict[str, Any] = dict(fields) if isinstance(fields, dict) else {}
        if not isinstance(fields, dict):
            out["message"] = record.getMessage()
        if record.exc_info and record.exc_info[0] is not None:
            out["exception"] = record.exc_info[0].__name__
            out["traceback"] = self.formatException(record.exc_info)
        return json_line(record.created, record.levelname.lower(), record.name, out)


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
