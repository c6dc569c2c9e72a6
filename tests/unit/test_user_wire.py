"""The plain-dict User representation (server/mapping/user_wire.py) is byte for byte what
scim2-models writes for the same account, in every response context."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scim2_models import Context, Email, ListResponse, User

from server.domain.staff import AccessLevel, StaffProfile, StaffUser
from server.mapping.user_wire import list_payload, scim_datetime, user_payload
from server.mapping.users import scim_from_staff

CONTEXTS = [
    Context.RESOURCE_QUERY_RESPONSE,
    Context.SEARCH_RESPONSE,
    Context.RESOURCE_CREATION_RESPONSE,
    Context.RESOURCE_REPLACEMENT_RESPONSE,
    Context.RESOURCE_PATCH_RESPONSE,
]
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
optional_text = st.none() | text
# Stored emails went through the same validation (SCIM requests, the staff API).
stored_email = st.none() | st.emails().map(lambda e: Email(value=e).value)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
).map(lambda d: d.replace(tzinfo=UTC))
groups = st.lists(
    st.tuples(st.uuids().map(str), text, st.uuids().map(lambda u: f"https://s/Groups/{u}")),
    max_size=3,
)


@st.composite
def accounts(draw: st.DrawFn) -> StaffUser:
    return StaffUser(
        id=draw(st.uuids()),
        practice_id=UUID(int=1),
        profile=StaffProfile(
            user_name=draw(st.text(min_size=1, max_size=20)),
            given_name=draw(optional_text),
            family_name=draw(optional_text),
            cell_phone=draw(optional_text),
            email=draw(stored_email),
            active=draw(st.booleans()),
            external_id=draw(optional_text),
        ),
        access_level=draw(st.sampled_from(list(AccessLevel))),
        is_practice_admin=False,
        scim_provisioned=True,
        scim_deleted=False,
        sso_issuer=None,
        sso_subject=None,
        has_password=False,
        version=draw(st.integers(1, 10**9)),
        created_at=draw(moments),
        updated_at=draw(moments),
    )


@settings(max_examples=300, deadline=None)
@given(accounts(), groups, st.sampled_from(CONTEXTS))
def test_the_plain_representation_is_what_scim2_models_writes(
    staff: StaffUser, memberships: list[tuple[str, str, str]], context: Context
) -> None:
    location = f"https://s/Users/{staff.id}"
    expected = scim_from_staff(staff, location=location, groups=memberships).model_dump(
        scim_ctx=context
    )
    actual = user_payload(staff, location=location, groups=memberships)
    assert json.dumps(actual) == json.dumps(expected)  # same keys, values and order


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05Z"),
        (datetime(2026, 1, 2, 3, 4, 5, 5, tzinfo=UTC), "2026-01-02T03:04:05.000005Z"),
        (datetime(2026, 1, 2, 3, 4, 5, 100000, tzinfo=UTC), "2026-01-02T03:04:05.100000Z"),
        # UTC under another zone object, and an instant without a zone, read as UTC
        (datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=ZoneInfo("UTC")), "2026-01-02T03:04:05.000007Z"),
        (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05Z"),
    ],
)
def test_datetimes_are_utc_with_microseconds_only_when_present(
    moment: datetime, expected: str
) -> None:
    assert scim_datetime(moment) == expected


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=2**40),
    start_index=st.integers(min_value=1, max_value=2**31),
    resources=st.lists(st.dictionaries(text, text, max_size=2), max_size=4),
)
def test_list_envelope_is_what_scim2_models_writes(
    total: int, start_index: int, resources: list[dict[str, str]]
) -> None:
    total = max(total, len(resources))  # a page never holds more than the total
    listing = ListResponse[User[Any]](
        total_results=total, start_index=start_index, items_per_page=len(resources)
    )
    expected = listing.model_dump(scim_ctx=Context.SEARCH_RESPONSE)
    expected["Resources"] = resources
    ours = list_payload(total=total, start_index=start_index, resources=resources)
    assert json.dumps(ours) == json.dumps(expected)  # key order included
