"""The contact form's pure rules: signed, time-limited, cookie-bound form tokens; address,
subject and message checks; keyed sender hashes."""

from __future__ import annotations

from typing import Any

import pytest

from registry.model import ContactRole
from web import forms

KEYS = forms.Keys.derive(b"a test secret, not a real one")
NONCE = "n" * 24
FORM = "f" * 24
T0 = 1_800_000_000.0


def verify(token: str, **kw: Any) -> forms.Token:
    args: dict[str, Any] = {
        "domain": "example.org",
        "role_value": ContactRole.REGISTRANT,
        "cookie_nonce": NONCE,
        "now": T0 + 60,
        "min_age": 3,
        "max_age": 3600,
    }
    args.update(kw)
    return forms.verify(KEYS, token, **args)


def good() -> str:
    return forms.issue(KEYS, "example.org", ContactRole.REGISTRANT, NONCE, T0, FORM)


def test_a_fresh_token_verifies_and_names_its_expiry() -> None:
    token = verify(good())
    assert token.expires == T0 + 3600 and token.mac == good().rsplit(".", 1)[1]
    assert NONCE not in good()  # the cookie's nonce never appears in the page


def test_two_forms_in_one_second_are_two_tokens() -> None:
    other = forms.issue(KEYS, "example.org", ContactRole.REGISTRANT, NONCE, T0, "g" * 24)
    assert verify(other).mac != verify(good()).mac


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"domain": "other.org"}, forms.BadToken),  # a token for another domain
        ({"role_value": ContactRole.TECH}, forms.BadToken),  # ... or another role
        ({"cookie_nonce": None}, forms.BadToken),  # CSRF: no cookie
        ({"cookie_nonce": "m" * 24}, forms.BadToken),  # CSRF: another browser's cookie
        ({"cookie_nonce": "bad;cookie"}, forms.BadToken),
        ({"now": T0 + 3601}, forms.FormExpired),
        ({"now": T0 + 1}, forms.FormTooFast),
        ({"now": T0 - 60}, forms.FormExpired),  # issued in the future: not ours
    ],
)
def test_refusals(change: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        verify(good(), **change)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "1.2.3",
        f"{int(T0)}.{FORM}.",
        f"{int(T0)}.{FORM}.AAAA",
        f"{int(T0) - 1}.{FORM}.{good().rsplit('.', 1)[1]}",  # the time was edited
        f"{int(T0)}.{'x' * 24}.{good().rsplit('.', 1)[1]}",  # the form id was edited
        f"{int(T0)}.{NONCE}.{good().rsplit('.', 1)[1]}",  # the cookie's nonce is not the id
        good() + "x",
        good().replace(".", "..", 1),
        f"{int(T0)}.{FORM}.{good().rsplit('.', 1)[1][:-1]}é",
    ],
)
def test_forged_tokens(token: str) -> None:
    with pytest.raises(forms.BadToken):
        verify(token)


def test_another_secret_does_not_verify() -> None:
    other = forms.Keys.derive(b"another secret")
    token = forms.issue(other, "example.org", ContactRole.REGISTRANT, NONCE, T0, FORM)
    with pytest.raises(forms.BadToken):
        verify(token)


def test_keys_never_print() -> None:
    assert "secret" not in repr(KEYS) and repr(KEYS) == "Keys(...)"


@pytest.mark.parametrize(
    ("text", "out"),
    [
        ("writer@mail.example", "writer@mail.example"),
        ("  Writer.Name+tag@Mail.Example ", "Writer.Name+tag@mail.example"),
        ("a@bücher.example", "a@xn--bcher-kva.example"),
    ],
)
def test_addresses(text: str, out: str) -> None:
    assert forms.address(text) == out


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no-at-sign",
        "two@@mail.example",
        "a@b@mail.example",
        "@mail.example",
        "writer@",
        "writer@localhost",
        ".writer@mail.example",
        "wri..ter@mail.example",
        "wri ter@mail.example",
        "writer@mail.example\r\nBcc: victim@mail.example",
        '"quoted"@mail.example',
        "<writer@mail.example>",
        "x" * 65 + "@mail.example",
        "x@" + "a" * 250 + ".example",
        "jürgen@mail.example",  # no SMTPUTF8: an ASCII local part
    ],
)
def test_bad_addresses(text: str) -> None:
    with pytest.raises(forms.BadAddress):
        forms.address(text)
    assert not forms.is_address(text)


def test_subject_is_one_line() -> None:
    assert forms.subject("  Hello\r\nBcc: victim@mail.example  ", 200) == (
        "Hello Bcc: victim@mail.example"
    )
    for bad in ("", "   ", "a\x00b", "a\x1bb"):
        with pytest.raises(forms.BadSubject):
            forms.subject(bad, 200)
    with pytest.raises(forms.MessageTooLong):
        forms.subject("x" * 201, 200)


def test_message_limits() -> None:
    assert forms.message(" line one\r\nline two\r\tindented ", 100) == (
        "line one\nline two\n\tindented"
    )
    for bad in ("", " \n ", "a\x00b", "a\x07b", "a\u2028b"):
        with pytest.raises(forms.BadMessage):
            forms.message(bad, 100)
    assert forms.message("x" * 100, 100)
    with pytest.raises(forms.MessageTooLong) as info:
        forms.message("x" * 101, 100)
    assert info.value.status == 413
    assert forms.message("x" * 10_000, 0)  # 0: no limit


def test_sender_hash_is_keyed_stable_and_case_blind() -> None:
    h = forms.sender_hash(KEYS, "Writer@Mail.Example")
    assert h == forms.sender_hash(KEYS, "writer@mail.example")
    assert h != forms.sender_hash(forms.Keys.derive(b"other"), "writer@mail.example")
    assert "writer" not in h and len(h) == 64


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("registrant", ContactRole.REGISTRANT),
        ("admin", ContactRole.ADMIN),
        ("administrative", ContactRole.ADMIN),
        ("Tech", ContactRole.TECH),
        ("technical", ContactRole.TECH),
        ("billing", ContactRole.BILLING),
    ],
)
def test_roles(text: str, role: ContactRole) -> None:
    assert forms.role(text) is role
    assert forms.role(forms.role_word(role)) is role


def test_unknown_role() -> None:
    with pytest.raises(forms.BadRole):
        forms.role("abuse")


def test_nonce_shape() -> None:
    assert forms.nonce_ok(NONCE)
    assert (
        not forms.nonce_ok(None) and not forms.nonce_ok("short") and not forms.nonce_ok("a;b" * 8)
    )
