"""The dependency direction web → node → federation/matching (docs/architecture.md),
checked on the source itself:

    web ──► node ──► federation
      │       │  └─► matching
      └───────┴────► (matching, federation: pure libraries)

Every module of the four packages is parsed (not imported) and each import, relative
ones resolved, is held against the rules. ``importlib.import_module("…")`` with a
literal name counts as an import too, so a rule cannot be dodged by a string.

"web holds no SQL" is checked as: nothing in ``web/`` imports SQLAlchemy, not even for
annotations (pages name the session type as ``node.runtime.db.UnitOfWork``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("matching", "federation", "node", "web")

# package -> top-level modules it must never import
FORBIDDEN: dict[str, frozenset[str]] = {
    "matching": frozenset({"node", "web", "federation", "sqlalchemy", "aiohttp", "httpx"}),
    "federation": frozenset({"node", "web", "matching", "sqlalchemy"}),
    "node": frozenset({"web"}),
    "web": frozenset({"sqlalchemy"}),
}


@dataclass(frozen=True, slots=True)
class Import:
    file: Path
    line: int
    module: str
    type_only: bool = False

    def __str__(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line} imports {self.module}"


def module_name(file: Path, root: Path = ROOT) -> str:
    parts = list(file.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(file: Path, root: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module_name(file, root).split(".")
    if file.name != "__init__.py":
        package.pop()
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _type_checking_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _dynamic_import(node: ast.AST) -> str | None:
    """The literal module name of ``import_module("…")`` / ``__import__("…")``."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    first = node.args[0]
    if name in ("import_module", "__import__") and isinstance(first, ast.Constant):
        return first.value if isinstance(first.value, str) else None
    return None


def _walk(file: Path, root: Path, node: ast.AST, type_only: bool) -> Iterator[Import]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield Import(file, node.lineno, alias.name, type_only)
    elif isinstance(node, ast.ImportFrom):
        module = _resolve(file, root, node)
        yield Import(file, node.lineno, module, type_only)
        # "from . import x" and "from node import web" name modules in the names
        for alias in node.names:
            yield Import(file, node.lineno, f"{module}.{alias.name}", type_only)
    elif (dynamic := _dynamic_import(node)) is not None:
        yield Import(file, getattr(node, "lineno", 0), dynamic, type_only)
    if _type_checking_block(node):
        assert isinstance(node, ast.If)
        for child in node.body:
            yield from _walk(file, root, child, True)
        for child in node.orelse:
            yield from _walk(file, root, child, type_only)
        return
    for child in ast.iter_child_nodes(node):
        yield from _walk(file, root, child, type_only)


def imports(file: Path, root: Path = ROOT) -> Iterator[Import]:
    tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    yield from _walk(file, root, tree, False)


def modules_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_every_package_has_modules() -> None:
    for package in PACKAGES:
        assert modules_of(package), f"{package}/ has no modules"


@pytest.mark.parametrize("package", PACKAGES)
def test_dependency_direction(package: str) -> None:
    forbidden = FORBIDDEN[package]
    violations = [
        str(found)
        for file in modules_of(package)
        for found in imports(file)
        if found.module.split(".")[0] in forbidden
    ]
    assert not violations, "\n".join(violations)


def test_the_checker_resolves_relative_guarded_and_dynamic_imports(tmp_path: Path) -> None:
    """The rules are only as good as the import resolution; check it on known cases."""
    package = tmp_path / "web" / "pages"
    package.mkdir(parents=True)
    sample = package / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "from ..forms import base\n"
        "from . import other\n"
        "import importlib\n"
        "if TYPE_CHECKING:\n"
        "    from sqlalchemy.ext.asyncio import AsyncSession\n"
        "else:\n"
        "    import json\n"
        "def later():\n"
        "    return importlib.import_module('node.contacts.consent')\n"
    )
    found = {(i.module, i.type_only) for i in imports(sample, tmp_path)}
    assert ("web.forms", False) in found
    assert ("web.forms.base", False) in found
    assert ("web.pages.other", False) in found
    assert ("sqlalchemy.ext.asyncio", True) in found
    assert ("json", False) in found
    assert ("node.contacts.consent", False) in found


# -- inside node/ ------------------------------------------------------------------------

# Only these kinds of node module may speak aiohttp: a feature's wiring (setup), its
# typed app keys, its HTTP endpoints, its inbox handlers and its workers; plus the
# app factory, the inbox endpoint, request logging, the CLI and the demo (which run
# apps). Everything else is domain code that takes its collaborators as arguments.
AIOHTTP_ALLOWED_NAMES = ("setup", "appkeys", "inbox")
AIOHTTP_ALLOWED_SUFFIXES = ("_endpoints", "endpoints", "handlers", "_handlers", "worker")
AIOHTTP_ALLOWED_MODULES = frozenset({"node.app", "node.runtime.logs"})
AIOHTTP_ALLOWED_PACKAGES = ("node.cli", "node.demo")


def _may_import_aiohttp(module: str) -> bool:
    leaf = module.rsplit(".", 1)[-1]
    return (
        module in AIOHTTP_ALLOWED_MODULES
        or module.startswith(AIOHTTP_ALLOWED_PACKAGES)
        or leaf in AIOHTTP_ALLOWED_NAMES
        or leaf.endswith(AIOHTTP_ALLOWED_SUFFIXES)
    )


def test_node_domain_modules_import_no_aiohttp() -> None:
    violations = [
        str(found)
        for file in modules_of("node")
        if not _may_import_aiohttp(module_name(file))
        for found in imports(file)
        if found.module.split(".")[0] == "aiohttp" and not found.type_only
    ]
    assert not violations, "\n".join(violations)


def test_no_module_reaches_into_another_packages_private_module() -> None:
    """``_name`` modules are private to their package: matching's block arithmetic,
    federation's signature internals, a CLI command's helpers."""
    violations = []
    for package in (*PACKAGES, "benchmarks"):
        for file in modules_of(package):
            here = module_name(file)
            if file.name != "__init__.py":
                here = here.rpartition(".")[0]
            for found in imports(file):
                parts = found.module.split(".")
                for depth, part in enumerate(parts):
                    owner = ".".join(parts[:depth])
                    if part.startswith("_") and not part.startswith("__") and depth:
                        if not (here + ".").startswith(owner + "."):
                            violations.append(str(found))
                        break
    assert not violations, "\n".join(violations)


def _module_graph() -> dict[str, set[str]]:
    known = {module_name(file): file for package in PACKAGES for file in modules_of(package)}
    graph: dict[str, set[str]] = {}
    for name, file in known.items():
        targets = set()
        for found in imports(file):
            if found.type_only:
                continue
            module = found.module
            while module and module not in known:
                module = module.rpartition(".")[0]
            # a module's own packages are imported before it anyway: not an edge
            if module and module != name and not name.startswith(module + "."):
                targets.add(module)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    cycles = _cycles(_module_graph())
    assert not cycles, "\n".join(" ⇄ ".join(cycle) for cycle in cycles)


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
