"""Lint, types and layering: ruff and mypy (strict) stay clean; pure packages import no I/O."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [
    "registry", "replica", "redaction", "rdap", "whois43", "web", "conformance", "access", "rdds",
]  # fmt: skip
#: Front-ends: siblings that never import each other (they share only the core).
FRONT_ENDS = ("rdap", "whois43", "web")
#: Pure layers (docs/architecture.md): no sockets, no database, no web framework.
PURE = {"registry": None, "redaction": None}
PURE_MODULES = [
    "rdap/render.py",
    "rdap/query.py",
    "whois43/protocol.py",
    "whois43/render.py",
    "web/query.py",
    "web/forms.py",
    "web/pages.py",
    "web/render.py",
    "web/settings.py",
]
FORBIDDEN = {"aiosqlite", "sqlite3", "aiohttp", "socket", "asyncio"}


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{name} is not installed in this environment")
    return found


def test_ruff_clean() -> None:
    result = subprocess.run(
        [_tool("ruff"), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_clean() -> None:
    result = subprocess.run(
        [_tool("mypy"), "--no-incremental", "--cache-dir", "/dev/null"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def _pure_files() -> list[Path]:
    files = [p for pkg in PURE for p in (ROOT / pkg).rglob("*.py")]
    files += [ROOT / m for m in PURE_MODULES if (ROOT / m).exists()]
    return files


@pytest.mark.parametrize("path", _pure_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_layers_do_no_io(path: Path) -> None:
    assert not (_imports(path) & FORBIDDEN), f"{path} imports I/O modules"


def test_conformance_imports_no_server_package() -> None:
    server = set(PACKAGES) - {"conformance"}
    for path in (ROOT / "conformance").rglob("*.py"):
        assert not (_imports(path) & server), f"{path} imports server code"


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_front_ends_never_import_each_other(front: str) -> None:
    others = set(FRONT_ENDS) - {front}
    for path in (ROOT / front).rglob("*.py"):
        assert not (_imports(path) & others), f"{path} imports another front-end"
