"""The web front-end's settings: the `[web]` section as configured, and what the page needs
once the composition root has resolved the public base URL. Pure values.

Secrets (`smtp_password`, `form_secret`) never appear in a repr, a log line or an error.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

from registry.errors import ConfigError
from web import forms

#: File names under the access data directory when `relay_log` / `form_secret` are not set.
RELAY_LOG_NAME = "contact-relay.jsonl"
SECRET_NAME = "web-secret"  # noqa: S105 - a file name, not a secret


@dataclass(frozen=True, slots=True)
class WebSettings:
    """The `[web]` section as configured. A limit of 0 means no limit."""

    enabled: bool = True
    #: The page's title and the name relayed messages give for the service.
    site_name: str = "Registration data lookup"
    #: Where the page lives: "/" (the home page at the root) or e.g. "/lookup-page/".
    prefix: str = "/"
    #: The contact form is offered only when an SMTP host and a sender address are set.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)  # security: secret
    smtp_timeout: float = 20.0
    #: From and envelope sender of relayed messages (bounces come back here, never to the
    #: person who wrote: a bounce quotes the recipient's address).
    sender: str = ""
    #: HMAC key for form tokens and sender hashes (default: a random key kept in the data dir).
    form_secret: str = field(default="", repr=False)  # security: secret
    #: Where each relayed message is recorded (default: DATA_DIR/contact-relay.jsonl).
    relay_log: Path | None = None
    lookups_per_minute: int = 60
    messages_per_sender_per_day: int = 5
    messages_per_recipient_per_day: int = 10
    messages_per_network_per_hour: int = 10
    max_subject_chars: int = 200
    max_message_chars: int = 5000
    #: A form token is valid for this long after the form was shown...
    form_max_age_seconds: int = 3600
    #: ...and not before this many seconds (a person takes longer than a script).
    form_min_seconds: int = 3


@dataclass(frozen=True, slots=True)
class WebConfig:
    """What the web application needs: resolved values, nothing left to guess."""

    #: Public base URL of the service, ends with "/" (RDAP links and the form's own URL).
    base_url: str
    settings: WebSettings = field(default_factory=WebSettings)
    #: Normalised prefix: starts and ends with "/".
    prefix: str = "/"
    #: Where relayed messages are recorded; None: the contact form is off.
    relay_log: Path | None = None
    #: Where a generated form secret is kept when none is configured.
    secret_file: Path | None = None
    tos_url: str = ""

    @property
    def form_enabled(self) -> bool:
        """True when messages can be relayed (SMTP configured, somewhere to record them)."""
        return self.relay_log is not None

    @property
    def page_url(self) -> str:
        """The home page's absolute URL."""
        return self.base_url + self.prefix[1:]

    def contact_form_template(self) -> str | None:
        """The policy's `email_contact_form` pointing at this form, or None when it is off.

        `{domain}` is the A-label and `{role}` an RDAP role word: both URL-safe.
        """
        if not self.form_enabled:
            return None
        return self.page_url + "contact?domain={domain}&role={role}"


def normalise_prefix(prefix: str) -> str:
    """ "/" or "/path/" (one or more plain segments), else ConfigError."""
    text = prefix.strip()
    if not text.startswith("/"):
        raise ConfigError(f'web.prefix: expected a path starting with "/", got {prefix!r}')
    parts = [p for p in text.split("/") if p]
    for part in parts:
        if part in (".", "..") or not all(c.isalnum() or c in "-_." for c in part):
            raise ConfigError(f"web.prefix: {prefix!r} is not a plain path")
    return "/" + "".join(p + "/" for p in parts)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve(
    settings: WebSettings, base_url: str, data_dir: Path | None, tos_url: str = ""
) -> WebConfig:
    """Check the section and resolve paths; ConfigError names the key and the problem."""
    prefix = normalise_prefix(settings.prefix)
    relay_log: Path | None = None
    secret_file: Path | None = None
    if settings.smtp_host:
        if not forms.is_address(parseaddr(settings.sender)[1]):
            raise ConfigError("web.sender: expected the address relayed messages come from")
        if (
            settings.smtp_username
            and not settings.smtp_starttls
            and not _loopback(settings.smtp_host)
        ):
            # Security: never send the SMTP password in clear over a network.
            raise ConfigError(
                "web.smtp_starttls: credentials need STARTTLS unless the SMTP host is loopback"
            )
        relay_log = settings.relay_log
        if relay_log is None and data_dir is not None:
            relay_log = data_dir / RELAY_LOG_NAME
        if relay_log is None:
            raise ConfigError(
                "web.relay_log: the contact form records every relayed message; "
                "set web.relay_log or auth.data_dir"
            )
        if not settings.form_secret:
            secret_file = relay_log.parent / SECRET_NAME
    return WebConfig(
        base_url=base_url,
        settings=settings,
        prefix=prefix,
        relay_log=relay_log,
        secret_file=secret_file,
        tos_url=tos_url,
    )
