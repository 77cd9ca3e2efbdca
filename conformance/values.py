"""Pure value rules shared by the RDAP and WHOIS checks: dates, names, statuses, addresses.

Each function returns a problem description (or a list of them) and never raises on bad
input: the caller turns problems into findings. No I/O.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import unicodedata
from collections.abc import Iterable

import idna

# RFC 3339 §5.6 date-time; a leap second (:60) is legal syntax.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)

# RFC 1034 §3.5 / RFC 5890 §2.3.1: a lower-case LDH label (the caller checks its length).
_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", re.ASCII)

# ICANN gTLD profile: a Registry Object ID (EPP RFC 5730 §2.8 roid) as the domain handle.
ROID = re.compile(r"(\w|_){1,80}-\w{1,8}", re.ASCII)

# RFC 5737 and RFC 3849: documentation ranges, rejected explicitly for glue (ICANN TIG).
_DOCUMENTATION_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)

_PENDING = frozenset(
    {"pending create", "pending renew", "pending transfer", "pending update", "pending delete"}
)


def rfc3339_problem(value: str, *, require_z: bool = False) -> str | None:
    """Return why `value` is not an RFC 3339 date-time, or None when it is one."""
    m = _RFC3339.fullmatch(value)
    if m is None:
        return f"{value!r} is not an RFC 3339 date-time"
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    offset = m.group(8)
    try:
        datetime.datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError as exc:
        return f"{value!r} is not a real date-time ({exc})"
    if second == 60 and minute != 59:  # RFC 3339 §5.7: leap seconds only at the minute's end
        return f"{value!r} has a leap second outside the last minute"
    if offset not in ("Z", "z"):
        hh, mm = int(offset[1:3]), int(offset[4:6])
        if hh > 23 or mm > 59:
            return f"{value!r} has an impossible UTC offset"
        if require_z:
            return f"{value!r} is not in UTC with a 'Z' suffix"
    return None


def ldh_name_problem(name: str) -> str | None:
    """Return why `name` is not an LDH name with valid A-labels, or None.

    RFC 9083 §3: ldhName holds LDH labels (RFC 5890 §2.3.1: letters, digits, hyphen, in
    either case) and A-labels. Case is not judged here (see `ldh_case_problem`).
    """
    name = name.lower()
    host = name[:-1] if name.endswith(".") and name != "." else name
    if len(host.encode("ascii", "replace")) > 253:
        return f"{name!r} is longer than 253 octets"
    for label in host.split("."):
        if not label:
            return f"{name!r} has an empty label"
        if len(label) > 63:
            return f"{name!r} has a label longer than 63 octets"
        if not _LDH_LABEL.fullmatch(label):
            return f"{name!r} has a label that is not LDH: {label!r}"
        if label.startswith("xn--"):
            try:
                ulabel = idna.decode(label)
                if idna.encode(ulabel, uts46=False).decode("ascii") != label:
                    return f"{label!r} does not round-trip through IDNA2008"
            except idna.IDNAError as exc:
                return f"{label!r} is not a valid A-label ({exc})"
        elif label[2:4] == "--":
            # RFC 5890 §2.3.1: "??--" labels are reserved unless they are A-labels.
            return f"{label!r} has hyphens in the 3rd and 4th positions"
    return None


def ldh_case_problem(name: str) -> str | None:
    """Return a note when `name` is not lower case (RFC 4343 §2: case does not matter)."""
    if name != name.lower():
        return f"{name!r} is not lower case (either case is an LDH name; most servers answer lower)"
    return None


def unicode_name_problem(ldh_name: str, unicode_name: str) -> str | None:
    """Return why `unicode_name` is not the U-label form of `ldh_name`, or None.

    RFC 9083 §3: unicodeName holds U-labels (NFC, RFC 5890 §2.3.2.1) of the same name.
    """
    if unicodedata.normalize("NFC", unicode_name) != unicode_name:
        return f"{unicode_name!r} is not in Unicode NFC"
    try:
        alabel = idna.encode(unicode_name.rstrip("."), uts46=False).decode("ascii")
    except idna.IDNAError as exc:
        return f"{unicode_name!r} is not a valid IDNA2008 name ({exc})"
    if alabel.lower() != ldh_name.rstrip(".").lower():
        return f"{unicode_name!r} encodes to {alabel!r}, not to ldhName {ldh_name!r}"
    return None


def status_problems(statuses: Iterable[str]) -> list[str]:
    """Return the illegal combinations in a set of RDAP status values (RFC 8056 §2, RFC 5731)."""
    present = set(statuses)
    problems: list[str] = []
    if "active" in present:
        # RFC 5731 §2.3: "ok" (RDAP "active") is never combined with holds, prohibitions or
        # pending operations.
        clashing = sorted(
            s for s in present if s.endswith((" hold", " prohibited")) or s in _PENDING
        )
        if clashing:
            problems.append(f"'active' combined with {', '.join(clashing)}")
    pending = sorted(present & _PENDING)
    if len(pending) > 1:
        problems.append(f"more than one pending status: {', '.join(pending)}")
    # RFC 3915 §3.1: redemption and pending restore exist only inside a pending delete.
    for rgp in ("redemption period", "pending restore"):
        if rgp in present and "pending delete" not in present:
            problems.append(f"{rgp!r} without 'pending delete'")
    return problems


def ip_problem(value: str, version: int) -> str | None:
    """Return why `value` is not an IPv`version` address, or None (RFC 9083 §3)."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return f"{value!r} is not an IP address"
    if address.version != version:
        return f"{value!r} is not an IPv{version} address"
    return None


def ip_form_problem(value: str) -> str | None:
    """Return why a valid address is not in its recommended text form, or None.

    RFC 5952 §4 (SHOULD): IPv6 in lower case, zeros compressed; IPv4 dotted decimal.
    """
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None  # ip_problem reports it
    if str(address) != value:
        return f"{value!r} is not in canonical form (expected {str(address)!r})"
    return None


def public_address_problem(value: str) -> str | None:
    """Return why a glue address is not globally routable, or None (ICANN TIG)."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None  # the syntax check reports it
    if any(address in net for net in _DOCUMENTATION_NETWORKS):
        return f"{value} is in a documentation range"
    if not address.is_global:
        return f"{value} is not a globally routable address"
    return None


def email_problem(value: str) -> str | None:
    """Return why `value` is not an ASCII addr-spec (RFC 5322 §3.4.1, dot-atom form), or None."""
    if not value.isascii():
        return f"{value!r} is not ASCII"
    local, sep, domain = value.rpartition("@")
    if not sep or not local or not domain:
        return f"{value!r} is not local@domain"
    atom = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
    if not re.fullmatch(rf"{atom}(?:\.{atom})*", local):
        return f"{value!r} has an invalid local part"
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LDH_LABEL.fullmatch(lab.lower()) for lab in labels):
        return f"{value!r} has an invalid domain part"
    return None
