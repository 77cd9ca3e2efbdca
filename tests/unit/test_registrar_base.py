"""The registrar's RDAP base URL as links show it: absolute values unchanged, relative ones
resolved against the server's public base URL (RFC 3986 §5.2)."""

from __future__ import annotations

import pytest

from rdap.render import RenderContext
from registry.model import Registrar

CASES = [
    # (public base, stored value, shown)
    ("http://127.0.0.1:8080/", None, None),
    ("http://127.0.0.1:8080/", "", None),
    (
        "http://127.0.0.1:8080/",
        "https://rdap.registrar.example/",
        "https://rdap.registrar.example/",
    ),
    ("https://rdap.example/rdap/", "HTTPS://RDAP.R.example/x/", "HTTPS://RDAP.R.example/x/"),
    ("http://127.0.0.1:8080/", "./", "http://127.0.0.1:8080/"),
    ("https://rdap.example/rdap/", "./", "https://rdap.example/rdap/"),
    ("https://rdap.example/rdap/", "./registrars/r1/", "https://rdap.example/rdap/registrars/r1/"),
    ("https://rdap.example/rdap/", "/other/", "https://rdap.example/other/"),
    ("https://rdap.example/rdap/", "../", "https://rdap.example/"),
    # Not a relative reference we resolve: shown as stored (a typo stays visible as one).
    ("https://rdap.example/rdap/", "rdap.registrar.example/", "rdap.registrar.example/"),
    ("https://rdap.example/rdap/", "//rdap.registrar.example/", "//rdap.registrar.example/"),
]


@pytest.mark.parametrize(("base", "stored", "shown"), CASES)
def test_registrar_base(base: str, stored: str | None, shown: str | None) -> None:
    ctx = RenderContext(base_url=base, request_url=base + "domain/x.org")
    reg = Registrar(id="R1", name="Registrar One", iana_id=9999, rdap_base_url=stored)
    assert ctx.registrar_base(reg) == shown
