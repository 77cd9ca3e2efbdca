"""Pure checks of a port-43 WHOIS answer (RFC 3912, ICANN RDDS output format). No I/O."""

from __future__ import annotations

import re

from conformance import iana, values
from conformance.findings import Finding
from conformance.rules import finding

_LAST_UPDATE = re.compile(r">>> Last update of WHOIS database: (\S+) <<<")
_KEY_VALUE = re.compile(r"([A-Za-z][A-Za-z0-9 /&().,'-]*?): ?(.*)")
_STATUS = re.compile(r"(\S+) https://icann\.org/epp#(\S+)")

_CONTACT_FIELDS = (
    "Name",
    "Organization",
    "Street",
    "City",
    "State/Province",
    "Postal Code",
    "Country",
    "Phone",
    "Phone Ext",
    "Fax",
    "Fax Ext",
    "Email",
)


def _contact_block(role: str) -> list[str]:
    return [f"Registry {role} ID"] + [f"{role} {field}" for field in _CONTACT_FIELDS]


# ICANN RDDS advisory / registry agreement Spec 4 §1.4: domain record key order.
DOMAIN_KEY_ORDER: tuple[str, ...] = (
    "Domain Name",
    "Registry Domain ID",
    "Registrar WHOIS Server",
    "Registrar URL",
    "Updated Date",
    "Creation Date",
    "Registry Expiry Date",
    "Registrar",
    "Registrar IANA ID",
    "Registrar Abuse Contact Email",
    "Registrar Abuse Contact Phone",
    "Domain Status",
    *_contact_block("Registrant"),
    *_contact_block("Admin"),
    *_contact_block("Tech"),
    *_contact_block("Billing"),
    "Name Server",
    "DNSSEC",
    "URL of the ICANN Whois Inaccuracy Complaint Form",
)
_RANK = {key: i for i, key in enumerate(DOMAIN_KEY_ORDER)}
_DATE_KEYS = frozenset(
    {
        "Updated Date",
        "Creation Date",
        "Registry Expiry Date",
        "Registrar Registration Expiration Date",
    }
)


def check(text: bytes, *, query: str) -> list[Finding]:
    """Check the bytes a WHOIS server sent for `query`, up to the connection close."""
    if not text:
        return [finding("whois.empty", "$", f"empty answer to {query!r}")]
    findings: list[Finding] = []
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        findings.append(finding("whois.encoding", f"byte {exc.start}", "answer is not UTF-8"))
        decoded = text.decode("utf-8", "replace")
    # RFC 3912 §2 ends requests in CR LF; answers do by convention (info).
    raw_lines = decoded.split("\n")
    for number, line in enumerate(raw_lines[:-1], start=1):
        if not line.endswith("\r"):
            findings.append(
                finding("whois.line-ending", f"line {number}", "line ends in a bare LF")
            )
            break
    if raw_lines[-1]:
        findings.append(
            finding("whois.line-ending", f"line {len(raw_lines)}", "last line has no CR LF")
        )
    lines = [line.rstrip("\r") for line in raw_lines]
    end = next((i for i, line in enumerate(lines) if line.startswith(">>> Last update")), None)
    if end is None:
        findings.append(
            finding("whois.last-update", "$", "no '>>> Last update of WHOIS database' line")
        )
        end = len(lines)
    else:
        m = _LAST_UPDATE.fullmatch(lines[end])
        problem = values.rfc3339_problem(m.group(1), require_z=True) if m else "malformed line"
        if problem:
            findings.append(finding("whois.last-update", f"line {end + 1}", problem))
    record = [(i + 1, line) for i, line in enumerate(lines[:end]) if line.strip()]
    if not record or record[0][1].startswith("No match for"):
        return findings  # a not-found answer carries only its one line and the last update
    pairs: list[tuple[int, str, str]] = []
    for number, line in record:
        if line.startswith(("%", "#")):
            continue  # comment lines, as many registries print
        m = _KEY_VALUE.fullmatch(line)
        if m is None:
            findings.append(
                finding("whois.format", f"line {number}", f"{line[:60]!r} is not 'Key: value'")
            )
            continue
        pairs.append((number, m.group(1), m.group(2).strip()))
    if pairs and pairs[0][1] == "Domain Name":
        findings += _domain(pairs)
    return findings


def _domain(pairs: list[tuple[int, str, str]]) -> list[Finding]:
    findings: list[Finding] = []
    highest = (-1, "")
    for number, key, value in pairs:
        rank = _RANK.get(key)
        if rank is not None:
            if rank < highest[0]:
                findings.append(
                    finding("whois.key-order", f"line {number}", f"{key!r} after {highest[1]!r}")
                )
            else:
                highest = (rank, key)
        if key == "Registrar WHOIS Server" and value and ("/" in value or ":" in value):
            # Clients follow this as a referral: it must be a bare host name.
            findings.append(
                finding(
                    "whois.whois-server", f"line {number}", f"{value!r} is not a bare host name"
                )
            )
        if key in _DATE_KEYS and value:
            problem = values.rfc3339_problem(value, require_z=True)
            if problem:
                findings.append(finding("whois.date", f"line {number}", problem))
        if key == "Domain Status":
            m = _STATUS.fullmatch(value)
            if m is None or m.group(1) != m.group(2) or m.group(1) not in iana.EPP_STATUSES:
                findings.append(
                    finding(
                        "whois.status",
                        f"line {number}",
                        f"{value!r} is not '<EPP status> https://icann.org/epp#<EPP status>'",
                    )
                )
    if not any(key == "Domain Status" for _, key, _ in pairs):
        findings.append(
            finding("whois.status.missing", "$", "domain record has no Domain Status line")
        )
    return findings
