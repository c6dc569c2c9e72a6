"""The plain-dict User representation (server/mapping/user_wire.py) is byte for byte what
scim2-models writes for the same account, in every response context."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scim2_models import Context, ListResponse, ResponseParameters, User

from server.domain.staff import AccessLevel, StaffUser
from server.domain.user_attributes import USER_ATTRIBUTES, UserAttribute
from server.mapping.user_wire import list_payload, scim_datetime, selected, user_payload
from server.mapping.users import scim_from_staff
from tests.factories import scim_account
from tests.strategies import profiles, text

CONTEXTS = [
    Context.RESOURCE_QUERY_RESPONSE,
    Context.SEARCH_RESPONSE,
    Context.RESOURCE_CREATION_RESPONSE,
    Context.RESOURCE_REPLACEMENT_RESPONSE,
    Context.RESOURCE_PATCH_RESPONSE,
]
moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
).map(lambda d: d.replace(tzinfo=UTC))
groups = st.lists(
    st.tuples(st.uuids().map(str), text, st.uuids().map(lambda u: f"https://s/Groups/{u}")),
    max_size=3,
)


_STAFF = scim_account(
    "meta@example.org",
    practice_id=UUID(int=1),
    at=datetime(2026, 1, 1, tzinfo=UTC),
    id=UUID(int=7),
    version=3,
)


@st.composite
def accounts(draw: st.DrawFn) -> StaffUser:
    return StaffUser(
        id=draw(st.uuids()),
        practice_id=UUID(int=1),
        profile=draw(profiles()),
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


_CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "modified",
    [
        _CREATED,  # never changed: one instant, written once for both
        _CREATED.replace(microsecond=1),
        _CREATED.astimezone(ZoneInfo("UTC")),  # the same instant under another zone object
    ],
)
def test_meta_instants_are_what_scim2_models_writes(modified: datetime) -> None:
    staff = replace(_STAFF, created_at=_CREATED, updated_at=modified)
    location = f"https://s/Users/{staff.id}"
    expected = scim_from_staff(staff, location=location).model_dump(
        scim_ctx=Context.RESOURCE_QUERY_RESPONSE
    )
    assert user_payload(staff, location=location)["meta"] == expected["meta"]


def test_an_equal_instant_in_another_zone_is_written_on_its_own() -> None:
    """The created instant is reused for lastModified only when it would be written alike."""
    modified = _CREATED.astimezone(ZoneInfo("Europe/Paris"))
    staff = replace(_STAFF, created_at=_CREATED, updated_at=modified)
    meta = user_payload(staff, location="https://s/Users/7")["meta"]
    assert meta["created"] == scim_datetime(_CREATED)
    assert meta["lastModified"] == scim_datetime(modified) != meta["created"]


# Attribute names a selection may use: every kept attribute's, attributes the platform never
# keeps (``title`` unless a test keeps it, ``nickName``), sub-attributes of each, ``meta``'s
# and ``groups``'.
_NAMES = sorted(
    {a.scim for a in USER_ATTRIBUTES.attributes}
    | {
        f"{a.scim}.{a.sub or 'value'}"
        for a in USER_ATTRIBUTES.attributes
        if a.sub or a.element_type
    }
    | {"title", "nickName", "name.middleName", "emails.type", "emails.primary", "emails.display"}
    | {"phoneNumbers.type", "phoneNumbers.primary", "meta", "meta.created", "meta.version"}
    | {"meta.resourceType", "groups", "groups.value", "groups.$ref", "groups.display", "id"}
    | {"schemas", "externalId", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}
)
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"


@st.composite
def spellings(draw: st.DrawFn) -> str:
    """An attribute name in any case, with or without the core schema URN."""
    name = draw(st.sampled_from(_NAMES))
    if not name.startswith("urn:") and draw(st.booleans()):
        name = f"{CORE}:{name}"
    return "".join(c.upper() if draw(st.booleans()) else c for c in name)


selections = st.lists(spellings(), min_size=1, max_size=4)


def _compared(
    staff: StaffUser,
    memberships: list[tuple[str, str, str]],
    names: list[str],
    *,
    excluding: bool,
    context: Context = Context.RESOURCE_QUERY_RESPONSE,
) -> None:
    location = f"https://s/Users/{staff.id}"
    which = {"excluded_attributes" if excluding else "attributes": names}
    parameters = ResponseParameters[User](**which)
    expected = scim_from_staff(staff, location=location, groups=memberships).model_dump(
        scim_ctx=context, response_parameters=parameters
    )
    body = user_payload(staff, location=location, groups=memberships)
    actual = selected(body, **({"excluded": names} if excluding else {"attributes": names}))
    assert json.dumps(actual) == json.dumps(expected)


@settings(max_examples=400, deadline=None)
@given(accounts(), groups, selections, st.booleans(), st.sampled_from(CONTEXTS))
def test_selections_are_what_scim2_models_selects(
    staff: StaffUser,
    memberships: list[tuple[str, str, str]],
    names: list[str],
    excluding: bool,
    context: Context,
) -> None:
    """In every response context: reads, writes and each user of a list page alike."""
    _compared(staff, memberships, names, excluding=excluding, context=context)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_a_kept_attribute_added_to_the_table_is_written_and_selected_alike(
    data: st.DataObject,
) -> None:
    """``title`` kept (RFC 7643 §4.1.1): the generated writer and scim2-models agree."""
    with USER_ATTRIBUTES.extended(UserAttribute("title", "title")):
        staff = data.draw(accounts())
        memberships = data.draw(groups)
        test_the_plain_representation_is_what_scim2_models_writes.hypothesis.inner_test(
            staff, memberships, data.draw(st.sampled_from(CONTEXTS))
        )
        _compared(staff, memberships, data.draw(selections), excluding=data.draw(st.booleans()))


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
