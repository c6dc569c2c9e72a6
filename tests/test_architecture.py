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
