"""Composition root: configuration, startup, and the rdds command."""
