"""SCIM User <-> staff profile mapping (server/mapping/users.py), both directions."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from scim2_models import Context

from server.domain.staff import AccessLevel, StaffProfile, StaffUser
from server.mapping.schema import SCIM_POLICY, UserModel
from server.mapping.users import profile_from_scim, scim_from_staff

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
UNKNOWN_EXTENSION = "urn:example:params:scim:schemas:extension:acme:1.0:User"
LOCATION = "https://scim.example/scim/v2/p/Users/u"


def _inbound(**attributes: Any) -> StaffProfile:
    payload = {"schemas": [CORE], **attributes}
    user = UserModel.model_validate(
        payload, scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_policy=SCIM_POLICY
    )
    return profile_from_scim(user)


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        pytest.param({"userName": "ada"}, StaffProfile(user_name="ada"), id="minimal"),
        pytest.param(
            {"userName": "  ada@example.org \t"},
            StaffProfile(user_name="ada@example.org"),
            id="userName-stripped",
        ),
        pytest.param({"UserName": "ada"}, StaffProfile(user_name="ada"), id="PascalCase-userName"),
        pytest.param(
            {
                "userName": "ada",
                "externalId": "ext-1",
                "name": {"givenName": "Ada", "familyName": "Lovelace", "middleName": "King"},
            },
            StaffProfile(
                user_name="ada", given_name="Ada", family_name="Lovelace", external_id="ext-1"
            ),
            id="names-and-externalId",
        ),
        pytest.param(
            {
                "userName": "ada",
                "Name": {"GivenName": "Ada"},
                "ExternalId": "ext-2",
                "PhoneNumbers": [{"Value": "+15550100", "Type": "mobile"}],
            },
            StaffProfile(
                user_name="ada", given_name="Ada", cell_phone="+15550100", external_id="ext-2"
            ),
            id="PascalCase-nested",
        ),
        pytest.param(
            {"userName": "ada", "name": {"givenName": "  ", "familyName": ""}, "externalId": ""},
            StaffProfile(user_name="ada"),
            id="blank-values-dropped",
        ),
        pytest.param(
            {
                "userName": "ada",
                "phoneNumbers": [
                    {"value": "+15550101", "type": "work", "primary": True},
                    {"value": "+15550102", "type": "mobile"},
                    {"value": "+15550103", "type": "home"},
                ],
            },
            StaffProfile(user_name="ada", cell_phone="+15550102"),
            id="mobile-phone-only-even-if-another-is-primary",
        ),
        pytest.param(
            {"userName": "ada", "phoneNumbers": [{"value": "+15550101", "type": "Mobile"}]},
            StaffProfile(user_name="ada", cell_phone="+15550101"),
            id="mobile-type-case-insensitive",
        ),
        pytest.param(
            {
                "userName": "ada",
                "phoneNumbers": [
                    {"value": "+15550101", "type": "work"},
                    {"value": "+15550104", "type": "fax"},
                ],
            },
            StaffProfile(user_name="ada"),
            id="no-mobile-phone",
        ),
        pytest.param(
            {
                "userName": "ada",
                "emails": [
                    {"value": "work@example.org", "type": "work"},
                    {"value": "home@example.org", "type": "home", "primary": True},
                ],
            },
            StaffProfile(user_name="ada", email="home@example.org"),
            id="primary-email-wins",
        ),
        pytest.param(
            {
                "userName": "ada",
                "emails": [
                    {"value": "home@example.org", "type": "home"},
                    {"value": "work@example.org", "type": "work"},
                ],
            },
            StaffProfile(user_name="ada", email="work@example.org"),
            id="work-email-without-primary",
        ),
        pytest.param(
            {
                "userName": "ada",
                "emails": [
                    {"value": "home@example.org", "type": "home"},
                    {"value": "other@example.org"},
                ],
            },
            StaffProfile(user_name="ada"),
            id="neither-primary-nor-work-email",
        ),
        pytest.param(
            {"userName": "ada", "active": False}, StaffProfile("ada", active=False), id="inactive"
        ),
        pytest.param(
            {"userName": "ada", "active": True}, StaffProfile("ada", active=True), id="active"
        ),
        pytest.param(
            {"userName": "ada", "Active": "False"},
            StaffProfile("ada", active=False),
            id="Active-string-False",
        ),
        pytest.param(
            {"userName": "ada", "active": "false"},
            StaffProfile("ada", active=False),
            id="active-string-false",
        ),
        pytest.param(
            {"userName": "ada", "active": "True"},
            StaffProfile("ada", active=True),
            id="active-string-True",
        ),
        pytest.param(
            {
                "userName": "ada",
                "title": "Practice Manager",
                "displayName": "Ada L.",
                "addresses": [{"type": "work", "streetAddress": "1 Main St"}],
                "foo": "bar",
                UNKNOWN_EXTENSION: {"badge": "42"},
                ENTERPRISE: {"department": "Cardiology", "employeeNumber": "7"},
            },
            StaffProfile(user_name="ada"),
            id="everything-else-ignored",
        ),
    ],
)
def test_profile_from_scim_keeps_only_accepted_attributes(
    attributes: dict[str, Any], expected: StaffProfile
) -> None:
    assert _inbound(**attributes) == expected


def test_profile_from_scim_defaults_active_when_absent() -> None:
    assert _inbound(userName="ada").active is True


def test_profile_from_scim_ignores_listed_unknown_extension() -> None:
    profile = _inbound(
        schemas=[CORE, ENTERPRISE, UNKNOWN_EXTENSION],
        userName="ada",
        **{UNKNOWN_EXTENSION: {"badge": "42"}, ENTERPRISE: {"department": "Cardiology"}},
    )

    assert profile == StaffProfile(user_name="ada")


@pytest.fixture
def staff() -> StaffUser:
    return StaffUser(
        id=UUID("6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab"),
        practice_id=UUID("0f1e2d3c-4b5a-4968-8776-543210fedcba"),
        profile=StaffProfile(user_name="ada"),
        access_level=AccessLevel.PROVIDER,
        is_practice_admin=True,
        scim_provisioned=True,
        scim_deleted=False,
        sso_issuer="https://idp.example",
        sso_subject="subject-1",
        has_password=True,
        version=7,
        created_at=datetime(2024, 1, 1, 9, 0, tzinfo=UTC),
        updated_at=datetime(2024, 1, 2, 9, 0, tzinfo=UTC),
    )


def _outbound(staff: StaffUser) -> dict[str, Any]:
    user = scim_from_staff(staff, location=LOCATION)
    dumped = user.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    body: dict[str, Any] = json.loads(json.dumps(dumped))
    return body


#: Every accepted attribute set.
FULL_PROFILE = StaffProfile(
    user_name="ada",
    given_name="Ada",
    family_name="Lovelace",
    cell_phone="+15550102",
    email="ada@example.org",
    active=False,
    external_id="ext-1",
)

_ALWAYS = {"schemas", "id", "meta", "userName", "active"}


@pytest.mark.parametrize(
    ("profile", "keys", "expected"),
    [
        pytest.param(
            StaffProfile(user_name="ada"),
            _ALWAYS,
            {"userName": "ada", "active": True},
            id="minimal",
        ),
        pytest.param(
            FULL_PROFILE,
            _ALWAYS | {"externalId", "name", "emails", "phoneNumbers"},
            {
                "userName": "ada",
                "active": False,
                "externalId": "ext-1",
                "name": {"givenName": "Ada", "familyName": "Lovelace"},
                "emails": [{"value": "ada@example.org", "type": "work", "primary": True}],
                "phoneNumbers": [{"value": "+15550102", "type": "mobile"}],
            },
            id="full",
        ),
        pytest.param(
            StaffProfile(user_name="ada", family_name="Lovelace", email="ada@example.org"),
            _ALWAYS | {"name", "emails"},
            {
                "name": {"familyName": "Lovelace"},
                "emails": [{"value": "ada@example.org", "type": "work", "primary": True}],
            },
            id="no-phone",
        ),
        pytest.param(
            StaffProfile(user_name="ada", cell_phone="+15550102"),
            _ALWAYS | {"phoneNumbers"},
            {"phoneNumbers": [{"value": "+15550102", "type": "mobile"}]},
            id="no-email-no-name",
        ),
    ],
)
def test_scim_from_staff_writes_only_accepted_attributes(
    staff: StaffUser, profile: StaffProfile, keys: set[str], expected: dict[str, Any]
) -> None:
    body = _outbound(replace(staff, profile=profile))

    assert set(body) == keys
    assert {key: body[key] for key in expected} == expected
    assert body["schemas"] == [CORE]
    assert body["id"] == str(staff.id)


@pytest.mark.parametrize("version", [1, 7, 1234])
def test_scim_from_staff_meta_version_is_the_etag(staff: StaffUser, version: int) -> None:
    versioned = replace(staff, version=version)

    meta = _outbound(versioned)["meta"]

    assert meta["version"] == versioned.etag == f'W/"{version}"'
    assert meta == {
        "resourceType": "User",
        "created": "2024-01-01T09:00:00Z",
        "lastModified": "2024-01-02T09:00:00Z",
        "location": LOCATION,
        "version": f'W/"{version}"',
    }


def test_scim_from_staff_round_trips_through_profile_from_scim(staff: StaffUser) -> None:
    profile = FULL_PROFILE
    body = _outbound(replace(staff, profile=profile))
    body.pop("id")
    body.pop("meta")

    assert _inbound(**body) == profile


@pytest.mark.parametrize(
    "profile",
    [
        StaffProfile(user_name="ada"),
        FULL_PROFILE,
    ],
)
def test_scim_from_staff_builds_the_extended_model_patches_apply_to(
    staff: StaffUser, profile: StaffProfile
) -> None:
    """Built directly as the read model, it equals a copy converted from the plain User."""
    current = replace(staff, profile=profile)
    direct = scim_from_staff(current, location="", model=UserModel)
    converted = UserModel.model_validate(
        scim_from_staff(current, location="").model_dump(scim_ctx=None)
    )
    assert type(direct) is type(converted)
    assert direct == converted
    assert profile_from_scim(direct) == profile
