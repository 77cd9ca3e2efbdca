"""Run by the whoisit client's own Python (installed outside the project): look up each
domain named on the command line against the rdds base URL given first, following `related`
links as whoisit does by default, and print one JSON object per domain. Any failed sub-query
(whoisit warns `Sub-query failed`) is an error: warnings are turned into exceptions."""

import json
import sys
import time
import warnings

import whoisit

base = sys.argv[1]
bootstrap = {
    "timestamp": int(time.time()),
    "dns": {"services": [[["org", "coop", "cx", "gs", "xn--mgbtx2b"], [base]]]},
    # whoisit insists on every IANA registry; number resources are not ours, so
    # documentation ranges (RFC 5398, RFC 5737, RFC 3849) that nothing asks for.
    "asn": {"services": [[["64496-64511"], [base]]]},
    "ipv4": {"services": [[["192.0.2.0/24"], [base]]]},
    "ipv6": {"services": [[["2001:db8::/32"], [base]]]},
    "object": {"services": [[["rdds@example"], ["RDDS"], [base]]]},
}
whoisit.load_bootstrap_data(json.dumps(bootstrap), allow_insecure=True)
warnings.simplefilter("error")
for name in sys.argv[2:]:
    answer = whoisit.domain(name, allow_insecure_ssl=True)
    registrars = (answer.get("entities") or {}).get("registrar") or [{}]
    print(
        json.dumps(
            {"query": name, "name": answer.get("name"), "registrar": registrars[0].get("name")}
        )
    )
