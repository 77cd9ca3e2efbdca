"""Authorized access: credentials, OpenID Connect tokens, and the tamper-evident disclosure log."""
