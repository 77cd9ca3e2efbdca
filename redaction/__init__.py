"""Pure redaction policy engine: (object, requester, policy) -> what is shown. No I/O."""
