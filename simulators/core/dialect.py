"""A dialect is how one identity provider speaks SCIM: data plus a few small hooks.

The fields are the knobs of the reference's simulator table (idp-behaviors.md §5); each IdP
package builds its defaults and variants from them and cites its sources there. Builders and
the sync engine read only this object, so a new IdP or variant is a new ``Dialect`` value.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

__all__ = [
    "ActiveStyle",
    "Booleans",
    "ConnectionTest",
    "Dialect",
    "FailurePolicy",
    "MemberRemoval",
    "OnDelete",
    "OpCase",
    "QuarantinePolicy",
    "RetryPolicy",
    "SsoLogin",
    "UpdateStyle",
    "Variant",
]

HOUR = 3600.0
DAY = 24 * HOUR


class OpCase(StrEnum):
    CAPITALISED = "capitalised"  # Add / Replace / Remove
    LOWER = "lower"  # add / replace / remove


class Booleans(StrEnum):
    JSON = "json"  # true / false
    STRING_TITLE = "string-title"  # "True" / "False"
    STRING_LOWER = "string-lower"  # "true" / "false"


class UpdateStyle(StrEnum):
    PATCH_PER_ATTRIBUTE = "patch-per-attribute"  # one op with a path per attribute
    PATCH_FOLDED = "patch-folded"  # one path-less replace with dotted keys + filter-path ops
    PUT = "put"  # the whole object


class ActiveStyle(StrEnum):
    PATCH_PATH = "patch-path"  # {"op": …, "path": "active", "value": …}
    PATCH_PATHLESS = "patch-pathless"  # {"op": "replace", "value": {"active": …}}
    PUT = "put"  # the whole object with "active"


class MemberRemoval(StrEnum):
    VALUE_LIST = "value-list"  # {"op": "Remove", "path": "members", "value": [{"value": id}]}
    FILTER_PATH = "filter-path"  # {"op": "remove", "path": "members[value eq \"id\"]"}
    PUT_GROUP = "put-group"  # PUT the group with its full member list


class OnDelete(StrEnum):
    DELETE = "delete"  # DELETE /Users/{id}
    DEACTIVATE = "deactivate"  # active=false, never DELETE
    NOTHING = "nothing"


class ConnectionTest(StrEnum):
    FILTER_GUID = "filter-guid"  # userName eq "<random GUID>" + Groups displayName eq
    PAGE = "page"  # GET /Users?startIndex=1&count=N
    COUNT_PROBE = "count-probe"  # GET /Users?count=1
    NONE = "none"


class FailurePolicy(StrEnum):
    ESCROW = "escrow"  # retried on later cycles
    TASK = "task"  # a failed task for an admin; not retried automatically
    NEXT_SYNC = "next-sync"  # simply tried again on the next sync


@dataclass(frozen=True)
class RetryPolicy:
    """In-request retries: which statuses, how many attempts, how long without Retry-After."""

    max_attempts: int = 4
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    backoff: float = 30.0
    honour_retry_after: bool = True
    max_retry_after: float = 6 * HOUR


@dataclass(frozen=True)
class QuarantinePolicy:
    """Backoff after a failing cycle: steps, then a fixed interval, then the job stops."""

    steps: tuple[float, ...] = (6 * HOUR, 12 * HOUR, 24 * HOUR)
    then_every: float = DAY
    give_up_after: float = 28 * DAY

    def delay(self, failed_retries: int) -> float:
        if failed_retries < len(self.steps):
            return self.steps[failed_retries]
        return self.then_every


@dataclass(frozen=True)
class SsoLogin:
    """How a login identifies the person, for pre-link checks (X-01)."""

    protocol: str
    attribute: str  # the SCIM attribute the identifier is compared with


USER_ATTRIBUTES = (
    "userName",
    "displayName",
    "title",
    "name.givenName",
    "name.familyName",
    "name.middleName",
    "name.formatted",
    "emails[work]",
    "phoneNumbers[work]",
    "phoneNumbers[mobile]",
    "addresses[work].locality",
    "addresses[work].region",
    "addresses[work].country",
    "externalId",
    "employeeNumber",
    "department",
    "manager",
    "roles",
    "locale",
)


@dataclass(frozen=True)
class Dialect:
    idp: str
    variant: str = "default"
    op_case: OpCase = OpCase.LOWER
    patch_booleans: Booleans = Booleans.JSON
    body_booleans: Booleans = Booleans.JSON
    connection_test: ConnectionTest = ConnectionTest.NONE
    connection_test_count: int = 1
    match_attributes: tuple[str, ...] = ("userName",)
    lookup_paging: tuple[int, int] | None = None
    lookup_miss_statuses: frozenset[int] = frozenset({200})
    update_style: UpdateStyle = UpdateStyle.PATCH_PER_ATTRIBUTE
    active_style: ActiveStyle = ActiveStyle.PATCH_PATH
    read_before_update: bool = False
    add_when_empty: bool = False
    member_removal: MemberRemoval = MemberRemoval.FILTER_PATH
    push_groups: bool = True
    group_lookup_excludes_members: bool = False
    group_create_sends_members: bool = False
    group_extra_schemas: tuple[str, ...] = ()
    combine_member_ops: bool = False
    rename_pathless: bool = False
    rename_with_membership: bool = False
    delete_groups: bool = True
    on_delete: OnDelete = OnDelete.DEACTIVATE  # when the person is deleted at the IdP
    suspend_action: OnDelete = OnDelete.DEACTIVATE  # when disabled, suspended or unassigned
    purge_after: float = 0.0
    deprovision_delay: float = 0.0
    unassign_stops_management: bool = False
    create_disabled_users: bool = False
    sends_password: bool = False
    sends_groups_array: bool = False
    sends_enterprise_schema: bool = False
    sends_meta: bool = False
    user_attributes: tuple[str, ...] = ("userName", "name.givenName", "name.familyName")
    external_id_source: str | None = None  # "mailNickname" | "objectId" | "oktaId"
    manager_form: str = "urn-string"  # or "legacy-list"
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/scim+json"),)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 60.0
    # Objects of one cycle in flight at once; each object's requests stay in order. 1 (one
    # object after another) where the reference says nothing about concurrency.
    concurrency: int = 1
    failure_policy: FailurePolicy = FailurePolicy.ESCROW
    quarantine: QuarantinePolicy | None = None
    cycle_interval: float = 40 * 60.0
    sso_logins: tuple[SsoLogin, ...] = (SsoLogin("saml", "userName"),)
    on_demand: Dialect | None = None  # the dialect used for on-demand runs, if different
    notes: tuple[str, ...] = ()

    # hooks -------------------------------------------------------------------------------
    def op(self, name: str) -> str:
        """``add``/``replace``/``remove`` in this dialect's casing."""
        return name.capitalize() if self.op_case is OpCase.CAPITALISED else name.lower()

    def boolean(self, value: bool, *, in_patch: bool = True) -> Any:
        """A boolean as this dialect puts it on the wire."""
        encoding = self.patch_booleans if in_patch else self.body_booleans
        if encoding is Booleans.STRING_TITLE:
            return "True" if value else "False"
        if encoding is Booleans.STRING_LOWER:
            return "true" if value else "false"
        return value

    def for_on_demand(self) -> Dialect:
        return self.on_demand or self

    def with_changes(self, **changes: Any) -> Dialect:
        """A copy with some knobs changed (values may be the enums' string forms)."""
        coerced: dict[str, Any] = {}
        for name, value in changes.items():
            current = getattr(self, name)
            if isinstance(current, StrEnum) and isinstance(value, str):
                coerced[name] = type(current)(value)
            elif isinstance(current, frozenset) and isinstance(value, list | tuple):
                coerced[name] = frozenset(value)
            elif isinstance(current, tuple) and isinstance(value, list):
                coerced[name] = tuple(value)
            else:
                coerced[name] = value
        return replace(self, **coerced)

    @property
    def name(self) -> str:
        return self.idp if self.variant == "default" else f"{self.idp}/{self.variant}"


@dataclass(frozen=True)
class Variant:
    """A named, documented set of knob changes (``--variant NAME``)."""

    description: str
    changes: dict[str, Any]

    def apply(self, dialect: Dialect, name: str) -> Dialect:
        variant = name if dialect.variant == "default" else f"{dialect.variant}+{name}"
        changes = dict(self.changes)
        if changes.get("on_demand") == "previous":  # e.g. Entra's flag: on-demand ignores it
            changes["on_demand"] = dialect
        return dialect.with_changes(**changes, variant=variant)
