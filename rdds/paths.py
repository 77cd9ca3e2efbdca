"""Where the `rdds` command keeps files of its own (the demo replica cache)."""

from __future__ import annotations

import os
from pathlib import Path


def default_demo_path() -> Path:
    """Where `rdds serve --demo` keeps its replica:
    $XDG_CACHE_HOME/rdds/demo-<N>-v<schema version>.sqlite."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rdds"
