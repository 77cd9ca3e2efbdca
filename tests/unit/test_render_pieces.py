"""The small pure pieces every answer renders through: URL segments, dates, field values."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest

from rdap import render
from redaction.fields import ROLE_PREFIX, Field, label, value
from registry.model import ContactRole
from tests.conftest import make_contact
from whois43 import render as whois_render

CTX = render.RenderContext(base_url="https://rdap.example/", request_url="https://rdap.example/x")


@pytest.mark.parametrize(
    "segment",
    [
        "example.coop",
        "EXORG-1",
        "a_b~c.d-e",
        "",
        "a/b",  # a handle may hold any character: each one quoted as quote(safe="") does
        "a b",
        "a%2Fb",
        "?#[]@!$&'()*+,;=",
        "ünïcode",
        "xn--mgbtx2b",
    ],
)
def test_url_segments_are_quoted_like_quote_safe_nothing(segment: str) -> None:
    assert CTX.url("entity", segment) == "https://rdap.example/entity/" + quote(segment, safe="")


@pytest.mark.parametrize(
    ("when", "text"),
    [
        (dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC), "2024-05-06T07:08:09Z"),
        # Another offset: rendered in UTC.
        (
            dt.datetime(2024, 1, 1, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2023-12-31T23:30:00Z",
        ),
        (dt.datetime(2024, 5, 6, 7, 8, 9, 999_999, tzinfo=dt.UTC), "2024-05-06T07:08:09Z"),
        (dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC), "9999-12-31T23:59:59Z"),
        # strftime's spelling below year 1000 (no padding on this platform) is kept.
        (
            dt.datetime(999, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            dt.datetime(999, 1, 2, 3, 4, 5).strftime("%Y-%m-%dT%H:%M:%SZ"),
        ),
    ],
)
def test_dates(when: dt.datetime, text: str) -> None:
    assert render._date(when) == text
    assert whois_render._date(when) == text


FULL = make_contact()
NO_NUMBERS = make_contact(voice=None, fax=None, postal=())


@pytest.mark.parametrize(
    ("field", "full", "bare"),
    [
        (Field.HANDLE, "TEST-1", "TEST-1"),
        (Field.NAME, "Quinn Testperson", None),
        (Field.ORG, "Testing Widgets Ltd", None),
        (Field.STREET, ("1 Sample Street", "Floor 2"), None),
        (Field.CITY, "Sampleton", None),
        (Field.SP, "Samplia", None),
        (Field.PC, "SA1 2MP", None),
        (Field.CC, "GB", None),
        (Field.VOICE, "+44.5550100111", None),
        # An extension without its number is no value.
        (Field.VOICE_EXT, "77", None),
        (Field.FAX, "+44.5550100222", None),
        (Field.FAX_EXT, "88", None),
        (Field.EMAIL, "quinn.testperson@mail.example", "quinn.testperson@mail.example"),
    ],
)
def test_field_values(field: Field, full: object, bare: object) -> None:
    assert value(FULL, field) == full
    assert value(NO_NUMBERS, field) == bare


def test_every_field_has_a_value_getter() -> None:
    for field in Field:
        value(FULL, field)


@pytest.mark.parametrize(
    ("role", "field", "text"),
    [
        (ContactRole.REGISTRANT, Field.NAME, "Registrant Name"),
        (ContactRole.TECH, Field.HANDLE, "Registry Tech ID"),
        (ContactRole.ADMIN, Field.SP, "Admin State/Province"),
        (None, Field.EMAIL, "Contact Email"),
        (ContactRole.BILLING, Field.FAX_EXT, "Billing Fax Ext"),
    ],
)
def test_labels(role: ContactRole | None, field: Field, text: str) -> None:
    assert label(role, field) == text


def test_every_role_and_field_has_a_label() -> None:
    assert all(label(role, f) for role in ROLE_PREFIX for f in Field)
