"""Port-43 WHOIS front-end (RFC 3912), sharing the lookup and the redaction with RDAP."""
