"""Filters, sort keys and the accepted-attribute reading of request bodies, pure and table-driven.

``server/mapping/filters.py`` turns an RFC 7644 §3.4.2.2 filter into a predicate over the kept
staff fields; ``server/mapping/inbound.py`` decides which keys and PATCH operations are even
looked at before scim2-models validates them (issue 3: only the accepted attributes are stored,
in every request form; everything else is ignored without error).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scim2_models import InvalidFilterException, SCIMException, TooManyException

from server.domain.query import (
    AllOf,
    AnyOf,
    Constant,
    FieldTest,
    Negation,
    Operator,
    Predicate,
)
from server.mapping.filters import (
    GROUP_FILTERS,
    MAX_FILTER_LENGTH,
    USER_FILTERS,
    parse_filter,
    parse_filter_with_grammar,
    sort_field,
)
from server.mapping.inbound import (
    GROUP_PROFILE,
    USER_PROFILE,
    accepted_patch,
    accepted_resource,
)

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

EMAIL_PRESENT = FieldTest("email", Operator.PR)
PHONE_PRESENT = FieldTest("cell_phone", Operator.PR)


def _eq(field: str, value: Any) -> FieldTest:
    return FieldTest(field, Operator.EQ, value)


USER_FILTER_TABLE: list[Any] = [
    pytest.param('userName eq "Bo"', _eq("user_name", "Bo"), id="eq"),
    pytest.param('USERNAME Eq "Bo"', _eq("user_name", "Bo"), id="names-and-ops-any-case"),
    pytest.param(f'{USER}:userName eq "Bo"', _eq("user_name", "Bo"), id="urn-prefixed"),
    pytest.param('userName ne "Bo"', FieldTest("user_name", Operator.NE, "Bo"), id="ne"),
    pytest.param('userName co "@x"', FieldTest("user_name", Operator.CO, "@x"), id="co"),
    pytest.param('userName sw "a"', FieldTest("user_name", Operator.SW, "a"), id="sw"),
    pytest.param('userName ew ".org"', FieldTest("user_name", Operator.EW, ".org"), id="ew"),
    pytest.param('userName gt "b"', FieldTest("user_name", Operator.GT, "b"), id="gt"),
    pytest.param('userName ge "b"', FieldTest("user_name", Operator.GE, "b"), id="ge"),
    pytest.param('userName lt "b"', FieldTest("user_name", Operator.LT, "b"), id="lt"),
    pytest.param('userName le "b"', FieldTest("user_name", Operator.LE, "b"), id="le"),
    pytest.param("userName pr", FieldTest("user_name", Operator.PR), id="pr"),
    pytest.param("active eq true", _eq("active", True), id="boolean"),
    pytest.param('externalId eq "X"', _eq("external_id", "X"), id="externalId"),
    pytest.param('id eq "abc"', _eq("id", "abc"), id="id"),
    pytest.param(
        'name.givenName sw "A"', FieldTest("given_name", Operator.SW, "A"), id="sub-attribute"
    ),
    pytest.param(
        "name.familyName pr", FieldTest("family_name", Operator.PR), id="sub-attribute-pr"
    ),
    pytest.param('emails co "@x"', FieldTest("email", Operator.CO, "@x"), id="multi-valued"),
    pytest.param('emails.value eq "a@x.org"', _eq("email", "a@x.org"), id="emails.value"),
    pytest.param('phoneNumbers eq "555"', _eq("cell_phone", "555"), id="phoneNumbers"),
    pytest.param(
        'meta.created gt "2020-01-01T00:00:00Z"',
        FieldTest("created_at", Operator.GT, datetime(2020, 1, 1, tzinfo=UTC)),
        id="dateTime",
    ),
    pytest.param(
        'meta.lastModified lt "2020-01-01T00:00:00"',
        FieldTest("updated_at", Operator.LT, datetime(2020, 1, 1, tzinfo=UTC)),
        id="dateTime-without-zone-is-utc",
    ),
    # The kept email is always the work one and primary; the mobile number is the kept phone.
    pytest.param('emails.type eq "work"', EMAIL_PRESENT, id="fixed-type-holds"),
    pytest.param('emails.type eq "home"', Constant(value=False), id="fixed-type-fails"),
    pytest.param('emails.type ne "work"', Negation(EMAIL_PRESENT), id="fixed-type-ne"),
    pytest.param("emails.primary eq true", EMAIL_PRESENT, id="fixed-primary"),
    pytest.param('meta.resourceType eq "User"', FieldTest("id", Operator.PR), id="resourceType"),
    pytest.param('emails[type eq "work"]', AllOf((EMAIL_PRESENT, EMAIL_PRESENT)), id="value-path"),
    pytest.param(
        'emails[type eq "home"]',
        AllOf((EMAIL_PRESENT, Constant(value=False))),
        id="value-path-never-matches",
    ),
    pytest.param(
        'emails[type eq "work" and value co "@x"]',
        AllOf((EMAIL_PRESENT, AllOf((EMAIL_PRESENT, FieldTest("email", Operator.CO, "@x"))))),
        id="value-path-and",
    ),
    pytest.param(
        'phoneNumbers[type eq "mobile"].value eq "1"',
        AllOf((PHONE_PRESENT, AllOf((PHONE_PRESENT, _eq("cell_phone", "1"))))),
        id="value-path-sub-attribute",
    ),
    pytest.param(
        'userName eq "a" or (userName eq "b" and not (active eq false))',
        AnyOf(
            (
                _eq("user_name", "a"),
                AllOf((_eq("user_name", "b"), Negation(_eq("active", False)))),
            )
        ),
        id="grouping-and-or-not",
    ),
    # Declared in RFC 7643 but not kept by the platform: never present.
    pytest.param('title eq "x"', Constant(value=False), id="not-kept-eq"),
    pytest.param('title ne "x"', Constant(value=True), id="not-kept-ne"),
    pytest.param("not (title pr)", Negation(Constant(value=False)), id="not-kept-not-pr"),
    pytest.param("nickName pr", Constant(value=False), id="not-kept-pr"),
    pytest.param('addresses[type eq "work"]', Constant(value=False), id="not-kept-value-path"),
    pytest.param(f'{ENTERPRISE}:employeeNumber eq "1"', Constant(value=False), id="extension"),
    pytest.param("groups pr", Constant(value=False), id="groups-not-filterable"),
]


@pytest.mark.parametrize(("text", "expected"), USER_FILTER_TABLE)
def test_user_filters_become_predicates(text: str, expected: Predicate) -> None:
    assert parse_filter(text, USER_FILTERS) == expected


GROUP_FILTER_TABLE: list[Any] = [
    pytest.param('displayName eq "Nurses"', _eq("display_name", "Nurses"), id="displayName"),
    pytest.param('DISPLAYNAME sw "N"', FieldTest("display_name", Operator.SW, "N"), id="any-case"),
    pytest.param(f'{GROUP}:displayName eq "N"', _eq("display_name", "N"), id="urn-prefixed"),
    pytest.param('externalId eq "e"', _eq("external_id", "e"), id="externalId"),
    pytest.param(
        'members[value eq "u1"]',
        AllOf((FieldTest("member", Operator.PR), _eq("member", "u1"))),
        id="member-value-path",
    ),
    pytest.param('members.value eq "u1"', _eq("member", "u1"), id="members.value"),
    pytest.param("members pr", FieldTest("member", Operator.PR), id="members-pr"),
    pytest.param('members.type eq "User"', FieldTest("member", Operator.PR), id="member-type"),
    pytest.param('meta.resourceType eq "Group"', FieldTest("id", Operator.PR), id="resourceType"),
]


@pytest.mark.parametrize(("text", "expected"), GROUP_FILTER_TABLE)
def test_group_filters_become_predicates(text: str, expected: Predicate) -> None:
    assert parse_filter(text, GROUP_FILTERS) == expected


INVALID_FILTERS: list[Any] = [
    pytest.param('foo eq "x"', USER_FILTERS, id="undeclared"),
    pytest.param('userName eq "x"', GROUP_FILTERS, id="user-attribute-on-groups"),
    pytest.param('members[value eq "x"]', USER_FILTERS, id="group-attribute-on-users"),
    pytest.param('active eq "true"', USER_FILTERS, id="boolean-as-string"),
    pytest.param("active gt true", USER_FILTERS, id="boolean-ordering"),
    pytest.param("userName eq 1", USER_FILTERS, id="number-for-string"),
    pytest.param('meta.created gt "yesterday"', USER_FILTERS, id="not-a-dateTime"),
    pytest.param('members co "u"', GROUP_FILTERS, id="member-substring"),
    pytest.param("userName eq", USER_FILTERS, id="missing-value"),
    pytest.param('userName eq "x" and (', USER_FILTERS, id="unbalanced"),
    pytest.param('userName xx "x"', USER_FILTERS, id="unknown-operator"),
    pytest.param("", USER_FILTERS, id="empty"),
]


@pytest.mark.parametrize(("text", "schema"), INVALID_FILTERS)
def test_invalid_filters_are_invalid_filter(text: str, schema: Any) -> None:
    with pytest.raises(InvalidFilterException):
        parse_filter(text, schema)


def test_filters_over_64_terms_are_too_many() -> None:
    assert isinstance(parse_filter(" or ".join(['userName eq "a"'] * 32)), AnyOf)
    with pytest.raises(TooManyException):
        parse_filter(" or ".join(['userName eq "a"'] * 65))


def test_filters_over_the_length_limit_are_too_many() -> None:
    text = 'userName eq "' + "a" * MAX_FILTER_LENGTH + '"'
    with pytest.raises(TooManyException):
        parse_filter(text)


@pytest.mark.parametrize(
    ("text", "schema", "expected"),
    [
        pytest.param("userName", USER_FILTERS, "user_name", id="userName"),
        pytest.param("USERNAME", USER_FILTERS, "user_name", id="any-case"),
        pytest.param(f"{USER}:userName", USER_FILTERS, "user_name", id="urn-prefixed"),
        pytest.param(" userName ", USER_FILTERS, "user_name", id="padded"),
        pytest.param("name.givenName", USER_FILTERS, "given_name", id="sub-attribute"),
        pytest.param("emails", USER_FILTERS, "email", id="multi-valued"),
        pytest.param("emails.value", USER_FILTERS, "email", id="emails.value"),
        pytest.param("meta.created", USER_FILTERS, "created_at", id="meta.created"),
        pytest.param("id", USER_FILTERS, "id", id="id"),
        pytest.param("title", USER_FILTERS, None, id="declared-not-kept"),
        pytest.param("displayName", USER_FILTERS, None, id="user-displayName-not-kept"),
        pytest.param("displayName", GROUP_FILTERS, "display_name", id="displayName"),
        pytest.param("members", GROUP_FILTERS, None, id="members-not-sortable"),
    ],
)
def test_sort_field(text: str, schema: Any, expected: str | None) -> None:
    assert sort_field(text, schema) == expected


@pytest.mark.parametrize(
    ("text", "schema"),
    [
        pytest.param("foo", USER_FILTERS, id="undeclared"),
        pytest.param("", USER_FILTERS, id="empty"),
        pytest.param("name..x", USER_FILTERS, id="malformed"),
        pytest.param("userName", GROUP_FILTERS, id="user-attribute-on-groups"),
    ],
)
def test_sort_field_refuses_unknown_names(text: str, schema: Any) -> None:
    with pytest.raises(ValueError, match="cannot sort"):
        sort_field(text, schema)


def test_accepted_resource_keeps_only_the_accepted_user_attributes() -> None:
    body = {
        "schemas": [USER, ENTERPRISE],
        "id": "client-chosen",
        "meta": {"resourceType": "User"},
        "UserName": "ada@x.org",
        f"{USER}:active": True,
        "externalId": "ext",
        "name": {"givenName": "Ada", "middleName": "King", "Formatted": "Ada King"},
        "emails": [{"value": "a@x.org", "type": "work", "primary": True, "extra": 1}],
        "phoneNumbers": [{"Value": "555", "Type": "mobile", "display": "d"}],
        "title": "Engineer",
        "groups": [{"value": "g"}],
        "password": "secret",
        "addresses": [{"locality": "Oslo"}],
        "roles": [{"value": "Admin"}],
        ENTERPRISE: {"employeeNumber": "1", "manager": "bare-string"},
    }
    assert accepted_resource(body, USER_PROFILE) == {
        "schemas": [USER, ENTERPRISE],
        "UserName": "ada@x.org",
        f"{USER}:active": True,
        "externalId": "ext",
        "name": {"givenName": "Ada"},
        "emails": [{"value": "a@x.org", "type": "work", "primary": True}],
        "phoneNumbers": [{"Value": "555", "Type": "mobile", "display": "d"}],
    }


def test_accepted_resource_keeps_only_the_accepted_group_attributes() -> None:
    body = {
        "Schemas": [GROUP],
        "id": "client-chosen",
        "DisplayName": "Nurses",
        "externalId": "e",
        "members": [{"value": "u1", "$ref": "https://elsewhere/Users/u1", "Display": "U"}],
        "owners": ["x"],
    }
    assert accepted_resource(body, GROUP_PROFILE) == {
        "Schemas": [GROUP],
        "DisplayName": "Nurses",
        "externalId": "e",
        "members": [{"value": "u1", "Display": "U"}],
    }


def _operations(*operations: Any, key: str = "Operations") -> list[Any]:
    body = {"schemas": [PATCH_SCHEMA], key: list(operations)}
    result = accepted_patch(body, USER_PROFILE)
    assert set(result) == {"schemas", "Operations"}
    kept: list[Any] = result["Operations"]
    return kept


KEPT_PATHS: list[Any] = [
    pytest.param("userName", id="simple"),
    pytest.param("USERNAME", id="any-case"),
    pytest.param(f"{USER}:userName", id="urn-prefixed"),
    pytest.param("name.givenName", id="sub-attribute"),
    pytest.param("name.givenName", id="kept-sub-attribute"),
    pytest.param('emails[type eq "work"].value', id="value-path"),
    pytest.param('phoneNumbers[type eq "mobile"].value', id="phone-value-path"),
    pytest.param("externalId", id="externalId"),
    # Read-only: kept so that validation answers "mutability".
    pytest.param("id", id="read-only-id"),
    pytest.param("meta.created", id="read-only-meta"),
    pytest.param("groups", id="read-only-groups"),
    # Malformed: kept so that validation answers "invalidPath".
    pytest.param("members[[", id="malformed-brackets"),
    pytest.param("name..x", id="malformed-dots"),
    pytest.param(5, id="not-a-string"),
]


@pytest.mark.parametrize("path", KEPT_PATHS)
def test_operations_on_accepted_read_only_or_malformed_paths_are_kept(path: Any) -> None:
    operation = {"op": "replace", "path": path, "value": "x"}
    assert _operations(operation) == [operation]


DROPPED_PATHS: list[Any] = [
    pytest.param(
        "name.middleName", ["any", "shape"], id="unkept-sub-attribute-of-a-kept-attribute"
    ),
    pytest.param("title", "x", id="not-kept"),
    pytest.param("nickName", "x", id="not-kept-2"),
    pytest.param(f"{ENTERPRISE}:manager", "4e1b7c2a", id="enterprise-bare-manager"),
    pytest.param(f"{ENTERPRISE}:employeeNumber", "1", id="enterprise"),
    pytest.param("manager", [{"$ref": "x", "value": "m"}], id="older-manager-form"),
    pytest.param("roles", [{"value": '{"id":"1","value":"Admin"}'}], id="roles-json-string"),
    pytest.param('addresses[type eq "work"].locality', "Oslo", id="address-value-path"),
    pytest.param("urn:example:acme:1.0:User:badge", "x", id="unknown-extension"),
]


@pytest.mark.parametrize(("path", "value"), DROPPED_PATHS)
def test_operations_on_ignored_attributes_are_dropped(path: str, value: Any) -> None:
    assert _operations({"op": "Add", "path": path, "value": value}) == []


def test_pathless_values_keep_only_accepted_keys() -> None:
    value = {
        "id": "someone-else",
        "meta": {"version": 'W/"9"'},
        "Active": "False",
        "name": {"givenName": "A", "honorificPrefix": "Dr"},
        "name.familyName": "F",
        "name.middleName": "M",
        f"{USER}:userName": "u@x.org",
        f"{USER}:name.givenName": "B",
        f"{ENTERPRISE}:employeeNumber": "1",
        ENTERPRISE: {"department": "Ops"},
        "title": "Boss",
        "displayName": "Ada",
    }
    assert _operations({"op": "replace", "value": value}) == [
        {
            "op": "replace",
            "value": {
                "Active": "False",
                "name": {"givenName": "A"},
                "name.familyName": "F",
                f"{USER}:userName": "u@x.org",
                f"{USER}:name.givenName": "B",
            },
        }
    ]


def test_group_pathless_rename_drops_the_id() -> None:
    body = {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "value": {"id": "g1", "displayName": "New"}}],
    }
    assert accepted_patch(body, GROUP_PROFILE)["Operations"] == [
        {"op": "replace", "value": {"displayName": "New"}}
    ]


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param({"op": "remove", "path": 'members[value eq "u1"]'}, id="remove-by-filter"),
        pytest.param(
            {"op": "Remove", "path": "members", "value": [{"value": "u1"}]}, id="remove-by-value"
        ),
        pytest.param(
            {"op": "replace", "path": "members", "value": [{"value": "u2"}]}, id="replace-list"
        ),
        pytest.param({"op": "replace", "path": "displayName", "value": "N"}, id="rename"),
    ],
)
def test_group_member_operations_are_kept(operation: dict[str, Any]) -> None:
    body = {"schemas": [PATCH_SCHEMA], "Operations": [operation]}
    assert accepted_patch(body, GROUP_PROFILE)["Operations"] == [operation]


def test_unknown_keys_and_odd_operations_pass_through_for_validation() -> None:
    pascal = {"Op": "Replace", "Path": "active", "Value": "False", "name": "addMember"}
    no_path = {"op": "remove"}
    scalar = {"op": "replace", "value": "not-an-object"}
    assert _operations(pascal, no_path, scalar, "not-an-object", key="operations") == [
        pascal,
        no_path,
        scalar,
        "not-an-object",
    ]


def test_patch_ops_of_a_mixed_body_are_filtered_in_order() -> None:
    kept = {"op": "replace", "path": "active", "value": False}
    dropped = {"op": "add", "path": "title", "value": "x"}
    assert _operations(dropped, kept, dropped) == [kept]


def test_filter_errors_are_scim_exceptions_with_rfc_types() -> None:
    too_many = " or ".join(["userName pr"] * 65)
    for text, scim_type in (('foo eq "x"', "invalidFilter"), (too_many, "tooMany")):
        with pytest.raises(SCIMException) as raised:
            parse_filter(text)
        assert raised.value.to_error().scim_type == scim_type


def _outcome(parse: Any, text: str, schema: Any) -> Any:
    try:
        return parse(text, schema)
    except SCIMException as error:
        return (type(error), error.scim_type)


_names = st.sampled_from(
    ["userName", "USERNAME", "externalId", "id", "active", "title", "displayName", "nope"]
) | st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,8}", fullmatch=True)
_subs = st.none() | st.sampled_from(["givenName", "FAMILYNAME", "value", "type", "x-y"])
_values = st.text(max_size=12).map(json.dumps) | st.sampled_from(
    ['"a\\"b"', '"\\u00e9"', '"\\x"', '"a\\\\"', '""', '"tab\\t"']
)


@settings(max_examples=400, deadline=None)
@given(
    _names,
    _subs,
    st.sampled_from(["eq", "EQ", "Eq"]),
    _values,
    st.sampled_from([" ", "  "]),
    st.sampled_from(["", " ", "\t"]),
    st.sampled_from([USER_FILTERS, GROUP_FILTERS]),
)
def test_plain_equality_parses_as_the_grammar_does(
    name: str, sub: str | None, op: str, value: str, gap: str, edge: str, schema: Any
) -> None:
    path = name if sub is None else f"{name}.{sub}"
    text = f"{edge}{path}{gap}{op}{gap}{value}{edge}"
    assert _outcome(parse_filter, text, schema) == _outcome(parse_filter_with_grammar, text, schema)
