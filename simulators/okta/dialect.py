"""Okta provisioning, as a dialect: OIN integrations (PUT + PATCH) and AIW apps (PUT only).

Sources are sections of ../shared/idp-behaviors.md, which cites Okta's SCIM 2.0 reference
(developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20), the SCIM FAQ and the
build/connect/test guides.
"""

from __future__ import annotations

from dataclasses import replace

from simulators.core.dialect import (
    ActiveStyle,
    Booleans,
    ConnectionTest,
    Dialect,
    FailurePolicy,
    MemberRemoval,
    OnDelete,
    OpCase,
    RetryPolicy,
    SsoLogin,
    UpdateStyle,
    Variant,
)

__all__ = ["OKTA", "OKTA_AIW", "VARIANTS"]

OKTA = Dialect(
    idp="okta",
    op_case=OpCase.LOWER,  # §2.4: lowercase "replace"
    patch_booleans=Booleans.JSON,  # §0: JSON booleans
    body_booleans=Booleans.JSON,
    # §2.2: "Test API Credentials" pages GET /Users with no filter (jelhub/scimgateway#26);
    # the count is not documented [INFERRED: 1, configurable].
    connection_test=ConnectionTest.PAGE,
    connection_test_count=1,
    # §2.3: filter=userName eq "…"&startIndex=1&count=100; a 200 with no results or a 404
    # both mean "not found".
    match_attributes=("userName",),
    lookup_paging=(1, 100),
    lookup_miss_statuses=frozenset({200, 404}),
    # §2.4: OIN profile changes are GET /Users/{id} then PUT of the whole object (id, meta and
    # groups included); activate/deactivate is a path-less PATCH replace with {"active": …}.
    update_style=UpdateStyle.PUT,
    active_style=ActiveStyle.PATCH_PATHLESS,
    read_before_update=True,
    # §2.6 Group Push: displayName eq lookup (no excludedAttributes), POST with members [],
    # removals as members[value eq "…"] and adds in one PATCH, then the path-less rename
    # {id, displayName} on every membership update; DELETE only when the admin unlinks the
    # pushed group with "Delete the group in the target app" (simulated as chosen).
    member_removal=MemberRemoval.FILTER_PATH,
    combine_member_ops=True,
    rename_pathless=True,
    rename_with_membership=True,
    group_create_sends_members=True,
    delete_groups=True,
    # §2.5: never DELETE a user; suspend, deactivate, unassign and delete all mean active=false.
    on_delete=OnDelete.DEACTIVATE,
    suspend_action=OnDelete.DEACTIVATE,
    # §2.3: a random password and groups [] on create; externalId is the Okta user id (00u…);
    # the attribute set is the SCIM 2.0 Test App base profile (mobile phone [INFERRED]).
    sends_password=True,
    sends_groups_array=True,
    user_attributes=(
        "userName",
        "name.givenName",
        "name.middleName",
        "name.familyName",
        "emails[work]",
        "displayName",
        "locale",
        "externalId",
        "phoneNumbers[mobile]",
    ),
    external_id_source="oktaId",
    # §2.1: headers from Okta's captured examples (okta-blog-archive#1956) and the reference.
    headers=(
        ("Accept", "application/scim+json"),
        ("Accept-Charset", "utf-8"),
        ("Content-Type", "application/scim+json; charset=utf-8"),
        ("User-Agent", "Okta SCIM Client 1.0.0"),
    ),
    # §2.7: a 429 with Retry-After is retried after the delay (Okta support KB); other
    # failures become failed tasks for the admin [INFERRED: no automatic retry].
    retry=RetryPolicy(max_attempts=3, retry_statuses=frozenset({429})),
    timeout=60.0,  # §2.7: 60 seconds with no bytes received (FAQ)
    failure_policy=FailurePolicy.TASK,
    quarantine=None,
    cycle_interval=60.0,  # §2.8: event-driven pushes [INFERRED: within about a minute]
    sso_logins=(SsoLogin("saml", "userName"), SsoLogin("oidc", "externalId")),  # §2.9
    notes=("an OIN integration (SCIM 2.0 Test App template)",),
)

# §2.4, §2.6: AIW apps PUT everything, deactivation and group changes included.
OKTA_AIW = replace(
    OKTA,
    variant="aiw",
    active_style=ActiveStyle.PUT,
    member_removal=MemberRemoval.PUT_GROUP,
    combine_member_ops=False,
    rename_with_membership=False,
)

VARIANTS: dict[str, Variant] = {
    "aiw": Variant(
        "an App Integration Wizard app: PUT for every update, deactivation and groups (§2.4)",
        {
            "active_style": ActiveStyle.PUT,
            "member_removal": MemberRemoval.PUT_GROUP,
            "combine_member_ops": False,
            "rename_with_membership": False,
        },
    ),
    "no-group-delete": Variant(
        "the admin unlinks pushed groups without deleting them in the app (§2.6)",
        {"delete_groups": False},
    ),
    "test-count-100": Variant(
        "Test API Credentials with count=100 instead of 1 (§2.2 [INFERRED])",
        {"connection_test_count": 100},
    ),
}
