"""The contact form's relay: a message to a contact by SMTP, and the record of each one.
I/O: the SMTP conversation and the relay record file.

The standard library's `smtplib` runs in a worker thread (`asyncio.to_thread`), one short
connection per message under a small concurrency cap: a contact form sends a handful of
messages an hour, `smtplib` is the most exercised SMTP client there is (STARTTLS with
certificate checks, AUTH), and it adds no dependency. The recipient's address goes only
into the SMTP envelope and the `To` header of the relayed message; the person who wrote
sees neither. The envelope sender is the service's own address, so a bounce (which quotes
the recipient's address) comes back to the operator, never to the person who wrote.

Every relayed message is recorded first — time, domain, role, a keyed hash of the sender's
address, the client's truncated network — and never its text. If the record cannot be
written, nothing is sent (fail closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import secrets
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

import orjson

from registry.errors import Unavailable
from web.settings import WebConfig, WebSettings

log = logging.getLogger("rdds.web")

#: Messages in flight at once (each holds one worker thread and one SMTP connection).
MAX_CONCURRENT = 4


class RecordFailed(Unavailable):
    """The message cannot be sent right now; please try again later."""


class SendFailed(Unavailable):
    """The message could not be delivered right now; please try again later."""


@dataclass(frozen=True, slots=True)
class Letter:
    """One message to relay, already checked (`web.forms`)."""

    to: str  # the contact's address: never shown to the person who wrote
    reply_to: str
    subject: str
    body: str
    domain: str  # the name as people read it (U-label)
    role_title: str  # "Registrant"


def compose(
    letter: Letter, settings: WebSettings, site_name: str, now: dt.datetime
) -> EmailMessage:
    """The relayed message: from the service, Reply-To the person who wrote."""
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = letter.to
    msg["Reply-To"] = letter.reply_to
    msg["Subject"] = f"[{letter.domain}] {letter.subject}"
    msg["Date"] = format_datetime(now)
    sender_domain = parseaddr(settings.sender)[1].rpartition("@")[2] or None
    msg["Message-ID"] = make_msgid(domain=sender_domain)
    msg["Auto-Submitted"] = "no"  # RFC 3834: written by a person, relayed as is
    intro = (
        f"This message was sent to you through the contact form of {site_name}, about the "
        f"domain name {letter.domain}, where you are the {letter.role_title.lower()}.\n"
        "Your email address was not shown to the sender. The sender's address below has not "
        "been verified; if you reply, the sender will see your address. You need not reply.\n"
    )
    msg.set_content(
        f"{intro}\n"
        f"From: {letter.reply_to}\n"
        f"Subject: {letter.subject}\n"
        f"{'-' * 72}\n\n"
        f"{letter.body}\n"
    )
    return msg


def load_secret(config: WebConfig) -> bytes:
    """The server secret for form tokens and sender hashes.

    A configured `form_secret` wins; otherwise a random key kept next to the relay record
    (created on first start, mode 0600), so tokens and hashes survive restarts; without a
    contact form, a key for this process only.
    """
    if config.settings.form_secret:
        return config.settings.form_secret.encode("utf-8")
    path = config.secret_file
    if path is None:
        return secrets.token_bytes(32)
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        raise Unavailable(f"cannot read the web form secret {path}: {type(exc).__name__}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key.hex() + "\n")
        f.flush()
        os.fsync(f.fileno())
    return key


class Relay:
    """Sends checked letters over SMTP and records each one first."""

    def __init__(self, settings: WebSettings, record_path: Path, site_name: str) -> None:
        self.settings = settings
        self.record_path = record_path
        self.site_name = site_name
        self._sending = asyncio.Semaphore(MAX_CONCURRENT)
        self._writing = asyncio.Lock()

    def __repr__(self) -> str:
        return f"Relay({self.settings.smtp_host}:{self.settings.smtp_port})"

    # --- the record ------------------------------------------------------------------------

    def _append(self, line: bytes) -> None:
        self.record_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.record_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    async def record(self, entry: dict[str, str]) -> None:
        """Append one record line and flush it to disk; RecordFailed when it cannot."""
        line = orjson.dumps(entry) + b"\n"
        async with self._writing:
            try:
                await asyncio.to_thread(self._append, line)
            except OSError as exc:
                log.error("contact form: cannot write the relay record: %s", type(exc).__name__)
                raise RecordFailed() from None

    # --- SMTP ------------------------------------------------------------------------------

    def _envelope_sender(self) -> str:
        return parseaddr(self.settings.sender)[1] or self.settings.sender

    def _send_sync(self, msg: EmailMessage, to: str) -> None:
        s = self.settings
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout) as smtp:
            smtp.ehlo()
            if s.smtp_starttls:
                # Security: the server's certificate is checked against the system CAs.
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
            smtp.send_message(msg, from_addr=self._envelope_sender(), to_addrs=[to])

    async def send(
        self, letter: Letter, *, client: str, domain: str, role: str, sender_hash: str
    ) -> None:
        """Record, then relay one letter. RecordFailed or SendFailed when it cannot."""
        now = dt.datetime.now(dt.UTC)
        relay_id = uuid.uuid4().hex
        await self.record(
            {
                "id": relay_id,
                "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "domain": domain,
                "role": role,
                "sender_hash": sender_hash,
                "client": client,
                "result": "accepted",
            }
        )
        msg = compose(letter, self.settings, self.site_name, now)
        async with self._sending:
            try:
                await asyncio.to_thread(self._send_sync, msg, letter.to)
            except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
                # No addresses in the log: the exception type is enough to look further.
                log.warning("contact form: SMTP relay failed: %s", type(exc).__name__)
                failure = {"id": relay_id, "time": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
                failure["result"] = "failed"
                with contextlib.suppress(RecordFailed):
                    await self.record(failure)
                raise SendFailed() from None
        log.info("contact form: message relayed")
