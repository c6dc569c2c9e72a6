"""The platform's provisioning rules seen from the practice: read-only provisioned fields,
default access, locations and access kept across deactivation, sessions revoked at once."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest

from tests.conftest import PracticeFixture, new_practice

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore
    from server.settings import Settings

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


async def _provision(
    client: AsyncTestClient[Any], practice: PracticeFixture, headers: dict[str, str], name: str
) -> str:
    response = await client.post(
        f"{practice.scim_path}/Users",
        json={
            "schemas": [USER_SCHEMA],
            "userName": name,
            "name": {"givenName": "Pat", "familyName": "Lee"},
            "phoneNumbers": [{"type": "mobile", "value": "555-0100"}],
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _open_session(store: PiccoloStore, practice: PracticeFixture, user_id: str) -> str:
    token = f"session-{user_id}"
    digest = hashlib.sha256(token.encode()).hexdigest()
    await store.sessions.add(
        UUID(practice.id), UUID(user_id), digest, datetime.now(UTC) + timedelta(hours=1)
    )
    return digest


async def test_provisioned_staff_start_as_admin_staff_with_read_only_fields(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    user_id = await _provision(client, practice, token_headers, "ro@example.org")
    api = f"/api/v1/practices/{practice.id}/staff"
    staff = (await client.get(f"{api}/{user_id}", headers=practice.admin_headers)).json()
    assert staff["access_level"] == "admin_staff"
    assert staff["access_level_label"] == "Admin Staff"
    assert staff["chart_access"] is False
    assert staff["scim_provisioned"] is True
    assert staff["has_password"] is False
    assert sorted(staff["read_only_fields"]) == [
        "cell_phone",
        "family_name",
        "given_name",
        "user_name",
    ]
    for field, value in [
        ("given_name", "Other"),
        ("family_name", "Other"),
        ("user_name", "other@example.org"),
        ("cell_phone", "999"),
    ]:
        refused = await client.patch(
            f"{api}/{user_id}", json={field: value}, headers=practice.admin_headers
        )
        assert refused.status_code == 409, field
        assert "identity provider" in refused.json()["detail"]
    unchanged = (await client.get(f"{api}/{user_id}", headers=practice.admin_headers)).json()
    assert unchanged == staff


async def test_hand_made_staff_stay_editable(
    client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    api = f"/api/v1/practices/{practice.id}/staff"
    listing = (await client.get(api, headers=practice.admin_headers)).json()
    admin = next(s for s in listing if s["is_practice_admin"])
    assert admin["read_only_fields"] == []
    edited = await client.patch(
        f"{api}/{admin['id']}", json={"given_name": "Morgan"}, headers=practice.admin_headers
    )
    assert edited.status_code == 200
    assert edited.json()["given_name"] == "Morgan"


async def test_access_and_locations_survive_deactivation_and_reactivation(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    user_id = await _provision(client, practice, token_headers, "keeper@example.org")
    base = f"/api/v1/practices/{practice.id}"
    location = await client.post(
        f"{base}/locations", json={"name": "North Clinic"}, headers=practice.admin_headers
    )
    assert location.status_code == 201
    location_id = location.json()["id"]
    assigned = await client.patch(
        f"{base}/staff/{user_id}",
        json={"access_level": "clinical_staff", "location_ids": [location_id]},
        headers=practice.admin_headers,
    )
    assert assigned.status_code == 200
    assert assigned.json()["chart_access"] is True

    scim_user = f"{practice.scim_path}/Users/{user_id}"
    for value in ("False", "True"):
        flipped = await client.patch(
            scim_user,
            json={
                "schemas": [PATCH_SCHEMA],
                "Operations": [{"op": "Replace", "path": "active", "value": value}],
            },
            headers=token_headers,
        )
        assert flipped.status_code == 200
    staff = (await client.get(f"{base}/staff/{user_id}", headers=practice.admin_headers)).json()
    assert staff["active"] is True
    assert staff["access_level"] == "clinical_staff"
    assert staff["location_ids"] == [location_id]

    # Re-sending the user in full (Okta's PUT) never lowers or raises access either.
    put = await client.put(
        scim_user,
        json={"schemas": [USER_SCHEMA], "userName": "keeper@example.org", "active": True},
        headers=token_headers,
    )
    assert put.status_code == 200
    again = (await client.get(f"{base}/staff/{user_id}", headers=practice.admin_headers)).json()
    assert again["access_level"] == "clinical_staff"
    assert again["location_ids"] == [location_id]


async def test_bad_staff_edits_are_refused(
    client: AsyncTestClient[Any],
    store: PiccoloStore,
    settings: Settings,
    practice: PracticeFixture,
    token_headers: dict[str, str],
) -> None:
    user_id = await _provision(client, practice, token_headers, "edits@example.org")
    base = f"/api/v1/practices/{practice.id}"
    bad_level = await client.patch(
        f"{base}/staff/{user_id}", json={"access_level": "root"}, headers=practice.admin_headers
    )
    assert bad_level.status_code == 400
    unknown_field = await client.patch(
        f"{base}/staff/{user_id}", json={"active": False}, headers=practice.admin_headers
    )
    assert unknown_field.status_code == 400
    foreign = await new_practice(client, store, settings)
    other_location = await client.post(
        f"/api/v1/practices/{foreign.id}/locations",
        json={"name": "Elsewhere"},
        headers=foreign.admin_headers,
    )
    stolen = await client.patch(
        f"{base}/staff/{user_id}",
        json={"location_ids": [other_location.json()["id"]]},
        headers=practice.admin_headers,
    )
    assert stolen.status_code == 400
    staff = (await client.get(f"{base}/staff/{user_id}", headers=practice.admin_headers)).json()
    assert staff["location_ids"] == []
    assert staff["access_level"] == "admin_staff"
    # The other practice's administrator cannot see this practice's staff.
    hidden = await client.get(f"{base}/staff/{user_id}", headers=foreign.admin_headers)
    assert hidden.status_code == 404


DEACTIVATIONS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("patch-path", "PATCH", {"Operations": [{"op": "replace", "path": "active", "value": False}]}),
    (
        "patch-entra",
        "PATCH",
        {"Operations": [{"op": "Replace", "path": "active", "value": "False"}]},
    ),
    ("patch-pathless", "PATCH", {"Operations": [{"op": "replace", "value": {"active": False}}]}),
    ("put", "PUT", None),
    ("delete", "DELETE", None),
]


@pytest.mark.parametrize(
    ("how", "method", "body"), DEACTIVATIONS, ids=[d[0] for d in DEACTIVATIONS]
)
async def test_every_deactivation_form_revokes_sessions(
    client: AsyncTestClient[Any],
    store: PiccoloStore,
    practice: PracticeFixture,
    token_headers: dict[str, str],
    how: str,
    method: str,
    body: dict[str, Any] | None,
) -> None:
    user_id = await _provision(client, practice, token_headers, f"{how}@example.org")
    other_id = await _provision(client, practice, token_headers, f"{how}-other@example.org")
    session = await _open_session(store, practice, user_id)
    bystander = await _open_session(store, practice, other_id)
    now = datetime.now(UTC)
    assert await store.sessions.find_active(session, now) == (UUID(practice.id), UUID(user_id))

    url = f"{practice.scim_path}/Users/{user_id}"
    if method == "PATCH":
        response = await client.patch(
            url, json={"schemas": [PATCH_SCHEMA], **(body or {})}, headers=token_headers
        )
    elif method == "PUT":
        response = await client.put(
            url,
            json={"schemas": [USER_SCHEMA], "userName": f"{how}@example.org", "active": False},
            headers=token_headers,
        )
    else:
        response = await client.delete(url, headers=token_headers)
    assert response.status_code in {200, 204}

    assert await store.sessions.find_active(session, now) is None
    assert await store.sessions.revoke_for_user(UUID(practice.id), UUID(user_id)) == 0
    assert await store.sessions.find_active(bystander, now) == (UUID(practice.id), UUID(other_id))


async def test_parallel_if_match_patches_have_exactly_one_winner(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    user_id = await _provision(client, practice, token_headers, "contested@example.org")
    url = f"{practice.scim_path}/Users/{user_id}"

    def rename(i: int) -> dict[str, Any]:
        return {
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "replace", "path": "name.givenName", "value": f"Writer{i}"}],
        }

    responses = await asyncio.gather(
        *(
            client.patch(url, json=rename(i), headers={**token_headers, "If-Match": 'W/"1"'})
            for i in range(8)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * 7
    winner = next(r for r in responses if r.status_code == 200).json()["name"]["givenName"]
    final = (await client.get(url, headers=token_headers)).json()
    assert final["name"]["givenName"] == winner
    assert final["meta"]["version"] == 'W/"2"'


async def test_an_edited_email_is_stored_as_scim_sends_it_and_nonsense_changes_nothing(
    client: AsyncTestClient[Any], practice: PracticeFixture, token_headers: dict[str, str]
) -> None:
    user_id = await _provision(client, practice, token_headers, "mail@example.org")
    api = f"/api/v1/practices/{practice.id}/staff/{user_id}"
    edited = await client.patch(
        api, json={"email": "Pat.Lee@EXAMPLE.ORG"}, headers=practice.admin_headers
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["email"] == "Pat.Lee@example.org"
    for bad in ("not-an-email", "two@@example.org", "pat@"):
        refused = await client.patch(api, json={"email": bad}, headers=practice.admin_headers)
        assert refused.status_code == 400, bad
        assert "not a valid email address" in refused.json()["detail"]
    for query in ("", "?attributes=emails"):
        scim = await client.get(
            f"{practice.scim_path}/Users/{user_id}{query}", headers=token_headers
        )
        assert scim.status_code == 200
        assert scim.json()["emails"][0]["value"] == "Pat.Lee@example.org"


@pytest.mark.parametrize("name", ["North\x00Clinic", "North\nClinic", "\x07"])
async def test_a_location_name_with_control_characters_is_refused(
    client: AsyncTestClient[Any], practice: PracticeFixture, name: str
) -> None:
    base = f"/api/v1/practices/{practice.id}"
    refused = await client.post(
        f"{base}/locations", json={"name": name}, headers=practice.admin_headers
    )
    assert refused.status_code == 400
    listed = await client.get(f"{base}/locations", headers=practice.admin_headers)
    assert all(name.strip() != loc["name"] for loc in listed.json())
