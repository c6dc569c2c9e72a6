"""The layering the style guide asks for, kept by a test rather than by memory.

Only ``server.persistence`` imports piccolo or database drivers; the domain and mapping
layers import no web framework; the linters and the type checker pass.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import subprocess
import sys
import tokenize
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
KNOWN_PRIVATE_USES: set[tuple[str, str]] = set()
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
# Nodes are our modules; an edge is an import at module level or inside a function, with
# ``from a import b`` read as an import of the module ``a.b`` where there is one (a package's
# ``__init__`` that Python loads on the way is not an edge). Imports under ``if TYPE_CHECKING:``
# run only in the type checker: they count only in the packages listed in TYPE_CHECKER_CLEAN.

#: Packages with no circle even counting the type checker's imports (``server.domain``: records
#: live apart from the services in ``server.domain.records``, so ports and services import them
#: without a circle).
TYPE_CHECKER_CLEAN = ["simulators", "loadtests", "conformance", "server.domain"]
#: Packages that depend one way only: the first may import the second, never the reverse.
ONE_WAY = [("server.console", "server.sso"), ("server.ops", "server.persistence")]
#: Packages checked for circles by name (a circle anywhere in our code fails the first one).
CIRCLE_FREE = ["server", "simulators", "loadtests", "conformance", "server.domain",
               "simulators.core", "loadtests.bench"]  # fmt: skip


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_modules(path: Path, modules: set[str], *, type_checker: bool) -> set[str]:
    """The modules of ours that ``path`` imports, at any depth of its code."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test) and not type_checker:
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")
                    base = ".".join([*parts[: len(parts) - child.level + 1], *filter(None, [base])])
                for alias in child.names:
                    found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return (found & modules) - {module}


@functools.cache
def _import_graph(*, type_checker: bool) -> dict[str, set[str]]:
    paths = {
        _module_name(p): p
        for package in PACKAGES
        for p in _modules(package)
        if "piccolo_migrations" not in str(p)
    }
    return {
        name: _imported_modules(path, set(paths), type_checker=type_checker)
        for name, path in paths.items()
    }


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def _circles(graph: dict[str, set[str]], package: str) -> list[list[str]]:
    """The strongly connected components of more than one module inside ``package``."""
    nodes = sorted(m for m in graph if _inside(m, package))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if not _inside(target, package):
                continue
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
            if component:
                found.append(sorted([*component, node]))

    for node in nodes:
        if node not in index:
            connect(node)
    return found


def _edges(graph: dict[str, set[str]], source: str, target: str) -> list[str]:
    return sorted(
        f"{a} -> {b}"
        for a, targets in graph.items()
        if _inside(a, source)
        for b in targets
        if _inside(b, target)
    )


@pytest.mark.parametrize("package", CIRCLE_FREE)
def test_no_import_circles(package: str) -> None:
    """No module imports itself back through others when the code runs (top-level and
    function-level imports; TYPE_CHECKING imports are left out, see TYPE_CHECKER_CLEAN)."""
    assert _circles(_import_graph(type_checker=False), package) == []


@pytest.mark.parametrize("package", TYPE_CHECKER_CLEAN)
def test_no_import_circles_even_for_the_type_checker(package: str) -> None:
    assert _circles(_import_graph(type_checker=True), package) == []


@pytest.mark.parametrize(("user", "used"), ONE_WAY, ids=lambda name: name)
def test_packages_depend_one_way(user: str, used: str) -> None:
    """``user`` may import ``used``; nothing in ``used`` imports ``user`` (run-time imports)."""
    assert _edges(_import_graph(type_checker=False), used, user) == []


def test_the_import_graph_sees_what_it_must() -> None:
    """The checks above can fail: the graph finds a known edge, a TYPE_CHECKING one only when
    asked, and a circle when one is made up."""
    runtime, typed = _import_graph(type_checker=False), _import_graph(type_checker=True)
    assert "server.sso.service" in runtime["server.console.sso_signin"]
    assert "simulators.core.expectations" in runtime["simulators.core.runner"]
    assert "loadtests.bench.config" not in runtime["loadtests.bench.operations"]
    assert "loadtests.bench.config" in typed["loadtests.bench.operations"]
    assert "server.console.sso_settings -> server.sso.saml_setup" in _edges(
        runtime, "server.console", "server.sso"
    )
    made_up = {**runtime, "server.domain.clock": {"server.domain.errors"},
               "server.domain.errors": {"server.domain.clock"}}  # fmt: skip
    assert _circles(made_up, "server.domain") == [["server.domain.clock", "server.domain.errors"]]


# --- words ------------------------------------------------------------------------------------
#: Benchmark figures in a comment or docstring: microseconds, requests a second, speed ratios.
#: They belong in BENCHMARKS.md and docs/performance.md, where they are dated and reproducible.
FIGURES = re.compile(r"\d+(\.\d+)? ?µs\b|\d[\d,]*(\.\d+)? ?req/s\b|\b\d+(\.\d+)?x\b")


def _comments_and_docstrings(path: Path) -> list[tuple[int, str]]:
    source = path.read_text()
    found = [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            docstring = ast.get_docstring(node, clean=False)
            if docstring is not None:
                found.append((node.body[0].lineno, docstring))
    return found


def test_no_benchmark_figures_in_comments() -> None:
    """Comments and docstrings say what and why; figures (µs, req/s, ``3x``) go to
    BENCHMARKS.md, which says when and how they were measured."""
    figures = [
        f"{path.relative_to(ROOT)}:{line}: {match.group()}"
        for package in PACKAGES
        for path in _modules(package)
        for line, text in _comments_and_docstrings(path)
        for match in FIGURES.finditer(text)
    ]
    assert figures == []
