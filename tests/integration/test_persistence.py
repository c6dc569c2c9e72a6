"""The piccolo repositories on each backend: round trips, tenant scoping, and the rules the
database itself enforces (case-insensitive userName uniqueness, optimistic versions)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

import pytest

from server.domain.errors import PreconditionFailed, UniquenessConflict
from server.domain.groups import GroupProfile, GroupRecord
from server.domain.practices import AccessToken, AuditEntry, ScimConfig, TokenKind
from server.domain.query import FieldTest, Operator, ResourceQuery
from server.domain.staff import AccessLevel, StaffProfile, StaffUser
from server.persistence.migrate import apply_migrations
from server.security import hash_secret, new_secret
from tests.factories import scim_account

if TYPE_CHECKING:
    from server.persistence.store import PiccoloStore

EPOCH = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def _staff(
    practice_id: UUID, user_name: str, *, at: datetime = EPOCH, **fields: object
) -> StaffUser:
    return scim_account(user_name, practice_id=practice_id, at=at, **fields)


async def _listed(
    store: PiccoloStore,
    practice_id: UUID,
    *,
    user_name: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[int, list[StaffUser]]:
    """``list_scim``, optionally for one userName (``userName eq ...``)."""
    predicate = None if user_name is None else FieldTest("user_name", Operator.EQ, user_name)
    query = ResourceQuery(predicate=predicate, offset=offset, limit=limit)
    return await store.staff.list_scim(practice_id, query)


async def _config(store: PiccoloStore, *, enabled: bool = True) -> ScimConfig:
    config = ScimConfig(
        practice_id=uuid4(),
        client_id=f"scimlab-{uuid4().hex[:24]}",
        secret_hash=hash_secret(new_secret("scs")),
        secret_hint="abcd",
        credential_id=uuid4(),
        enabled=enabled,
        created_at=EPOCH,
        updated_at=EPOCH,
    )
    await store.scim_configs.save(config)
    return config


async def _token(
    store: PiccoloStore,
    config: ScimConfig,
    *,
    expires_at: datetime | None = None,
    credential_id: UUID | None = None,
    kind: TokenKind = TokenKind.OAUTH,
) -> str:
    secret = new_secret("sat")
    record = AccessToken(
        id=uuid4(),
        practice_id=config.practice_id,
        kind=kind,
        credential_id=credential_id or config.credential_id,
        expires_at=expires_at,
        created_at=EPOCH,
        hint=secret[-4:],
    )
    await store.tokens.add(record, hash_secret(secret))
    return secret


# --- migrations ---------------------------------------------------------------------------


async def test_migrations_are_idempotent(store: PiccoloStore) -> None:
    first = await apply_migrations(store.engine)
    second = await apply_migrations(store.engine)
    for report in (first, second):
        assert "No migrations need to be run" in report
    # The schema still works after the reruns.
    user = _staff(uuid4(), "after.migrations")
    await store.staff.add(user)
    assert await store.staff.get(user.practice_id, user.id) == user


async def _staff_indexes(store: PiccoloStore) -> dict[str, tuple[bool, tuple[str, ...]]]:
    """name -> (unique, columns) of every index on ``staff_user``."""
    run = store.engine.run_ddl
    if store.direct.sqlite:
        found = {}
        for index in await run("PRAGMA index_list('staff_user')"):
            columns = await run(f"PRAGMA index_info('{index['name']}')")
            found[index["name"]] = (bool(index["unique"]), tuple(c["name"] for c in columns))
        return found
    rows = await run("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'staff_user'")
    return {
        row["indexname"]: (
            " UNIQUE " in row["indexdef"],
            tuple(c.strip() for c in row["indexdef"].rsplit("(", 1)[1].rstrip(")").split(",")),
        )
        for row in rows
    }


async def test_no_staff_index_is_a_leading_part_of_another(store: PiccoloStore) -> None:
    # Such an index serves no lookup the longer one does not, and costs every insert a page.
    indexes = await _staff_indexes(store)
    assert ("practice_id", "user_name_key") in {columns for _, columns in indexes.values()}
    redundant = [
        name
        for name, (unique, columns) in indexes.items()
        if not unique
        and any(
            other != name and longer[: len(columns)] == columns
            for other, (_, longer) in indexes.items()
        )
    ]
    assert redundant == []


# --- staff --------------------------------------------------------------------------------


async def test_staff_round_trip_keeps_every_field(store: PiccoloStore) -> None:
    user = StaffUser(
        id=uuid4(),
        practice_id=uuid4(),
        profile=StaffProfile(
            user_name="Dana.Scully@example.org",
            given_name="Dana",
            family_name="Scully",
            cell_phone="+1 555 0100",
            email="dana@example.org",
            active=False,
            external_id="ext-42",
        ),
        access_level=AccessLevel.CLINICAL_STAFF,
        is_practice_admin=True,
        scim_provisioned=True,
        scim_deleted=False,
        sso_issuer="https://idp.example.org",
        sso_subject="subject-1",
        has_password=True,
        version=7,
        created_at=EPOCH,
        updated_at=EPOCH + timedelta(days=1, microseconds=1),
    )
    await store.staff.add(user, password_hash="argon2-hash", api_key_hash=hash_secret("k" * 8))
    assert await store.staff.get(user.practice_id, user.id) == user


async def test_staff_without_optional_fields_round_trips(store: PiccoloStore) -> None:
    user = _staff(uuid4(), "minimal", scim_provisioned=False)
    await store.staff.add(user)
    stored = await store.staff.get(user.practice_id, user.id)
    assert stored == user
    assert stored is not None
    assert stored.has_password is False


async def test_staff_get_is_scoped_to_the_practice(store: PiccoloStore) -> None:
    user = _staff(uuid4(), "scoped")
    await store.staff.add(user)
    assert await store.staff.get(uuid4(), user.id) is None
    assert await store.staff.get(user.practice_id, uuid4()) is None
    assert await store.staff.get(user.practice_id, user.id) is not None


async def test_user_name_is_unique_per_practice_ignoring_case(store: PiccoloStore) -> None:
    practice_id = uuid4()
    first = _staff(practice_id, "Fox.Mulder")
    await store.staff.add(first)
    with pytest.raises(UniquenessConflict, match=r"'fox\.mulder' is already in use"):
        await store.staff.add(_staff(practice_id, "fox.mulder"))
    with pytest.raises(UniquenessConflict):
        await store.staff.add(_staff(practice_id, "FOX.MULDER"))

    elsewhere = _staff(uuid4(), "fox.mulder")
    await store.staff.add(elsewhere)
    assert await store.staff.get(elsewhere.practice_id, elsewhere.id) == elsewhere
    total, users = await _listed(store, practice_id, limit=10)
    assert (total, users) == (1, [first])


async def test_concurrent_adds_of_one_user_name_let_exactly_one_win(store: PiccoloStore) -> None:
    practice_id = uuid4()
    names = ["walter.skinner", "Walter.Skinner", "WALTER.SKINNER", "walter.SKINNER"]
    candidates = [_staff(practice_id, names[i % len(names)]) for i in range(10)]
    results = await asyncio.gather(
        *(store.staff.add(user) for user in candidates), return_exceptions=True
    )
    winners = [user for user, result in zip(candidates, results, strict=True) if result is None]
    losers = [result for result in results if result is not None]
    assert len(winners) == 1
    assert len(losers) == 9
    assert all(isinstance(error, UniquenessConflict) for error in losers), losers
    total, users = await _listed(store, practice_id, limit=20)
    assert (total, users) == (1, winners)


async def test_update_with_a_stale_version_changes_nothing(store: PiccoloStore) -> None:
    user = _staff(uuid4(), "stale")
    await store.staff.add(user)
    current = replace(
        user, profile=replace(user.profile, given_name="Fresh"), version=2, updated_at=EPOCH
    )
    assert await store.staff.update(current, expected_version=1) == current

    late = replace(user, profile=replace(user.profile, given_name="Late"), version=2)
    with pytest.raises(PreconditionFailed):
        await store.staff.update(late, expected_version=1)
    assert await store.staff.get(user.practice_id, user.id) == current


async def test_update_into_a_taken_user_name_is_a_conflict(store: PiccoloStore) -> None:
    practice_id = uuid4()
    await store.staff.add(_staff(practice_id, "taken"))
    user = _staff(practice_id, "free")
    await store.staff.add(user)
    renamed = replace(user, profile=replace(user.profile, user_name="TAKEN"), version=2)
    with pytest.raises(UniquenessConflict):
        await store.staff.update(renamed, expected_version=1)
    assert await store.staff.get(practice_id, user.id) == user


async def test_scim_deleted_user_frees_the_user_name(store: PiccoloStore) -> None:
    practice_id = uuid4()
    gone = _staff(practice_id, "reused")
    await store.staff.add(gone)
    deleted = replace(
        gone, profile=replace(gone.profile, active=False), scim_deleted=True, version=2
    )
    await store.staff.update(deleted, expected_version=1)

    again = _staff(practice_id, "Reused")
    await store.staff.add(again)
    # The deleted account is kept for the records, the name belongs to the new one.
    assert await store.staff.get(practice_id, gone.id) == deleted
    total, users = await _listed(store, practice_id, user_name="REUSED", limit=10)
    assert (total, users) == (1, [again])
    with pytest.raises(UniquenessConflict):
        await store.staff.add(_staff(practice_id, "reused"))


async def test_list_scim_pages_provisioned_live_users_oldest_first(store: PiccoloStore) -> None:
    practice_id = uuid4()
    live = [
        _staff(practice_id, f"user{n}", at=EPOCH + timedelta(minutes=n)) for n in (3, 0, 4, 1, 2)
    ]
    for user in live:
        await store.staff.add(user)
    await store.staff.add(_staff(practice_id, "admin", scim_provisioned=False))
    removed = _staff(practice_id, "removed", at=EPOCH - timedelta(days=1))
    await store.staff.add(removed)
    await store.staff.update(replace(removed, scim_deleted=True, version=2), expected_version=1)
    await store.staff.add(_staff(uuid4(), "user9"))  # another practice
    oldest_first = sorted(live, key=lambda u: u.created_at)

    total, users = await _listed(store, practice_id, limit=100)
    assert total == 5
    assert users == oldest_first

    total, page = await _listed(store, practice_id, offset=1, limit=2)
    assert total == 5
    assert page == oldest_first[1:3]

    total, page = await _listed(store, practice_id, limit=0)
    assert (total, page) == (5, [])
    total, page = await _listed(store, practice_id, offset=5, limit=10)
    assert (total, page) == (5, [])

    total, page = await _listed(store, practice_id, user_name="USER2", limit=10)
    assert (total, [u.profile.user_name for u in page]) == (1, ["user2"])
    total, page = await _listed(store, practice_id, user_name="admin", limit=10)
    assert (total, page) == (0, [])


async def test_every_page_of_a_listing_reports_the_same_total(store: PiccoloStore) -> None:
    """A short page gives the total without a COUNT; full, empty and past-the-end pages
    count. Every window over five accounts (and over none) must report the same total."""
    practice_id, empty_practice = uuid4(), uuid4()
    live = [_staff(practice_id, f"u{n}", at=EPOCH + timedelta(minutes=n)) for n in range(5)]
    for user in live:
        await store.staff.add(user)
    await store.staff.add(_staff(practice_id, "admin", scim_provisioned=False))
    await store.staff.add(_staff(empty_practice, "admin", scim_provisioned=False))
    for offset in range(8):
        for limit in range(8):
            total, page = await _listed(store, practice_id, offset=offset, limit=limit)
            assert (total, page) == (5, live[offset : offset + limit]), (offset, limit)
            total, page = await _listed(store, empty_practice, offset=offset, limit=limit)
            assert (total, page) == (0, []), (offset, limit)


async def test_find_admin_by_api_key_only_finds_admins(store: PiccoloStore) -> None:
    admin = _staff(uuid4(), "admin", is_practice_admin=True, scim_provisioned=False)
    await store.staff.add(admin, api_key_hash=hash_secret("admin-key"))
    clerk = _staff(admin.practice_id, "clerk")
    await store.staff.add(clerk, api_key_hash=hash_secret("clerk-key"))
    assert await store.staff.find_admin_by_api_key(hash_secret("admin-key")) == admin
    assert await store.staff.find_admin_by_api_key(hash_secret("clerk-key")) is None
    assert await store.staff.find_admin_by_api_key(hash_secret("nobody")) is None


# --- tokens -------------------------------------------------------------------------------


async def test_a_token_is_valid_only_until_it_expires(store: PiccoloStore) -> None:
    config = await _config(store)
    now = datetime.now(UTC)
    live = await _token(store, config, expires_at=now + timedelta(minutes=5))
    expired = await _token(store, config, expires_at=now - timedelta(seconds=1))
    static = await _token(store, config, kind=TokenKind.STATIC)
    valid = store.tokens.credential_for
    practice = config.practice_id

    assert await valid(hash_secret(live), practice, now)
    assert not await valid(hash_secret(expired), practice, now)
    assert not await valid(hash_secret(live), practice, now + timedelta(minutes=5))
    assert await valid(hash_secret(static), practice, now + timedelta(days=999))
    assert not await valid(hash_secret("never-issued"), practice, now)


async def test_a_token_is_valid_only_for_its_own_practice(store: PiccoloStore) -> None:
    config = await _config(store)
    other = await _config(store)
    token = await _token(store, config)
    now = datetime.now(UTC)
    assert await store.tokens.credential_for(hash_secret(token), config.practice_id, now)
    assert not await store.tokens.credential_for(hash_secret(token), other.practice_id, now)
    assert not await store.tokens.credential_for(hash_secret(token), uuid4(), now)


async def test_tokens_of_an_old_secret_are_refused(store: PiccoloStore) -> None:
    config = await _config(store)
    current = await _token(store, config)
    stale = await _token(store, config, credential_id=uuid4())
    now = datetime.now(UTC)
    practice = config.practice_id
    assert await store.tokens.credential_for(hash_secret(current), practice, now)
    assert not await store.tokens.credential_for(hash_secret(stale), practice, now)

    await store.scim_configs.save(replace(config, credential_id=uuid4()))
    assert not await store.tokens.credential_for(hash_secret(current), practice, now)


async def test_tokens_are_refused_while_disabled(store: PiccoloStore) -> None:
    config = await _config(store)
    token = hash_secret(await _token(store, config))
    now = datetime.now(UTC)
    practice = config.practice_id
    assert await store.tokens.credential_for(token, practice, now)

    await store.scim_configs.save(replace(config, enabled=False))
    assert not await store.tokens.credential_for(token, practice, now)
    await store.scim_configs.save(config)
    assert await store.tokens.credential_for(token, practice, now)

    await store.scim_configs.delete(config.practice_id)
    assert not await store.tokens.credential_for(token, practice, now)


async def test_revoke_all_counts_and_stays_in_its_practice(store: PiccoloStore) -> None:
    config = await _config(store)
    other = await _config(store)
    tokens = [await _token(store, config) for _ in range(3)]
    tokens.append(await _token(store, config, kind=TokenKind.STATIC))
    survivor = await _token(store, other)
    now = datetime.now(UTC)

    assert await store.tokens.revoke_all(config.practice_id) == 4
    assert await store.tokens.revoke_all(config.practice_id) == 0
    for token in tokens:
        assert not await store.tokens.credential_for(hash_secret(token), config.practice_id, now)
    assert await store.tokens.credential_for(hash_secret(survivor), other.practice_id, now)


async def test_list_static_and_revoke_one(store: PiccoloStore) -> None:
    config = await _config(store)
    await _token(store, config)  # OAuth tokens are not listed
    static = await _token(store, config, kind=TokenKind.STATIC)
    [listed] = await store.tokens.list_static(config.practice_id)
    assert listed.kind is TokenKind.STATIC
    assert listed.hint == static[-4:]
    assert listed.expires_at is None

    assert await store.tokens.revoke(uuid4(), listed.id) is False  # another practice
    assert await store.tokens.list_static(config.practice_id) == [listed]
    assert await store.tokens.revoke(config.practice_id, listed.id) is True
    assert await store.tokens.list_static(config.practice_id) == []
    assert await store.tokens.revoke(config.practice_id, listed.id) is False


# --- SCIM configuration and audit ---------------------------------------------------------


async def test_scim_config_save_inserts_then_updates(store: PiccoloStore) -> None:
    config = await _config(store)
    assert await store.scim_configs.get(config.practice_id) == config
    assert await store.scim_configs.get_by_client_id(config.client_id) == config

    changed = replace(config, enabled=False, secret_hint="wxyz", updated_at=EPOCH + timedelta(1))
    await store.scim_configs.save(changed)
    assert await store.scim_configs.get(config.practice_id) == changed

    await store.scim_configs.delete(config.practice_id)
    assert await store.scim_configs.get(config.practice_id) is None
    assert await store.scim_configs.get_by_client_id(config.client_id) is None


async def test_audit_list_is_newest_first_limited_and_scoped(store: PiccoloStore) -> None:
    practice_id = uuid4()
    entries = [
        AuditEntry(practice_id, "admin:admin", f"action.{n}", f"n={n}", EPOCH + timedelta(hours=n))
        for n in (2, 0, 4, 1, 3)
    ]
    for entry in entries:
        await store.audit.record(entry)
    await store.audit.record(AuditEntry(uuid4(), "x", "other.practice", "", EPOCH))

    newest_first = sorted(entries, key=lambda e: e.created_at, reverse=True)
    assert await store.audit.list(practice_id, limit=100) == newest_first
    assert await store.audit.list(practice_id, limit=2) == newest_first[:2]
    assert await store.audit.list(uuid4(), limit=100) == []


async def test_get_with_groups_is_get_and_of_users_in_one_read(store: PiccoloStore) -> None:
    practice_id = uuid4()
    member = _staff(practice_id, "member")
    loner = _staff(practice_id, "loner")
    for user in (member, loner):
        await store.staff.add(user)
    for name in ("Night shift", "Admissions", "nurses"):
        await store.groups.add(
            GroupRecord(
                id=uuid4(),
                practice_id=practice_id,
                profile=GroupProfile(display_name=name, member_ids=(member.id,)),
                version=1,
                created_at=EPOCH,
                updated_at=EPOCH,
            )
        )
    memberships = await store.groups.of_users(practice_id, [member.id, loner.id])
    assert [name for _, name in memberships[member.id]] == ["Admissions", "Night shift", "nurses"]
    assert await store.staff.get_with_groups(practice_id, member.id) == (
        member,
        memberships[member.id],
    )
    assert await store.staff.get_with_groups(practice_id, loner.id) == (loner, [])
    assert await store.staff.get_with_groups(uuid4(), member.id) is None  # another practice
    assert await store.staff.get_with_groups(practice_id, uuid4()) is None
