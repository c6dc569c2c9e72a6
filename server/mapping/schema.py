"""The wire schema this server reads with, and how tolerant it is of real clients."""

from __future__ import annotations

from typing import Any

from scim2_models import EnterpriseUser, Group, ScimPolicy, User

__all__ = ["SCIM_POLICY", "GroupModel", "UserModel"]

#: Users may carry the enterprise extension; its attributes are read and then ignored.
UserModel: Any = User[EnterpriseUser]
GroupModel: Any = Group

#: Identity providers send attributes we do not keep (ignored, never an error), Entra
#: removes members by value and adds to filtered paths that do not exist yet
#: (idp-behaviors §1.4-1.5).
SCIM_POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)
