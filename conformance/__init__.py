"""Black-box RDAP and WHOIS conformance checker. Imports none of the server packages."""
