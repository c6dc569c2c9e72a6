"""The identity provider's account lifecycle in the practice's audit log, beside the console's
actions: created, updated (names of the fields that changed, never values), deactivated,
reactivated, deleted; written with the change, by the credential the request came with."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from server.auth.service import TokenService
from server.domain.practices import AuditFilter
from server.domain.provisioning import ProvisioningService
from server.domain.staff import StaffProfile
from server.services import Services

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore
    from server.settings import Settings
    from tests.conftest import PracticeFixture

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _patch(path: str, value: Any) -> dict[str, Any]:
    return {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "path": path, "value": value}],
    }


async def _entries(store: PiccoloStore, practice: PracticeFixture) -> list[tuple[str, str, str]]:
    listed = await store.audit.list(UUID(practice.id), limit=100)
    return [
        (e.actor, e.action, e.detail) for e in reversed(listed) if e.action.startswith("scim.user")
    ]


async def test_lifecycle_by_the_identity_provider_is_audited_with_its_credential(
    client: AsyncTestClient[Any],
    store: PiccoloStore,
    practice: PracticeFixture,
    token_headers: dict[str, str],
) -> None:
    users = f"{practice.scim_path}/Users"
    created = await client.post(
        users,
        json={"schemas": [USER_SCHEMA], "userName": "dana", "name": {"givenName": "Dana"}},
        headers=token_headers,
    )
    assert created.status_code == 201, created.text
    staff = created.json()["id"]
    one = f"{users}/{staff}"
    # A refused create (the same userName) writes nothing, not even an audit entry.
    again = await client.post(
        users, json={"schemas": [USER_SCHEMA], "userName": "DANA"}, headers=token_headers
    )
    assert again.status_code == 409
    for body in (
        _patch("name.givenName", "Dana"),  # no change: no entry
        _patch("name.givenName", "Danielle"),
        _patch("active", "False"),
        _patch("active", True),
    ):
        done = await client.patch(one, json=body, headers=token_headers)
        assert done.status_code == 200, done.text
    replaced = await client.put(
        one,
        json={"schemas": [USER_SCHEMA], "userName": "dana", "name": {"givenName": "Danielle",
              "familyName": "Lee"}, "phoneNumbers": [{"type": "mobile", "value": "555-0100"}]},
        headers=token_headers,
    )  # fmt: skip
    assert replaced.status_code == 200, replaced.text
    assert (await client.delete(one, headers=token_headers)).status_code == 204

    oauth = f"idp:oauth:{practice.client_id}"
    assert await _entries(store, practice) == [
        (oauth, "scim.user_created", f"staff={staff}"),
        (oauth, "scim.user_updated", f"staff={staff} fields=given_name"),
        (oauth, "scim.user_deactivated", f"staff={staff}"),
        (oauth, "scim.user_reactivated", f"staff={staff}"),
        (oauth, "scim.user_updated", f"staff={staff} fields=family_name,cell_phone"),
        (oauth, "scim.user_deleted", f"staff={staff}"),
    ]
    detail = " ".join(d for _, _, d in await _entries(store, practice))
    assert "Danielle" not in detail  # names of fields, never values
    assert "555" not in detail


async def test_static_token_and_basic_are_named_without_their_secret(
    client: AsyncTestClient[Any],
    store: PiccoloStore,
    settings: Settings,
    practice: PracticeFixture,
) -> None:
    services = Services.build(store, settings)
    static = await services.practices.create_static_token(UUID(practice.id), actor="test")
    basic = base64.b64encode(f"{practice.client_id}:{practice.client_secret}".encode()).decode()
    for name, header in (("sam", f"Bearer {static.token}"), ("bo", f"Basic {basic}")):
        done = await client.post(
            f"{practice.scim_path}/Users",
            json={"schemas": [USER_SCHEMA], "userName": name},
            headers={"Authorization": header, "Content-Type": "application/scim+json"},
        )
        assert done.status_code == 201, done.text
    actors = [actor for actor, _, _ in await _entries(store, practice)]
    assert actors == [f"idp:static:{static.token[-4:]}", f"idp:basic:{practice.client_id}"]
    everything = await store.audit.list(UUID(practice.id), limit=100)
    assert not any(
        practice.client_secret in e.actor + e.detail or static.token in e.actor + e.detail
        for e in everything
    )


async def test_staff_updated_names_only_the_fields_that_changed(
    client: AsyncTestClient[Any],
    store: PiccoloStore,
    settings: Settings,
    practice: PracticeFixture,
    token_headers: dict[str, str],
) -> None:
    services = Services.build(store, settings)
    created = await client.post(
        f"{practice.scim_path}/Users",
        json={"schemas": [USER_SCHEMA], "userName": "lee", "emails": [{"value": "l@x.org"}]},
        headers=token_headers,
    )
    staff = UUID(created.json()["id"])
    pid = UUID(practice.id)
    await services.staff_admin.update_staff(pid, staff, {"email": "l@y.org"}, actor="console:a")
    edit = {"email": "l@y.org", "access_level": "clinical_staff", "location_ids": []}
    await services.staff_admin.update_staff(pid, staff, edit, actor="console:admin")
    await services.staff_admin.update_staff(pid, staff, edit, actor="console:admin")  # no change
    updates = [
        e.detail for e in await store.audit.list(pid, limit=50) if e.action == "staff.updated"
    ]
    assert updates == [f"staff={staff} fields=access_level", f"staff={staff} fields=email"]


async def test_audit_list_filters_and_pages(
    client: AsyncTestClient[Any],
    store: PiccoloStore,
    practice: PracticeFixture,
    token_headers: dict[str, str],
) -> None:
    ids = []
    for n in range(5):
        created = await client.post(
            f"{practice.scim_path}/Users",
            json={"schemas": [USER_SCHEMA], "userName": f"u{n}"},
            headers=token_headers,
        )
        ids.append(created.json()["id"])
    pid = UUID(practice.id)
    everything = await store.audit.list(pid, limit=100)
    # practice.created, scim.enabled and five creates, newest first
    assert [e.action for e in everything][:5] == ["scim.user_created"] * 5
    first = await store.audit.list(pid, limit=3)
    second = await store.audit.list(pid, limit=3, offset=3)
    assert first + second == everything[:6]
    by_idp = await store.audit.list(pid, limit=100, where=AuditFilter(actor_prefix="idp"))
    assert len(by_idp) == 5
    connection = AuditFilter(action_prefixes=("scim.enabled", "practice."))
    assert {e.action for e in await store.audit.list(pid, limit=100, where=connection)} == {
        "scim.enabled",
        "practice.created",
    }
    about = await store.audit.list(pid, limit=100, where=AuditFilter(staff_id=UUID(ids[2])))
    assert [e.detail for e in about] == [f"staff={ids[2]}"]
    newest = everything[0].created_at
    later = AuditFilter(since=newest + timedelta(seconds=1))
    assert await store.audit.list(pid, limit=100, where=later) == []
    earlier = AuditFilter(until=newest + timedelta(seconds=1), since=newest - timedelta(days=1))
    assert len(await store.audit.list(pid, limit=100, where=earlier)) == len(everything)


class _CountingStore:
    """A store that notes each call to its credential repositories (tokens, SCIM config)."""

    def __init__(self, store: PiccoloStore) -> None:
        self._store = store
        self.lookups: list[str] = []

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._store, name)
        if name not in ("tokens", "scim_configs"):
            return found
        lookups = self.lookups

        class _Counted:
            def __getattr__(self, method: str) -> Any:
                lookups.append(f"{name}.{method}")
                return getattr(found, method)

        return _Counted()


async def test_a_write_names_its_credential_with_no_lookup_of_its_own(
    store: PiccoloStore, settings: Settings, practice: PracticeFixture
) -> None:
    """The credential check names the credential it accepted; create, PATCH and delete then
    write their audit entries without looking a credential up again, for each kind."""
    pid = UUID(practice.id)
    services = Services.build(store, settings)
    static = await services.practices.create_static_token(pid, actor="test")
    oauth = await services.tokens.client_credentials(practice.client_id, practice.client_secret)
    counting = _CountingStore(store)
    tokens = TokenService(counting, token_ttl_seconds=300)  # type: ignore[arg-type]
    provisioning = ProvisioningService(counting)  # type: ignore[arg-type]

    async def as_idp(check: Callable[[], Awaitable[UUID]], user_name: str) -> list[str]:
        await check()
        checked = list(counting.lookups)
        user = await provisioning.create(pid, StaffProfile(user_name=user_name))
        await provisioning.modify(pid, user.id, lambda u: replace(u.profile, given_name="Jo"))
        await provisioning.delete(pid, user.id)
        assert counting.lookups == checked  # none after the check
        counting.lookups.clear()
        listed = await store.audit.list(pid, limit=3)
        assert [e.detail.split()[0] for e in listed] == [f"staff={user.id}"] * 3
        return checked + [e.actor for e in listed]

    # Each in a task of its own, as each request is: the credential stays with its request.
    by_static = asyncio.create_task(
        as_idp(lambda: tokens.practice_for_bearer(static.token, pid), "s")
    )
    assert await by_static == ["tokens.credential_for"] + [f"idp:static:{static.token[-4:]}"] * 3
    by_oauth = asyncio.create_task(
        as_idp(lambda: tokens.practice_for_bearer(oauth.access_token, pid), "o")
    )
    assert await by_oauth == ["tokens.credential_for"] + [f"idp:oauth:{practice.client_id}"] * 3
    by_basic = asyncio.create_task(
        as_idp(
            lambda: tokens.practice_for_basic(practice.client_id, practice.client_secret, pid), "b"
        )
    )
    assert (
        await by_basic
        == ["scim_configs.get_by_client_id"] + [f"idp:basic:{practice.client_id}"] * 3
    )
