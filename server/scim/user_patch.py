"""What a ``PATCH /Users/{id}`` body does to a user (RFC 7644 §3.5.2), for the PATCH
operation (``server.scim.operations.users``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.mapping.inbound import USER_PROFILE
from server.mapping.patch_fast import fast_patch
from server.mapping.schema import SCIM_POLICY, UserModel
from server.mapping.users import profile_from_scim, scim_from_staff
from server.scim.resources import read_patch

if TYPE_CHECKING:
    from collections.abc import Callable

    from server.domain.staff import StaffProfile, StaffUser

__all__ = ["patch_change"]


def patch_change(
    body: dict[str, Any], check: Callable[[StaffUser], None] | None = None
) -> Callable[[StaffUser], StaffProfile]:
    """The change a PATCH body makes, to run on the user as stored (``check`` first, for a
    precondition). A body no shape accepts is refused here, before any user is read.

    The shapes identity providers repeat skip the scim2-models round trip; ``fast_patch``
    answers None for anything else, which the full path then reads as before."""
    changes = fast_patch(body)
    operations = None if changes is not None else read_patch(body, USER_PROFILE, UserModel)

    def change(current: StaffUser) -> StaffProfile:
        if check is not None:
            check(current)
        fast = None if changes is None else changes.apply(current.profile)
        if fast is not None:
            return fast
        # A stored profile the round trip would rewrite: the full path, on a body it takes.
        full = operations if changes is None else read_patch(body, USER_PROFILE, UserModel)
        if full is None:
            return current.profile
        patched = scim_from_staff(current, location="", model=UserModel)
        full.patch(patched, scim_policy=SCIM_POLICY)
        return profile_from_scim(patched)

    return change
