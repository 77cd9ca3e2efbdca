"""Pure redaction policy engine: (object, requester, policy) -> what is shown and what is withheld. No I/O."""
