"""``groups_in_order``: a user's groups by display name key, then id, on either database."""

from __future__ import annotations

from uuid import UUID

from server.persistence.rows import groups_in_order

LOW, HIGH = UUID(int=1), UUID(int=2**127)


def test_groups_are_ordered_by_key_then_id() -> None:
    members: list[tuple[str | None, UUID, str]] = [
        ("zeta", LOW, "Zeta"),
        ("alpha", HIGH, "Alpha (2)"),
        (None, HIGH, "no key"),
        ("alpha", LOW, "Alpha (1)"),
        ("ärzte", LOW, "Ärzte"),
    ]
    assert groups_in_order(members) == [
        (HIGH, "no key"),  # a missing key sorts first, as NULL does in SQL
        (LOW, "Alpha (1)"),
        (HIGH, "Alpha (2)"),
        (LOW, "Zeta"),
        (LOW, "Ärzte"),
    ]


def test_none_or_one_group_is_kept_as_it_is() -> None:
    assert groups_in_order([]) == []
    assert groups_in_order([("x", LOW, "X")]) == [(LOW, "X")]
