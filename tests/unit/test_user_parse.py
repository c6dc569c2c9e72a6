"""``parse_user_profile`` (server/mapping/user_parse.py) reads every create and replace body as
the full ``User[EnterpriseUser]`` validation does: the same staff profile, or the same error
response, whatever an identity provider (or anyone else) sends."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scim2_models import Context, ScimPolicy, User

from server.domain.staff import StaffProfile
from server.mapping.inbound import USER_PROFILE, accepted_resource
from server.mapping.schema import SCIM_POLICY, UserModel
from server.mapping.user_parse import accepted_user_model, parse_user_profile, reading_model
from server.mapping.users import profile_from_scim
from server.scim.operations.failures import failure
from simulators.core.builders import create_user
from simulators.core.directory import Person, generated_person
from simulators.core.mapping import user_body
from simulators.core.registry import idps, make_dialect

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CONTEXTS = (Context.RESOURCE_CREATION_REQUEST, Context.RESOURCE_REPLACEMENT_REQUEST)


def full_model_profile(body: dict[str, Any], context: Context) -> StaffProfile:
    """The reading this module replaces, as server/scim/users.py ``_parse_user`` had it."""
    resource = UserModel.model_validate(
        accepted_resource(body, USER_PROFILE), scim_ctx=context, scim_policy=SCIM_POLICY
    )
    return profile_from_scim(resource)


def client_sees(exc: Exception) -> tuple[int, Any]:
    """Status and body of the answer an operation makes of an exception."""
    answer = failure(exc, "POST", "/Users")
    return answer.status, json.loads(answer.body)


def outcome(parse: Any, body: dict[str, Any], context: Context) -> tuple[Any, ...]:
    try:
        return ("profile", parse(body, context))
    except Exception as exc:  # every exception counts: both must raise the same
        errors = (
            exc.errors(include_url=False, include_input=False)
            if isinstance(exc, ValidationError)
            else None
        )
        return ("error", type(exc), client_sees(exc), errors)


def assert_same(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    results = []
    for context in CONTEXTS:
        expected = outcome(full_model_profile, body, context)
        assert outcome(parse_user_profile, body, context) == expected, (body, context)
        results.append(expected)
    return results


# --- what identity providers send, and what they should not ---------------------------------

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
junk = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(text, inner, max_size=2),
    max_leaves=4,
)
realistic_email = st.sampled_from(
    ["alice@example.org", "Bob.Smith@Contoso.onmicrosoft.com", "x+tag@sub.example.co.uk"]
)
bad_email = st.sampled_from(["", " ", "alice", "alice@", "@example.org", "a@b", "a b@c.org"])
email_value = realistic_email | bad_email | st.emails() | st.none() | junk


def spelled(name: str) -> st.SearchStrategy[str]:
    """RFC 7643 §2.1 names are case-insensitive; some clients prefix the core schema URN."""
    return st.sampled_from([name, name.lower(), name.upper(), f"{CORE}:{name}"])


def some_keys(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, values in fields.items():
            if draw(st.booleans()):
                out[draw(st.sampled_from([name, name.lower(), name.capitalize()]))] = draw(values)
        return out

    return build()


good_flag = st.booleans() | st.sampled_from(["True", "False", "true", "false"])
flag = good_flag | st.sampled_from(["yes", "x", "1", "0", "on", "no", "", 1, 0, 2, 1.0]) | junk
email_types = st.sampled_from(["work", "Work", "home", "other", "custom"])
phone_types = st.sampled_from(["mobile", "work", "Mobile", "fax"])
phone_value = st.sampled_from(["+1 555 0100", "0612345678", "", " "]) | text


def item(
    value: st.SearchStrategy[Any], kind: st.SearchStrategy[Any], primary: st.SearchStrategy[Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """One value of a multi-valued attribute; it nearly always has a ``value``."""
    others = some_keys({"type": kind, "primary": primary, "display": text})
    key = st.sampled_from(["value", "value", "Value", "VALUE"])
    with_value = st.tuples(key, value, others).map(lambda t: {t[0]: t[1], **t[2]})
    return with_value | others


def mostly_lists(
    items: st.SearchStrategy[Any], other: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """A list of near-miss values, now and then a junk entry, else something not a list."""

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        shape = draw(st.integers(0, 5))
        if shape == 0:
            return draw(other)
        entries = draw(st.lists(items, min_size=1, max_size=3))
        if shape == 1:
            entries.insert(draw(st.integers(0, len(entries))), draw(junk))
        return entries

    return build()


# Well formed, as identity providers send them...
good: dict[str, st.SearchStrategy[Any]] = {
    "userName": realistic_email | st.sampled_from(["bjensen", "Bob Smith"]),
    "name": some_keys({"givenName": text, "familyName": text, "formatted": text}),
    "emails": st.lists(item(realistic_email, email_types, good_flag), max_size=3),
    "phoneNumbers": st.lists(item(phone_value, phone_types, good_flag), max_size=3),
    "active": good_flag,
    "externalId": text | st.uuids().map(str),
    "schemas": st.sampled_from([[CORE], [CORE, ENTERPRISE], [ENTERPRISE, CORE]]),
}
# ...and what they should not send.
bad: dict[str, st.SearchStrategy[Any]] = {
    "userName": st.sampled_from(["", " "]) | junk,
    "name": some_keys({"givenName": text | junk, "familyName": junk, "middleName": text}) | junk,
    "emails": mostly_lists(item(bad_email | email_value, email_types | junk, flag), email_value),
    "phoneNumbers": mostly_lists(item(phone_value | junk, phone_types | junk, flag), junk),
    "active": flag,
    "externalId": junk,
    "schemas": st.sampled_from(
        [[ENTERPRISE], [], [CORE.lower()], [CORE, "urn:example:other"], CORE, None, [CORE, 3]]
    )
    | junk,
}
# Kept away before validation, whatever their shape.
ignored: dict[str, st.SearchStrategy[Any]] = {
    "displayName": text | junk,
    "meta": st.just({"resourceType": "User"}) | junk,
    "id": text,
    "password": text,
    "groups": st.just([]) | junk,
    "roles": st.just([{"primary": True, "value": '{"id": "r1", "value": "Nurse"}'}]) | junk,
    ENTERPRISE: st.just({"employeeNumber": "1", "manager": "m-id"}) | junk,
    "name.givenName": text,
    'emails[type eq "work"].value': email_value,
    "user_name": text,
}


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Half like a real create, a quarter with one near-miss, a quarter anything goes."""
    body: dict[str, Any] = {}
    kind = draw(st.sampled_from(["real", "real", "near-miss", "hostile"]))
    # Multi-valued attributes have the most ways to go wrong, and schemas the most ways to be
    # refused as a whole: spoil them more often.
    spoiled = draw(st.sampled_from([*good, "emails", "phoneNumbers", "schemas"]))
    for name, well_formed in good.items():
        if kind == "hostile":
            values = bad[name] | well_formed
        else:
            values = bad[name] if kind == "near-miss" and name == spoiled else well_formed
        required = kind != "hostile" and name in {"schemas", "userName"}
        if required or draw(st.booleans()):
            key = draw(spelled(name)) if kind != "real" else name
            body[key] = draw(values)
    if kind != "real" and draw(st.integers(0, 3)) == 0:
        # The same attribute twice, differently spelled: the later key wins.
        name = draw(st.sampled_from(sorted(good)))
        body[name.upper()] = draw(bad[name] | good[name])
    for name, values in ignored.items():
        if draw(st.integers(0, 3)) == 0:
            body[name] = draw(values)
    return body


@settings(
    max_examples=800,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(bodies())
def test_any_body_reads_as_the_full_user_model_reads_it(body: dict[str, Any]) -> None:
    assert_same(body)


# --- the bodies our simulated identity providers send ---------------------------------------


def _people() -> list[Person]:
    base = generated_person(7)
    return [
        base,
        generated_person(123, domain="contoso.onmicrosoft.com"),
        Person(key="bare", user_name="bare@example.org"),
        Person(
            key="full",
            user_name="Dana.Full@example.org",
            given_name="Dana",
            family_name="Full",
            middle_name="Q",
            email="dana@example.org",
            mobile="+1 555 0199",
            work_phone="+1 555 0100",
            title="Nurse",
            department="Clinic",
            employee_number="42",
            locality="Leeds",
            region="WY",
            country="GB",
            manager="user7",
            roles=["Nurse", "Admin"],
            external_id="ext-42",
            active=False,
        ),
    ]


def _dialects() -> list[Any]:
    found = []
    for name, profile in idps().items():
        found.append(make_dialect(name))
        found.extend(make_dialect(name, [variant]) for variant in profile.variants)
    return found


SIMULATED = [
    pytest.param(dialect, person, id=f"{dialect.name}-{person.key}")
    for dialect in _dialects()
    for person in _people()
]


@pytest.mark.parametrize(("dialect", "person"), SIMULATED)
def test_simulated_creates_and_replacements_read_the_same(dialect: Any, person: Person) -> None:
    password = "S3cret!pass" if dialect.sends_password else None
    create = create_user(dialect, person, password=password).body
    assert create is not None
    for context in CONTEXTS:
        expected = full_model_profile(create, context)
        assert parse_user_profile(create, context) == expected
        assert expected.user_name == person.user_name
    replacement = user_body(dialect, person, active=person.active, server_id="srv-1")
    context = Context.RESOURCE_REPLACEMENT_REQUEST
    assert parse_user_profile(replacement, context) == full_model_profile(replacement, context)


def test_an_entra_create_reads_into_the_profile_it_names() -> None:
    body = {
        "schemas": [CORE, ENTERPRISE],
        "externalId": "alice",
        "userName": "Alice@contoso.com",
        "active": True,
        "displayName": "Alice Example",
        "name": {"givenName": "Alice", "familyName": "Example", "formatted": "Alice Example"},
        "emails": [{"primary": True, "type": "work", "value": "alice@contoso.com"}],
        "phoneNumbers": [{"type": "work", "value": "+1 555"}, {"type": "mobile", "value": "+2"}],
        ENTERPRISE: {"employeeNumber": "7", "department": "Clinic", "manager": "bob"},
        "meta": {"resourceType": "User"},
    }
    assert parse_user_profile(body, Context.RESOURCE_CREATION_REQUEST) == StaffProfile(
        user_name="Alice@contoso.com",
        given_name="Alice",
        family_name="Example",
        cell_phone="+2",
        email="alice@contoso.com",
        active=True,
        external_id="alice",
    )


@pytest.mark.parametrize(
    ("body", "refusal"),
    [
        ({"schemas": [CORE]}, "invalidValue"),  # userName is required
        ({"schemas": [CORE], "USERNAME": None}, "invalidValue"),
        ({"schemas": [CORE], f"{CORE}:userName": "a"}, "invalidValue"),  # an unknown key
        ({"schemas": [CORE], "userName": ""}, None),  # validation lets the service judge it
        ({"userName": "a"}, None),  # schemas omitted: tolerated
        ({"schemas": [ENTERPRISE], "userName": "a"}, "invalidSyntax"),
        ({"schemas": [CORE.lower()], "userName": "a"}, "invalidSyntax"),
        ({"schemas": CORE, "userName": "a"}, "invalidValue"),
        ({"schemas": [CORE], "userName": "a", "emails": [{"value": "nope"}]}, "invalidValue"),
        ({"schemas": [CORE], "userName": "a", "emails": "a@example.org"}, "invalidValue"),
        ({"schemas": [CORE], "userName": 5}, "invalidValue"),
        ({"schemas": [CORE], "userName": "a", "active": "maybe"}, "invalidValue"),
        ({"schemas": [CORE], "userName": "a", "active": "False"}, None),
        (
            {
                "schemas": [CORE],
                "userName": "a",
                "emails": [{"primary": True}, {"primary": "true"}],
            },
            "invalidValue",  # two primaries (RFC 7643 §2.4)
        ),
    ],
)
def test_refusals_are_the_full_models(body: dict[str, Any], refusal: str | None) -> None:
    [create, replace] = assert_same(body)
    assert create == replace
    if refusal is None:
        assert create[0] == "profile"
    else:
        assert create[2][0] == 400
        assert create[2][1]["scimType"] == refusal


# --- why the narrow model can stand in for the full one -------------------------------------


def test_the_narrow_model_declares_users_fields_as_user_does_in_users_order() -> None:
    full = UserModel.model_fields
    order = list(full)
    assert sorted(accepted_user_model().model_fields, key=order.index) == list(
        accepted_user_model().model_fields
    )
    for name, field in accepted_user_model().model_fields.items():
        assert repr(field.annotation) == repr(full[name].annotation), name
        assert field.metadata == full[name].metadata, name
        assert (field.validation_alias, field.default) == (
            full[name].validation_alias,
            full[name].default,
        ), name
    assert accepted_user_model().__schema__ == User.__schema__
    # A key naming one of its fields names the same one in the full model.
    narrow_names = accepted_user_model().__scim_info__.field_by_name
    assert narrow_names.items() <= UserModel.__scim_info__.field_by_name.items()


def test_policies_and_contexts_not_shown_equivalent_use_the_full_model() -> None:
    creation = Context.RESOURCE_CREATION_REQUEST
    assert reading_model(SCIM_POLICY, creation) is accepted_user_model()
    assert reading_model(SCIM_POLICY, Context.RESOURCE_REPLACEMENT_REQUEST) is accepted_user_model()
    assert reading_model(ScimPolicy(), creation) is UserModel  # unknown=forbid
    custom_key = ScimPolicy(unknown=ScimPolicy.Unknown.ignore, comparison_key=lambda _b, v: v)
    assert reading_model(custom_key, creation) is UserModel
    assert reading_model(SCIM_POLICY, Context.RESOURCE_PATCH_REQUEST) is UserModel
    assert reading_model(SCIM_POLICY, Context.DEFAULT) is UserModel
