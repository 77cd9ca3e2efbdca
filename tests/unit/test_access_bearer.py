"""Bearer parsing, purpose selection, credential values and the store's JSON form."""

from __future__ import annotations

import datetime as dt

import pytest

from access import bearer, credentials, purposes
from registry.errors import BadQuery, Forbidden, Unauthorized

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("values", "token"),
    [
        ([], None),
        (["Bearer abc"], "abc"),
        (["bearer   abc.def-ghi_~+/= "], "abc.def-ghi_~+/="),
        (["BEARER rdds_x"], "rdds_x"),
    ],
)
def test_authorization_accepted(values: list[str], token: str | None) -> None:
    assert bearer.parse_authorization(values) == token


@pytest.mark.parametrize(
    "values",
    [
        ["Basic dXNlcjpwYXNz"],
        ["Digest username=x"],
        ["Bearer"],
        ["Bearer "],
        ["Bearer a b"],
        ["Bearer tok\u00e9n"],
        ["Bearer " + "a" * 9000],
        ["Bearer secret-one", "Bearer secret-two"],
        ["rdds_sometoken"],
    ],
)
def test_authorization_refused_without_echoing(values: list[str]) -> None:
    with pytest.raises(Unauthorized) as info:
        bearer.parse_authorization(values)
    assert info.value.status == 401
    for v in values:
        secret = v.partition(" ")[2]
        assert not secret or secret not in info.value.message


def test_tokens_are_random_and_hashed() -> None:
    a, b = bearer.new_token(), bearer.new_token()
    assert a != b and bearer.is_local(a) and len(a) == len("rdds_") + 43
    assert bearer.token_hash(a) != bearer.token_hash(b) and len(bearer.token_hash(a)) == 64
    assert bearer.same_hash(bearer.token_hash(a), bearer.token_hash(a))
    assert not bearer.is_local("eyJhbGciOiJFUzI1NiJ9.e30.sig")


ONE = ("criminalInvestigationAndDNSAbuse",)
TWO = ("criminalInvestigationAndDNSAbuse", "legalActions")


@pytest.mark.parametrize(
    ("allowed", "requested", "expected"),
    [
        (ONE, [], "criminalInvestigationAndDNSAbuse"),
        (ONE, [""], "criminalInvestigationAndDNSAbuse"),
        (ONE, ["criminalInvestigationAndDNSAbuse"], "criminalInvestigationAndDNSAbuse"),
        (TWO, ["legalActions"], "legalActions"),
    ],
)
def test_purpose_selected(allowed: tuple[str, ...], requested: list[str], expected: str) -> None:
    assert purposes.select(allowed, requested) == expected


@pytest.mark.parametrize(
    ("allowed", "requested", "error"),
    [
        (TWO, [], BadQuery),  # several allowed, none named: 400
        (ONE, ["legalActions"], Forbidden),  # a real purpose outside the credential: 403
        (TWO, ["dnsTransparency"], Forbidden),
        (TWO, ["fishing"], BadQuery),  # not an RDAP purpose at all: 400
        (TWO, ["legalActions", "legalActions"], BadQuery),
        ((), [], Forbidden),
    ],
)
def test_purpose_refused(
    allowed: tuple[str, ...], requested: list[str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        purposes.select(allowed, requested)


def test_purpose_list_parsing() -> None:
    assert purposes.parse_list(" legalActions, dnsTransparency,legalActions ") == (
        "legalActions",
        "dnsTransparency",
    )
    for bad in ("", " , ", "legalActions,snooping"):
        with pytest.raises(ValueError):
            purposes.parse_list(bad)


@pytest.mark.parametrize("name", ["law-enforcement", "csirt", "tier2", "a"])
def test_tier_names_accepted(name: str) -> None:
    assert credentials.check_tier_name(name) == name


@pytest.mark.parametrize("name", ["", "Law", "2nd", "-x", "a_b", "anonymous", "x" * 33, "a b"])
def test_tier_names_refused(name: str) -> None:
    with pytest.raises(ValueError):
        credentials.check_tier_name(name)


def test_expiry_parsing() -> None:
    assert credentials.parse_expiry("2026-12-31") == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    assert credentials.parse_expiry("2026-12-31T10:00:00Z") == dt.datetime(
        2026, 12, 31, 10, tzinfo=dt.UTC
    )
    for bad in ("tomorrow", "2026-12-31T10:00:00", "2026-13-01"):
        with pytest.raises(ValueError):
            credentials.parse_expiry(bad)


def test_issue_and_store_round_trip() -> None:
    cred, token = credentials.issue("law-enforcement", " Example Police ", ONE, NOW)
    assert (
        cred.organisation == "Example Police" and token not in credentials.encode((cred,)).decode()
    )
    revoked = credentials.Credential(
        **{**{f: getattr(cred, f) for f in cred.__slots__}, "revoked": NOW, "expires": NOW}  # type: ignore[attr-defined]
    )
    assert credentials.decode(credentials.encode((cred, revoked))) == (cred, revoked)
    assert credentials.find({cred.token_sha256: cred}, token) == cred
    assert credentials.find({cred.token_sha256: cred}, token + "x") is None


def test_credential_states() -> None:
    cred, _ = credentials.issue("csirt", "CERT", ONE, NOW, NOW + dt.timedelta(days=1))
    assert cred.state(NOW) == "active"
    assert cred.state(NOW + dt.timedelta(days=1)) == "expired"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Bad Tier", "Org", ONE, NOW), "tier"),
        (("csirt", " ", ONE, NOW), "organisation"),
        (("csirt", "Org", ("nosy",), NOW), "purposes"),
        (("csirt", "Org", ONE, NOW, NOW), "past"),
    ],
)
def test_issue_refuses(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        credentials.issue(*args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b'{"version": 2, "credentials": []}',
        b'{"version": 1, "credentials": {}}',
        b'{"version": 1, "credentials": [1]}',
        b'{"version": 1, "credentials": [{"id": "x"}]}',
        b"not json",
    ],
)
def test_bad_store_files_are_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):
        credentials.decode(raw)
