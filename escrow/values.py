"""Pure checks of the contact values a deposit carries (docs/escrow.md, "Values"). No I/O.

A deposit is published as it is read: a `cc` that is not a country, or a phone number that
is free text, would be shown to everyone as a country or a phone number. So the importer
refuses values that the EPP contact mapping (RFC 5733) does not allow: ISO 3166-1 country
codes, E.164 numbers and email addresses in the minimal form described below.
"""

from __future__ import annotations

import re
import unicodedata

# ISO 3166-1 alpha-2: the 249 officially assigned codes, as data, because RFC 5733 §2.4.3
# (and RFC 9022, which reuses its address type) says `cc` is an ISO 3166 two-letter country
# code and the XML schema only checks that it has two characters. Kept in the code rather
# than read from the operating system so that every deployment refuses the same deposits.
# Source: the ISO 3166 Maintenance Agency's list as published by Debian iso-codes 4.15.0,
# cross-checked with the tz database's iso3166.tab (both 249 codes, no difference).
# Not included: user-assigned codes (AA, QM-QZ, XA-XZ such as XK, ZZ), exceptionally or
# transitionally reserved ones (UK, EU, AC, TA, SU, YU, ...): none of them is a country code
# in ISO 3166-1. A new assignment means adding it here.
COUNTRY_CODES = frozenset(
    " ".join(
        (
            "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ",
            "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ",
            "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ",
            "DE DJ DK DM DO DZ",
            "EC EE EG EH ER ES ET",
            "FI FJ FK FM FO FR",
            "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY",
            "HK HM HN HR HT HU",
            "ID IE IL IM IN IO IQ IR IS IT",
            "JE JM JO JP",
            "KE KG KH KI KM KN KP KR KW KY KZ",
            "LA LB LC LI LK LR LS LT LU LV LY",
            "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ",
            "NA NC NE NF NG NI NL NO NP NR NU NZ",
            "OM",
            "PA PE PF PG PH PK PL PM PN PR PS PT PW PY",
            "QA",
            "RE RO RS RU RW",
            "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ",
            "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ",
            "UA UG UM US UY UZ",
            "VA VC VE VG VI VN VU",
            "WF WS",
            "YE YT",
            "ZA ZM ZW",
        )
    ).split()
)


def country(text: str) -> str | None:
    """The ISO 3166-1 alpha-2 code `text` names, in capitals (ISO writes them so; a lower-case
    `gb` is accepted as GB), or None if it names none."""
    code = text.upper() if text.isascii() else ""  # "ı".upper() is "I": ASCII only
    return code if code in COUNTRY_CODES else None


# RFC 5733 §2.5 / §4 (contact-1.0.xsd e164StringType): "+" country code (1-3 digits) "."
# number (1-14 digits), at most 17 characters. The schema also allows the empty string,
# which the parser reads as "no number".
_E164 = re.compile(r"\+[0-9]{1,3}\.[0-9]{1,14}")
_E164_MAX = 17
# The `x` attribute is an xsd:token in the schema; an extension is dialled, so only digits
# are accepted (free text there would be published as part of a phone number).
_EXTENSION = re.compile(r"[0-9]+")


def phone(text: str) -> bool:
    """Whether `text` is an EPP telephone number (`+CC.NUMBER`)."""
    return len(text) <= _E164_MAX and _E164.fullmatch(text) is not None


def extension(text: str) -> bool:
    """Whether `text` is a telephone extension (the `x` attribute): ASCII digits."""
    return _EXTENSION.fullmatch(text) is not None


# RFC 5733 §2.6: email syntax is RFC 5322's; the schema (eppcom:minTokenType) only asks for
# one character. Accepted here, the minimal form of an addr-spec:
#   local "@" domain
#   local:  RFC 5322 §3.2.3 dot-atom-text: runs of atext (ASCII letters, digits and
#           !#$%&'*+-/=?^_`{|}~) separated by single dots; RFC 6532 §3.2 adds non-ASCII
#           characters (EAI). Quoted strings are not accepted (RFC 5321 §4.1.2 advises
#           against them; no registry interface we know takes them).
#   domain: RFC 5321 §4.1.2 Domain: labels of letters, digits and hyphens, neither first nor
#           last a hyphen, separated by single dots, no trailing dot; labels may hold
#           non-ASCII characters (RFC 6531 §3.3, U-labels). No address literals ([192.0.2.1]).
# Nowhere: whitespace, control, format (bidi controls included), separator, private-use or
# unassigned characters. No length limit beyond the element's.
_NON_ASCII = "\u0080-\U0010ffff"
_ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-" + _NON_ASCII
_LETDIG = "A-Za-z0-9" + _NON_ASCII
_LABEL = f"[{_LETDIG}](?:[{_LETDIG}-]*[{_LETDIG}])?"
_EMAIL = re.compile(f"[{_ATEXT}]+(?:\\.[{_ATEXT}]+)*@{_LABEL}(?:\\.{_LABEL})*")
_REFUSED_CATEGORIES = frozenset("CZ")  # Cc Cf Cn Co Cs, Zl Zp Zs


def email(text: str) -> bool:
    """Whether `text` is an email address in the form accepted above."""
    if _EMAIL.fullmatch(text) is None:
        return False
    return text.isascii() or all(
        unicodedata.category(ch)[0] not in _REFUSED_CATEGORIES for ch in text
    )
