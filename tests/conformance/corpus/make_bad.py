"""Test-corpus generator: writes bad/<code>.json, each a good document with exactly one defect.

Run from the repository root after editing a good document or a mutation below:
    PYTHONPATH=. python tests/conformance/corpus/make_bad.py
It rewrites bad/*.json and manifest.json; both are committed so reviewers can diff them.
"""

from __future__ import annotations

import copy
import json
import pathlib
from collections.abc import Callable
from typing import Any

HERE = pathlib.Path(__file__).parent
B = "https://rdap.example.org"
RDAP = {"Content-Type": "application/rdap+json", "Access-Control-Allow-Origin": "*"}
GOOD: dict[str, dict[str, Any]] = {
    "domain-gtld": {"url": f"{B}/domain/example.org", "status": 200},
    "domain-cctld": {"url": f"{B}/domain/example.ca", "status": 200},
    "domain-idn": {"url": f"{B}/domain/xn--mgbh0fb.xn--mgbtx2b", "status": 200},
    "nameserver": {"url": f"{B}/nameserver/ns1.example.org", "status": 200},
    "entity": {"url": f"{B}/entity/CONTACT-1", "status": 200},
    "help": {"url": f"{B}/help", "status": 200},
    "error": {"url": f"{B}/domain/test.invalid", "status": 404},
    "search": {"url": f"{B}/domains?name=exam*.coop", "status": 200},
}

Doc = Any
Mutation = Callable[[Doc], None]


def registrar(d: Doc) -> Doc:
    return d["entities"][0]


def registrant(d: Doc) -> Doc:
    return d["entities"][1]


def contact(d: Doc) -> Doc:
    """The entity good file's vCard property list."""
    return d["vcardArray"][1]


def notice(d: Doc, title: str) -> Doc:
    return next(n for n in d["notices"] if n["title"] == title)


def setitem(obj: Any, key: Any, value: Any) -> None:
    obj[key] = value


# code -> (good file, mutation, request overrides)
BAD: dict[str, tuple[str, Mutation, dict[str, Any]]] = {
    "schema.invalid": ("domain-cctld", lambda d: d["links"][0].pop("href"), {}),
    "json.rdap-conformance.missing": ("entity", lambda d: d.pop("rdapConformance"), {}),
    "json.rdap-conformance.nested": (
        "domain-cctld",
        lambda d: setitem(d["entities"][0], "rdapConformance", ["rdap_level_0"]),
        {},
    ),
    "json.rdap-conformance.level0": (
        "help",
        lambda d: setitem(d, "rdapConformance", ["icann_rdap_response_profile_0"]),
        {},
    ),
    "json.rdap-conformance.extension": (
        "domain-cctld",
        lambda d: setitem(d, "coop_eligibility", "COOP"),
        {},
    ),
    "json.object-class-name.missing": (
        "domain-cctld",
        lambda d: d["nameservers"][0].pop("objectClassName"),
        {},
    ),
    "json.object-class-name.invalid": (
        "search",
        lambda d: setitem(d["domainSearchResults"][1], "objectClassName", "nameserver"),
        {},
    ),
    "json.link.self": ("domain-idn", lambda d: d.pop("links"), {}),
    "json.link.self-type": ("entity", lambda d: setitem(d["links"][0], "type", "text/html"), {}),
    "json.link.uri": (
        "help",
        lambda d: setitem(d["notices"][0]["links"][0], "href", "rdap-help"),
        {},
    ),
    "json.event.action": (
        "entity",
        lambda d: setitem(d["events"][0], "eventAction", "created"),
        {},
    ),
    "json.date": (
        "domain-cctld",
        lambda d: setitem(d["events"][0], "eventDate", "2011-03-01 00:00:00"),
        {},
    ),
    "json.status.value": ("nameserver", lambda d: setitem(d, "status", ["ok"]), {}),
    "json.status.combination": ("domain-cctld", lambda d: d["status"].append("client hold"), {}),
    "json.role.value": ("entity", lambda d: setitem(d, "roles", ["owner"]), {}),
    "json.notice.type": (
        "search",
        lambda d: setitem(d["notices"][0], "type", "results truncated"),
        {},
    ),
    "json.notices.nested": (
        "entity",
        lambda d: setitem(d, "events", [{**d["events"][0], "notices": []}]),
        {},
    ),
    "json.ldh-name": ("domain-cctld", lambda d: setitem(d, "ldhName", "exa_mple.ca"), {}),
    "json.ldh-name.case": ("domain-cctld", lambda d: setitem(d, "ldhName", "Example.CA"), {}),
    "json.unicode-name": ("domain-idn", lambda d: setitem(d, "unicodeName", "مثل.عراق"), {}),
    "json.ip-address": (
        "domain-cctld",
        lambda d: setitem(d["nameservers"][0]["ipAddresses"], "v6", ["2001:500:9g::42"]),
        {},
    ),
    "json.ip-address.form": (
        "domain-cctld",
        lambda d: setitem(d["nameservers"][0]["ipAddresses"], "v6", ["2001:500:9F:0::42"]),
        {},
    ),
    "json.secure-dns": ("domain-cctld", lambda d: d["secureDNS"].pop("dsData"), {}),
    "json.script": (
        "entity",
        lambda d: d["remarks"][0]["description"].append("<SCRIPT>alert(1)</SCRIPT>"),
        {},
    ),
    "json.error.code": ("error", lambda d: setitem(d, "errorCode", 400), {}),
    "json.invalid": ("help", lambda d: None, {"raw": b'{"rdapConformance": ["rdap_level_0"],'}),
    "http.content-type": (
        "help",
        lambda d: None,
        {"headers": {**RDAP, "Content-Type": "application/json"}},
    ),
    "http.cors.allow-origin": (
        "help",
        lambda d: None,
        {"headers": {"Content-Type": "application/rdap+json"}},
    ),
    "http.cors.allow-credentials": (
        "help",
        lambda d: None,
        {"headers": {**RDAP, "Access-Control-Allow-Credentials": "true"}},
    ),
    "http.retry-after": (
        "error",
        lambda d: d.update(errorCode=429, title="Too Many Requests"),
        {"status": 429},
    ),
    "http.error-body": ("help", lambda d: None, {"status": 500}),
    "http.head.body": ("help", lambda d: None, {"method": "HEAD"}),
    "jcard.version": ("entity", lambda d: contact(d).pop(0), {}),
    "jcard.fn": ("entity", lambda d: contact(d).pop(1), {}),
    "jcard.adr": ("entity", lambda d: contact(d)[3][3].pop(), {}),
    "jcard.adr.cc": ("entity", lambda d: contact(d)[3][1].pop("cc"), {}),
    "jcard.tel": ("entity", lambda d: setitem(contact(d)[4], 2, "text"), {}),
    "jcard.tel.type": ("entity", lambda d: setitem(contact(d)[5], 1, {}), {}),
    "jcard.email": ("entity", lambda d: setitem(contact(d)[6], 3, "office(at)example.ca"), {}),
    "jcard.redacted-text": (
        "domain-gtld",
        lambda d: registrant(d)["vcardArray"][1].append(
            ["note", {}, "text", "Redacted for Privacy"]
        ),
        {},
    ),
    "redacted.name": (
        "domain-gtld",
        lambda d: setitem(d["redacted"][0]["name"], "type", "Holder Name"),
        {},
    ),
    "redacted.path-lang": (
        "domain-gtld",
        lambda d: setitem(d["redacted"][4], "pathLang", "xpath"),
        {},
    ),
    "redacted.path.syntax": (
        "domain-gtld",
        lambda d: setitem(d["redacted"][5], "prePath", "$.entities[?(@.roles[0]=="),
        {},
    ),
    "redacted.path.method-mismatch": (
        "domain-gtld",
        lambda d: setitem(
            d["redacted"][4], "prePath", "$.entities[?(@.roles[0]=='registrant')].handle"
        ),
        {},
    ),
    "redacted.path.missing": ("domain-gtld", lambda d: d["redacted"][1].pop("postPath"), {}),
    "gtld.rdap-conformance": (
        "nameserver",
        lambda d: d["rdapConformance"].remove("icann_rdap_technical_implementation_guide_1"),
        {},
    ),
    "gtld.notice.terms-of-service": ("nameserver", lambda d: d.pop("notices"), {}),
    "gtld.notice.status-codes": (
        "domain-gtld",
        lambda d: setitem(notice(d, "Status Codes"), "description", ["See https://icann.org/epp"]),
        {},
    ),
    "gtld.notice.inaccuracy-form": (
        "domain-gtld",
        lambda d: setitem(
            notice(d, "RDDS Inaccuracy Complaint Form")["links"][0], "rel", "alternate"
        ),
        {},
    ),
    "gtld.notice.link-value": (
        "domain-gtld",
        lambda d: setitem(
            notice(d, "Terms of Service")["links"][0], "value", f"{B}/domain/EXAMPLE.org"
        ),
        {},
    ),
    "gtld.registrar.count": ("domain-gtld", lambda d: d["entities"].pop(0), {}),
    "gtld.registrar.fn": (
        "domain-gtld",
        lambda d: setitem(registrar(d)["vcardArray"][1][1], 3, ""),
        {},
    ),
    "gtld.registrar.id": (
        "domain-gtld",
        lambda d: setitem(registrar(d)["publicIds"][0], "type", "Registrar ID"),
        {},
    ),
    "gtld.registrar.abuse": (
        "domain-gtld",
        lambda d: registrar(d)["entities"][0]["vcardArray"][1].pop(2),
        {},
    ),
    "gtld.domain.handle": ("domain-gtld", lambda d: setitem(d, "handle", "example.org"), {}),
    "gtld.domain.events": ("domain-gtld", lambda d: d["events"].pop(1), {}),
    "gtld.domain.secure-dns": ("domain-gtld", lambda d: d.pop("secureDNS"), {}),
    "gtld.domain.status": ("domain-gtld", lambda d: setitem(d, "status", []), {}),
    "gtld.domain.related-link": ("domain-gtld", lambda d: d["links"].pop(1), {}),
    # Rules the profile makes stricter: the same defects in a gTLD answer.
    "gtld.cors.allow-origin": (
        "domain-gtld",
        lambda d: None,
        {"headers": {"Content-Type": "application/rdap+json"}},
    ),
    "gtld.jcard.adr.cc": (
        "domain-gtld",
        lambda d: setitem(registrant(d)["vcardArray"][1][2][3], 6, "Canada"),
        {},
    ),
    "gtld.jcard.tel.type": (
        "domain-gtld",
        lambda d: registrar(d)["vcardArray"][1].append(["tel", {}, "uri", "tel:+1.5555550100"]),
        {},
    ),
    "gtld.script": (
        "domain-gtld",
        lambda d: d["notices"][0]["description"].append("<script>alert(1)</script>"),
        {},
    ),
    "gtld.glue.address": (
        "nameserver",
        lambda d: setitem(d["ipAddresses"], "v4", ["192.0.2.53"]),
        {},
    ),
}


def main() -> None:
    """Write bad/*.json and manifest.json."""
    bad_dir = HERE / "bad"
    for old in bad_dir.glob("*.json"):
        old.unlink()
    manifest: dict[str, Any] = {"good": GOOD, "bad": {}}
    for code, (source, mutate, overrides) in sorted(BAD.items()):
        doc = json.loads((HERE / "good" / f"{source}.json").read_text(encoding="utf-8"))
        bad = copy.deepcopy(doc)
        mutate(bad)
        raw = overrides.get("raw")
        text = raw.decode() if raw else json.dumps(bad, indent=2, ensure_ascii=False) + "\n"
        (bad_dir / f"{code}.json").write_text(text, encoding="utf-8")
        entry: dict[str, Any] = {"from": source, **GOOD[source]}
        entry.update({k: v for k, v in overrides.items() if k != "raw"})
        manifest["bad"][code] = entry
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
