"""Test support for the web page: a site over the demo replica, a real SMTP server on
loopback (aiosmtpd) that keeps what it receives, and the contact form's round trip."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from core.lookup import Lookup
from rdds import config
from replica.store import SqliteStore
from web import app as web_app

BASE = "http://127.0.0.1/"
SENDER = "Registry contact form <contact-form@registry.example>"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Inbox:
    """What the SMTP server received, in order."""

    port: int
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        with self.lock:
            self.messages.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), msg))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A real SMTP server on loopback for the duration of one test."""
    box = Inbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def settings_text(port: int, relay_log: Path, extra: str = "") -> str:
    return (
        "[web]\n"
        'smtp_host = "127.0.0.1"\n'
        f"smtp_port = {port}\n"
        "smtp_starttls = false\n"
        f'sender = "{SENDER}"\n'
        f'relay_log = "{relay_log}"\n'
        + ("" if "form_min_seconds" in extra else "form_min_seconds = 0\n")
        + 'form_secret = "test secret, not a real one"\n'
        + extra
    )


def build(store: SqliteStore, text: str, base_url: str = BASE) -> tuple[Lookup, web_app.Site]:
    """The composition root's wiring for the page: settings text -> policy + site."""
    s = config.parse(text)
    s = replace(s, rdap=replace(s.rdap, base_url=base_url))
    s = config.with_contact_form(s)
    lookup = Lookup(store, s.policy)
    return lookup, web_app.build(lookup, config.web_config(s))


_TOKEN = re.compile(r'name="token" value="([^"]+)"')


def form_token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "no form token on the page"
    return found.group(1)


def cookie_of(headers: Any) -> str:
    """The form cookie a response sets, as a Cookie header value."""
    for value in headers.getall("Set-Cookie", []):
        if value.startswith("rdds_form="):
            return value.split(";", 1)[0]
    raise AssertionError("no form cookie")
