"""Escrow: RFC 8909/9022 deposit parser, importer into the replica, and exporter."""
