"""Google scenarios G-01 and G-02 of idp-behaviors.md §6 (with G-02's two variants)."""

from __future__ import annotations

from typing import Any

from simulators.core.scenario import expect, responses, scenario, step

__all__ = ["SCENARIOS"]

GOOGLE = {"idps": ["google"]}


def _suspend(
    name: str, title: str, variants: list[str], checks: list[dict[str, Any]]
) -> dict[str, Any]:
    return scenario(
        name,
        title,
        [
            step("add_people", count=2),
            step("cycle"),
            step("disable", key="user0"),
            step("wait", duration="12h"),
            step("cycle", id="early"),
            step("wait", duration="1d"),
            step("cycle", id="due"),
        ],
        [
            expect(
                "no_requests",
                "not-before-the-delay",
                label="user.*",
                step="early",
                name="nothing is sent before the deprovisioning delay",
            ),
            *checks,
            expect("users_in_sync", "in-sync"),
        ],
        variants=variants,
        **GOOGLE,
    )


SCENARIOS: list[dict[str, Any]] = [
    scenario(
        "G-01",
        "Google initial sync: probe, lookup by primary email, create; archived users skipped",
        [
            step("add_people", count=3),
            step(
                "add_person",
                key="zed",
                user_name="zed.archived@example.org",
                given_name="Zed",
                family_name="Archived",
                email="zed.archived@example.org",
                archived=True,
            ),
            step("test_connection"),
            step("cycle"),
        ],
        [
            responses("probe", "test_connection.users", [200], count=1),
            responses("lookups", "user.lookup", [200], count=3, total_results=0),
            responses("created", "user.create", [201], count=3, has_id=True),
            expect("no_requests", "archived-never-sent", subject="user:zed"),
            expect("users_in_sync", "in-sync"),
        ],
        **GOOGLE,
    ),
    _suspend(
        "G-02",
        "Google suspends a user one day after the suspension",
        [],
        [responses("suspended", "user.deactivate", [200, 204], step="due", count=1)],
    ),
    _suspend(
        "G-02-delete",
        "Google deletes a suspended user one day later (admin chose delete)",
        ["delete"],
        [
            responses("deleted", "user.delete", [204], step="due", count=1),
            expect("user", "gone", person="user0", present=False),
        ],
    ),
    _suspend(
        "G-02-strings",
        'Google suspends with active as the string "false"',
        ["string-booleans"],
        [
            responses("suspended", "user.deactivate", [200, 204], step="due", count=1),
            expect("user", "inactive", person="user0", active=False, attributes={}),
        ],
    ),
]
