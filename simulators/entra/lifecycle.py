"""Entra scenarios E-10..E-17 of idp-behaviors.md §6: groups, deletion, roles, failures."""

from __future__ import annotations

from typing import Any

from simulators.core.mapping import UNIQUE_WORK_EMAIL
from simulators.core.scenario import expect, responses, scenario, step
from simulators.entra.dialect import FLAG
from simulators.entra.scenarios import CYCLE, ENTRA, WRITE, person

#: E-15 needs a server that refuses a duplicate work e-mail (ours does; the RFC does not ask).
UNIQUE = [UNIQUE_WORK_EMAIL]

__all__ = ["SCENARIOS"]


def _groups(name: str, title: str, variants: list[str]) -> dict[str, Any]:
    return scenario(
        name,
        title,
        [
            person("mara"),
            person("jon"),
            step("add_group", key="platform", name="Platform Team", members=["mara", "jon"]),
            step("cycle", id="create"),
            step("change_members", key="platform", remove=["mara"]),
            step("cycle", id="remove"),
        ],
        [
            responses("lookup-miss", "group.lookup", [200], total_results=0, count=1),
            responses("created", "group.create", [201], has_id=True, count=1),
            responses("members-added", "group.add_members", WRITE, step="create", count=1),
            responses("member-removed", "group.remove_members", WRITE, step="remove", count=1),
            expect(
                "group",
                "one-member-left",
                group="platform",
                members=["jon"],
                name="exactly that member was removed; the group was not emptied",
            ),
        ],
        variants=variants,
        **ENTRA,
    )


SCENARIOS: list[dict[str, Any]] = [
    _groups("E-10", "Entra group lifecycle: one member removed with a value list", []),
    _groups("E-11", "Entra (aadOptscim062020) removes one member with a filter path", [FLAG]),
    scenario(
        "E-12",
        "Entra hard-deletes 30 days after a soft delete; DELETE is idempotent",
        [
            person(),
            CYCLE,
            step("soft_delete", key="mara"),
            step("cycle", id="soft"),
            step("wait", duration="30d"),
            step("cycle", id="purge"),
            step("send", builder="get_user", person="mara", label="check.get"),
            step("send", builder="delete_user", person="mara", label="check.delete-again"),
        ],
        [
            responses("soft-deleted", "user.deactivate", WRITE, step="soft", count=1),
            responses("deleted", "user.delete", [204], step="purge", count=1),
            responses("gone", "check.get", [404], count=1),
            responses("idempotent", "check.delete-again", [404], count=1),
            expect("lookup", "not-found-by-filter", person="mara", count=0),
        ],
        **ENTRA,
    ),
    scenario(
        "E-13",
        "Entra unassigns, then the user is purged: no DELETE follows",
        [
            person(),
            CYCLE,
            step("unassign", key="mara"),
            step("cycle", id="unassign"),
            step("purge", key="mara"),
            step("wait", duration="31d"),
            step("cycle", id="purge"),
        ],
        [
            responses("disabled", "user.deactivate", WRITE, step="unassign", count=1),
            expect("no_requests", "no-delete", method="DELETE"),
            expect("user", "kept-inactive", person="mara", active=False, attributes={}),
        ],
        **ENTRA,
    ),
    scenario(
        "E-14",
        "Entra sends roles, then adds one as JSON inside a string",
        [
            person(roles=["Clinician"]),
            CYCLE,
            step("update_person", key="mara", set={"roles": ["Admin", "Clinician"]}),
            step("cycle", id="roles"),
        ],
        [
            responses("created", "user.create", [201], count=1),
            responses(
                "role-added",
                "user.update",
                WRITE,
                step="roles",
                count=1,
                name="the JSON-in-a-string role is accepted, not answered 400",
            ),
            expect("users_in_sync", "user-intact"),
            expect(
                "user",
                "roles",
                person="mara",
                requires=["roles"],
                attributes={"roles": ["Admin", "Clinician"]},
            ),
        ],
        **ENTRA,
    ),
    scenario(
        "E-15",
        "Entra POST collides on the work email: 409, escrow, the same 409 next cycle",
        [
            step(
                "seed_user",
                user_name="m.quinn@elsewhere.example",
                email="mara.quinn@sunrise-clinic.example",
            ),
            person(),
            step("cycle", id="first"),
            step("cycle", id="retry"),
        ],
        [
            responses(
                "conflict",
                "user.create",
                [409],
                step="first",
                count=1,
                scim_type="uniqueness",
                scim_error=True,
                check_errors=True,
                requires=UNIQUE,
            ),
            responses("retried", "user.create", [409], step="retry", count=1, requires=UNIQUE),
            expect(
                "failures",
                "escrowed",
                person="mara",
                policy="escrow",
                status=409,
                min_attempts=2,
                requires=UNIQUE,
            ),
            expect("lookup", "no-duplicate", person="mara", count=0, requires=UNIQUE),
        ],
        **ENTRA,
    ),
    scenario(
        "E-16",
        "Entra: 401 on every call -> quarantine, retries at +6 h, +12 h, +24 h, recovery",
        [
            step("add_people", count=3),
            step("fault", status=401, until="30h"),
            CYCLE,
            step("schedule", id="quarantine", duration="4d"),
        ],
        [
            expect(
                "quarantine",
                "quarantine",
                entered=True,
                exited=True,
                retry_offsets=["6h", "12h", "24h"],
                reason="EncounteredQuarantineException",
            ),
            expect("users_in_sync", "recovered"),
            expect("failures", "escrow-empty", none=True),
        ],
        **ENTRA,
    ),
    scenario(
        "E-17",
        "Entra: three 429s with Retry-After: 5 in the middle of a cycle",
        [
            step("add_people", count=6),
            step("fault", status=429, retry_after=5, label="user.create", after=2, times=3),
            CYCLE,
        ],
        [
            expect("waits", "waited", min="5s", count=3),
            # Each person is created once: only a throttled create (the three injected here,
            # and any the server answers 429 itself) is sent again, so a server that throttles
            # on its own passes and one that makes Entra create someone twice fails.
            responses(
                "only-failed-retried",
                "user.create",
                [201],
                count=6,
                once_each=True,
                any_status=[429],
                name="each person created once; only throttled creates were sent again",
            ),
            expect("users_in_sync", "in-sync"),
            expect("failures", "nothing-escrowed", none=True),
        ],
        **ENTRA,
    ),
]
