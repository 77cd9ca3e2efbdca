"""Connection URLs in messages and logs carry no password, neither in the user part nor in
the query string (libpq's `password`, `sslpassword`)."""

from __future__ import annotations

import pytest

from replica.postgres import redact_url

CASES = [
    ("postgresql://db/rdds", "postgresql://db/rdds"),
    ("postgresql://node@db/rdds", "postgresql://node@db/rdds"),
    ("postgresql://node:s3cr3t@db:5432/rdds", "postgresql://node@db:5432/rdds"),
    ("postgres://node:p@ss@db/rdds", "postgres://node@db/rdds"),
    ("postgresql://node@db/rdds?password=s3cr3t", "postgresql://node@db/rdds"),
    ("postgresql://db/rdds?sslmode=require&PASSWORD=x", "postgresql://db/rdds?sslmode=require"),
    (
        "postgresql://db/rdds?sslpassword=k&application_name=rdds&password=x",
        "postgresql://db/rdds?application_name=rdds",
    ),
    ("postgresql://u:pw@h1:5432,h2:5433/rdds", "postgresql://u@h1:5432,h2:5433/rdds"),
]


@pytest.mark.parametrize(("url", "shown"), CASES)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert "s3cr3t" not in redact_url(url)
