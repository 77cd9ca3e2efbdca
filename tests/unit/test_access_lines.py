"""Access lines (`core.logs.access`): written without a LogRecord when every handler on the
way is a plain stream handler with a `[log] format` formatter, the very line the record would
have given; any other setup still gets the record."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import itertools
import json
import logging
import logging.handlers
from typing import Any

import pytest

from core import logs

FIELDS: dict[str, Any] = {
    "frontend": "rdap",
    "route": "domain",
    "status": 200,
    "seconds": 0.0004567,
    "client": "192.0.2.0/24",
    "request_id": "0123456789abcdef",
    "method": "GET",
}
_names = itertools.count()


def own() -> logging.Logger:
    """A new logger, not propagating: the test runner's capturing handlers (on the root
    logger, and on every non-propagating logger that exists when a test starts) are not
    plain stream handlers. Made inside the test, so that none is attached to it."""
    log = logging.getLogger(f"test.access.{next(_names)}")
    log.setLevel(logging.INFO)
    log.propagate = False
    return log


def stream(log: logging.Logger, fmt: logging.Formatter) -> io.StringIO:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(fmt)
    log.addHandler(handler)
    return out


def line(log: logging.Logger) -> None:
    logs.access(log, "%s %s /%s %d %.1fms", "192.0.2.0/24", "GET", "domain", 200, 0.5, **FIELDS)


class Records:
    """Counts the LogRecords made while installed."""

    def __init__(self) -> None:
        self.count = 0
        self._old = logging.getLogRecordFactory()

    def __enter__(self) -> Records:
        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            self.count += 1
            return self._old(*args, **kwargs)

        logging.setLogRecordFactory(factory)
        return self

    def __exit__(self, *_: object) -> None:
        logging.setLogRecordFactory(self._old)


def _pass(record: logging.LogRecord) -> bool:
    return True  # a filter that lets everything through: the record path, the same line


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_direct_line_is_the_records_line(fmt: str) -> None:
    logger = own()
    direct = stream(logger, logs.formatter(fmt))
    # WHEN a line is written through a plain stream handler THEN no record is made
    with Records() as records:
        line(logger)
    assert records.count == 0
    # AND it is the line the record path writes (a filter sends it there), time aside
    logger.handlers[0].addFilter(_pass)
    with Records() as records:
        line(logger)
    assert records.count == 1
    first, second = direct.getvalue().splitlines()
    if fmt == "json":
        a, b = json.loads(first), json.loads(second)
        assert a.pop("time")[:-5] == b.pop("time")[:-5]  # same second, almost surely
        assert a == b
        assert list(a) == [
            "level", "logger", "frontend", "route", "status", "duration_ms", "client",
            "request_id", "method",
        ]  # fmt: skip
        assert a["duration_ms"] == 0.457 and a["client"] == "192.0.2.0/24"
    else:
        assert (
            first[23:] == second[23:] == f" INFO {logger.name}: 192.0.2.0/24 GET /domain 200 0.5ms"
        )


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_two_destinations_get_one_line_each(fmt: str) -> None:
    logger = own()
    outs = [stream(logger, logs.formatter(fmt)), stream(logger, logs.formatter("json"))]
    line(logger)
    assert [len(o.getvalue().splitlines()) for o in outs] == [1, 1]


#: Instants around the edges of a second and a millisecond.
INSTANTS = (
    1_764_633_600.0,
    1_764_633_600.0005,
    1_764_633_600.123,
    1_764_633_600.9994999,
    1_764_633_600.9999996,
    1_764_633_601.999,
    0.5,
)


@pytest.mark.parametrize("created", INSTANTS)
def test_time_texts_are_the_formatters(created: float) -> None:
    record = logging.LogRecord("x", logging.INFO, "", 0, "m", None, None)
    record.created = created
    record.msecs = int((created - int(created)) * 1000) + 0.0  # as LogRecord computes it
    text = logging.Formatter(logs.TEXT_FORMAT).format(record)
    assert logs._text_line(created, "x", "m") == text
    stamp = dt.datetime.fromtimestamp(created, dt.UTC)
    expected = stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"
    assert json.loads(logs.json_line(created, "info", "x", {}))["time"] == expected


def test_other_setups_get_the_record() -> None:
    logger = own()
    # A formatter of another format, a handler of another class: records, fields attached.
    custom = stream(logger, logging.Formatter("%(levelname)s|%(message)s"))
    memory = logging.handlers.BufferingHandler(10)
    logger.addHandler(memory)
    with Records() as records:
        line(logger)
    assert records.count == 1
    assert custom.getvalue() == "INFO|192.0.2.0/24 GET /domain 200 0.5ms\n"
    (record,) = memory.buffer
    assert getattr(record, logs.ACCESS)["request_id"] == "0123456789abcdef"


def test_a_changed_time_format_gets_the_record() -> None:
    logger = own()
    fmt = logging.Formatter(logs.TEXT_FORMAT)
    fmt.converter = lambda _=None: dt.datetime(2000, 1, 2, 3, 4, 5).timetuple()  # type: ignore[method-assign]
    out = stream(logger, fmt)
    line(logger)
    assert out.getvalue().startswith("2000-01-02 03:04:05,")


def test_levels_and_disabled_loggers_write_nothing() -> None:
    logger = own()
    out = stream(logger, logs.formatter("text"))
    logger.handlers[0].setLevel(logging.WARNING)
    line(logger)
    logger.handlers[0].setLevel(logging.NOTSET)
    logger.disabled = True
    line(logger)
    logger.disabled = False
    logger.setLevel(logging.WARNING)
    line(logger)
    assert out.getvalue() == ""
    logger.setLevel(logging.INFO)
    line(logger)
    assert len(out.getvalue().splitlines()) == 1


def test_a_failing_stream_reports_through_the_handler(capsys: pytest.CaptureFixture[str]) -> None:
    logger = own()
    out = stream(logger, logs.formatter("text"))
    out.close()  # writing raises ValueError
    line(logger)  # reported by `Handler.handleError` (to stderr), not raised
    assert "ValueError" in capsys.readouterr().err


class _CountingStream(io.StringIO):
    """Counts the writes it gets."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_lines_of_one_loop_turn_are_one_write_at_the_next_turn() -> None:
    logger = own()
    out = _CountingStream()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.formatter("text"))
    logger.addHandler(handler)

    async def main() -> tuple[int, int, int]:
        for _ in range(5):
            line(logger)
        before = out.writes  # WHEN five lines are made in one turn THEN none written yet
        await asyncio.sleep(0)  # the next turn
        after = out.writes
        line(logger)
        logs.flush_access()  # AND what a stopping service flushes is written at once
        return before, after, out.writes

    assert asyncio.run(main()) == (0, 1, 2)
    assert len(out.getvalue().splitlines()) == 6
    # AND without a running loop a line is written at once
    line(logger)
    assert out.writes == 3


def test_a_failing_stream_goes_to_the_handlers_error_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logger = own()
    out = stream(logger, logs.formatter("json"))
    out.close()  # writing raises ValueError
    handler = logger.handlers[0]
    errors: list[logging.LogRecord] = []
    monkeypatch.setattr(handler, "handleError", errors.append)

    async def main() -> None:
        line(logger)
        await asyncio.sleep(0)

    asyncio.run(main())
    assert [r.getMessage() for r in errors] == ["access lines not written"]


def test_a_loop_closed_before_its_write_does_not_stop_the_next_loops() -> None:
    logger = own()
    out = stream(logger, logs.formatter("text"))

    async def made() -> None:
        line(logger)  # WHEN the loop ends before the turn that would write it

    async def next_loop() -> None:
        line(logger)
        await asyncio.sleep(0)

    loop = asyncio.new_event_loop()
    loop.run_until_complete(made())
    loop.close()  # its scheduled write never runs
    asyncio.run(next_loop())
    # THEN the next loop in the thread writes both lines
    assert len(out.getvalue().splitlines()) == 2
