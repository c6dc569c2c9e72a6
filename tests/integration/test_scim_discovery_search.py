"""Discovery (RFC 7644 §4) and searching (RFC 7644 §3.4.2-§3.4.3) over HTTP.

The searches run over one small roster per database, made once for the module; no test here
writes, so the counts are exact.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import PUBLIC_URL, PracticeFixture, fetch_token, new_practice

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore
    from server.settings import Settings

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SEARCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"

USERS: list[dict[str, Any]] = [
    {
        "userName": "alice@x.org",
        "name": {"givenName": "Alice", "familyName": "Ng"},
        "emails": [{"value": "alice@x.org", "type": "work", "primary": True}],
        "phoneNumbers": [{"value": "555 0100", "type": "mobile"}],
    },
    {
        "userName": "bob@y.org",
        "name": {"givenName": "Bob"},
        "emails": [{"value": "bob@y.org", "type": "work"}],
        "active": False,
    },
    {"userName": "carol@x.org", "phoneNumbers": [{"value": "555 0111", "type": "mobile"}]},
    {
        "userName": "dave@z.org",
        "name": {"familyName": "Zed"},
        "emails": [{"value": "dave@x.org", "type": "work"}],
    },
]
USER_NAMES = [u["userName"] for u in USERS]


@dataclass(frozen=True)
class Roster:
    practice: PracticeFixture
    headers: dict[str, str]
    users: dict[str, str]  # userName -> id
    groups: dict[str, str]  # displayName -> id

    @property
    def path(self) -> str:
        return self.practice.scim_path


@pytest.fixture(scope="module")
async def roster(client: AsyncTestClient[Any], store: PiccoloStore, settings: Settings) -> Roster:
    practice = await new_practice(client, store, settings)
    headers = {
        "Authorization": f"Bearer {await fetch_token(client, practice)}",
        "Content-Type": "application/scim+json",
    }
    users = {}
    for user in USERS:
        response = await client.post(
            f"{practice.scim_path}/Users",
            json={"schemas": [USER_SCHEMA], **user},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        users[user["userName"]] = response.json()["id"]
    groups = {}
    for name, members in (("Nurses", ["alice@x.org", "bob@y.org"]), ("Admins", ["carol@x.org"])):
        response = await client.post(
            f"{practice.scim_path}/Groups",
            json={
                "schemas": [GROUP_SCHEMA],
                "displayName": name,
                "members": [{"value": users[m]} for m in members],
            },
            headers=headers,
        )
        assert response.status_code == 201, response.text
        groups[name] = response.json()["id"]
    return Roster(practice, headers, users, groups)


async def _list(
    client: AsyncTestClient[Any], roster: Roster, **params: Any
) -> tuple[int, dict[str, Any]]:
    response = await client.get(f"{roster.path}/Users", params=params, headers=roster.headers)
    return response.status_code, dict(response.json())


def _names(listing: dict[str, Any]) -> list[str]:
    return [r.get("userName") or r["displayName"] for r in listing.get("Resources", [])]


def _error(response: Any, status: int, scim_type: str | None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == str(status)
    assert body.get("scimType") == scim_type
    assert response.headers["content-type"].startswith("application/scim+json")


# --- discovery ---------------------------------------------------------------------------


async def test_service_provider_config_is_truthful(
    client: AsyncTestClient[Any], settings: Settings, roster: Roster
) -> None:
    response = await client.get(f"{roster.path}/ServiceProviderConfig", headers=roster.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]
    assert body["patch"] == {"supported": True}
    assert body["sort"] == {"supported": True}
    assert body["etag"] == {"supported": True}
    assert body["bulk"]["supported"] is False
    assert body["changePassword"] == {"supported": False}
    assert body["filter"]["supported"] is True
    assert type(body["filter"]["maxResults"]) is int
    assert body["filter"]["maxResults"] == settings.max_page_size
    assert {s["type"] for s in body["authenticationSchemes"]} == {"oauthbearertoken", "httpbasic"}
    assert body["meta"]["location"] == f"{PUBLIC_URL}{roster.path}/ServiceProviderConfig"


async def test_http_basic_is_accepted_as_announced(
    client: AsyncTestClient[Any], roster: Roster
) -> None:
    pair = f"{roster.practice.client_id}:{roster.practice.client_secret}".encode()
    basic = {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}
    response = await client.get(f"{roster.path}/ServiceProviderConfig", headers=basic)
    assert response.status_code == 200, response.text
    users = await client.get(
        f"{roster.path}/Users", params={"filter": 'userName eq "carol@x.org"'}, headers=basic
    )
    assert users.json()["totalResults"] == 1


def _attributes(schema: dict[str, Any]) -> dict[str, set[str] | None]:
    return {
        a["name"]: {s["name"] for s in a["subAttributes"]} if a.get("subAttributes") else None
        for a in schema["attributes"]
    }


KEPT_USER_ATTRIBUTES = {
    "userName": None,
    "name": {"givenName", "familyName"},
    "active": None,
    "emails": {"value", "type", "primary"},
    "phoneNumbers": {"value", "type"},
    "groups": {"value", "$ref", "display", "type"},
}
KEPT_GROUP_ATTRIBUTES = {"displayName": None, "members": {"value", "$ref", "type"}}


async def test_schemas_list_exactly_the_kept_attributes(
    client: AsyncTestClient[Any], roster: Roster
) -> None:
    response = await client.get(f"{roster.path}/Schemas", headers=roster.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["schemas"] == [LIST_SCHEMA]
    assert body["totalResults"] == 2
    schemas = {s["id"]: s for s in body["Resources"]}
    assert set(schemas) == {USER_SCHEMA, GROUP_SCHEMA}
    assert _attributes(schemas[USER_SCHEMA]) == KEPT_USER_ATTRIBUTES
    assert _attributes(schemas[GROUP_SCHEMA]) == KEPT_GROUP_ATTRIBUTES
    user = {a["name"]: a for a in schemas[USER_SCHEMA]["attributes"]}
    assert user["groups"]["mutability"] == "readOnly"
    assert user["userName"]["uniqueness"] == "server"
    assert user["userName"]["caseExact"] is False
    types = {
        attribute: next(s for s in user[attribute]["subAttributes"] if s["name"] == "type")
        for attribute in ("emails", "phoneNumbers")
    }
    assert types["emails"]["canonicalValues"] == ["work"]
    assert types["phoneNumbers"]["canonicalValues"] == ["mobile"]

    for urn, schema in schemas.items():
        single = await client.get(f"{roster.path}/Schemas/{urn}", headers=roster.headers)
        assert single.status_code == 200
        assert single.json() == schema


async def test_resource_types(client: AsyncTestClient[Any], roster: Roster) -> None:
    response = await client.get(f"{roster.path}/ResourceTypes", headers=roster.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["totalResults"] == 2
    types = {t["id"]: t for t in body["Resources"]}
    assert {k: (t["endpoint"], t["schema"]) for k, t in types.items()} == {
        "User": ("/Users", USER_SCHEMA),
        "Group": ("/Groups", GROUP_SCHEMA),
    }
    # The enterprise extension is read and ignored, so no resource type announces it.
    assert all(not t.get("schemaExtensions") for t in types.values())
    user = await client.get(f"{roster.path}/ResourceTypes/User", headers=roster.headers)
    assert user.status_code == 200
    assert user.json() == types["User"]
    assert user.json()["meta"]["location"] == f"{PUBLIC_URL}{roster.path}/ResourceTypes/User"


@pytest.mark.parametrize(
    "path",
    [
        "/Schemas/urn:nope",
        f"/Schemas/{ENTERPRISE}",
        "/ResourceTypes/Nope",
        "/ResourceTypes/user-typo",
    ],
)
async def test_unknown_discovery_ids_are_404(
    client: AsyncTestClient[Any], roster: Roster, path: str
) -> None:
    _error(await client.get(f"{roster.path}{path}", headers=roster.headers), 404, None)


async def test_discovery_requires_authentication(
    client: AsyncTestClient[Any], roster: Roster
) -> None:
    for path in (
        "/ServiceProviderConfig",
        "/Schemas",
        f"/Schemas/{USER_SCHEMA}",
        "/ResourceTypes",
        "/ResourceTypes/User",
    ):
        response = await client.get(f"{roster.path}{path}")
        _error(response, 401, None)
        assert response.headers["www-authenticate"].startswith("Bearer")
        wrong = await client.get(
            f"{roster.path}{path}", headers={"Authorization": "Bearer not-a-token"}
        )
        assert wrong.status_code == 401


# --- sorting and paging ------------------------------------------------------------------


async def test_sort_by_user_name(client: AsyncTestClient[Any], roster: Roster) -> None:
    status, ascending = await _list(client, roster, sortBy="userName")
    assert status == 200
    assert _names(ascending) == sorted(USER_NAMES)
    status, descending = await _list(client, roster, sortBy="UserName", sortOrder="descending")
    assert status == 200
    assert _names(descending) == sorted(USER_NAMES, reverse=True)


async def test_sort_by_attributes_some_or_all_users_lack(
    client: AsyncTestClient[Any], roster: Roster
) -> None:
    """RFC 7644 §3.4.2.3: resources without the attribute sort last, whatever the order."""
    _, given = await _list(client, roster, sortBy="name.givenName")
    assert _names(given) == ["alice@x.org", "bob@y.org", "carol@x.org", "dave@z.org"]
    _, given = await _list(client, roster, sortBy="name.givenName", sortOrder="descending")
    assert _names(given) == ["bob@y.org", "alice@x.org", "carol@x.org", "dave@z.org"]
    # Nobody has a title: every user ties, and ties keep the stable creation order.
    status, title = await _list(client, roster, sortBy="title")
    assert status == 200
    assert _names(title) == USER_NAMES


@pytest.mark.parametrize(
    "params",
    [
        {"sortBy": "foo"},
        {"sortBy": "name..x"},
        {"sortBy": "userName", "sortOrder": "sideways"},
        {"sortOrder": "up"},
    ],
)
async def test_bad_sorting_is_invalid_value(
    client: AsyncTestClient[Any], roster: Roster, params: dict[str, str]
) -> None:
    response = await client.get(f"{roster.path}/Users", params=params, headers=roster.headers)
    _error(response, 400, "invalidValue")


async def test_huge_start_index_is_an_empty_page(
    client: AsyncTestClient[Any], roster: Roster
) -> None:
    status, body = await _list(client, roster, startIndex="99999999999999999999", count=10)
    assert status == 200
    assert body["totalResults"] == 4
    assert body.get("Resources", []) == []
    assert body["itemsPerPage"] == 0


# --- POST .search --------------------------------------------------------------------------


async def test_post_search_answers_like_get(client: AsyncTestClient[Any], roster: Roster) -> None:
    for kind, query in (
        ("Users", {"filter": 'userName co "@x"', "sortBy": "userName", "sortOrder": "descending"}),
        ("Groups", {"filter": 'displayName sw "n"', "sortBy": "displayName"}),
    ):
        get = await client.get(
            f"{roster.path}/{kind}",
            params={**query, "startIndex": 1, "count": 1, "attributes": "id,meta"},
            headers=roster.headers,
        )
        post = await client.post(
            f"{roster.path}/{kind}/.search",
            json={
                "schemas": [SEARCH_SCHEMA],
                **query,
                "startIndex": 1,
                "count": 1,
                "attributes": ["id", "meta"],
            },
            headers=roster.headers,
        )
        assert get.status_code == post.status_code == 200, post.text
        assert post.json() == get.json()
        assert post.json()["totalResults"] == (2 if kind == "Users" else 1)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        pytest.param({}, [*USER_NAMES, "Nurses", "Admins"], id="everything"),
        pytest.param({"filter": 'displayName sw "N"'}, ["Nurses"], id="groups-only"),
        pytest.param(
            {"filter": 'userName co "@x"'}, ["alice@x.org", "carol@x.org"], id="users-only"
        ),
        pytest.param({"startIndex": 4, "count": 2}, ["dave@z.org", "Nurses"], id="across-types"),
        pytest.param({"startIndex": 6, "count": 5}, ["Admins"], id="last-page"),
    ],
)
async def test_root_search_spans_users_and_groups(
    client: AsyncTestClient[Any],
    roster: Roster,
    search: dict[str, Any],
    expected: list[str],
) -> None:
    response = await client.post(
        f"{roster.path}/.search",
        json={"schemas": [SEARCH_SCHEMA], **search},
        headers=roster.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert _names(body) == expected
    assert body["itemsPerPage"] == len(expected)
    assert body["startIndex"] == search.get("startIndex", 1)
    if "filter" not in search:
        assert body["totalResults"] == 6
    else:
        assert body["totalResults"] == len(expected)
    schemas = {r["schemas"][0] for r in body["Resources"]}
    assert schemas <= {USER_SCHEMA, GROUP_SCHEMA}


async def test_root_search_refuses_what_neither_type_declares(
    client: AsyncTestClient[Any], roster: Roster
) -> None:
    response = await client.post(
        f"{roster.path}/.search",
        json={"schemas": [SEARCH_SCHEMA], "filter": 'foo eq "x"'},
        headers=roster.headers,
    )
    _error(response, 400, "invalidFilter")


# --- attributes ----------------------------------------------------------------------------


async def test_attributes_returns_the_asked_ones_and_id(
    client: AsyncTestClient[Any], roster: Roster
) -> None:
    """RFC 7643 §7: ``id`` is returned always; ``schemas`` names what the resource is."""
    status, body = await _list(client, roster, attributes="userName")
    assert status == 200
    assert body["totalResults"] == 4
    assert {frozenset(r) for r in body["Resources"]} == {frozenset({"id", "schemas", "userName"})}
    alice = roster.users["alice@x.org"]
    single = await client.get(
        f"{roster.path}/Users/{alice}",
        params={"attributes": "name.givenName,emails.value"},
        headers=roster.headers,
    )
    assert single.json() == {
        "schemas": [USER_SCHEMA],
        "id": alice,
        "name": {"givenName": "Alice"},
        "emails": [{"value": "alice@x.org"}],
    }
    root = await client.post(
        f"{roster.path}/.search",
        json={"schemas": [SEARCH_SCHEMA], "attributes": ["displayName"]},
        headers=roster.headers,
    )
    assert {frozenset(r) for r in root.json()["Resources"]} == {
        frozenset({"id", "schemas"}),
        frozenset({"id", "schemas", "displayName"}),
    }


async def test_excluded_attributes_removes_them(
    client: AsyncTestClient[Any], roster: Roster
) -> None:
    status, body = await _list(client, roster, excludedAttributes="emails,groups")
    assert status == 200
    resources = {r["userName"]: r for r in body["Resources"]}
    assert set(resources) == set(USER_NAMES)
    assert all("emails" not in r and "groups" not in r for r in resources.values())
    assert resources["alice@x.org"]["name"] == {"givenName": "Alice", "familyName": "Ng"}
    assert all("id" in r and "meta" in r for r in resources.values())
    # id is returned always, even when excluded.
    status, body = await _list(client, roster, excludedAttributes="id")
    assert all("id" in r for r in body["Resources"])


async def test_attributes_and_excluded_attributes_together_are_refused(
    client: AsyncTestClient[Any], roster: Roster
) -> None:
    response = await client.get(
        f"{roster.path}/Users",
        params={"attributes": "userName", "excludedAttributes": "emails"},
        headers=roster.headers,
    )
    assert response.status_code == 400
    assert response.json()["schemas"] == [ERROR_SCHEMA]


# --- filters -------------------------------------------------------------------------------

FILTERS: list[Any] = [
    pytest.param('userName sw "a"', {"alice@x.org"}, id="sw"),
    pytest.param('userName co "@x"', {"alice@x.org", "carol@x.org"}, id="co"),
    pytest.param('userName ew "Y.ORG"', {"bob@y.org"}, id="ew-case-insensitive"),
    pytest.param('UserName EQ "ALICE@X.ORG"', {"alice@x.org"}, id="eq-any-case"),
    pytest.param('userName ne "alice@x.org"', {"bob@y.org", "carol@x.org", "dave@z.org"}, id="ne"),
    pytest.param('userName gt "bob@y.org"', {"carol@x.org", "dave@z.org"}, id="gt"),
    pytest.param('userName ge "bob@y.org"', {"bob@y.org", "carol@x.org", "dave@z.org"}, id="ge"),
    pytest.param('userName lt "b"', {"alice@x.org"}, id="lt"),
    pytest.param('userName le "bob@y.org"', {"alice@x.org", "bob@y.org"}, id="le"),
    pytest.param("phoneNumbers pr", {"alice@x.org", "carol@x.org"}, id="pr"),
    pytest.param("name.givenName pr", {"alice@x.org", "bob@y.org"}, id="sub-attribute-pr"),
    pytest.param("not (phoneNumbers pr)", {"bob@y.org", "dave@z.org"}, id="not"),
    pytest.param("active eq false", {"bob@y.org"}, id="boolean"),
    pytest.param('name.familyName eq "zed"', {"dave@z.org"}, id="sub-attribute"),
    pytest.param('userName co "@x" and active eq true', {"alice@x.org", "carol@x.org"}, id="and"),
    pytest.param('userName sw "a" or userName sw "d"', {"alice@x.org", "dave@z.org"}, id="or"),
    pytest.param(
        '(userName sw "a" or userName sw "b") and not (active eq false)',
        {"alice@x.org"},
        id="grouping",
    ),
    pytest.param(
        'emails[type eq "work" and value co "@x"]',
        {"alice@x.org", "dave@z.org"},
        id="value-path",
    ),
    pytest.param('emails[type eq "home"]', set(), id="value-path-no-match"),
    pytest.param('emails.value ew "y.org"', {"bob@y.org"}, id="emails.value"),
    pytest.param("id pr", set(USER_NAMES), id="id-pr"),
    pytest.param('meta.resourceType eq "User"', set(USER_NAMES), id="resourceType"),
    pytest.param('title eq "x"', set(), id="attribute-not-kept"),
    pytest.param(f'{ENTERPRISE}:employeeNumber eq "1"', set(), id="extension-not-kept"),
]


@pytest.mark.parametrize(("text", "expected"), FILTERS)
async def test_filters(
    client: AsyncTestClient[Any], roster: Roster, text: str, expected: set[str]
) -> None:
    status, body = await _list(client, roster, filter=text)
    assert status == 200, body
    assert set(_names(body)) == expected
    assert body["totalResults"] == len(expected)


async def test_filter_by_id(client: AsyncTestClient[Any], roster: Roster) -> None:
    alice, nurses = roster.users["alice@x.org"], roster.groups["Nurses"]
    cases = [
        ("Users", f'id eq "{alice}"', [alice]),
        ("Users", f'id ne "{alice}"', [i for i in roster.users.values() if i != alice]),
        ("Users", 'id eq "not-a-uuid"', []),
        ("Groups", f'id eq "{nurses}"', [nurses]),
        ("Groups", 'meta.resourceType eq "Group"', list(roster.groups.values())),
    ]
    found: dict[str, Any] = {}
    for kind, text, _ in cases:
        response = await client.get(
            f"{roster.path}/{kind}", params={"filter": text}, headers=roster.headers
        )
        found[f"{kind} {text}"] = (
            [r["id"] for r in response.json().get("Resources", [])]
            if response.status_code == 200
            else response.status_code
        )
    assert found == {f"{kind} {text}": ids for kind, text, ids in cases}


@pytest.mark.parametrize(
    ("kind", "text", "status", "scim_type"),
    [
        pytest.param("Users", 'foo eq "x"', 400, "invalidFilter", id="undeclared"),
        pytest.param("Groups", 'userName eq "x"', 400, "invalidFilter", id="user-attr-on-groups"),
        pytest.param("Users", 'active eq "yes"', 400, "invalidFilter", id="wrong-type"),
        pytest.param(
            "Users",
            " or ".join(['userName eq "a"'] * 65),
            400,
            "tooMany",
            id="more-than-64-terms",
        ),
        pytest.param("Users", 'userName eq "' + "a" * 10_240 + '"', 400, "tooMany", id="10-kB"),
    ],
)
async def test_refused_filters(
    client: AsyncTestClient[Any],
    roster: Roster,
    kind: str,
    text: str,
    status: int,
    scim_type: str,
) -> None:
    response = await client.get(
        f"{roster.path}/{kind}", params={"filter": text}, headers=roster.headers
    )
    _error(response, status, scim_type)
    post = await client.post(
        f"{roster.path}/{kind}/.search",
        json={"schemas": [SEARCH_SCHEMA], "filter": text},
        headers=roster.headers,
    )
    _error(post, status, scim_type)


# --- a userName lookup ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"attributes": "userName,groups"},
        {"excludedAttributes": "groups,emails"},
        {"sortBy": "name.familyName", "sortOrder": "descending", "count": "1"},
        {"startIndex": "1", "count": "5"},
    ],
)
async def test_a_user_name_lookup_answers_as_the_list_statement_does(
    client: AsyncTestClient[Any], roster: Roster, extra: dict[str, str]
) -> None:
    """``userName eq "x"`` alone is read as a read by id reads an account (by its unique
    key); the same filter said twice goes through the list statement: the answers agree."""
    gone = await client.post(
        f"{roster.path}/Users",
        json={"schemas": [USER_SCHEMA], "userName": f"gone-{len(extra)}@x.org"},
        headers=roster.headers,
    )
    assert gone.status_code == 201, gone.text
    deleted = await client.delete(
        f"{roster.path}/Users/{gone.json()['id']}", headers=roster.headers
    )
    assert deleted.status_code in {200, 204}, deleted.text
    names = [*USER_NAMES, "ALICE@X.ORG", "Carol@X.org", f"gone-{len(extra)}@x.org", "nobody@x.org"]
    for name in names:
        alone = f'userName eq "{name}"'
        status, looked_up = await _list(client, roster, filter=alone, **extra)
        assert status == 200, looked_up
        status, listed = await _list(client, roster, filter=f"{alone} or {alone}", **extra)
        assert status == 200, listed
        assert looked_up == listed
        found = name.lower() in USER_NAMES
        assert looked_up["totalResults"] == (1 if found else 0), (name, looked_up)
    status, body = await _list(client, roster, filter='userName eq "alice@x.org"')
    assert [g["display"] for g in body["Resources"][0]["groups"]] == ["Nurses"]
