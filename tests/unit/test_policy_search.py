"""The policy's search grants (`[tiers.NAME] search` and `reverse_search`): loader, defaults,
and who may search registrant data for which purpose."""

from __future__ import annotations

import pytest

from redaction import policy
from redaction.policy import Requester
from registry.errors import ConfigError

TEXT = """
[tiers.csirt]
rank = 15
search = ["fn"]
reverse_search = ["handle", "email"]
[tiers.csirt.purposes]
criminalInvestigationAndDNSAbuse = ["name", "email"]

[tiers.staff]
rank = 30
search = ["*"]
reverse_search = ["*"]
[tiers.staff.purposes]
"*" = ["*"]

[tiers.reader]
rank = 5
[tiers.reader.purposes]
dnsTransparency = ["name"]
"""


def test_search_grants_parse() -> None:
    p = policy.parse(TEXT, "rdds.toml")
    assert p.tiers["csirt"].search == {"fn"}
    assert p.tiers["csirt"].reverse_search == {"handle", "email"}
    assert p.tiers["staff"].search == policy.SEARCH_PROPERTIES
    assert p.tiers["staff"].reverse_search == policy.REVERSE_SEARCH_PROPERTIES
    assert p.tiers["reader"].search == frozenset()
    assert p.reverse_search_offered == policy.REVERSE_SEARCH_PROPERTIES


CASES = [
    # requester, property, reverse, allowed
    (Requester.anonymous(), "fn", False, False),
    (Requester.anonymous(), "handle", True, False),
    (Requester("csirt", "criminalInvestigationAndDNSAbuse"), "fn", False, True),
    (Requester("csirt", "criminalInvestigationAndDNSAbuse"), "handle", False, False),
    (Requester("csirt", "criminalInvestigationAndDNSAbuse"), "email", True, True),
    (Requester("csirt", "criminalInvestigationAndDNSAbuse"), "fn", True, False),
    # A purpose the tier has no grants for: no registrant search, whatever the list says.
    (Requester("csirt", "dnsTransparency"), "fn", False, False),
    (Requester("staff", "legalActions"), "addr", True, True),
    (Requester("reader", "dnsTransparency"), "fn", False, False),
    (Requester("nosuchtier", "legalActions"), "fn", False, False),
]


@pytest.mark.parametrize(("requester", "prop", "reverse", "allowed"), CASES)
def test_who_may_search(requester: Requester, prop: str, reverse: bool, allowed: bool) -> None:
    p = policy.parse(TEXT, "rdds.toml")
    assert p.may_search(requester, prop, reverse=reverse) is allowed


def test_defaults_reserve_searches_to_law_enforcement_and_staff() -> None:
    p = policy.default_policy()
    assert p.tiers["registrar"].search == frozenset()
    assert p.tiers["registrar"].reverse_search == frozenset()
    assert p.tiers["law-enforcement"].reverse_search == policy.REVERSE_SEARCH_PROPERTIES
    assert not p.may_search(Requester("registrar", "domainNameControl"), "fn")
    assert p.may_search(Requester("law-enforcement", "legalActions"), "fn")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[tiers.x]\nrank = 1\nsearch = ["colour"]\n', "tiers.x.search: unknown search property"),
        ('[tiers.x]\nrank = 1\nsearch = ["email"]\n', "tiers.x.search: unknown search property"),
        ('[tiers.x]\nrank = 1\nsearch = "fn"\n', "tiers.x.search: expected a list"),
        ("[tiers.x]\nrank = 1\nsearch = [1]\n", "tiers.x.search: expected a list"),
        (
            '[tiers.x]\nrank = 1\nreverse_search = ["name"]\n',
            "tiers.x.reverse_search: unknown search property 'name'",
        ),
    ],
)
def test_loader_errors_name_key_and_problem(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        policy.parse(text, "rdds.toml")
    assert message in info.value.message
    assert info.value.message.startswith("rdds.toml: ")


def test_a_file_tier_gets_no_search_grant_by_its_name() -> None:
    # docs/policy.md: the `search` / `reverse_search` default is none for every tier a file
    # defines, `law-enforcement` included; only the built-in tiers come with grants.
    # Mutation that fails it: redaction/policy.py _tier defaulting `search` to
    # DEFAULT_TIERS[name].search for a known name.
    text = (
        "[tiers.law-enforcement]\nrank = 20\n"
        '[tiers.law-enforcement.purposes]\ncriminalInvestigationAndDNSAbuse = ["*"]\n'
    )
    p = policy.parse(text, "rdds.toml")
    le = Requester("law-enforcement", "criminalInvestigationAndDNSAbuse")
    assert p.tiers["law-enforcement"].search == frozenset()
    assert not p.may_search(le, "fn")
    assert not p.may_search(le, "handle", reverse=True)
    assert p.reverse_search_offered == frozenset()
