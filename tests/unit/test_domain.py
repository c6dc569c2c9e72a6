"""Staff accounts (server/domain/staff.py) and provisioning rules
(server/domain/provisioning.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from server.domain.errors import InvalidValue, NotFound
from server.domain.provisioning import MAX_USER_NAME, _checked, parse_user_id
from server.domain.staff import AccessLevel, StaffProfile
from tests.factories import scim_account


@pytest.mark.parametrize(
    ("level", "value", "label", "chart_access"),
    [
        (AccessLevel.ADMIN_STAFF, "admin_staff", "Admin Staff", False),
        (AccessLevel.CLINICAL_STAFF, "clinical_staff", "Clinical Staff", True),
        (AccessLevel.PROVIDER, "provider", "Provider", True),
    ],
)
def test_access_level(level: AccessLevel, value: str, label: str, chart_access: bool) -> None:
    assert level == value
    assert AccessLevel(value) is level
    assert level.label == label
    assert level.chart_access is chart_access


def test_access_levels_lowest_first() -> None:
    assert list(AccessLevel) == [
        AccessLevel.ADMIN_STAFF,
        AccessLevel.CLINICAL_STAFF,
        AccessLevel.PROVIDER,
    ]


@pytest.mark.parametrize(("version", "etag"), [(1, 'W/"1"'), (42, 'W/"42"')])
def test_staff_user_etag(version: int, etag: str) -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    staff = scim_account("ada", at=now, version=version)

    assert staff.etag == etag


USER_ID = UUID("6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab")


@pytest.mark.parametrize(
    "raw",
    [
        "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab",
        "6F1C2D3E-4A5B-4C6D-8E7F-0123456789AB",
        "6f1c2d3e4a5b4c6d8e7f0123456789ab",
    ],
)
def test_parse_user_id_valid(raw: str) -> None:
    assert parse_user_id(raw) == USER_ID


@pytest.mark.parametrize(
    "raw",
    ["", "garbage", "6f1c2d3e-4a5b-4c6d-8e7f-0123456789a", "../../etc/passwd", "x" * 10_000],
)
def test_parse_user_id_garbage_is_not_found(raw: str) -> None:
    with pytest.raises(NotFound) as caught:
        parse_user_id(raw)

    # The detail echoes at most 64 characters of the caller's input.
    assert len(caught.value.detail) < 100


@pytest.mark.parametrize(
    ("profile", "user_name"),
    [
        (StaffProfile(user_name="ada"), "ada"),
        (StaffProfile(user_name="  ada \t\n"), "ada"),
        (StaffProfile(user_name="a" * MAX_USER_NAME), "a" * MAX_USER_NAME),
        (StaffProfile(user_name=" " + "a" * MAX_USER_NAME + " "), "a" * MAX_USER_NAME),
    ],
)
def test_checked_strips_user_name(profile: StaffProfile, user_name: str) -> None:
    checked = _checked(profile)

    assert checked.user_name == user_name
    assert checked == StaffProfile(user_name=user_name)


def test_checked_keeps_fields_at_their_limits() -> None:
    profile = StaffProfile(
        user_name="ada",
        given_name="g" * 256,
        family_name="f" * 256,
        cell_phone="1" * 64,
        email="e" * 256,
        external_id="x" * 256,
        active=False,
    )

    assert _checked(profile) == profile


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        pytest.param(StaffProfile(user_name=""), "userName must not be empty", id="empty"),
        pytest.param(StaffProfile(user_name=" \t\n"), "userName must not be empty", id="blank"),
        pytest.param(
            StaffProfile(user_name="a" * (MAX_USER_NAME + 1)), "userName is longer", id="userName"
        ),
        pytest.param(
            StaffProfile(user_name="ada", given_name="g" * 257),
            "name.givenName is longer than 256",
            id="givenName",
        ),
        pytest.param(
            StaffProfile(user_name="ada", family_name="f" * 257),
            "name.familyName is longer than 256",
            id="familyName",
        ),
        pytest.param(
            StaffProfile(user_name="ada", cell_phone="1" * 65),
            "phoneNumbers is longer than 64",
            id="phone",
        ),
        pytest.param(
            StaffProfile(user_name="ada", email="e" * 257),
            "emails is longer than 256",
            id="email",
        ),
        pytest.param(
            StaffProfile(user_name="ada", external_id="x" * 257),
            "externalId is longer than 256",
            id="externalId",
        ),
    ],
)
def test_checked_rejects(profile: StaffProfile, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        _checked(profile)
