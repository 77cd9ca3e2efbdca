"""OpenID Connect pieces that need no keys: issuer settings, claims, the /help member."""

from __future__ import annotations

from typing import Any

import pytest

from access import oidc
from registry.errors import ConfigError

ISSUER = oidc.Issuer("https://idp.example", "rdap", "/etc/jwks.json", name="IdP")
GOOD = {
    "sub": "officer-17",
    "rdds_tier": "law-enforcement",
    "org": "Example Police",
    "rdap_allowed_purposes": ["legalActions", "madeUp", 7],
}


def test_identity_from_claims() -> None:
    who = oidc.identity(GOOD, ISSUER)
    assert who == oidc.Identity(
        "officer-17",
        "https://idp.example",
        "law-enforcement",
        "Example Police",
        frozenset({"legalActions"}),
    )
    assert oidc.identity({**GOOD, "org": 3}, ISSUER).organisation is None


@pytest.mark.parametrize(
    "change",
    [
        {"sub": None},
        {"rdds_tier": ""},
        {"rdap_allowed_purposes": "legalActions"},
        {"rdap_allowed_purposes": []},
        {"rdap_allowed_purposes": ["madeUp"]},
    ],
)
def test_identity_refused(change: dict[str, Any]) -> None:
    claims = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(ValueError):
        oidc.identity(claims, ISSUER)


def test_custom_claim_names() -> None:
    issuer = oidc.parse_issuers(
        (
            {
                "issuer": "https://i",
                "audience": "a",
                "jwks": "f",
                "tier_claim": "role",
                "organisation_claim": "o",
            },
        )
    )[0]
    who = oidc.identity(
        {"sub": "s", "role": "registrar", "o": "R", "rdap_allowed_purposes": ["domainNameControl"]},
        issuer,
    )
    assert (who.tier, who.organisation) == ("registrar", "R")
    assert not issuer.jwks_is_url


def test_duplicate_issuers_refused() -> None:
    entry = {"issuer": "https://i", "audience": "a", "jwks": "https://i/jwks"}
    with pytest.raises(ConfigError, match="twice"):
        oidc.parse_issuers((entry, entry))


def test_help_member_lists_providers() -> None:
    other = oidc.Issuer("https://other.example", "rdap", "https://other.example/jwks")
    one = oidc.help_member((ISSUER,))["farv1_openidcConfiguration"]
    assert one["dntSupported"] is False
    assert one["openidcProviders"] == [
        {"iss": "https://idp.example", "name": "IdP", "default": True}
    ]
    two = oidc.help_member((ISSUER, other))["farv1_openidcConfiguration"]
    assert [p.get("default") for p in two["openidcProviders"]] == [None, None]
    assert two["openidcProviders"][1]["name"] == "https://other.example"
