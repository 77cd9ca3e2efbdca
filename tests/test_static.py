"""Lint, types and layering: ruff and mypy (strict) stay clean, and the layer rules of
docs/architecture.md hold over the project's whole import graph (transitive imports included).

The graph is built from the AST of every module of every top-level package, so imports
inside functions and under `if TYPE_CHECKING:` count as much as those at the top.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Directories holding Python that is not part of the product.
NOT_PRODUCT = {"tests", "bench", "build", "dist"}
#: Front-ends: siblings that never import each other (`web` is the planned third).
FRONT_ENDS = ("rdap", "whois43", "web")
COMPOSITION_ROOT = "rdds"
#: Pure layers and modules (docs/architecture.md): no sockets, no database, no event loop,
#: no web framework — not even through what they import.
PURE = (
    "registry",
    "redaction",
    "core.texts",
    "core.network",
    "core.limits",
    "rdap.query",
    "rdap.render",
    "whois43.protocol",
    "whois43.render",
    "web.query",
    "web.forms",
    "web.pages",
    "web.render",
    "web.settings",
)
IO_MODULES = frozenset({"aiosqlite", "sqlite3", "aiohttp", "socket", "asyncio"})
FILE_METHODS = frozenset({"read_text", "read_bytes", "write_text", "write_bytes"})
#: Calls that would load a module by name at run time (invisible to grep, mypy and this test).
DYNAMIC_IMPORTS = frozenset(
    {
        "importlib.import_module",
        "importlib.reload",
        "importlib.util.spec_from_file_location",
        "importlib.util.module_from_spec",
        "importlib.util.find_spec",
        "import_module",
        "__import__",
    }
)


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        # A missing linter must not turn into a silent pass: the suite would prove nothing.
        pytest.fail(f"{name} is not installed next to {sys.executable}: pip install -e '.[test]'")
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


# --- the import graph ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Module:
    name: str  # dotted: "rdap.server"
    path: Path
    is_package: bool  # an __init__.py


@dataclass(frozen=True, slots=True)
class Graph:
    modules: dict[str, Module]
    #: Project module -> project modules it imports directly (and the packages those load).
    edges: dict[str, frozenset[str]]
    #: Project module -> top-level names of outside modules it imports directly.
    external: dict[str, frozenset[str]]

    def reach(self, start: str) -> frozenset[str]:
        """Every project module `start` loads, directly or through others (start excluded)."""
        seen: set[str] = set()
        todo = list(self.edges[start])
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo.extend(self.edges[name])
        seen.discard(start)
        return frozenset(seen)

    def path(self, start: str, goal: str) -> list[str]:
        """One import chain start -> ... -> goal (for messages)."""
        back: dict[str, str] = {}
        todo = [start]
        while todo:
            name = todo.pop(0)
            for nxt in sorted(self.edges[name]):
                if nxt not in back and nxt != start:
                    back[nxt] = name
                    if nxt == goal:
                        chain = [goal]
                        while chain[-1] != start:
                            chain.append(back[chain[-1]])
                        return chain[::-1]
                    todo.append(nxt)
        return []


def packages() -> list[str]:
    """The product's top-level packages: directories at the root with an __init__.py."""
    return sorted(
        p.name
        for p in ROOT.iterdir()
        if p.is_dir()
        and (p / "__init__.py").exists()
        and p.name not in NOT_PRODUCT
        and not p.name.startswith(".")
    )


def _modules() -> dict[str, Module]:
    out: dict[str, Module] = {}
    for pkg in packages():
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            out[".".join(parts)] = Module(".".join(parts), path, is_package)
    return out


def _absolute(module: Module, level: int, target: str | None) -> str:
    """The absolute name a relative `from ... import` refers to."""
    base = module.name.split(".")
    if not module.is_package:
        base.pop()
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def _loaded(name: str, modules: dict[str, Module]) -> set[str]:
    """Project modules Python loads for `import name`: the module and its parent packages."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & modules.keys()


@cache
def graph() -> Graph:
    modules = _modules()
    top = {name.split(".")[0] for name in modules}
    edges: dict[str, frozenset[str]] = {}
    external: dict[str, frozenset[str]] = {}
    for module in modules.values():
        tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
        inside: set[str] = set()
        outside: set[str] = set()

        def add(name: str, outside: set[str] = outside, inside: set[str] = inside) -> None:
            if name.split(".")[0] in top:
                inside.update(_loaded(name, modules))
            else:
                outside.add(name.split(".")[0])

        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name)
            elif isinstance(node, ast.ImportFrom):
                base = (
                    _absolute(module, node.level, node.module) if node.level else node.module or ""
                )
                if base == "__future__":
                    continue
                add(base)
                for alias in node.names:
                    # `from pkg import mod` loads pkg.mod when it is a module.
                    if f"{base}.{alias.name}" in modules:
                        add(f"{base}.{alias.name}")
        inside.discard(module.name)
        edges[module.name] = frozenset(inside)
        external[module.name] = frozenset(outside)
    return Graph(modules, edges, external)


def _in(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _modules_of(prefix: str) -> list[str]:
    return sorted(m for m in graph().modules if _in(m, prefix))


def _chain(start: str, goal: str) -> str:
    return " -> ".join(graph().path(start, goal))


def _violations(starts: Iterable[str], forbidden: str) -> list[str]:
    g = graph()
    out = []
    for start in starts:
        for reached in sorted(g.reach(start)):
            if _in(reached, forbidden):
                out.append(_chain(start, reached))
                break
    return out


# --- the graph builder itself -----------------------------------------------------------


def test_graph_sees_every_package_and_follows_chains() -> None:
    # GIVEN the repository WHEN the graph is built THEN it knows the layers the docs name and
    # follows imports through intermediate modules (the handler reaches the engine via core).
    g = graph()
    assert {"registry", "redaction", "replica", "escrow", "core", "access", "rdap"} <= set(
        packages()
    )
    assert {"whois43", "conformance", "rdds"} <= set(packages())
    assert "rdap.state" in g.edges["rdap.handler"]
    assert "core.lookup" not in g.edges["rdap.handler"]
    assert "core.lookup" in g.edges["rdap.state"]
    assert "redaction.engine" in g.reach("rdap.handler")
    assert g.path("rdap.handler", "replica.store")[0] == "rdap.handler"
    assert "registry.errors" in g.reach("rdds.cli")
    assert "sqlite3" in g.external["replica.store"]


def test_relative_imports_resolve() -> None:
    # GIVEN a module inside a package WHEN it uses `from . import x` THEN the edge is absolute.
    package = Module("access.cli", ROOT / "access/cli/__init__.py", True)
    plain = Module("access.cli.audit", ROOT / "access/cli/audit.py", False)
    assert _absolute(package, 1, "audit") == "access.cli.audit"
    assert _absolute(plain, 1, None) == "access.cli"
    assert _absolute(plain, 2, "chain") == "access.chain"


# --- the layer rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("front", "other"),
    [(a, b) for a in FRONT_ENDS for b in FRONT_ENDS if a != b],
    ids=lambda x: str(x),
)
def test_no_front_end_imports_another(front: str, other: str) -> None:
    assert not _violations(_modules_of(front), other), f"{front} reaches {other}"


@pytest.mark.parametrize("package", sorted(set(packages()) - {COMPOSITION_ROOT}))
def test_no_layer_imports_the_composition_root(package: str) -> None:
    bad = _violations(_modules_of(package), COMPOSITION_ROOT)
    assert not bad, f"nothing imports the composition root: {bad}"


def test_the_store_does_not_import_the_redaction_engine() -> None:
    bad = _violations(_modules_of("replica"), "redaction")
    assert not bad, f"replica/ is storage only: {bad}"


def _pure_modules() -> list[str]:
    return sorted({m for prefix in PURE for m in _modules_of(prefix)})


def test_every_listed_pure_module_exists() -> None:
    # A renamed module would silently drop out of the rule below.
    for prefix in PURE:
        assert _modules_of(prefix), f"{prefix} is listed as pure but does not exist"


@pytest.mark.parametrize("module", _pure_modules())
def test_pure_layers_do_no_io(module: str) -> None:
    g = graph()
    for name in sorted({module} | g.reach(module)):
        io = g.external[name] & IO_MODULES
        chain = _chain(module, name) if name != module else module
        assert not io, f"{chain} imports {sorted(io)}"


def _opens_files(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            builtin = isinstance(func, ast.Name) and func.id == "open"
            method = isinstance(func, ast.Attribute) and func.attr in FILE_METHODS
            if builtin or method:
                lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("module", _pure_modules())
def test_pure_layers_read_no_files(module: str) -> None:
    # The policy loader takes text: the caller reads the file (redaction.policy docstring).
    path = graph().modules[module].path
    lines = _opens_files(ast.parse(path.read_text(encoding="utf-8")))
    assert not lines, f"{module} opens files at lines {lines}"


def test_conformance_imports_nothing_of_the_server() -> None:
    g = graph()
    for module in _modules_of("conformance"):
        foreign = sorted(m for m in g.reach(module) if not _in(m, "conformance"))
        assert not foreign, f"{module} reaches {foreign[0]}: {_chain(module, foreign[0])}"


def _cycles(edges: dict[str, frozenset[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_cycle_finder_finds_cycles() -> None:
    edges = {
        "a": frozenset({"b"}),
        "b": frozenset({"c"}),
        "c": frozenset({"a"}),
        "d": frozenset({"a"}),
        "e": frozenset(),
    }
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _cycles({"a": frozenset({"b"}), "b": frozenset()}) == []


def test_no_import_cycles() -> None:
    cycles = _cycles(graph().edges)
    assert not cycles, f"import cycles: {cycles}"


def _dynamic_imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name in DYNAMIC_IMPORTS:
                found.append((node.lineno, name))
        elif isinstance(node, ast.ImportFrom) and node.module in ("importlib", "importlib.util"):
            for alias in node.names:
                if alias.name in {"import_module", "reload", "util"} or alias.name.startswith(
                    ("spec_", "module_")
                ):
                    found.append((node.lineno, f"from {node.module} import {alias.name}"))
    return found


def test_dynamic_import_finder() -> None:
    code = (
        "import importlib\nfrom importlib import import_module\n"
        "importlib.import_module('rdap.server')\n__import__('whois43')\n"
        "import importlib.resources\nimportlib.resources.files('conformance')\n"
    )
    assert [line for line, _ in _dynamic_imports(ast.parse(code))] == [2, 3, 4]


@pytest.mark.parametrize("package", packages())
def test_no_importlib_to_load_own_packages(package: str) -> None:
    # Plain imports only: grep, mypy, readers and this graph see them (importlib.resources,
    # which reads package data, is fine).
    for module in _modules_of(package):
        path = graph().modules[module].path
        found = _dynamic_imports(ast.parse(path.read_text(encoding="utf-8")))
        assert not found, f"{module}: {found}"
