"""The `[web]` section: parsing, checks, secrets that never print, and the composition root
pointing withheld emails at the contact form only when it is on."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from rdds import config
from redaction.fields import Field, Method
from registry.errors import ConfigError
from web.settings import WebSettings, normalise_prefix, resolve

SMTP = """
[web]
smtp_host = "127.0.0.1"
smtp_port = 2525
smtp_starttls = false
sender = "Contact form <form@registry.example>"
relay_log = "/var/lib/rdds/relay.jsonl"
"""


@pytest.mark.parametrize(
    ("text", "out"),
    [
        ("/", "/"),
        ("/web", "/web/"),
        ("/web/", "/web/"),
        ("//a//b/", "/a/b/"),
        (" /x-y_z.1/ ", "/x-y_z.1/"),
    ],
)
def test_prefix(text: str, out: str) -> None:
    assert normalise_prefix(text) == out


@pytest.mark.parametrize("text", ["", "web", "/a b/", "/../x", "/a?b", "/%2e/", "https://x/"])
def test_bad_prefix(text: str) -> None:
    with pytest.raises(ConfigError):
        normalise_prefix(text)


def test_defaults_page_on_form_off() -> None:
    s = config.parse("")
    assert s.web.enabled and s.web.prefix == "/"
    cfg = config.web_config(s)
    assert not cfg.form_enabled and cfg.contact_form_template() is None


def test_form_on_with_smtp() -> None:
    cfg = config.web_config(config.parse(SMTP))
    assert cfg.form_enabled and cfg.relay_log == Path("/var/lib/rdds/relay.jsonl")
    assert cfg.secret_file == Path("/var/lib/rdds/web-secret")
    assert cfg.contact_form_template() == (
        "http://127.0.0.1:8080/contact?domain={domain}&role={role}"
    )


def test_relay_log_defaults_to_the_data_dir(tmp_path: Path) -> None:
    text = SMTP.replace('relay_log = "/var/lib/rdds/relay.jsonl"\n', "")
    text += f'[auth]\ndata_dir = "{tmp_path}"\n'
    cfg = config.web_config(config.parse(text))
    assert cfg.relay_log == tmp_path / "contact-relay.jsonl"


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda t: t.replace('relay_log = "/var/lib/rdds/relay.jsonl"\n', ""), "web.relay_log"),
        (
            lambda t: t.replace('sender = "Contact form <form@registry.example>"\n', ""),
            "web.sender",
        ),
        (
            lambda t: (
                t.replace('"127.0.0.1"', '"smtp.registry.example"')
                + 'smtp_username = "u"\nsmtp_password = "p"\n'
            ),
            "web.smtp_starttls",
        ),
    ],
)
def test_refused_smtp_settings(edit, key: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as info:
        config.web_config(config.parse(edit(SMTP)))
    assert key in info.value.message


def test_unknown_and_mistyped_keys() -> None:
    with pytest.raises(ConfigError, match=r"web\.smtp_hots: unknown key"):
        config.parse('[web]\nsmtp_hots = "x"\n')
    with pytest.raises(ConfigError, match=r"web\.smtp_port: expected a non-negative integer"):
        config.parse('[web]\nsmtp_port = "25"\n')


def test_secrets_never_print() -> None:
    s = config.parse(SMTP + 'smtp_password = "hunter2-secret"\nform_secret = "tok-secret"\n')
    assert s.web.smtp_password == "hunter2-secret"
    for text in (repr(s), str(s), repr(s.web), repr(config.web_config(s))):
        assert "hunter2" not in text and "tok-secret" not in text


def test_password_from_the_environment() -> None:
    s = config.apply_env(config.parse(SMTP), {"RDDS_SMTP_PASSWORD": "from-env"})
    assert s.web.smtp_password == "from-env"


def test_loopback_relay_may_authenticate_without_starttls() -> None:
    s = config.parse(SMTP + 'smtp_username = "u"\n')
    assert config.web_config(s).form_enabled


def test_contact_form_replaces_the_builtin_pointer_only() -> None:
    text = SMTP + '[tld.cx]\nemail_contact_form = "https://cx-registry.example/form?d={domain}"\n'
    s = config.with_contact_form(config.parse(text))
    form = "http://127.0.0.1:8080/contact?domain={domain}&role={role}"
    assert s.policy.default.email_contact_form == form
    assert (
        s.policy.sections["cx"].email_contact_form == "https://cx-registry.example/form?d={domain}"
    )
    assert s.policy.default.methods[Field.EMAIL] is Method.REPLACEMENT_VALUE


def test_operator_default_wins() -> None:
    text = SMTP + '[default]\nemail_contact_form = "https://mine.example/{domain}"\n'
    s = config.with_contact_form(config.parse(text))
    assert s.policy.default.email_contact_form == "https://mine.example/{domain}"


@pytest.mark.parametrize("text", ["", SMTP.replace("[web]\n", "[web]\nenabled = false\n")])
def test_no_form_no_change(text: str) -> None:
    s = config.parse(text)
    assert config.with_contact_form(s) == s


def test_prefix_in_the_form_url() -> None:
    s = config.parse(SMTP + 'prefix = "/lookup-page"\n')
    s = replace(s, rdap=replace(s.rdap, base_url="https://rdds.registry.example"))
    assert config.web_config(s).contact_form_template() == (
        "https://rdds.registry.example/lookup-page/contact?domain={domain}&role={role}"
    )


def test_resolve_is_pure_values() -> None:
    cfg = resolve(WebSettings(), "https://x.example/", None)
    assert cfg.page_url == "https://x.example/" and cfg.relay_log is None
