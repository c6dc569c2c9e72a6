"""Okta scenarios O-01..O-10 of idp-behaviors.md §6, as scenario data."""

from __future__ import annotations

from typing import Any

from simulators.core.scenario import expect, responses, scenario, step

__all__ = ["SCENARIOS"]

WRITE = [200, 204]
OKTA = {"idps": ["okta"]}
CYCLE = step("cycle")
BO = "bo.ferreira@northside-health.example"


def person(key: str = "bo", **extra: Any) -> dict[str, Any]:
    mail = BO if key == "bo" else f"{key}@northside-health.example"
    base = {
        "key": key,
        "user_name": mail,
        "given_name": key.title(),
        "family_name": "Ferreira",
        "email": mail,
        "mobile": "+1 503 555 0123",
    }
    return step("add_person", **(base | extra))


SCENARIOS: list[dict[str, Any]] = [
    scenario(
        "O-01",
        "Okta Test API Credentials: a paged GET /Users with no filter",
        [step("test_connection")],
        [
            responses(
                "probe",
                "test_connection.users",
                [200],
                count=1,
                integer_counters=True,
                content_type="application/scim+json",
            ),
            expect("connection", "passed", ok=True),
        ],
        **OKTA,
    ),
    scenario(
        "O-02",
        "Okta creates a user with a password, externalId 00u… and groups []",
        [person(), CYCLE],
        [
            responses("lookup-miss", "user.lookup", [200, 404], count=1),
            responses(
                "created",
                "user.create",
                [201],
                count=1,
                has_id=True,
                name="201 with the full user (an empty body fails)",
            ),
            expect("users_in_sync", "reads-back"),
        ],
        **OKTA,
    ),
    scenario(
        "O-03",
        "Okta looks the user up again in upper case",
        [
            person(),
            CYCLE,
            step("send", builder="lookup_user", user_name=BO.upper(), label="check.upper"),
        ],
        [responses("one-result", "check.upper", [200], count=1, total_results=1)],
        **OKTA,
    ),
    scenario(
        "O-04",
        "Okta profile update: GET, then PUT of the whole object",
        [
            person(middle_name="R"),
            CYCLE,
            step("update_person", key="bo", set={"middle_name": "Rui"}),
            step("cycle", id="update"),
        ],
        [
            responses("read-first", "user.get", [200], step="update", count=1),
            responses("replaced", "user.put", [200], step="update", count=1, has_id=True),
            expect(
                "users_in_sync", "nothing-wiped", name="read-only fields ignored, nothing wiped"
            ),
            expect(
                "user",
                "middle-name",
                person="bo",
                requires=["name.middleName"],
                attributes={"name.middleName": "Rui"},
            ),
        ],
        **OKTA,
    ),
    scenario(
        "O-05",
        "Okta (OIN) deactivates and reactivates with a path-less PATCH; never DELETE",
        [
            person(),
            CYCLE,
            step("disable", key="bo"),
            step("cycle", id="off"),
            step("enable", key="bo"),
            step("cycle", id="on"),
            step("soft_delete", key="bo"),
            step("cycle", id="deleted"),
        ],
        [
            responses("deactivated", "user.deactivate", WRITE, step="off", count=1, method="PATCH"),
            responses("reactivated", "user.reactivate", WRITE, step="on", count=1, method="PATCH"),
            expect("no_requests", "no-delete", method="DELETE"),
            expect("user", "inactive", person="bo", active=False, attributes={}),
        ],
        **OKTA,
    ),
    scenario(
        "O-06",
        "Okta (AIW) deactivates with a PUT of the whole user",
        [person(), CYCLE, step("disable", key="bo"), step("cycle", id="off")],
        [
            responses("deactivated", "user.deactivate", [200], step="off", count=1, method="PUT"),
            expect("users_in_sync", "inactive-and-intact"),
        ],
        variants=["aiw"],
        **OKTA,
    ),
    scenario(
        "O-07",
        "Okta POSTs the same user twice: 409 and one failed task, no retry loop",
        [
            person(),
            CYCLE,
            step("send", builder="create_user", person="bo", label="check.duplicate"),
            step("cycle", id="after"),
        ],
        [
            responses(
                "conflict", "check.duplicate", [409], count=1, scim_error=True, check_errors=True
            ),
            expect("failures", "task", person="bo", policy="task", status=409),
            expect("no_requests", "no-retry", label="user.create", step="after"),
            expect("lookup", "one-user", person="bo", count=1),
        ],
        **OKTA,
    ),
    scenario(
        "O-08",
        "Okta Group Push: create, membership delta, rename, unlink with delete",
        [
            person("ana"),
            person("ben"),
            person("cai"),
            step("add_group", key="oncall", name="eng-oncall", members=["ana", "ben"]),
            step("cycle", id="push"),
            step("change_members", key="oncall", add=["cai"], remove=["ana"]),
            step("cycle", id="delta"),
            step("rename_group", key="oncall", name="eng-oncall-nights"),
            step("cycle", id="rename"),
            step("delete_group", key="oncall"),
            step("cycle", id="unlink"),
        ],
        [
            responses("lookup-miss", "group.lookup", [200], count=1, total_results=0),
            responses("created", "group.create", [201], count=1, has_id=True),
            expect("group", "pushed", group="oncall", members=["ana", "ben"], at="push"),
            responses("delta", "group.members", WRITE, step="delta", count=1),
            responses("rename-repeated", "group.rename", WRITE, step="delta", count=1),
            expect("group", "after-delta", group="oncall", members=["ben", "cai"], at="delta"),
            expect("group", "renamed", group="oncall", members=["ben", "cai"], at="rename"),
            responses("deleted", "group.delete", [204], step="unlink", count=1),
        ],
        **OKTA,
    ),
    scenario(
        "O-09",
        "Okta import: pages of 100 over 250 users",
        [step("seed_users"), step("import_users", page_size=100)],
        [expect("pages", "pages", min_total="seeded")],
        users=250,
        **OKTA,
    ),
    scenario(
        "O-10",
        "Okta: a 429 with Retry-After: 10 on a PUT, then a PUT that stalls past 60 s",
        [
            step("add_people", count=3),
            CYCLE,
            step("update_person", key="user0", set={"given_name": "Alicia"}),
            step("fault", status=429, retry_after=10, method="PUT", times=1),
            step("cycle", id="throttled"),
            step("update_person", key="user1", set={"given_name": "Boris"}),
            step("fault", stall=120, method="PUT", times=1),
            step("cycle", id="stalled"),
        ],
        [
            expect("waits", "waited", min="10s", count=1),
            responses(
                "retried",
                "user.put",
                [200],
                step="throttled",
                count=1,
                any_status=[429],
                name="the PUT answered 429 was sent again and succeeded",
            ),
            expect("timeouts", "aborted", label="user.put", step="stalled", count=1, after="60s"),
            expect("failures", "recorded", person="user1", policy="task"),
            expect("users_in_sync", "others-in-sync", people=["user0", "user2"]),
        ],
        **OKTA,
    ),
]
