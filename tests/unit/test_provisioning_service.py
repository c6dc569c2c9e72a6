"""The provisioning service's rules on the in-memory store: create, read, PATCH-style and
PUT-style changes, delete, filters and conflicts, without a database (the same rules run on
SQLite and PostgreSQL in tests/integration)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import count
from uuid import UUID, uuid4

import pytest

from server.domain.acting import ActingCredential, acting_credential
from server.domain.errors import NotFound, PreconditionFailed, UniquenessConflict
from server.domain.provisioning import ProvisioningService
from server.domain.query import AllOf, FieldTest, Negation, Operator, ResourceQuery
from server.domain.records import LinkRule, SsoConfig
from server.domain.staff import AccessLevel, StaffProfile, StaffUser
from tests.unit.memory_store import MemoryStore, memory_store

PRACTICE = UUID("00000000-0000-4000-8000-000000000001")
OTHER_PRACTICE = UUID("00000000-0000-4000-8000-000000000002")


def _clock() -> object:
    ticks = count()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return lambda: start + timedelta(seconds=next(ticks))


@pytest.fixture
def memory() -> tuple[MemoryStore, ProvisioningService]:
    store, port = memory_store()
    return store, ProvisioningService(port, clock=_clock())  # type: ignore[arg-type]


def _profile(name: str = "ada@example.com", **changes: object) -> StaffProfile:
    return replace(StaffProfile(user_name=name, given_name="Ada", family_name="L"), **changes)  # type: ignore[arg-type]


async def test_create_starts_at_the_lowest_access_with_no_password(memory: tuple) -> None:
    _, service = memory
    user = await service.create(PRACTICE, _profile("  ada@example.com "))
    assert user.profile.user_name == "ada@example.com"
    assert user.access_level is AccessLevel.ADMIN_STAFF
    assert (user.scim_provisioned, user.scim_deleted, user.has_password) == (True, False, False)
    assert user.version == 1
    assert await service.get(PRACTICE, user.id) == user


async def test_create_links_the_practice_sso_identity(memory: tuple) -> None:
    store, service = memory
    now = datetime(2026, 1, 1, tzinfo=UTC)
    config = SsoConfig(
        practice_id=PRACTICE, issuer="https://idp.example.com", client_id="c",
        client_secret="s", link_rule=LinkRule.OKTA_SUB, metadata_url=None,
        created_at=now, updated_at=now,
    )  # fmt: skip
    await store.sso_configs.save(config)
    user = await service.create(PRACTICE, _profile(external_id="00u1"))
    assert (user.sso_issuer, user.sso_subject) == ("https://idp.example.com", "00u1")


async def test_a_user_name_in_any_case_is_taken_once_per_practice(memory: tuple) -> None:
    _, service = memory
    await service.create(PRACTICE, _profile("Ada@Example.com"))
    with pytest.raises(UniquenessConflict, match="in this practice"):
        await service.create(PRACTICE, _profile("ADA@EXAMPLE.COM", email=None))
    other = await service.create(OTHER_PRACTICE, _profile("ada@example.com"))
    assert other.practice_id == OTHER_PRACTICE


async def test_each_change_by_the_idp_is_audited_with_it(memory: tuple) -> None:
    """Create, change and delete each leave one audit entry, written with the change; a
    refused create leaves none (the store writes the entry with the account, or neither)."""
    store, service = memory
    user = await service.create(PRACTICE, _profile("ada@example.com"))
    with pytest.raises(UniquenessConflict):
        await service.create(PRACTICE, _profile("ADA@example.com", email=None))
    assert [e.action for e in store.audit.entries] == ["scim.user_created"]
    await service.delete(PRACTICE, user.id)
    assert [e.action for e in store.audit.entries] == ["scim.user_created", "scim.user_deleted"]
    assert {e.detail for e in store.audit.entries} == {f"staff={user.id}"}


class _Reached:
    """The store, noting each repository a service reaches for."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.reached: list[str] = []

    def __getattr__(self, name: str) -> object:
        self.reached.append(name)
        return getattr(self._store, name)


@pytest.mark.parametrize(
    ("credential", "actor"),
    [
        (ActingCredential("oauth", "scimlab-0a1b2c3dc169"), "idp:oauth:scimlab-0a1b2c3dc169"),
        (ActingCredential("static", "Xy9z"), "idp:static:Xy9z"),
        (ActingCredential("basic", "scimlab-0a1b2c3dc169"), "idp:basic:scimlab-0a1b2c3dc169"),
        (None, "idp"),
    ],
)
async def test_the_actor_is_the_credential_the_request_was_accepted_with(
    credential: ActingCredential | None, actor: str
) -> None:
    """The audit entries name the credential the check accepted, with no credential lookup:
    the service reaches for no token or SCIM configuration repository."""
    store = MemoryStore()
    reaching = _Reached(store)
    service = ProvisioningService(reaching, clock=_clock())  # type: ignore[arg-type]
    accepted = acting_credential.set(credential)
    try:
        user = await service.create(PRACTICE, _profile())
        await service.modify(PRACTICE, user.id, lambda u: replace(u.profile, given_name="Grace"))
        await service.delete(PRACTICE, user.id)
    finally:
        acting_credential.reset(accepted)
    assert [e.actor for e in store.audit.entries] == [actor] * 3
    assert set(reaching.reached) <= {"staff", "groups", "sessions", "sso_configs", "audit",
                                     "transaction"}  # fmt: skip
    assert "audit" in reaching.reached


def test_a_credential_is_named_without_its_secret() -> None:
    oauth = ActingCredential("oauth", "scimlab-0a1b2c3dc169")
    assert (oauth.actor, oauth.label) == ("idp:oauth:scimlab-0a1b2c3dc169", "OAuth client …c169")
    static = ActingCredential("static", "Xy9z")
    assert (static.actor, static.label) == ("idp:static:Xy9z", "Static token …Xy9z")
    basic = ActingCredential("basic", "scimlab-0a1b2c3dc169")
    assert basic.label == "Basic, client …c169"
    assert ActingCredential("oauth", "").label == "OAuth client"


async def test_a_work_email_belongs_to_one_account_per_practice(memory: tuple) -> None:
    _, service = memory
    await service.create(PRACTICE, _profile("a@example.com", email="w@example.com"))
    with pytest.raises(UniquenessConflict, match="email"):
        await service.create(PRACTICE, _profile("b@example.com", email="W@example.com"))


@pytest.mark.parametrize(
    ("name", "message"),
    [("   ", "must not be empty"), ("x" * 257, "longer than 256"), ("a\x00b", "userName")],
)
async def test_bad_user_names_are_refused_and_nothing_is_written(
    memory: tuple, name: str, message: str
) -> None:
    store, service = memory
    with pytest.raises(Exception, match=message):
        await service.create(PRACTICE, _profile(name))
    assert await store.staff.list_scim(PRACTICE, ResourceQuery()) == (0, [])


async def test_unknown_and_other_practices_users_are_not_found(memory: tuple) -> None:
    _, service = memory
    user = await service.create(PRACTICE, _profile())
    with pytest.raises(NotFound):
        await service.get(PRACTICE, uuid4())
    with pytest.raises(NotFound):
        await service.get(OTHER_PRACTICE, user.id)


async def test_accounts_made_in_the_platform_are_not_the_idps(memory: tuple) -> None:
    store, service = memory
    made = await service.create(PRACTICE, _profile())
    await store.staff.update(replace(made, scim_provisioned=False), expected_version=1)
    with pytest.raises(NotFound):
        await service.get(PRACTICE, made.id)


async def test_a_patch_changes_one_attribute_and_bumps_the_version(memory: tuple) -> None:
    _, service = memory
    user = await service.create(PRACTICE, _profile())
    written, groups = await service.modify(
        PRACTICE, user.id, lambda current: replace(current.profile, given_name="Augusta")
    )
    assert written.profile == replace(user.profile, given_name="Augusta")
    assert (written.version, groups) == (2, [])
    assert written.updated_at > user.updated_at
    assert await service.get(PRACTICE, user.id) == written


async def test_a_change_to_nothing_writes_nothing(memory: tuple) -> None:
    _, service = memory
    user = await service.create(PRACTICE, _profile())
    written, _ = await service.modify(PRACTICE, user.id, lambda current: current.profile)
    assert written == user


async def test_a_replace_sets_every_attribute(memory: tuple) -> None:
    _, service = memory
    user = await service.create(PRACTICE, _profile(cell_phone="+1 555 0100"))
    new = StaffProfile(user_name="ada.l@example.com", family_name="Lovelace")
    written, _ = await service.modify(PRACTICE, user.id, lambda _: new)
    assert written.profile == new
    assert (await service.get(PRACTICE, user.id)).profile.cell_phone is None


async def test_if_match_guards_a_change(memory: tuple) -> None:
    _, service = memory
    user = await service.create(PRACTICE, _profile())
    with pytest.raises(PreconditionFailed):
        await service.modify(
            PRACTICE, user.id, lambda c: replace(c.profile, given_name="B"), expected_versions={7}
        )
    assert await service.get(PRACTICE, user.id) == user
    written, _ = await service.modify(
        PRACTICE, user.id, lambda c: replace(c.profile, given_name="B"), expected_versions={1}
    )
    assert written.version == 2


async def test_a_change_without_if_match_is_never_lost_to_another_writer(memory: tuple) -> None:
    store, service = memory
    user = await service.create(PRACTICE, _profile())
    calls: list[int] = []

    def change(current: StaffUser) -> StaffProfile:
        calls.append(current.version)
        if len(calls) == 1:  # another writer commits between this read and this write
            other = replace(current, profile=replace(current.profile, family_name="Byron"))
            store.staff._data.staff[PRACTICE, user.id] = replace(other, version=2)
        return replace(current.profile, given_name="Augusta")

    written, _ = await service.modify(PRACTICE, user.id, change)
    assert calls == [1, 2]
    assert written.version == 3
    assert (written.profile.given_name, written.profile.family_name) == ("Augusta", "Byron")


async def test_renaming_onto_a_taken_name_is_a_conflict_and_changes_nothing(
    memory: tuple,
) -> None:
    _, service = memory
    await service.create(PRACTICE, _profile("a@example.com", email=None))
    user = await service.create(PRACTICE, _profile("b@example.com", email=None))
    with pytest.raises(UniquenessConflict):
        await service.modify(
            PRACTICE, user.id, lambda c: replace(c.profile, user_name="A@example.com")
        )
    assert await service.get(PRACTICE, user.id) == user


async def test_deactivation_ends_sessions(memory: tuple) -> None:
    store, service = memory
    user = await service.create(PRACTICE, _profile())
    store.sessions.open(PRACTICE, user.id)
    written, _ = await service.modify(PRACTICE, user.id, lambda c: replace(c.profile, active=False))
    assert not written.profile.active
    assert store.sessions.count(PRACTICE, user.id) == 0


async def test_a_failed_deactivation_changes_no_data(
    memory: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, service = memory
    user = await service.create(PRACTICE, _profile())
    store.sessions.open(PRACTICE, user.id)

    async def broken(practice_id: UUID, staff_id: UUID) -> int:
        raise RuntimeError("sessions unavailable")

    monkeypatch.setattr(store.sessions, "revoke_for_user", broken)
    with pytest.raises(RuntimeError):
        await service.modify(PRACTICE, user.id, lambda c: replace(c.profile, active=False))
    assert await service.get(PRACTICE, user.id) == user
    assert store.sessions.count(PRACTICE, user.id) == 1


async def test_delete_keeps_the_account_deactivated_and_frees_its_name(memory: tuple) -> None:
    store, service = memory
    user = await service.create(PRACTICE, _profile())
    store.groups.join(user.id, uuid4())
    store.sessions.open(PRACTICE, user.id)
    with pytest.raises(PreconditionFailed):
        await service.delete(PRACTICE, user.id, expected_versions={5})
    await service.delete(PRACTICE, user.id)
    with pytest.raises(NotFound):
        await service.get(PRACTICE, user.id)
    with pytest.raises(NotFound):
        await service.delete(PRACTICE, user.id)
    kept = await store.staff.get(PRACTICE, user.id)
    assert kept is not None
    assert (kept.scim_deleted, kept.profile.active, kept.version) == (True, False, 2)
    assert await store.groups.of_users(PRACTICE, [user.id]) == {user.id: []}
    assert store.sessions.count(PRACTICE, user.id) == 0
    again = await service.create(PRACTICE, _profile(email=None))
    assert again.id != user.id


async def test_filters_select_and_pages_count(memory: tuple) -> None:
    _, service = memory
    names = ["carol", "Alice", "bob", "alan"]
    made = {
        name: await service.create(PRACTICE, _profile(f"{name}@example.com", given_name=name))
        for name in names
    }
    await service.create(OTHER_PRACTICE, _profile("alice@example.com"))
    await service.modify(PRACTICE, made["bob"].id, lambda c: replace(c.profile, active=False))

    def user_names(found: tuple[int, list[StaffUser]]) -> tuple[int, list[str]]:
        return found[0], [u.profile.user_name for u in found[1]]

    eq = FieldTest("user_name", Operator.EQ, "ALICE@example.com")
    assert user_names(await service.search(PRACTICE, ResourceQuery(eq))) == (
        1,
        ["Alice@example.com"],
    )
    starts = FieldTest("user_name", Operator.SW, "a")
    assert user_names(
        await service.search(PRACTICE, ResourceQuery(starts, sort_field="user_name"))
    ) == (2, ["alan@example.com", "Alice@example.com"])
    inactive = Negation(FieldTest("active", Operator.EQ, value=True))
    assert user_names(await service.search(PRACTICE, ResourceQuery(inactive))) == (
        1,
        ["bob@example.com"],
    )
    both = AllOf((starts, FieldTest("given_name", Operator.CO, "LA")))
    assert user_names(await service.search(PRACTICE, ResourceQuery(both))) == (
        1,
        ["alan@example.com"],
    )
    page = await service.search(PRACTICE, ResourceQuery(offset=1, limit=2))
    assert user_names(page) == (4, ["Alice@example.com", "bob@example.com"])
