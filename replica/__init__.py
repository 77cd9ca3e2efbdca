"""The replica: the only code that touches SQLite (read-only store, schema, import, demo data)."""
