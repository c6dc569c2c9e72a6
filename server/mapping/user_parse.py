"""A User create or replace body (RFC 7644 §3.3, §3.5.1) read into a staff profile, fast.

``accepted_resource`` leaves a body with ``schemas`` and the attributes the platform keeps
(RFC 7643 §4.1: ``userName``, ``name``, ``emails``, ``phoneNumbers``, ``active``,
``externalId``). Validating that with the full ``User[EnterpriseUser]`` still runs
scim2-models' per-field context and necessity checks over every User attribute and the
extension, about a fifth of a create's CPU. ``AcceptedUser`` is a scim2-models resource
declaring only the kept attributes, with User's own annotations and sub-attribute classes, so
pydantic and scim2-models validate them exactly as before: same case-insensitive keys, same
``schemas`` check, same required ``userName``, same errors, same values.

Why that is the same outcome: every key ``accepted_resource`` keeps names, for ``User``, one of
the fields declared here or none at all (then it is an unknown attribute, ignored by both);
the fields keep User's order, so errors come in the same order; the resource-level
validators are the ones ``User`` inherits too. Two of those validators would read the
difference between the models, the extension-schema check under ``Unknown.forbid`` and the
comparison-form check under a custom ``comparison_key``; under such a policy, or in another
context, the body goes through the full model instead. tests/unit/test_user_parse.py checks
the claim against the full model on generated bodies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, cast

from scim2_models import (
    Context,
    Email,
    Name,
    PhoneNumber,
    Required,
    Resource,
    ScimPolicy,
    Uniqueness,
    User,
    default_comparison_key,
)

from server.mapping.inbound import USER_PROFILE, accepted_resource
from server.mapping.schema import SCIM_POLICY, UserModel
from server.mapping.users import profile_from_scim

if TYPE_CHECKING:
    from server.domain.staff import StaffProfile

__all__ = ["AcceptedUser", "parse_user_profile", "reading_model"]


class AcceptedUser(Resource[Any]):
    """The User attributes a staff profile keeps, typed as ``User`` types them.

    ``id``, ``externalId`` and ``meta`` come from ``Resource``, as for ``User``."""

    __schema__ = User.__schema__

    user_name: Annotated[str | None, Uniqueness.server, Required.true] = None
    name: Name | None = None
    active: bool | None = None
    emails: list[Email] | None = None
    phone_numbers: list[PhoneNumber] | None = None


# Only these contexts were shown equivalent; they are the two a body is parsed in.
_PROVEN_CONTEXTS = frozenset(
    {Context.RESOURCE_CREATION_REQUEST, Context.RESOURCE_REPLACEMENT_REQUEST}
)


def reading_model(policy: ScimPolicy, context: Context) -> type[Resource[Any]]:
    """The narrow model where it reads a body as the full one does, else the full one."""
    if (
        context in _PROVEN_CONTEXTS
        and policy.unknown is not ScimPolicy.Unknown.forbid
        and policy.comparison_key is default_comparison_key
    ):
        return AcceptedUser
    return cast("type[Resource[Any]]", UserModel)


def parse_user_profile(body: dict[str, Any], context: Context) -> StaffProfile:
    """The staff profile a POST or PUT body asks for; raises what ``User[EnterpriseUser]``
    validation raises (``pydantic.ValidationError``), with the same errors."""
    model = reading_model(SCIM_POLICY, context)
    resource = model.model_validate(
        accepted_resource(body, USER_PROFILE), scim_ctx=context, scim_policy=SCIM_POLICY
    )
    # profile_from_scim reads only the attributes AcceptedUser declares, typed as in User.
    return profile_from_scim(cast("User[Any]", resource))
