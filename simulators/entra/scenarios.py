"""Entra scenarios E-01..E-09 of idp-behaviors.md §6 (users), as scenario data."""

from __future__ import annotations

from typing import Any

from simulators.core.scenario import expect, responses, scenario, step
from simulators.entra.dialect import FLAG

__all__ = ["CYCLE", "ENTRA", "SCENARIOS", "WRITE", "bare", "person"]

WRITE = [200, 204]
ENTRA = {"idps": ["entra"]}
CYCLE = step("cycle")
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def person(key: str = "mara", **extra: Any) -> dict[str, Any]:
    """A clinician as an Entra admin would have her: every default mapping has a source."""
    mail = f"{key}.quinn@sunrise-clinic.example"
    base = {
        "key": key,
        "user_name": mail,
        "given_name": key.title(),
        "family_name": "Quinn",
        "email": mail,
        "mobile": "+1 206 555 0147",
        "work_phone": "+1 206 555 0100",
        "title": "Nurse Practitioner",
        "department": "Family Medicine",
        "employee_number": "70412",
    }
    return step("add_person", **(base | extra))


def bare(key: str) -> dict[str, Any]:
    """Someone with nothing but a name: no email, no phones, no address."""
    mail = f"{key}@sunrise-clinic.example"
    return step("add_person", key=key, user_name=mail, given_name=key.title(), family_name="Doe")


def _disabled_and_back() -> list[dict[str, Any]]:
    return [step("disable", key="mara"), CYCLE, step("enable", key="mara")]


SCENARIOS: list[dict[str, Any]] = [
    scenario(
        "E-01",
        "Entra test connection: a random GUID matches nothing",
        [step("test_connection")],
        [
            responses(
                "users-probe",
                "test_connection.users",
                [200],
                count=1,
                total_results=0,
                resources=0,
                content_type="application/scim+json",
            ),
            responses(
                "groups-probe",
                "test_connection.groups",
                [200],
                count=1,
                total_results=0,
                resources=0,
                content_type="application/scim+json",
            ),
            expect("connection", "not-quarantine-worthy", ok=True, quarantine_worthy=False),
        ],
        **ENTRA,
    ),
    scenario(
        "E-02",
        "Entra create after a filter miss",
        [person(locality="Tacoma", region="WA", country="US"), CYCLE],
        [
            responses("lookup-miss", "user.lookup", [200], total_results=0, count=1),
            responses("created", "user.create", [201], has_id=True, count=1),
            expect("user", "reads-back", person="mara", name="GET returns what was sent"),
        ],
        **ENTRA,
    ),
    scenario(
        "E-03",
        "Entra matches an existing user whose userName differs in case",
        [step("seed_user", user_name="MARA.QUINN@SUNRISE-CLINIC.EXAMPLE"), person(), CYCLE],
        [
            responses("matched", "user.lookup", [200], total_results=1, count=1),
            expect("no_requests", "no-post", label="user.create"),
            responses("patched", "user.update", [200, 204]),
            expect("lookup", "no-duplicate", person="mara", count=1),
            expect("users_in_sync", "in-sync"),
        ],
        **ENTRA,
    ),
    scenario(
        "E-04",
        'Entra disables with "Replace" and the string "False"',
        [person(), CYCLE, step("disable", key="mara"), step("cycle", id="disable")],
        [
            responses("deactivated", "user.deactivate", WRITE, step="disable", count=1),
            expect(
                "user",
                "inactive-by-id",
                person="mara",
                active=False,
                attributes={},
                name="GET /Users/{id} shows active: false as a JSON boolean",
            ),
            expect("lookup", "inactive-by-filter", person="mara", count=1, active=False),
        ],
        **ENTRA,
    ),
    scenario(
        "E-05",
        'Entra reactivates with "True", then with "true"; memberships stay',
        [
            person("mara"),
            person("jon"),
            step("add_group", key="platform", name="Platform Team", members=["mara", "jon"]),
            CYCLE,
            *_disabled_and_back(),
            step("cycle", id="title-case"),
            step("dialect", set={"patch_booleans": "string-lower"}),
            *_disabled_and_back(),
            step("cycle", id="lower-case"),
        ],
        [
            responses("reactivated", "user.reactivate", WRITE, step="title-case", count=1),
            responses("reactivated-lower", "user.reactivate", WRITE, step="lower-case", count=1),
            expect("user", "active", person="mara", active=True, attributes={}),
            expect("group", "memberships-intact", group="platform", members=["mara", "jon"]),
        ],
        **ENTRA,
    ),
    scenario(
        "E-06",
        "Entra (aadOptscim062020) folds a multi-attribute replace into dotted keys",
        [
            person(),
            CYCLE,
            step(
                "update_person",
                key="mara",
                set={
                    "display_name": "Mara Quinn-Ortiz",
                    "given_name": "Marah",
                    "family_name": "Quinn-Ortiz",
                    "employee_number": "70999",
                    "email": "mara.quinn-ortiz@sunrise-clinic.example",
                },
            ),
            step("cycle", id="update"),
        ],
        [
            responses("patched", "user.update", WRITE, step="update", count=1),
            expect(
                "user",
                "nested",
                person="mara",
                absent_keys=["name.givenName", "name.familyName", f"{ENTERPRISE}:employeeNumber"],
                name="nested fields updated; no literal dotted keys stored",
            ),
            expect(
                "user",
                "employee-number",
                person="mara",
                requires=["employeeNumber"],
                attributes={"employeeNumber": "70999"},
            ),
        ],
        variants=[FLAG],
        **ENTRA,
    ),
    scenario(
        "E-07",
        "Entra adds email and mobile through filter paths on a user with neither",
        [
            bare("ravi"),
            CYCLE,
            step(
                "update_person",
                key="ravi",
                set={"email": "ravi@sunrise-clinic.example", "mobile": "+1 206 555 0188"},
            ),
            step("cycle", id="add"),
        ],
        [
            responses("patched", "user.update", WRITE, step="add", count=1),
            expect(
                "user",
                "created-on-absent",
                person="ravi",
                name="the work email and the mobile phone now exist",
            ),
        ],
        **ENTRA,
    ),
    scenario(
        "E-08",
        "Entra sends three Adds to one filtered address",
        [
            bare("ines"),
            CYCLE,
            step(
                "update_person",
                key="ines",
                set={"locality": "Olympia", "region": "WA", "country": "US"},
            ),
            step("cycle", id="address"),
        ],
        [
            responses("patched", "user.update", WRITE, step="address", count=1),
            expect(
                "user",
                "one-address",
                person="ines",
                requires=["addresses[work].locality"],
                attributes={
                    "addresses[work].locality": "Olympia",
                    "addresses[work].region": "WA",
                    "addresses[work].country": "US",
                },
            ),
        ],
        **ENTRA,
    ),
    scenario(
        "E-09",
        "Entra links the manager in a second pass, then leaves it alone",
        [
            person("dana", manager="erin"),
            person("erin"),
            step("cycle", id="initial"),
            step("cycle", id="recheck", full=True),
            step("dialect", set={"manager_form": "legacy-list"}),
            person("frank"),
            step("update_person", key="dana", set={"manager": "frank"}),
            step("cycle", id="legacy"),
        ],
        [
            responses("linked", "user.manager", WRITE, step="initial", count=1),
            expect(
                "no_requests",
                "round-trips",
                label="user.manager",
                step="recheck",
                requires=["manager"],
                name="a full re-read finds the manager unchanged",
            ),
            responses("legacy-form", "user.manager", WRITE, step="legacy", count=1),
            expect(
                "user",
                "manager-value",
                person="dana",
                requires=["manager"],
                attributes={"manager": "{user:frank}"},
            ),
        ],
        **ENTRA,
    ),
]
