"""The search box: what a person types -> one query value, or the error they are shown."""

from __future__ import annotations

import pytest

from registry.errors import BadQuery, InvalidName
from web import query as wq

CASES = [
    ("example.org", wq.NameLookup, "example.org"),
    ("  Example.ORG.  ", wq.NameLookup, "example.org"),
    ("مثال.عراق", wq.NameLookup, "xn--mgbh0fb.xn--mgbtx2b"),
    ("XN--MGBH0FB.XN--MGBTX2B", wq.NameLookup, "xn--mgbh0fb.xn--mgbtx2b"),
    ("ｅｘａｍｐｌｅ．ｏｒｇ", wq.NameLookup, "example.org"),  # UTS-46 full-width mapping
    ("https://www.example.org/path?x=1", wq.NameLookup, "www.example.org"),
    ("http://user@example.org:8080/", wq.NameLookup, "example.org"),
    ("example。org", wq.NameLookup, "example.org"),
    ("ns1.example.coop", wq.NameLookup, "ns1.example.coop"),
    ("192.0.2.1", wq.AddressLookup, "192.0.2.1"),
    ("2001:DB8::0:1", wq.AddressLookup, "2001:db8::1"),
    ("[2001:db8::1]", wq.AddressLookup, "2001:db8::1"),
    ("9100", wq.RegistrarLookup, "9100"),
    ("CXR1", wq.RegistrarLookup, "CXR1"),
    ("Alder   Registrar Ltd", wq.RegistrarLookup, "Alder Registrar Ltd"),
]


@pytest.mark.parametrize(("text", "kind", "value"), CASES)
def test_parse(text: str, kind: type, value: str) -> None:
    q = wq.parse(text)
    assert isinstance(q, kind)
    match q:
        case wq.NameLookup(name=name):
            assert name.ldh == value
        case wq.AddressLookup(ip=ip):
            assert ip == value
        case wq.RegistrarLookup(key=key):
            assert key == value


ERRORS = [
    ("", wq.EmptyQuery),
    ("   ", wq.EmptyQuery),
    ("exa*mple.org", wq.NoWildcards),
    ("%.org", wq.NoWildcards),
    ("x" * 256, wq.QueryTooLong),
    ("exa\x00mple.org", BadQuery),
    ("example.org\u2028", BadQuery),
    ("exa_mple.org", InvalidName),
    ("ab--cd.org", InvalidName),
    ("a" * 64 + ".org", InvalidName),
    ("https://exa*mple.org/", wq.NoWildcards),
]


@pytest.mark.parametrize(("text", "error"), ERRORS)
def test_refused(text: str, error: type[BadQuery]) -> None:
    with pytest.raises(error):
        wq.parse(text)


def test_error_messages_are_for_people() -> None:
    assert wq.EmptyQuery().message.startswith("Type a domain name")
    assert wq.NoWildcards().status == 400


@pytest.mark.parametrize(
    ("text", "domain"),
    [("example.org", True), ("ns1.example.org", False), ("example.net", False), ("org", False)],
)
def test_is_domain(text: str, domain: bool) -> None:
    q = wq.parse(text)
    if isinstance(q, wq.NameLookup):
        assert wq.is_domain(q, {"org", "coop"}) is domain
    else:
        assert not domain
