"""Pure table of the checker's rules: each code's severity and the exact text it cites. No I/O.

Severity follows the words of the cited text (docs/conformance.md, "Severity"):

- error: the text states a requirement (MUST, MUST NOT, REQUIRED, SHALL), or defines the
  syntax of the value outright ("the syntax ... is defined in RFC 3339"), so a value outside
  it is not a value of that kind;
- warning: the text says SHOULD, SHOULD NOT, RECOMMENDED or NOT RECOMMENDED;
- info: the text says MAY, only points to a vocabulary (an IANA registry "for a list of
  values"), or the rule is interoperability practice that no text requires.

A profile (ICANN gTLD) can make a MUST of what an RFC leaves open; such rules have their own
`gtld.*` code and apply only where the profile does.
"""

from __future__ import annotations

import dataclasses

from conformance.findings import Finding, Severity

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO  # N: info (a note)

RFC9083 = "RFC 9083"
PROFILE = "ICANN RDAP Response Profile 2024"
TIG = "ICANN gTLD RDAP TIG 2024"
ADVISORY = "ICANN RDDS Advisory 2015"


@dataclasses.dataclass(frozen=True, slots=True)
class Rule:
    """One rule: its stable code, its severity, the section it cites and why that severity.

    `cite` names the exact section(s) (it becomes every finding's `rfc`); `strength` quotes
    or names the words of that text that set the severity.
    """

    code: str
    severity: Severity
    cite: str
    strength: str


_TABLE: tuple[Rule, ...] = (
    # --- HTTP (RFC 7480, RFC 9110) ---------------------------------------------------------
    Rule(
        "http.content-type",
        E,
        "RFC 7480 §4.2",
        "defines the answer: servers return the RDAP-specific JSON media type",
    ),
    Rule("http.cors.allow-origin", W, "RFC 7480 §5.6", "RECOMMENDED"),
    Rule("gtld.cors.allow-origin", E, f"{TIG} §1.13", "MUST"),
    Rule("http.cors.allow-credentials", W, "RFC 7480 §5.6", "NOT RECOMMENDED"),
    Rule("http.retry-after", N, "RFC 6585 §4", "MAY include a Retry-After header"),
    Rule("http.error-body", E, f"{RFC9083} §6", "a returned error body holds a REQUIRED errorCode"),
    Rule("http.head.body", E, "RFC 9110 §9.3.2", "MUST NOT send content"),
    Rule(
        "http.head.mismatch",
        E,
        "RFC 9110 §9.3.2, RFC 7480 §4.1",
        "HEAD is identical to GET except for the content",
    ),
    Rule("http.head.headers", W, "RFC 9110 §9.3.2", "SHOULD send the same header fields"),
    # --- the document (RFC 9083) -----------------------------------------------------------
    Rule("schema.invalid", E, f"{RFC9083} §4.2–§6, RFC 9537 §4.2", "MUST / REQUIRED members"),
    Rule("json.invalid", E, "RFC 7480 §4.2, RFC 8259 §2", "the answer is a JSON text"),
    Rule("json.rdap-conformance.missing", E, f"{RFC9083} §4.1", "MUST appear"),
    Rule("json.rdap-conformance.nested", E, f"{RFC9083} §4.1", "MUST NOT appear anywhere else"),
    Rule(
        "json.rdap-conformance.level0",
        E,
        f"{RFC9083} §4.1",
        "defines rdap_level_0 as conformance with RFC 9083, which every answer uses",
    ),
    Rule("json.rdap-conformance.extension", E, f"{RFC9083} §4.1", "MUST be indicated"),
    Rule("json.object-class-name.missing", E, f"{RFC9083} §4.9", "REQUIRED in all objects"),
    Rule("json.object-class-name.invalid", E, f"{RFC9083} §4.9, §5", "names the object's class"),
    Rule("json.link.self", W, f"{RFC9083} §5", "SHOULD provide a self link"),
    Rule("json.link.self-type", E, f"{RFC9083} §5", "MUST contain a type element"),
    Rule(
        "json.link.uri",
        N,
        f"{RFC9083} §4.2, RFC 3986 §4.3",
        "practice: RDAP JSON has no base URI for relative references",
    ),
    Rule("json.event.action", N, f"{RFC9083} §4.5, §10.2.3", "points to a registry of values"),
    Rule("json.date", E, f"{RFC9083} §3, RFC 3339 §5.6", "defines the syntax"),
    Rule("json.status.value", N, f"{RFC9083} §4.6, §10.2.2", "points to a registry of values"),
    Rule("json.status.combination", E, "RFC 5731 §2.3, RFC 3915 §3.1", "MUST NOT be combined"),
    Rule("json.role.value", N, f"{RFC9083} §5.1, §10.2.4", "points to a registry of values"),
    Rule("json.notice.type", N, f"{RFC9083} §4.3, §10.2.1", "points to a registry of values"),
    Rule(
        "json.notices.nested",
        N,
        f"{RFC9083} §4.3",
        "practice: notices describe the service or the whole answer; objects carry remarks",
    ),
    Rule("json.ldh-name", E, f"{RFC9083} §3, RFC 5890 §2.3.1", "defines LDH names"),
    Rule(
        "json.ldh-name.case",
        N,
        f"{RFC9083} §3, RFC 4343 §2",
        "practice: either case is an LDH name; most servers answer lower case",
    ),
    Rule("json.unicode-name", E, f"{RFC9083} §3, RFC 5890 §2.3.2.1", "defines Unicode names"),
    Rule("json.ip-address", E, f"{RFC9083} §3", "defines the address forms"),
    Rule("json.ip-address.form", W, "RFC 5952 §4", "SHOULD be followed when generating text"),
    Rule(
        "json.secure-dns",
        N,
        f"{RFC9083} §5.3",
        "practice: dsData and keyData are optional members",
    ),
    Rule("json.script", N, f"{RFC9083} §13", "practice: clients render text; no RFC rule"),
    Rule("gtld.script", E, f"{PROFILE} §1.2.2", "MUST NOT include browser executable code"),
    Rule("json.error.code", E, f"{RFC9083} §6", "the error code corresponds to the HTTP status"),
    # --- jCard (RFC 7095, RFC 6350) ---------------------------------------------------------
    Rule("jcard.version", E, "RFC 7095 §3.3.1.1, RFC 6350 §6.7.9", "MUST be present, first"),
    Rule("jcard.fn", E, "RFC 6350 §6.2.1", "cardinality 1*: required"),
    Rule("jcard.adr", E, "RFC 6350 §6.3.1, RFC 7095 §3.3.1.3", "defines seven components"),
    Rule(
        "jcard.adr.cc",
        N,
        "RFC 8605 §3.1",
        "practice: the cc parameter carries the ISO 3166 code unambiguously",
    ),
    Rule("gtld.jcard.adr.cc", E, f"{PROFILE} §1.2.4, §1.4", "MUST (cc, empty country name)"),
    Rule("jcard.tel", W, "RFC 6350 §6.4.1", "SHOULD be reset to a URI value"),
    Rule("jcard.tel.type", N, "RFC 6350 §6.4.1", "practice: TYPE is optional"),
    Rule("gtld.jcard.tel.type", E, f"{TIG} §7.1, §7.2", "voice or fax type"),
    Rule("jcard.email", E, "RFC 6350 §6.4.2, RFC 5322 §3.4.1", "defines an email address"),
    Rule(
        "jcard.redacted-text",
        N,
        "RFC 9537 §3",
        "practice: redactions are declared in the redacted member",
    ),
    # --- redaction (RFC 9537) ---------------------------------------------------------------
    Rule("redacted.name", E, "RFC 9537 §4.2, §6.2", "type holds a registered redacted name"),
    Rule("redacted.path-lang", N, "RFC 9537 §4.2", "other path languages MAY be used"),
    Rule("redacted.path.syntax", E, "RFC 9537 §4.2, RFC 9535 §2", "defines the path syntax"),
    Rule("redacted.path.missing", E, "RFC 9537 §3, §4.2", "each method names its path"),
    Rule("redacted.path.method-mismatch", E, "RFC 9537 §3", "defines what each method leaves"),
    # --- ICANN gTLD profile ----------------------------------------------------------------
    Rule("gtld.rdap-conformance", E, f"{PROFILE} §1.3", "MUST declare the _1 identifiers"),
    Rule("gtld.notice.terms-of-service", E, f"{TIG} §3.3, §3.4", "MUST"),
    Rule("gtld.notice.status-codes", E, f"{PROFILE} §2.6.3", "MUST"),
    Rule("gtld.notice.inaccuracy-form", E, f"{PROFILE} §2.10", "MUST"),
    Rule("gtld.notice.link-value", E, f"{TIG} §3.3, §3.4", "MUST be the queried URI"),
    Rule("gtld.registrar.count", E, f"{PROFILE} §2.4.1", "MUST"),
    Rule("gtld.registrar.fn", E, f"{PROFILE} §2.4.1", "MUST"),
    Rule("gtld.registrar.id", E, f"{PROFILE} §2.4.2, §2.4.3", "MUST"),
    Rule("gtld.registrar.abuse", E, f"{PROFILE} §2.4.5", "MUST"),
    Rule("gtld.domain.handle", E, f"{PROFILE} §2.2", "MUST"),
    Rule("gtld.domain.events", E, f"{PROFILE} §2.3.1.1–§2.3.1.3", "MUST"),
    Rule("gtld.domain.secure-dns", E, f"{PROFILE} §2.10 (profile 2.1 numbering)", "MUST"),
    Rule("gtld.domain.status", E, f"{PROFILE} §2.6.1", "MUST"),
    Rule("gtld.domain.related-link", E, f"{TIG} §3.2", "MUST"),
    Rule(
        "gtld.glue.address",
        N,
        "RFC 9083 §5.2",
        "practice: ICANN's conformance tool rejects non-global glue; no text requires it",
    ),
    # --- probes (RFC 7480, RFC 9082) -----------------------------------------------------
    Rule("probe.not-found", E, "RFC 7480 §5.3", "defines the answer: 404 for no data"),
    Rule("probe.bad-request", E, "RFC 7480 §5.4, RFC 9082 §3.1.3", "defines the answer: 400"),
    Rule("probe.case", E, "RFC 9082 §3.1.3, RFC 4343 §3", "names are case-insensitive"),
    Rule("net.error", E, "RFC 7480 §4", "no answer"),
    Rule("net.timeout", E, "RFC 7480 §4", "no answer"),
    # --- port 43 (RFC 3912, ICANN RDDS advisory) ------------------------------------------
    # The advisory clarifies RA Specification 4 §1.4-§1.6 (the output format of gTLD WHOIS).
    Rule("whois.empty", E, "RFC 3912 §2", "the server replies with text content"),
    Rule("whois.encoding", E, f"{ADVISORY}, RA Spec 4 §1.4", "the answer is UTF-8 text"),
    Rule("whois.size", E, "RFC 3912 §2", "no judgeable answer within the read cap"),
    Rule(
        "whois.line-ending",
        N,
        "RFC 3912 §2",
        "practice: RFC 3912 ends requests with CR LF; answers follow by convention",
    ),
    Rule("whois.format", E, f"{ADVISORY}, RA Spec 4 §1.4", "Key: value lines"),
    Rule("whois.key-order", E, f"{ADVISORY}, RA Spec 4 §1.4", "the fields in the given order"),
    Rule("whois.whois-server", E, f"{ADVISORY}, RA Spec 4 §1.4", "a host name"),
    Rule("whois.status", E, f"{ADVISORY}, RFC 5731 §2.3", "EPP status and its URL"),
    Rule("whois.status.missing", E, f"{ADVISORY}, RA Spec 4 §1.4", "Domain Status is a field"),
    Rule("whois.date", E, f"{ADVISORY}, RA Spec 4 §1.4", "UTC dates with Z"),
    Rule("whois.last-update", E, f"{ADVISORY}, RA Spec 4 §1.4", "the last-update line"),
)

RULES: dict[str, Rule] = {rule.code: rule for rule in _TABLE}


def finding(code: str, path: str, message: str) -> Finding:
    """A finding of rule `code`: its severity and citation come from the table."""
    rule = RULES[code]
    return Finding(code, rule.severity, path, message, rule.cite)


def retag(found: Finding, code: str) -> Finding:
    """The same observation under another rule (a profile's stricter reading of it)."""
    rule = RULES[code]
    return dataclasses.replace(found, code=code, severity=rule.severity, rfc=rule.cite)
