"""Test-corpus generator: whois/good/*.txt (CR LF) and whois/bad/<code>.txt, one defect each.

Run from the repository root: PYTHONPATH=. python tests/conformance/corpus/make_whois.py
"""

from __future__ import annotations

import pathlib

HERE = pathlib.Path(__file__).parent / "whois"
TAIL = [
    ">>> Last update of WHOIS database: 2026-11-23T09:00:00Z <<<",
    "",
    "For more information on Whois status codes, please visit https://icann.org/epp",
    "",
    "Terms of Use: access to this service is subject to the registry's terms of use.",
]
domain = [
    "Domain Name: example.org",
    "Registry Domain ID: D1000001-ORG",
    "Registrar WHOIS Server: whois.registrar.example.net",
    "Registrar URL: https://registrar.example.net",
    "Updated Date: 2025-06-01T12:30:00Z",
    "Creation Date: 2020-01-15T10:00:00Z",
    "Registry Expiry Date: 2027-01-15T10:00:00Z",
    "Registrar: Example Registrar, Inc.",
    "Registrar IANA ID: 9999",
    "Registrar Abuse Contact Email: abuse@registrar.example.net",
    "Registrar Abuse Contact Phone: +1.5555550100",
    "Domain Status: clientTransferProhibited https://icann.org/epp#clientTransferProhibited",
    "Domain Status: serverDeleteProhibited https://icann.org/epp#serverDeleteProhibited",
    "Registry Registrant ID: REDACTED FOR PRIVACY",
    "Registrant Name: REDACTED FOR PRIVACY",
    "Registrant Organization: ",
    "Registrant Street: REDACTED FOR PRIVACY",
    "Registrant City: REDACTED FOR PRIVACY",
    "Registrant State/Province: QC",
    "Registrant Postal Code: REDACTED FOR PRIVACY",
    "Registrant Country: CA",
    "Registrant Phone: REDACTED FOR PRIVACY",
    "Registrant Phone Ext: REDACTED FOR PRIVACY",
    "Registrant Fax: REDACTED FOR PRIVACY",
    "Registrant Fax Ext: REDACTED FOR PRIVACY",
    "Registrant Email: Please query the RDDS service of the Registrar of Record identified in "
    "this output for information on how to contact the Registrant.",
    "Registry Tech ID: REDACTED FOR PRIVACY",
    "Tech Name: REDACTED FOR PRIVACY",
    "Tech Phone: REDACTED FOR PRIVACY",
    "Tech Email: REDACTED FOR PRIVACY",
    "Name Server: ns1.example.net",
    "Name Server: ns2.example.net",
    "DNSSEC: unsigned",
    "URL of the ICANN Whois Inaccuracy Complaint Form: https://icann.org/wicf/",
]
coop = [
    "Domain Name: example.coop",
    "Registry Domain ID: D42-COOP",
    "Registrar WHOIS Server: whois.registrar.example.net",
    "Registrar URL: https://registrar.example.net",
    "Updated Date: 2025-01-02T03:04:05Z",
    "Creation Date: 2002-01-30T00:00:00Z",
    "Registry Expiry Date: 2027-01-30T00:00:00Z",
    "Registrar: Example Registrar, Inc.",
    "Registrar IANA ID: 9999",
    "Domain Status: ok https://icann.org/epp#ok",
    "Registrant Name: REDACTED FOR PRIVACY",
    "Registrant Organization: Example Cooperative",
    "Registrant State/Province: ON",
    "Registrant Country: CA",
    "Name Server: ns1.example.coop",
    "DNSSEC: signedDelegation",
    "URL of the ICANN Whois Inaccuracy Complaint Form: https://icann.org/wicf/",
    "Registrant Eligibility Category: COOP",
    "Registrant Verified: yes",
]
notfound = ['No match for "NOTHING.EXAMPLE.ORG".']


def write(path: str, lines: list[str], sep: str = "\r\n") -> None:
    (HERE / path).write_bytes((sep.join(lines) + sep).encode("utf-8"))


write("good/domain.txt", domain + TAIL)
write("good/domain-coop.txt", ["% Example registry WHOIS service", *coop, *TAIL])
write("good/not-found.txt", notfound + TAIL)


def bad(code: str, lines: list[str], sep: str = "\r\n") -> None:
    write(f"bad/{code}.txt", lines, sep)


bad("whois.line-ending", domain + TAIL, sep="\n")
d = list(domain)
d.insert(5, "Last Updated On 2025-06-01")
bad("whois.format", d + TAIL)
d = list(domain)
d[4], d[5] = d[5], d[4]
bad("whois.key-order", d + TAIL)
d = list(domain)
d[2] = "Registrar WHOIS Server: https://whois.registrar.example.net/"
bad("whois.whois-server", d + TAIL)
d = list(domain)
d[11] = "Domain Status: clientTransferProhibited https://icann.org/epp#clientUpdateProhibited"
bad("whois.status", d + TAIL)
d = [line for line in domain if not line.startswith("Domain Status")]
bad("whois.status.missing", d + TAIL)
d = list(domain)
d[6] = "Registry Expiry Date: 2027-01-15 10:00:00"
bad("whois.date", d + TAIL)
bad("whois.last-update", domain + TAIL[1:])
(HERE / "bad/whois.empty.txt").write_bytes(b"")
(HERE / "bad/whois.encoding.txt").write_bytes(
    ("\r\n".join(notfound + TAIL) + "\r\n").encode().replace(b"registry's", b"registry\xe2\x80s")
)
