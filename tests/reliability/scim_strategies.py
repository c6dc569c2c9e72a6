"""Hypothesis strategies for hostile SCIM traffic: bodies, filters, PATCH paths and query
parameters, built from the names real identity providers send plus arbitrary text."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from tests.reliability.support import PATCH_SCHEMA, USER_SCHEMA

GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
SEARCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

NAMES = [
    "userName", "UserName", "USERNAME", "name", "name.givenName", "name.familyName",
    "name.formatted", "emails", "emails.value", "emails.type", "emails.primary",
    "phoneNumbers", "phoneNumbers.value", "phoneNumbers.type", "active", "Active",
    "externalId", "id", "meta", "meta.lastModified", "meta.created", "meta.version",
    "title", "displayName", "nickName", "groups", "groups.value", "members", "members.value",
    "members.display", "roles", "roles.value", "addresses.country", "password",
    f"{USER_SCHEMA}:userName", f"{USER_SCHEMA}:name.givenName", f"{ENTERPRISE}:manager",
    f"{ENTERPRISE}:manager.value", f"{ENTERPRISE}:employeeNumber", "urn:x:y:z:attr",
    "", " ", ".", "a.b.c.d", "name..givenName", "emails[", "]", "schemas",
]  # fmt: skip
ATTRIBUTE = st.one_of(st.sampled_from(NAMES), st.text(max_size=24))
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(["True", "False", "true", "", "x" * 300]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(ATTRIBUTE, inner, max_size=4)
    ),
    max_leaves=12,
)

_OPERATORS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ", "Sw", "xx", "pr", ""]
_LITERALS = [
    '"x"', '"dana.lee@example.org"', "true", "false", "null", "42", "-1.5e3",
    '"2024-01-01T00:00:00Z"', '"\\"q\\""', "'single'", '"unterminated', '"é"', '""',
]  # fmt: skip
LITERAL = st.one_of(
    st.sampled_from(_LITERALS), st.text(max_size=12).map(json.dumps), st.text(max_size=8)
)
COMPARISON = st.one_of(
    st.builds(lambda a, o, v: f"{a} {o} {v}", ATTRIBUTE, st.sampled_from(_OPERATORS), LITERAL),
    st.builds(lambda a: f"{a} pr", ATTRIBUTE),
)
FILTER = st.one_of(
    st.recursive(
        COMPARISON,
        lambda f: st.one_of(
            st.builds(lambda a, b: f"{a} and {b}", f, f),
            st.builds(lambda a, b: f"{a} or {b}", f, f),
            st.builds(lambda a: f"not ({a})", f),
            st.builds(lambda a: f"({a})", f),
            st.builds(lambda n, a: f"{n}[{a}]", ATTRIBUTE, f),
        ),
        max_leaves=6,
    ),
    st.text(max_size=60),
    st.just("(" * 200 + 'userName eq "x"' + ")" * 200),
    st.just(" or ".join(f'userName eq "u{i}"' for i in range(80))),
)
PATCH_PATH = st.one_of(
    st.none(),
    ATTRIBUTE,
    st.builds(
        lambda a, f, s: f"{a}[{f}]{s}",
        ATTRIBUTE,
        COMPARISON,
        st.sampled_from(["", ".value", ".type", "."]),
    ),
)
PATCH_OPERATION = st.one_of(
    st.fixed_dictionaries(
        {
            "op": st.sampled_from(
                ["add", "replace", "remove", "Add", "REPLACE", "Remove", "move", ""]
            ),
            "path": PATCH_PATH,
            "value": JSON,
        }
    ).map(lambda op: {k: v for k, v in op.items() if v is not None or k == "value"}),
    JSON,
)
PATCH_BODY = st.one_of(
    st.fixed_dictionaries(
        {
            "schemas": st.one_of(st.just([PATCH_SCHEMA]), JSON),
            "Operations": st.one_of(st.lists(PATCH_OPERATION, max_size=4), JSON),
        }
    ),
    JSON,
)
USER_BODY = st.one_of(
    st.builds(
        lambda base, extra: {**base, **extra},
        st.fixed_dictionaries(
            {
                "schemas": st.one_of(st.just([USER_SCHEMA]), JSON),
                "userName": st.one_of(st.text(max_size=30), JSON),
            },
            optional={
                "name": JSON,
                "emails": JSON,
                "phoneNumbers": JSON,
                "active": JSON,
                "externalId": JSON,
                "id": JSON,
                "meta": JSON,
                ENTERPRISE: JSON,
            },
        ),
        st.dictionaries(ATTRIBUTE, JSON, max_size=3),
    ),
    JSON,
)
GROUP_BODY = st.one_of(
    st.fixed_dictionaries(
        {
            "schemas": st.one_of(st.just([GROUP_SCHEMA]), JSON),
            "displayName": st.one_of(st.text(max_size=30), JSON),
        },
        optional={
            "members": st.one_of(
                st.lists(
                    st.fixed_dictionaries({"value": st.one_of(st.text(max_size=40), JSON)}),
                    max_size=3,
                ),
                JSON,
            ),
            "externalId": JSON,
        },
    ),
    JSON,
)
NUMBER_TEXT = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**70).map(str), st.text(max_size=8)
)
QUERY = st.fixed_dictionaries(
    {},
    optional={
        "filter": FILTER,
        "startIndex": NUMBER_TEXT,
        "count": NUMBER_TEXT,
        "sortBy": ATTRIBUTE,
        "sortOrder": st.sampled_from(["ascending", "descending", "up", ""]),
        "attributes": st.lists(ATTRIBUTE, max_size=3).map(",".join),
        "excludedAttributes": st.lists(ATTRIBUTE, max_size=3).map(",".join),
    },
)
SEARCH_BODY = st.one_of(
    st.fixed_dictionaries(
        {"schemas": st.one_of(st.just([SEARCH_SCHEMA]), JSON)},
        optional={
            "filter": st.one_of(FILTER, JSON),
            "startIndex": JSON,
            "count": JSON,
            "sortBy": ATTRIBUTE,
            "attributes": st.one_of(st.lists(ATTRIBUTE, max_size=3), JSON),
            "excludedAttributes": JSON,
        },
    ),
    JSON,
)
IF_MATCH = st.one_of(
    st.none(), st.sampled_from(['"1"', 'W/"1"', "*", '"999"', '"x", W/"2"', "garbage"])
)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    raw: bytes | None = None
    content_type: str = "application/scim+json"
    if_match: str | None = None


def _ids(known: list[str]) -> st.SearchStrategy[str]:
    """Existing ids, nil UUIDs and arbitrary text (percent-encoded into the path)."""
    return st.one_of(
        st.sampled_from(known), st.just("0" * 32), st.text(min_size=1, max_size=40)
    ).map(lambda value: quote(value, safe=""))


def calls(users: list[str], groups: list[str]) -> st.SearchStrategy[Call]:
    """Every SCIM verb with hostile input (ids: existing ones, random text, nil UUIDs)."""
    user_id, group_id = _ids(users), _ids(groups)
    raw_body = st.tuples(
        st.binary(max_size=200),
        st.sampled_from(
            ["application/scim+json", "application/json", "text/plain", "", "application/xml"]
        ),
    )
    return st.one_of(
        st.builds(Call, st.just("POST"), st.just("/Users"), body=USER_BODY),
        st.builds(
            lambda i, b, m: Call("PUT", f"/Users/{i}", body=b, if_match=m),
            user_id,
            USER_BODY,
            IF_MATCH,
        ),
        st.builds(
            lambda i, b, m: Call("PATCH", f"/Users/{i}", body=b, if_match=m),
            user_id,
            PATCH_BODY,
            IF_MATCH,
        ),
        st.builds(lambda q: Call("GET", "/Users", params=q), QUERY),
        st.builds(lambda i, q: Call("GET", f"/Users/{i}", params=q), user_id, QUERY),
        st.builds(lambda i, m: Call("DELETE", f"/Users/{i}", if_match=m), user_id, IF_MATCH),
        st.builds(lambda b: Call("POST", "/Users/.search", body=b), SEARCH_BODY),
        st.builds(lambda b: Call("POST", "/.search", body=b), SEARCH_BODY),
        st.builds(Call, st.just("POST"), st.just("/Groups"), body=GROUP_BODY),
        st.builds(lambda i, b: Call("PATCH", f"/Groups/{i}", body=b), group_id, PATCH_BODY),
        st.builds(lambda i, b: Call("PUT", f"/Groups/{i}", body=b), group_id, GROUP_BODY),
        st.builds(lambda q: Call("GET", "/Groups", params=q), QUERY),
        st.builds(
            lambda m, p, rc: Call(m, p, raw=rc[0], content_type=rc[1]),
            st.sampled_from(["POST", "PUT", "PATCH"]),
            st.sampled_from(["/Users", f"/Users/{users[0]}", "/Groups", "/.search"]),
            raw_body,
        ),
    )
