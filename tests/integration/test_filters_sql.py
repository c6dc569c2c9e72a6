"""The SQL a filter becomes selects exactly the accounts the Python reference selects.

``server.domain.query.matches`` is the reference semantics; the repository compiles the same
predicate to SQL. Both run over one population, for a table of hand-written filters and for
hypothesis-generated ones, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.domain.practices import Practice
from server.domain.query import (
    AllOf,
    AnyOf,
    FieldTest,
    Negation,
    Operator,
    Predicate,
    ResourceQuery,
    matches,
)
from server.domain.staff import StaffProfile, StaffUser
from server.mapping.filters import parse_filter
from tests.factories import scim_account

if TYPE_CHECKING:
    from server.persistence.store import PiccoloStore

BASE = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PROFILES = [
    StaffProfile(
        "alice.ng@contoso.com",
        "Alice",
        "Ng",
        "+1 425 555 0199",
        "alice@contoso.com",
        True,
        "alice.ng",
    ),
    StaffProfile("Bob.Silva@Example.org", "Bob", "Silva", None, "bob@example.org", False, "00u1"),
    StaffProfile("carol_x%@example.org", "Carol", None, "555", None, True, None),
    StaffProfile("dave@contoso.com", None, "Dave", None, "DAVE@CONTOSO.COM", True, "Dave"),
    StaffProfile("erin@example.org", "Érin", "O'Hara", "+44 20", "erin@example.org", False, "erin"),
    StaffProfile("frank@contoso.com", "frank", "ng", "", None, True, "00u2"),
]


def _user(practice_id: uuid.UUID, index: int, profile: StaffProfile) -> StaffUser:
    moment = BASE + timedelta(hours=index)
    return scim_account(
        profile,
        practice_id=practice_id,
        at=moment,
        updated_at=moment + timedelta(minutes=index * 7),
    )


@pytest.fixture(scope="module")
async def population(store: PiccoloStore) -> tuple[uuid.UUID, list[StaffUser]]:
    practice = Practice(id=uuid.uuid4(), name="Filter clinic", created_at=BASE)
    await store.practices.add(practice)
    users = [_user(practice.id, i, p) for i, p in enumerate(PROFILES)]
    for user in users:
        await store.staff.add(user)
    # Someone the filters must never see: deleted by SCIM.
    hidden = replace(_user(practice.id, 99, StaffProfile("ghost@x.org")), scim_deleted=True)
    await store.staff.add(hidden)
    return practice.id, users


async def _selected(store: PiccoloStore, practice_id: uuid.UUID, predicate: Predicate) -> set[str]:
    total, page = await store.staff.list_scim(
        practice_id, ResourceQuery(predicate=predicate, limit=100)
    )
    assert total == len(page)
    return {u.profile.user_name for u in page}


FILTERS = [
    'userName eq "ALICE.NG@contoso.com"',
    'userName ne "alice.ng@contoso.com"',
    'userName co "CONTOSO"',
    'userName sw "bob"',
    'userName ew ".ORG"',
    'userName co "_x%"',
    'userName co "%"',
    'userName gt "c"',
    'userName le "bob.silva@example.org"',
    "name.givenName pr",
    "not (name.familyName pr)",
    'name.familyName eq "NG"',
    'externalId eq "Dave"',
    'externalId eq "dave"',
    'externalId sw "00u"',
    'externalId sw "00U"',
    'externalId co "AVE"',
    'externalId ew "ve"',
    'userName sw ""',
    "active eq false",
    "active ne true",
    "emails pr",
    'emails.value ew "@contoso.com"',
    'emails[type eq "work" and value co "example"]',
    'emails[type eq "home"]',
    'emails.type eq "work"',
    "emails.primary eq true",
    "phoneNumbers pr",
    'phoneNumbers[type eq "mobile"].value sw "+1"'
    if False
    else 'phoneNumbers[type eq "mobile" and value sw "+1"]',
    'phoneNumbers.value co "555"',
    'meta.created gt "2026-01-01T13:30:00Z"',
    'meta.lastModified le "2026-01-01T15:00:00+00:00"',
    'title eq "Boss"',
    "not (title pr)",
    'title ne "Boss"',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"',
    'addresses[type eq "work"]',
    '(userName sw "a" or userName sw "b") and active eq true',
    'not (active eq true) or (emails pr and not (name.givenName sw "B"))',
    'userName eq "nobody" and (active eq true or active eq false)',
    'name.givenName co "é"',
    'name.givenName sw "ÉR"',
]


@pytest.mark.parametrize("text", FILTERS)
async def test_filter_sql_equals_reference(
    store: PiccoloStore, population: tuple[uuid.UUID, list[StaffUser]], text: str
) -> None:
    practice_id, users = population
    predicate = parse_filter(text)
    expected = {u.profile.user_name for u in users if matches(predicate, u)}
    assert await _selected(store, practice_id, predicate) == expected


_TEXT_FIELDS = ["user_name", "given_name", "family_name", "email", "cell_phone", "external_id"]
_WORDS = st.sampled_from(
    ["a", "A", "ng", "NG", "contoso", ".org", "00u", "+1", "%", "_", "é", "", "bob"]
)


def _tests() -> st.SearchStrategy[Predicate]:
    text = st.builds(
        FieldTest,
        st.sampled_from(_TEXT_FIELDS),
        st.sampled_from([o for o in Operator if o is not Operator.PR]),
        _WORDS,
    )
    present = st.builds(FieldTest, st.sampled_from(_TEXT_FIELDS), st.just(Operator.PR))
    active = st.builds(
        FieldTest, st.just("active"), st.sampled_from([Operator.EQ, Operator.NE]), st.booleans()
    )
    instant = st.builds(
        FieldTest,
        st.sampled_from(["created_at", "updated_at"]),
        st.sampled_from(
            [Operator.EQ, Operator.GT, Operator.GE, Operator.LT, Operator.LE, Operator.NE]
        ),
        st.integers(0, 8).map(lambda h: BASE + timedelta(hours=h)),
    )
    return st.one_of(text, present, active, instant)


PREDICATES = st.recursive(
    _tests(),
    lambda inner: st.one_of(
        st.builds(Negation, inner),
        st.lists(inner, min_size=2, max_size=3).map(lambda t: AllOf(tuple(t))),
        st.lists(inner, min_size=2, max_size=3).map(lambda t: AnyOf(tuple(t))),
    ),
    max_leaves=6,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(predicate=PREDICATES)
async def test_generated_predicates_agree(
    store: PiccoloStore, population: tuple[uuid.UUID, list[StaffUser]], predicate: Predicate
) -> None:
    practice_id, users = population
    expected = {u.profile.user_name for u in users if matches(predicate, u)}
    assert await _selected(store, practice_id, predicate) == expected
