"""Built-in scenarios that every simulator can play: a practice's ordinary life, and X-01.

The IdP-specific E-, O- and G- scenarios live in each IdP's package.
"""

from __future__ import annotations

from typing import Any

from simulators.core.scenario import expect, responses, scenario, step

__all__ = ["SCENARIOS"]

CYCLE = step("cycle")
SETTLE = step("schedule", duration="2d")  # long enough for Google's 1-day delay
IN_SYNC = expect("users_in_sync", "in-sync")
NO_FAILURES = expect("failures", "no-failures", none=True)

SCENARIOS: list[dict[str, Any]] = [
    scenario(
        "onboard",
        "Onboard a practice of N users (--users N): test connection, initial cycle",
        [step("test_connection"), step("add_people"), CYCLE],
        [
            expect("connection", "connection", ok=True),
            responses("created", "user.create", [201], has_id=True),
            IN_SYNC,
            NO_FAILURES,
        ],
        users=25,
    ),
    scenario(
        "leaver",
        "A leaver: one person of the practice is disabled at the IdP",
        [step("add_people", min_count=3), CYCLE, step("disable", key="user2"), SETTLE],
        [
            expect("responses", "deprovisioned", label="user.de*", status=[200, 204], count=1),
            IN_SYNC,
            NO_FAILURES,
        ],
        users=6,
    ),
    scenario(
        "rehire",
        "A rehire: a leaver comes back ten days later",
        [
            step("add_people", min_count=2),
            CYCLE,
            step("disable", key="user1"),
            SETTLE,
            step("wait", duration="10d"),
            step("enable", key="user1"),
            step("schedule", id="back", duration="1d"),
        ],
        [
            responses("reactivated", "user.reactivate", [200, 204], step="back", count=1),
            IN_SYNC,
            NO_FAILURES,
        ],
        users=4,
    ),
    scenario(
        "rename",
        "A rename: new family name, new userName and new email",
        [
            step("add_people", min_count=1),
            step(
                "add_person",
                key="lena",
                user_name="lena.berg@example.org",
                given_name="Lena",
                family_name="Berg",
                email="lena.berg@example.org",
                mobile="+1 555 0142",
            ),
            CYCLE,
            step(
                "update_person",
                key="lena",
                set={
                    "family_name": "Berg-Sato",
                    "user_name": "lena.berg-sato@example.org",
                    "email": "lena.berg-sato@example.org",
                },
            ),
            step("cycle", id="rename"),
        ],
        [
            responses("updated", "user.*", [200, 204], step="rename", method="P*"),
            expect("lookup", "new-name", value="lena.berg-sato@example.org", count=1),
            expect("lookup", "old-name-gone", value="lena.berg@example.org", count=0),
            IN_SYNC,
        ],
        users=3,
    ),
    scenario(
        "group-reshuffle",
        "A group reshuffle: people move between two groups, one group is renamed",
        [
            step("add_people", min_count=6),
            step("add_group", key="front", name="Front Desk", members=["user0", "user1", "user2"]),
            step("add_group", key="clinic", name="Clinicians", members=["user3", "user4"]),
            CYCLE,
            step("change_members", key="front", add=["user5"], remove=["user0", "user2"]),
            step("change_members", key="clinic", add=["user2"]),
            step("rename_group", key="clinic", name="Clinical Staff"),
            step("cycle", id="reshuffle"),
        ],
        [
            responses("changes", "group.*", [200, 204], step="reshuffle"),
            expect("groups_in_sync", "groups"),
            IN_SYNC,
        ],
        users=6,
        idps=["entra", "okta"],
    ),
    scenario(
        "secret-rotation",
        "The client secret is regenerated mid-cycle; the IdP gets it later and catches up",
        [
            step("add_people"),
            step("cycle", id="mid", rotate_after=3),
            step("update_credentials"),
            step("cycle", id="recovered"),
        ],
        [
            responses(
                "old-secret-refused",
                "auth.token",
                step="mid",
                any_status=[400, 401],
                name="the token endpoint refused the old secret",
            ),
            expect(
                "quarantine",
                "no-quarantine",
                entered=False,
                name="a partly failed cycle escrows objects; it does not quarantine",
            ),
            responses("caught-up", "user.create", [201], step="recovered", min_count=1),
            IN_SYNC,
            NO_FAILURES,
        ],
        users=8,
        idps=["entra"],
        auth=["oauth"],
    ),
    scenario(
        "X-01",
        "Pre-link: each login (SAML and OIDC) signs the provisioned user in; disabled: refused",
        [
            step("add_people", count=2),
            CYCLE,
            step("sso_login", id="login", person="user1"),
            step("sso_sign_in", id="signin", person="user1"),
            step("disable", key="user1"),
            SETTLE,
            step("sso_login", id="disabled", person="user1"),
            step("sso_sign_in", id="signin-disabled", person="user1"),
        ],
        [
            responses("resolves", "sso.*", [200], step="login", total_results=1, first_active=True),
            responses(
                "signs-in",
                "sso.*.signin",
                [303],
                step="signin",
                name="every login signs the provisioned user in, no linking step",
            ),
            responses(
                "still-resolves",
                "sso.*",
                [200],
                step="disabled",
                total_results=1,
                first_active=False,
                name="the account is found and is inactive",
            ),
            responses(
                "refused",
                "sso.*.signin",
                [403],
                step="signin-disabled",
                name="every login of the disabled user is refused by the platform",
            ),
        ],
    ),
]
