""".coop registry flags under the names the registry's registrar API gives them. Pure, no I/O.

Registrars' tooling and auditors match on `X-COOP-ELIGIBILITY` and `X-COOP-VERIFICATION`, so
both front-ends show these names next to their prose, and RDAP also sends them as response
headers. One function decides the values, so RDAP remarks, RDAP headers and WHOIS lines
cannot disagree.
"""

from __future__ import annotations

from registry.model import Contact, Domain, DomainRecord

#: 1 when the registrant certified its eligibility (self-certification since March 2021).
ELIGIBILITY = "X-COOP-ELIGIBILITY"
#: 1 when the registry has verified the contact; 0 for every other verification status.
VERIFICATION = "X-COOP-VERIFICATION"


def carries_flags(domain: Domain) -> bool:
    """Whether the domain carries .coop registry facts (category or certification)."""
    return domain.coop_category is not None or domain.coop_certified is not None


def eligibility(domain: Domain) -> str | None:
    """`1` / `0` for a certified / uncertified registrant; None when the deposit did not say."""
    if domain.coop_certified is None:
        return None
    return "1" if domain.coop_certified else "0"


def verification(contact: Contact) -> str:
    """`1` for a verified contact; `0` for any other status (unverified, never verified)."""
    return "1" if contact.verified else "0"


def flags(record: DomainRecord) -> tuple[tuple[str, str], ...]:
    """The (name, value) pairs for a domain: empty unless it carries .coop facts.

    A flag is present exactly when the fact behind it is known: eligibility when the deposit
    states the certification, verification when the domain has a registrant.
    """
    if not carries_flags(record.domain):
        return ()
    out: list[tuple[str, str]] = []
    certified = eligibility(record.domain)
    if certified is not None:
        out.append((ELIGIBILITY, certified))
    registrant = record.registrant
    if registrant is not None:
        out.append((VERIFICATION, verification(registrant)))
    return tuple(out)
