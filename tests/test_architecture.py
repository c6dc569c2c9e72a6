"""The layering the style guide asks for, kept by a test rather than by memory.

Only ``server.persistence`` imports piccolo or database drivers; the domain and mapping
layers import no web framework; the linters and the type checker pass.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "server"
BIN = Path(sys.executable).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(SERVER), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_persistence_touches_the_database_layer(path: Path) -> None:
    if SERVER / "persistence" in path.parents:
        return
    assert not (_imports(path) & {"piccolo", "asyncpg", "aiosqlite", "sqlite3"})


@pytest.mark.parametrize(
    "path",
    _modules(SERVER / "domain") + _modules(SERVER / "mapping"),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_domain_and_mapping_are_framework_free(path: Path) -> None:
    assert not (_imports(path) & {"litestar", "granian", "piccolo", "httpx", "click"})


@pytest.mark.parametrize(
    "path", _modules(SERVER / "scim" / "operations"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_scim_operations_are_framework_free(path: Path) -> None:
    """One implementation of each SCIM operation, whatever carries the request to it."""
    assert not (_imports(path) & {"litestar", "granian", "piccolo", "httpx", "click"})


def test_modules_stay_small() -> None:
    oversized = {
        str(p.relative_to(ROOT)): n
        for p in _modules(SERVER)
        if "piccolo_migrations" not in str(p) and (n := len(p.read_text().splitlines())) > 320
    }
    assert oversized == {}


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_code_is_lint_and_type_clean(command: list[str]) -> None:
    done = subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_cli_does_not_import_prometheus_client() -> None:
    """prometheus-client picks single- or multi-process mode when first imported, and
    ``scimlab serve --workers N`` chooses it only after the CLI has loaded: an import of the
    app (or of anything importing it) from a CLI module would silently break ``/metrics``."""
    probe = "import sys, server.cli; print('prometheus_client' in sys.modules)"
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "False"


# --- public APIs only -------------------------------------------------------------------------

OURS = {"server", "simulators", "conformance", "loadtests", "tests"}
PACKAGES = [ROOT / name for name in ("server", "simulators", "conformance", "loadtests")]
#: Private names of libraries that the code still uses, each a debt of the issue "One
#: implementation of each SCIM operation, on the libraries' public APIs", to be removed, never
#: added to: the test fails on a new private use and on a listed one that has gone.
KNOWN_PRIVATE_USES = {
    ("server/mapping/filters.py", "scim2_models.path.expressions"),
}
#: Underscore names that their library documents as public: namedtuple's methods, and
#: piccolo's ``Table._meta``, which piccolo's own documentation uses to reach a table's engine
#: and schema (docs/decisions/library-internals-still-used.md gives the pages).
DOCUMENTED_PUBLIC = {"._replace", "._asdict", "._fields", "._make", "._field_defaults", "._meta"}
#: Names without an underscore that are still internals: undocumented modules and the
#: application's own ASGI plumbing.
UNDOCUMENTED = (
    "litestar.utils.scope.state", "scim2_models.path.expressions",
    ".handle_routing", ".asgi_handler",
)  # fmt: skip


def _is_private(name: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in name.split("."))


def _our_private_names(paths: list[Path]) -> set[str]:
    """Every ``_name`` our own code defines: its functions, classes, attributes and modules."""
    names: set[str] = set()
    for path in paths:
        if path.stem.startswith("_"):
            names.add(path.stem)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)  # __slots__ entries
    return {name for name in names if name.startswith("_")}


def _private_uses(path: Path, ours: set[str]) -> set[str]:
    """Private names of libraries that ``path`` imports or reads."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] not in OURS}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] not in OURS:
                found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names if _is_private(a.name)}
        elif isinstance(node, ast.Attribute) and (
            node.attr not in ours or f".{node.attr}" in UNDOCUMENTED
        ):
            found.add(f".{node.attr}")
    return {
        name
        for name in found
        if (_is_private(name) and name not in DOCUMENTED_PUBLIC)
        or any(name == u or name.startswith(u + ".") for u in UNDOCUMENTED)
    }


def _private_overrides(path: Path) -> set[str]:
    """``Class._method`` where one of our classes defines a private method that a library
    base class has: an override of its internals."""
    defined = {
        node.name: {
            item.name
            for item in node.body
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and _is_private(item.name)
        }
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef)
    }
    module_name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    module = __import__(module_name, fromlist=["_"])
    found: set[str] = set()
    for class_name, methods in defined.items():
        cls = getattr(module, class_name, None)
        if not isinstance(cls, type):
            continue
        libraries = [b for b in cls.__mro__[1:] if b.__module__.split(".")[0] not in OURS]
        found |= {
            f"{class_name}.{name}"
            for name in methods
            if any(name in vars(base) for base in libraries)
        }
    return found


def test_only_public_apis_of_libraries() -> None:
    """No module imports or reads a private name (``_x``) of Litestar, piccolo, scim2-models,
    granian, prometheus_client or the standard library, and no server class overrides one
    (server modules are imported to see their classes' bases); the remaining debts are listed
    above and may only shrink."""
    paths = [
        p for package in PACKAGES for p in _modules(package) if "piccolo_migrations" not in str(p)
    ]
    ours = _our_private_names(paths)
    found = set()
    for path in paths:
        relative = str(path.relative_to(ROOT))
        found |= {(relative, name) for name in _private_uses(path, ours)}
        if SERVER in path.parents and path.name != "__main__.py":
            found |= {(relative, name) for name in _private_overrides(path)}
    assert found - KNOWN_PRIVATE_USES == set(), "new private uses"
    assert KNOWN_PRIVATE_USES - found == set(), "listed debts that are gone: remove them"


# --- the import graph -------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph(package: Path) -> dict[str, set[str]]:
    """module -> the modules of ``package``'s top-level package it imports, counting every
    import: at module level, inside functions and under ``TYPE_CHECKING`` alike."""
    paths = _modules(package.parent / package.name.split(".")[0])
    known = {_module_name(p) for p in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                edges |= {a.name for a in node.names if a.name in known}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    edges.add(child if child in known else node.module)
        graph[_module_name(path)] = {e for e in edges if e in known}
    return graph


def _circles(graph: dict[str, set[str]], within: str) -> list[list[str]]:
    """The strongly connected groups of more than one module under ``within`` (Tarjan)."""
    nodes = sorted(m for m in graph if m == within or m.startswith(within + "."))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in nodes:
                continue
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in nodes:
        if node not in index:
            visit(node)
    return found


def test_the_domain_layer_has_no_import_circle() -> None:
    """Records live apart from the services (``server.domain.records``), so the ports and
    the services import them without going round in a circle."""
    assert _circles(_import_graph(SERVER), "server.domain") == []


def test_persistence_does_not_import_ops() -> None:
    """``ops`` (the serving edge) uses persistence; persistence knows nothing of ``ops``: what
    it needs from a request (the client address for the audit log) is handed to the store."""
    graph = _import_graph(SERVER)
    reaching_ops = {
        module: sorted(e for e in edges if e.startswith("server.ops"))
        for module, edges in graph.items()
        if module.startswith("server.persistence")
    }
    assert {m: e for m, e in reaching_ops.items() if e} == {}
