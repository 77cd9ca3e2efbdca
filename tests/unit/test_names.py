"""Name normalisation torture table (IDNA2008 / UTS #46, lengths, case, trailing dot)."""

from __future__ import annotations

import re

import idna
import pytest

from registry import names
from registry.errors import InvalidName

L63 = "a" * 63
L64 = "a" * 64
# 253 octets: four labels of 63 plus dots = 255, so trim: 63+1+63+1+63+1+61 = 253.
N253 = ".".join([L63, L63, L63, "a" * 61])
N254 = ".".join([L63, L63, L63, "a" * 62])

VALID = [
    ("example.coop", "example.coop", "example.coop"),
    ("EXAMPLE.COOP", "example.coop", "example.coop"),
    ("eXaMpLe.CoOp", "example.coop", "example.coop"),
    ("example.coop.", "example.coop", "example.coop"),
    ("Example.Org.", "example.org", "example.org"),
    ("مثال.عراق", "xn--mgbh0fb.xn--mgbtx2b", "مثال.عراق"),
    ("xn--mgbh0fb.xn--mgbtx2b", "xn--mgbh0fb.xn--mgbtx2b", "مثال.عراق"),
    ("XN--MGBH0FB.XN--MGBTX2B", "xn--mgbh0fb.xn--mgbtx2b", "مثال.عراق"),
    ("café.org", "xn--caf-dma.org", "café.org"),
    ("CAFÉ.org", "xn--caf-dma.org", "café.org"),
    ("straße.org", "xn--strae-oqa.org", "straße.org"),  # IDNA2008: ß is PVALID
    ("example。coop", "example.coop", "example.coop"),  # UTS #46 maps the ideographic dot
    ("ｅｘａｍｐｌｅ.coop", "example.coop", "example.coop"),  # full-width letters
    (f"{L63}.org", f"{L63}.org", f"{L63}.org"),
    (N253, N253, N253),
    (N253 + ".", N253, N253),
    ("a-b.cx", "a-b.cx", "a-b.cx"),
    ("1.gs", "1.gs", "1.gs"),
    ("ns1.example.coop", "ns1.example.coop", "ns1.example.coop"),
    ("coop", "coop", "coop"),
]

INVALID = [
    "",
    ".",
    "..",
    "example..coop",
    ".example.coop",
    "example.coop..",
    f"{L64}.org",
    N254,
    N254 + ".",
    "exa mple.coop",
    "example.coop ",
    " example.coop",
    "exam\x00ple.coop",
    "example\t.coop",
    "example\n.coop",
    "-example.coop",
    "example-.coop",
    "ex--ample.coop",  # reserved hyphens in positions 3-4
    "xn--zz.coop",  # invalid punycode
    "xn--.coop",
    "xn--a.coop",  # decodes to a non-IDN (ASCII) label
    "exa_mple.coop",
    "exa/mple.coop",
    "exa*.coop",
    "exa@mple.coop",
    "\u200b.coop",  # zero-width space
    "a" * 2000,
]


@pytest.mark.parametrize(("text", "ldh", "unicode"), VALID)
def test_valid_names_normalise(text: str, ldh: str, unicode: str) -> None:
    name = names.from_text(text)
    assert (name.ldh, name.unicode) == (ldh, unicode)
    assert names.is_valid(text)


@pytest.mark.parametrize("text", INVALID)
def test_invalid_names_raise(text: str) -> None:
    with pytest.raises(InvalidName) as info:
        names.from_text(text)
    assert info.value.status == 400
    assert not names.is_valid(text)


def test_name_properties() -> None:
    n = names.from_text("مثال.عراق")
    assert n.tld == "xn--mgbtx2b"
    assert n.labels == ("xn--mgbh0fb", "xn--mgbtx2b")
    assert n.is_idn and str(n) == n.ldh
    assert not names.from_text("example.org").is_idn


def test_u_and_a_labels_are_the_same_name() -> None:
    assert names.from_text("مثال.عراق") == names.from_text("xn--mgbh0fb.xn--mgbtx2b")


def test_error_messages_do_not_echo_input() -> None:
    # Messages go to clients and logs: they must not carry what was typed.
    for text in INVALID:
        with pytest.raises(InvalidName) as info:
            names.from_text(text)
        if len(text) > 3:
            assert text not in info.value.message


ASCII_LDH = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-."


@pytest.mark.parametrize("ch", list(ASCII_LDH))
def test_uts46_maps_each_ascii_ldh_character_to_its_lower_case(ch: str) -> None:
    # The premise of from_text's shortcut for letters, digits, '-' and '.': UTS #46 maps each
    # of them to its lower case and nothing else (mapping is per code point).
    assert idna.uts46_remap(ch, std3_rules=True, transitional=False) == ch.lower()


@pytest.mark.parametrize(
    "text",
    [
        "Example.COOP",
        "a.b.c.d",
        "XN--MGBTX2B",
        "xn--nxasmq6b.org",
        "ab--cd.org",
        "-lead.org",
        "trail-.org",
        "a..b",
        ".",
        "x" * 64 + ".org",
        "0123456789.cx",
        "xn--.org",
        "XN--ABC.org",
    ],
)
def test_the_ascii_shortcut_decides_as_the_full_mapping(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same Name, or the same error, with and without the shortcut.
    def parse(t: str) -> object:
        try:
            return names.from_text(t)
        except InvalidName as exc:
            return exc.message

    shortcut = parse(text)
    # A pattern that never matches: the full UTS #46 mapping for every text.
    monkeypatch.setattr(names, "_ASCII_LDH", re.compile(r"(?!)"))
    assert parse(text) == shortcut
