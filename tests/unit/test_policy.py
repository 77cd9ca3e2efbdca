"""Policy file loader: defaults, a complete example, and every error naming its key."""

from __future__ import annotations

import pytest

from redaction import policy
from redaction.fields import Field, Method
from registry.errors import ConfigError

EXAMPLE = """
[default]
reason = "Server policy"
email_contact_form = "https://registry.example/contact?domain={domain}&role={role}"
publish_natural = ["sp", "cc"]
pending_delete = "minimal"

[default.methods]
name = "emptyValue"
org = "removal"

[tld.cx]
disclose_default = "replica"
methods = { email = "removal" }

[tiers.registrar]
rank = 10
[tiers.registrar.purposes]
domainNameControl = ["*"]

[tiers.cert]
rank = 15
[tiers.cert.purposes]
technicalIssueResolution = ["name", "email", "voice"]

[tiers.registry-staff]
rank = 30
[tiers.registry-staff.purposes]
"*" = ["*"]
"""


def test_example_parses() -> None:
    p = policy.parse(EXAMPLE)
    assert set(p.tiers) == {"registrar", "cert", "registry-staff"}
    assert p.highest_rank == 30
    assert p.tier("cert") is not None
    assert p.tiers["cert"].granted("technicalIssueResolution") == {
        Field.NAME,
        Field.EMAIL,
        Field.VOICE,
    }
    assert p.tiers["cert"].granted("legalActions") == frozenset()
    assert p.tiers["registry-staff"].granted(None) == frozenset(Field)
    assert p.default.methods[Field.EMAIL] is Method.REPLACEMENT_VALUE
    cx = p.for_section("cx")
    assert cx.disclose_default is None and cx.methods[Field.EMAIL] is Method.REMOVAL
    assert cx.email_contact_form == p.default.email_contact_form  # inherited from default
    assert p.for_section("org") is p.default


def test_no_file_is_private_by_default() -> None:
    p = policy.default_policy()
    assert p.default.disclose_default is False
    assert p.default.publish_natural == {Field.SP, Field.CC}
    assert set(p.tiers) == {"registrar", "law-enforcement", "registry-staff"}
    assert p.highest_rank == p.tiers["registry-staff"].rank


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[bogus]\n", "bogus: unknown key"),
        ("[default]\ncolour = 1\n", "default.colour: unknown key"),
        ("[tld.org]\nsurprise = true\n", "tld.org.surprise: unknown key"),
        ("[default]\ndisclose_default = 3\n", "default.disclose_default"),
        ('[default]\npublish_natural = ["shoe_size"]\n', "unknown field 'shoe_size'"),
        ('[default]\npublish_natural = "sp"\n', "default.publish_natural: expected a list"),
        ('[default.methods]\nname = "hidden"\n', "default.methods.name: unknown method"),
        (
            '[default.methods]\nvoice = "emptyValue"\n',
            "default.methods.voice: emptyValue not allowed",
        ),
        ('[default.methods]\nheight = "removal"\n', "default.methods.height: unknown field"),
        ('[default]\nemail_contact_form = "ftp://x"\n', "email_contact_form: expected an https"),
        ('[default]\nemail_contact_form = "https://x/{who}"\n', "unknown placeholder {who}"),
        ('[default]\nreason = ""\n', "default.reason: expected a non-empty string"),
        ('[default]\npending_delete = "sometimes"\n', "default.pending_delete"),
        ("[tiers.x]\nrank = 0\n", "tiers.x.rank: expected a positive integer"),
        ("[tiers.x]\nrank = 1\ncolour = 2\n", "tiers.x.colour: unknown key"),
        (
            '[tiers.x]\nrank = 1\n[tiers.x.purposes]\nfun = ["name"]\n',
            "tiers.x.purposes.fun: not an RDAP purpose",
        ),
        ("[tiers.anonymous]\nrank = 1\n", "tiers.anonymous: reserved"),
        ("[tiers.a]\nrank = 5\n[tiers.b]\nrank = 5\n", "more than one tier has the highest rank"),
        ("[default\n", "not valid TOML"),
        ("tld = 3\n", "tld: expected a table"),
    ],
)
def test_errors_name_key_and_problem(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        policy.parse(text, "rdds.toml")
    assert message in info.value.message
    assert info.value.message.startswith("rdds.toml: ")
