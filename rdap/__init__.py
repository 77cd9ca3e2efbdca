"""RDAP front-end (RFC 7480, 9082, 9083): parse, look up, redact once, render, respond."""
