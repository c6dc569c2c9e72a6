"""The expand/contract rule (docs/deployment.md), read off each migration's source.

A migration may add: tables, nullable or defaulted columns, indexes, and widen a column's
type to ``text``. It may not drop or rename a table or column, change a column's type to
anything else, or make a column NOT NULL: the previous release still runs while it is
applied, and reads and writes what it always did. Such a contract step belongs in a later
release than the code that stopped using the column, and is then listed in ``CONTRACTED``
below with its reason, so it is a decision someone wrote down, not an accident.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

__all__ = ["CONTRACTED", "MIGRATIONS", "migration_ids", "violations"]

MIGRATIONS = (
    Path(__file__).resolve().parents[2] / "server" / "persistence" / "migrations"
    / "piccolo_migrations"
)  # fmt: skip
_PACKAGE = "server.persistence.migrations.piccolo_migrations"

#: Migrations that go beyond expanding, and why that was safe. May only shrink... or grow by a
#: contract step made a release after the code stopped using what it removes.
CONTRACTED: dict[str, str] = {
    "m0102_drop_staff_practice_index": (
        "drops a plain (non-unique) index that the composite indexes starting with practice_id "
        "cover: no reader or writer of any release depends on it for a result"
    ),
}

# piccolo's MigrationManager calls, and SQL in run_ddl strings, that are not additive.
_FORBIDDEN = (
    (r"\.(drop_column|rename_column|alter_column|drop_table|rename_table)\(", "{0}"),
    (r"\bDROP\s+(TABLE|COLUMN|INDEX|CONSTRAINT)\b", "DROP {0}"),
    (r"\bRENAME\b", "RENAME"),
    (r"\bSET\s+NOT\s+NULL\b", "SET NOT NULL"),
    # Widening varchar(n) to text is additive: every value the previous release wrote still
    # fits, and it reads them back the same.
    (r"\bALTER\s+COLUMN\s+\S+\s+(?:SET\s+DATA\s+)?TYPE\s+(?!text\b)(\w+)", "TYPE {0}"),
    (r"\bADD\s+COLUMN\s+[^,;\"]*\bNOT\s+NULL\b(?![^,;\"]*\bDEFAULT\b)", "NOT NULL, no DEFAULT"),
)


def violations(source: str) -> list[str]:
    """What in a migration's source is not additive (empty: it only expands)."""
    found = []
    for pattern, label in _FORBIDDEN:
        for match in re.finditer(pattern, source, flags=re.IGNORECASE):
            found.append(label.format(*(g.upper() for g in match.groups())))
    return found


def migration_ids() -> list[tuple[str, str]]:
    """(module name, piccolo ``ID``) of every migration, oldest first."""
    modules = sorted(p.stem for p in MIGRATIONS.glob("m*.py"))
    found = [(name, importlib.import_module(f"{_PACKAGE}.{name}").ID) for name in modules]
    return sorted(found, key=lambda pair: pair[1])
