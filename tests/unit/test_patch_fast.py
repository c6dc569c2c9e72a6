"""The PATCH fast path (server/mapping/patch_fast.py) takes only bodies the full scim2-models
path accepts, and leaves exactly the profile that path leaves; everything else falls back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from scim2_models import Email

from server.domain.staff import StaffProfile, StaffUser
from server.domain.user_attributes import USER_ATTRIBUTES, Carrier, UserAttribute, ValueKind
from server.mapping.inbound import USER_PROFILE
from server.mapping.patch_fast import PATCH_SCHEMA, fast_patch
from server.mapping.schema import SCIM_POLICY, UserModel
from server.mapping.users import profile_from_scim, scim_from_staff
from server.scim.resources import read_patch
from tests.factories import scim_account

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
EMAIL_PATH = 'emails[type eq "work"].value'
PHONE_PATH = 'phoneNumbers[type eq "mobile"].value'
MOMENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _account(profile: StaffProfile) -> StaffUser:
    return scim_account(profile, id=UUID(int=7), practice_id=UUID(int=1), version=3, at=MOMENT)


def full_path(current: StaffUser, body: dict[str, Any]) -> StaffProfile:
    """What the PATCH handler does without the fast path (server/scim/users.py)."""
    operations = read_patch(body, USER_PROFILE, UserModel)
    if operations is None:
        return current.profile
    patched = scim_from_staff(current, location="", model=UserModel)
    operations.patch(patched, scim_policy=SCIM_POLICY)
    return profile_from_scim(patched)


def fast_path(current: StaffUser, body: dict[str, Any]) -> StaffProfile | None:
    changes = fast_patch(body)
    return None if changes is None else changes.apply(current.profile)


def _patch(*operations: Any) -> dict[str, Any]:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


# Accounts as SCIM stores them (emails validated as scim2-models does), and now and then a
# value written some other way, which the round trip through a SCIM User would rewrite.
text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
odd_text = st.sampled_from(["", " ", " padded ", "\t", "lone \ud800"])
optional_text = st.none() | text.filter(str.strip)
stored_email = st.none() | st.emails().map(lambda e: Email(value=e).value)
odd_email = st.sampled_from(["A@Example.COM", "not an email", " a@b.org", ""])


def _stored(attribute: UserAttribute) -> st.SearchStrategy[Any]:
    """A value as SCIM stores it (from the table of kept attributes)."""
    if attribute.kind is ValueKind.BOOLEAN:
        return st.booleans()
    if attribute.required:
        return st.text(min_size=1, max_size=20).filter(lambda n: n == n.strip())
    return stored_email if attribute.kind is ValueKind.EMAIL else optional_text


@st.composite
def profiles(draw: st.DrawFn) -> StaffProfile:
    """Mostly an account as SCIM writes it, now and then one field written some other way."""
    kept = USER_ATTRIBUTES.attributes
    values = {a.field: draw(_stored(a)) for a in kept}
    profile = StaffProfile(user_name=values.pop("user_name")).with_values(values)
    if draw(st.sampled_from([False] * 4 + [True])):
        odd_one = draw(st.sampled_from([a for a in kept if a.kind is not ValueKind.BOOLEAN]))
        odd = odd_email if odd_one.kind is ValueKind.EMAIL else odd_text
        profile = profile.with_values({odd_one.field: draw(odd)})
    return profile


def taken_paths_now() -> list[str]:
    return [a.path for a in USER_ATTRIBUTES.attributes]


NEAR_MISS_PATHS = [
    "Active",
    "ACTIVE",
    "username",
    "externalid",
    "name.givenname",
    "Name.givenName",
    "name",
    "name.middleName",
    "emails",
    "emails.value",
    'emails[type eq "home"].value',
    'emails[type eq "work"]',
    'emails[type EQ "work"].value',
    'emails[type eq "work"].primary',
    'phoneNumbers[type eq "work"].value',
    "phoneNumbers.value",
    f"{CORE}:active",
    f"{CORE}:userName",
    f"{CORE}:name.givenName",
    f"{ENTERPRISE}:department",
    f"{ENTERPRISE}:manager",
    "displayName",
    "title",
    "roles",
    'addresses[type eq "work"].locality',
    "id",
    "meta",
    "groups",
    "schemas",
    "",
    " ",
    "bad path[",
    "emails[",
    "urn:x",
]
words = st.sampled_from(["True", "False", "true", "false", "yes", "no", "1", "0", "TRUE", "t"])
emails = st.emails() | st.sampled_from(["A@Example.COM", "x@y", "not an email", "a@b.c ", ""])
scalars = (
    st.booleans()
    | words
    | emails
    | text
    | odd_text
    | st.integers(-2, 2)
    | st.none()
    | st.floats(allow_nan=False, allow_infinity=False)
)
odd_values = scalars | st.lists(scalars, max_size=2) | st.dictionaries(text, scalars, max_size=2)
# What each kind of attribute is usually sent with (Entra's string booleans included).
FITTING = {
    ValueKind.BOOLEAN: st.booleans() | st.sampled_from(["True", "False", "true", "false"]),
    ValueKind.EMAIL: st.emails() | st.sampled_from(["alice@Contoso.COM", "a.b+c@example.org"]),
}


def fitting_values(path: str | None) -> st.SearchStrategy[Any]:
    """A value of the kind the attribute takes."""
    for attribute in USER_ATTRIBUTES.attributes:
        if attribute.path == path:
            if attribute.required:
                return st.emails() | text
            return FITTING.get(attribute.kind, text | odd_text)
    return text | odd_text


# Hypothesis leans towards boundary integers; a sampled flag keeps the near misses rare.
rarely = st.sampled_from([False] * 9 + [True])
taken_ops = st.sampled_from(["Add", "Replace", "add", "replace"])
odd_ops = st.sampled_from(["Remove", "remove", "ADD", "rePlace", "delete", "", 1, None])


@st.composite
def taken_paths(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(taken_paths_now()))


def pathless_keys() -> list[str]:
    return [a.path for a in USER_ATTRIBUTES.attributes if a.carrier is not Carrier.TYPED]


ODD_PATHLESS_KEYS = [
    "Active",
    "USERNAME",
    "name",
    "name.middleName",
    "displayName",
    "password",
    "schemas",
    "id",
    f"{CORE}:active",
    f"{ENTERPRISE}:employeeNumber",
    EMAIL_PATH,
    "emails",
    "phoneNumbers",
    "title",
]
name_values = st.fixed_dictionaries(
    {}, optional={"givenName": scalars, "familyName": scalars, "middleName": scalars}
)


@st.composite
def pathless_values(draw: st.DrawFn) -> dict[str, Any]:
    """Okta's {"active": false}, Entra's folded replace, and keys neither sends."""
    value: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(pathless_keys()), max_size=3, unique=True)):
        value[key] = draw(fitting_values(key))
    if draw(rarely):
        for key in draw(st.lists(st.sampled_from(ODD_PATHLESS_KEYS), max_size=2, unique=True)):
            value[key] = draw(name_values if key == "name" else scalars)
    return value


@st.composite
def operations(draw: st.DrawFn) -> Any:
    """One operation: mostly a shape identity providers send, now and then a near miss."""
    operation: dict[str, Any] = {"op": draw(odd_ops if draw(rarely) else taken_ops)}
    if draw(st.sampled_from([True, True, True, False])):
        path = draw(
            st.sampled_from(NEAR_MISS_PATHS) | text | st.none() if draw(rarely) else taken_paths()
        )
        operation["path"] = path
        if not draw(rarely):
            operation["value"] = draw(odd_values if draw(rarely) else fitting_values(path))
    elif not draw(rarely):
        operation["value"] = draw(odd_values if draw(rarely) else pathless_values())
    if draw(rarely):
        key = draw(st.sampled_from(["Op", "Path", "Value", "OP", "extra", "value"]))
        operation[key] = draw(odd_values)
    if draw(rarely) and draw(rarely):
        return draw(st.sampled_from(["op", None, [operation]]))
    return operation


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A PatchOp body: mostly well formed, now and then with odd schemas or keys."""
    schemas = [[PATCH_SCHEMA.lower()], [PATCH_SCHEMA, CORE], [], "x", [CORE]]
    body: dict[str, Any] = {
        "schemas": draw(st.sampled_from(schemas)) if draw(rarely) else [PATCH_SCHEMA],
        "Operations": draw(st.lists(operations(), min_size=1, max_size=4)),
    }
    if draw(rarely) and draw(rarely):
        body[draw(st.sampled_from(["operations", "extra", "Schemas", "Operations"]))] = draw(
            odd_values
        )
    return body


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(profiles(), bodies())
def test_the_fast_path_leaves_the_profile_the_full_path_leaves(
    profile: StaffProfile, body: dict[str, Any]
) -> None:
    current = _account(profile)
    changes = fast_patch(body)
    if changes is not None:
        read_patch(body, USER_PROFILE, UserModel)  # the body alone never fails the full path
    fast = None if changes is None else changes.apply(profile)
    try:
        expected = full_path(current, body)
    except Exception:  # any refusal of the full path
        event("the full path refuses")
        assert fast is None, body
        return
    event("the fast path falls back" if fast is None else "the fast path takes it")
    assert fast is None or fast == expected, body


FULL = StaffProfile(
    user_name="ana@example.org",
    given_name="Ana",
    family_name="Lima",
    cell_phone="+1 555 0100",
    email="ana@example.org",
    active=True,
    external_id="e-1",
)
EMPTY = StaffProfile(user_name="bo@example.org")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.data())
def test_a_kept_attribute_added_to_the_table_patches_alike(data: st.DataObject) -> None:
    """``title`` kept (RFC 7643 §4.1.1): its paths and path-less key take the fast path,
    leaving what the full path leaves."""
    with USER_ATTRIBUTES.extended(UserAttribute("title", "title")):
        test_the_fast_path_leaves_the_profile_the_full_path_leaves.hypothesis.inner_test(
            data.draw(profiles()), data.draw(bodies())
        )


@pytest.mark.parametrize("profile", [FULL, EMPTY], ids=["full", "empty"])
@pytest.mark.parametrize(
    ("body", "changes"),
    [
        pytest.param(
            _patch({"op": "Replace", "path": "active", "value": "False"}),
            {"active": False},
            id="entra-deactivate",
        ),
        pytest.param(
            _patch({"op": "Replace", "path": "active", "value": "True"}),
            {"active": True},
            id="entra-reactivate",
        ),
        pytest.param(
            _patch({"op": "replace", "path": "active", "value": False}),
            {"active": False},
            id="entra-flagged-deactivate",
        ),
        pytest.param(
            _patch({"op": "replace", "value": {"active": False}}),
            {"active": False},
            id="okta-deactivate",
        ),
        pytest.param(
            _patch({"op": "replace", "value": {"active": True}}),
            {"active": True},
            id="okta-reactivate",
        ),
        pytest.param(
            _patch(
                {"op": "Replace", "path": "userName", "value": "new@example.org"},
                {"op": "Replace", "path": "externalId", "value": "e-2"},
                {"op": "Replace", "path": "name.givenName", "value": "Alice"},
                {"op": "Replace", "path": "name.familyName", "value": "Ng-Park"},
                {"op": "Replace", "path": EMAIL_PATH, "value": "alice@Contoso.COM"},
                {"op": "Replace", "path": PHONE_PATH, "value": "+1 425 555 0142"},
            ),
            {
                "user_name": "new@example.org",
                "external_id": "e-2",
                "given_name": "Alice",
                "family_name": "Ng-Park",
                "email": "alice@contoso.com",
                "cell_phone": "+1 425 555 0142",
            },
            id="entra-replace-each",
        ),
        pytest.param(
            _patch(
                {"op": "Add", "path": "active", "value": "True"},
                {"op": "Add", "path": "userName", "value": " alice@contoso.com "},
                {"op": "Add", "path": "name.givenName", "value": "Alice"},
                {"op": "Add", "path": "name.familyName", "value": "Ng"},
                {"op": "Add", "path": "externalId", "value": "e-3"},
                {"op": "Add", "path": EMAIL_PATH, "value": "alice@contoso.com"},
                {"op": "Add", "path": PHONE_PATH, "value": "+1 425 555 0142"},
            ),
            {
                "active": True,
                "user_name": "alice@contoso.com",
                "given_name": "Alice",
                "family_name": "Ng",
                "external_id": "e-3",
                "email": "alice@contoso.com",
                "cell_phone": "+1 425 555 0142",
            },
            id="entra-add-each",
        ),
        pytest.param(
            _patch(
                {"op": "Replace", "path": "displayName", "value": "Alice Ng-Park"},
                {"op": "Replace", "path": "name.familyName", "value": "Ng-Park"},
                {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Infra"},
            ),
            {"family_name": "Ng-Park"},
            id="entra-ignored-attributes",
        ),
        pytest.param(
            _patch(
                {"op": "replace", "path": EMAIL_PATH, "value": "alice@contoso.com"},
                {
                    "op": "replace",
                    "value": {
                        "displayName": "Alice Ng-Park",
                        "name.givenName": "Alice",
                        "name.familyName": "Ng-Park",
                        f"{ENTERPRISE}:employeeNumber": "100482",
                    },
                },
            ),
            {"email": "alice@contoso.com", "given_name": "Alice", "family_name": "Ng-Park"},
            id="entra-folded",
        ),
    ],
)
def test_identity_provider_bodies_take_the_fast_path(
    profile: StaffProfile, body: dict[str, Any], changes: dict[str, Any]
) -> None:
    current = _account(profile)
    expected = replace(profile, **changes)
    assert full_path(current, body) == expected
    assert fast_path(current, body) == expected


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "Remove", "path": "name.givenName"},
        {"op": "Replace", "path": "active", "value": "yes"},
        {"op": "Replace", "path": "active", "value": None},
        {"op": "Replace", "path": f"{CORE}:active", "value": "False"},
        {"op": "Replace", "path": 'emails[type eq "home"].value', "value": "a@b.org"},
        {"op": "Replace", "path": EMAIL_PATH, "value": "not an email"},
        {"op": "Replace", "path": "userName", "value": " "},
        {"op": "Replace", "path": "active", "value": "False", "extra": 1},
        {"op": "replace", "value": {"Active": False}},
        {"op": "replace", "value": {"name": {"givenName": "A"}}},
    ],
)
def test_anything_else_falls_back(operation: dict[str, Any]) -> None:
    assert fast_patch(_patch(operation)) is None
