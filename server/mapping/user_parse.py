"""A User create or replace body (RFC 7644 §3.3, §3.5.1) read into a staff profile, fast.

``accepted_resource`` leaves a body with ``schemas`` and the attributes the platform keeps
(``server.domain.user_attributes``). Validating that with the full ``User[EnterpriseUser]``
still runs scim2-models' per-field context and necessity checks over every User attribute
and the extension, about a fifth of a create's CPU. ``accepted_user_model()`` is a
scim2-models resource built from the table, declaring only the kept attributes with User's
own annotations and sub-attribute classes, so pydantic and scim2-models validate them
exactly as before: same case-insensitive keys, same ``schemas`` check, same required
``userName``, same errors, same values.

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

import types
import typing
from typing import TYPE_CHECKING, Any, cast

from scim2_models import (
    Context,
    Resource,
    ScimPolicy,
    User,
    default_comparison_key,
)

from server.domain.user_attributes import USER_ATTRIBUTES, UserAttribute
from server.mapping.inbound import USER_PROFILE, accepted_resource
from server.mapping.schema import SCIM_POLICY, UserModel
from server.mapping.users import model_field, profile_from_scim

if TYPE_CHECKING:
    from server.domain.staff import StaffProfile

__all__ = ["accepted_user_model", "parse_user_profile", "reading_model"]


def _accepted_model(attributes: tuple[UserAttribute, ...]) -> type[Resource[Any]]:
    """The kept attributes' ``User`` fields, typed and defaulted as ``User`` declares them, in
    ``User``'s order; ``id``, ``externalId`` and ``meta`` come from ``Resource``, as for
    ``User``."""
    hints = typing.get_type_hints(User, include_extras=True)
    order = list(User.model_fields)
    names = sorted(
        {model_field(a.scim) for a in attributes} - set(Resource.model_fields), key=order.index
    )
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__annotations__": {name: hints[name] for name in names},
        "__schema__": User.__schema__,
        **{name: User.model_fields[name].default for name in names},
    }
    model = types.new_class("AcceptedUser", (Resource[Any],), {}, lambda ns: ns.update(namespace))
    return cast("type[Resource[Any]]", model)


def accepted_user_model() -> type[Resource[Any]]:
    """The User attributes a staff profile keeps, as a scim2-models resource."""
    return USER_ATTRIBUTES.derived(_accepted_model)


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
        return accepted_user_model()
    return cast("type[Resource[Any]]", UserModel)


def parse_user_profile(body: dict[str, Any], context: Context) -> StaffProfile:
    """The staff profile a POST or PUT body asks for; raises what ``User[EnterpriseUser]``
    validation raises (``pydantic.ValidationError``), with the same errors."""
    model = reading_model(SCIM_POLICY, context)
    resource = model.model_validate(
        accepted_resource(body, USER_PROFILE), scim_ctx=context, scim_policy=SCIM_POLICY
    )
    # profile_from_scim reads only the attributes the narrow model declares, typed as in User.
    return profile_from_scim(cast("User[Any]", resource))
