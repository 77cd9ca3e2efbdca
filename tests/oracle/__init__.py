"""A reference model of docs/policy.md, written from the document alone (it imports nothing of
`redaction`), and observers that read what the front-ends actually sent."""
