"""Registry model and names: pure vocabulary shared by every layer. No I/O."""
