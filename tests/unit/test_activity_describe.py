"""The activity log's words, table by table: operations from routes, attribute names (never
values; only what the platform keeps) from bodies, refusals explained."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from server.activity.describe import attribute_names, explain, operation_of, plain_route
from server.activity.records import ActivityEntry, decode_cursor, encode_cursor

BASE = "/scim/v2/{practice_id}"


@pytest.mark.parametrize(
    ("method", "route", "operation"),
    [
        ("POST", f"{BASE}/Users", "user.create"),
        ("GET", f"{BASE}/Users", "user.search"),
        ("POST", f"{BASE}/Users/.search", "user.search"),
        ("GET", f"{BASE}/Users/{{user_id}}", "user.read"),
        ("PUT", f"{BASE}/Users/{{user_id}}", "user.replace"),
        ("PATCH", f"{BASE}/Groups/{{group_id}}", "group.update"),
        ("DELETE", f"{BASE}/Groups/{{group_id}}", "group.delete"),
        ("POST", f"{BASE}/.search", "search"),
        ("GET", f"{BASE}/Schemas", "discovery"),
        ("GET", "", "other"),
    ],
)
def test_operation_of_a_route(method: str, route: str, operation: str) -> None:
    assert operation_of(method, route) == operation


def test_route_templates_lose_their_types() -> None:
    assert plain_route("/scim/v2/{practice_id:uuid}/Users/{user_id:str}") == (
        "/scim/v2/{practice_id}/Users/{user_id}"
    )


PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.mark.parametrize(
    ("method", "operation", "body", "names"),
    [
        ("POST", "user.create", {"UserName": "a", "title": "x", "name": {"givenName": "A"}},
         ("userName", "name.givenName")),
        ("PUT", "user.replace", {"urn:ietf:params:scim:schemas:core:2.0:User:active": False,
         "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "m"}},
         ("active",)),
        ("PATCH", "user.update", {"schemas": [PATCH], "Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "add", "path": "emails[type eq \"work\"].value", "value": "e@x"},
            {"op": "replace", "path": "name.givenName", "value": "B"},
            {"op": "replace", "path": "title", "value": "ignored"},
            {"op": "replace", "value": {"name.familyName": "C", "displayName": "D"}}]},
         ("active", "emails", "name.givenName", "name.familyName")),
        ("PATCH", "group.update", {"Operations": [{"op": "add", "path": "members",
         "value": [{"value": "u"}]}]}, ("members",)),
        ("GET", "user.read", {"userName": "a"}, ()),
        ("POST", "user.search", {"filter": "userName eq \"a\""}, ()),
        ("POST", "user.create", ["not", "an", "object"], ()),
    ],
)  # fmt: skip
def test_attribute_names_only(method: str, operation: str, body: Any, names: tuple[str]) -> None:
    assert attribute_names(method, operation, body) == names


@pytest.mark.parametrize(
    ("status", "scim_type", "detail", "holder", "says"),
    [
        (201, None, None, None, None),
        (409, "uniqueness", "userName 'x' is already in use (request id 1)", "Dana Lee",
         "The identity provider sent a userName already used by Dana Lee."),
        (409, "uniqueness", "email 'x' is already in use", None,
         "The identity provider sent an email address already used by another staff account."),
        (401, None, "the access token is invalid or expired (request id abc)", None,
         "The identity provider's credential was not accepted: "
         "the access token is invalid or expired."),
        (400, "invalidFilter", "bad filter", None,
         "The identity provider sent something the platform could not accept "
         "(invalidFilter): bad filter."),
    ],
)  # fmt: skip
def test_refusals_in_words(
    status: int, scim_type: str | None, detail: str | None, holder: str | None, says: str | None
) -> None:
    assert explain(status, scim_type, detail, holder=holder) == says


def test_a_cursor_names_its_entry_and_refuses_garbage() -> None:
    entry = ActivityEntry(
        id=uuid4(), practice_id=uuid4(), at=datetime(2026, 12, 7, 18, 0, 1, 5, tzinfo=UTC),
        request_id="r", method="GET", route="/", operation="other", status=200,
        credential="none", credential_label="No credential", user_agent="",
    )  # fmt: skip
    assert decode_cursor(encode_cursor(entry)) == (entry.at, entry.id)
    with pytest.raises(ValueError, match="cursor"):
        decode_cursor("not-a-cursor")
