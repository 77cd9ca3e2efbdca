"""The standard texts both front-ends print: media type, terms of service, ICANN notices.
Pure constants, no I/O.
"""

from __future__ import annotations

from typing import Final

#: RFC 7480 §4.2: the RDAP media type, on every answer.
MEDIA_TYPE: Final = "application/rdap+json"

#: Where the terms of service live unless the operator configures `[rdap] tos_url`.
DEFAULT_TOS_URL: Final = "https://www.example/rdds-terms"

#: The terms-of-service notice text (RDAP notice, WHOIS footer).
TOS_TEXT: Final = (
    "By querying this service you agree to use the data only for lawful purposes and "
    "not to use it to send unsolicited messages or to harvest personal data.",
    "Personal data of registrants is withheld unless the registrant consented to its "
    "publication; authorized requesters may obtain more under the registry's disclosure "
    "policy.",
)

#: ICANN's EPP status code glossary (RDAP profile §2.6.3; WHOIS status lines).
EPP_STATUS_URL: Final = "https://icann.org/epp"
#: ICANN's inaccuracy complaint form (RDAP profile §2.4.5 notice; WHOIS footer).
COMPLAINT_URL: Final = "https://icann.org/wicf"

#: RDAP profile notices (2024 wording).
RDAP_STATUS_CODES_TEXT: Final = (
    f"For more information on domain status codes, please visit {EPP_STATUS_URL}"
)
RDAP_COMPLAINT_TEXT: Final = f"URL of the ICANN RDDS Inaccuracy Complaint Form: {COMPLAINT_URL}"

#: Registry Agreement Specification 4 footer lines for port 43.
WHOIS_COMPLAINT_LINE: Final = (
    "URL of the ICANN Whois Inaccuracy Complaint Form: https://www.icann.org/wicf/"
)
WHOIS_STATUS_POINTER: Final = (
    f"For more information on Whois status codes, please visit {EPP_STATUS_URL}"
)
