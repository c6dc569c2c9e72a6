"""Microsoft Entra ID provisioning, as a dialect: the `scim` job template of a non-gallery app.

Sources are sections of ../shared/idp-behaviors.md (our reference), which cites Microsoft's
pages: use-scim-to-provision-users-and-groups, application-provisioning-config-problem-scim-
compatibility, how-provisioning-works, application-provisioning-quarantine-status.
"""

from __future__ import annotations

from dataclasses import replace

from simulators.core.dialect import (
    DAY,
    ActiveStyle,
    Booleans,
    ConnectionTest,
    Dialect,
    FailurePolicy,
    MemberRemoval,
    OnDelete,
    OpCase,
    QuarantinePolicy,
    RetryPolicy,
    SsoLogin,
    UpdateStyle,
    Variant,
)

__all__ = ["ENTRA", "ENTRA_FLAGGED", "FLAG", "VARIANTS"]

FLAG = "aadOptscim062020"

ENTRA = Dialect(
    idp="entra",
    # §1.4.1: Add/Replace/Remove capitalised; booleans from the Switch() mapping as "True"/"False"
    # (confirmed by Microsoft staff in AzureAD/SCIMReferenceCode#21).
    op_case=OpCase.CAPITALISED,
    patch_booleans=Booleans.STRING_TITLE,
    body_booleans=Booleans.JSON,  # §1.3: `active` is a JSON boolean in POSTs
    # §1.2: Test Connection filters the matching attribute with a random GUID, users and groups.
    connection_test=ConnectionTest.FILTER_GUID,
    # §1.3: match on userName <- userPrincipalName, quoted, no startIndex/count.
    match_attributes=("userName",),
    lookup_paging=None,
    lookup_miss_statuses=frozenset({200}),  # §1.2: a 404/400 to a miss is a compliance failure
    # §1.4: PATCH only, one op per attribute; the target is read first (GET /Users/{id}) and an
    # empty attribute is written with Add on a filter path (§1.4.1, wire-server#5419).
    update_style=UpdateStyle.PATCH_PER_ATTRIBUTE,
    active_style=ActiveStyle.PATCH_PATH,
    read_before_update=True,
    add_when_empty=True,
    # §1.6: groups created without members, looked up with excludedAttributes=members; members
    # removed with path "members" and a value list (not RFC-compliant; azure-docs#30826).
    member_removal=MemberRemoval.VALUE_LIST,
    group_lookup_excludes_members=True,
    group_extra_schemas=(
        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
    ),
    delete_groups=True,
    # §1.5: disable -> PATCH active; DELETE only 30 days after a soft delete (or a purge), and
    # never for a user that was unassigned first; disabled users are never created.
    on_delete=OnDelete.DELETE,
    purge_after=30 * DAY,
    suspend_action=OnDelete.DEACTIVATE,
    unassign_stops_management=True,
    create_disabled_users=False,
    # §1.3 default mappings; the enterprise schema and meta.resourceType are in the POST.
    sends_enterprise_schema=True,
    sends_meta=True,
    user_attributes=(
        "userName",
        "displayName",
        "title",
        "name.givenName",
        "name.familyName",
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
    ),
    external_id_source="mailNickname",  # §1.9: externalId <- mailNickname by default
    manager_form="urn-string",  # §1.4.1: bare string id on the enterprise URN path
    headers=(
        ("Content-Type", "application/scim+json; charset=utf-8"),  # §1.3 Headers
        # §1.3: Entra's real User-Agent is not on record, so a labelled scimlab one.
        ("User-Agent", "scimlab-simulator/1 (simulating Microsoft Entra ID provisioning)"),
    ),
    # §1.7: 429 honoured with Retry-After, only failed requests retried (Q&A moderator; lower
    # weight); other failures are escrowed and retried on later cycles.
    retry=RetryPolicy(max_attempts=4, retry_statuses=frozenset({429, 503})),
    timeout=60.0,  # §1.7: not documented [INFERRED]; configurable
    # §1.7: "Concurrency is not documented [INFERRED: expect parallel requests]", and gallery
    # apps must sustain 25 requests/s per tenant. No figure is published: 8 objects at once
    # is our choice (--concurrency changes it); 1 gives a fully sequential, replayable run.
    concurrency=8,
    failure_policy=FailurePolicy.ESCROW,
    quarantine=QuarantinePolicy(),  # §1.7: +6 h, +12 h, +24 h, then daily; stop after 28 days
    cycle_interval=40 * 60.0,  # §1.8: incremental cycles about every 40 minutes
    sso_logins=(SsoLogin("saml", "userName"),),  # §1.9: NameID = UPN = userName
    notes=("the scim job template, non-gallery app, no feature flag",),
)

# §1.4.2: the flag in the tenant URL changes four things; on-demand runs ignore it.
ENTRA_FLAGGED = replace(
    ENTRA,
    variant=FLAG,
    op_case=OpCase.LOWER,
    patch_booleans=Booleans.JSON,
    update_style=UpdateStyle.PATCH_FOLDED,
    member_removal=MemberRemoval.FILTER_PATH,
    on_demand=ENTRA,
)

VARIANTS: dict[str, Variant] = {
    FLAG: Variant(
        "tenant URL ends with ?aadOptscim062020: lowercase ops, real booleans, folded "
        "multi-attribute replace, filter-path member removal (§1.4.2)",
        {
            "op_case": OpCase.LOWER,
            "patch_booleans": Booleans.JSON,
            "update_style": UpdateStyle.PATCH_FOLDED,
            "member_removal": MemberRemoval.FILTER_PATH,
            "on_demand": "previous",
        },
    ),
    "lowercase-booleans": Variant(
        'an admin-edited Switch() sends "true"/"false" (§1.4.1, scimmyjs/scimmy#86)',
        {"patch_booleans": Booleans.STRING_LOWER},
    ),
    "match-externalid": Variant(
        "matching attribute externalId (§1.3, azure-docs#11784)",
        {"match_attributes": ("externalId",)},
    ),
    "match-email": Variant(
        'matching attribute emails[type eq "work"].value (§1.3)',
        {"match_attributes": ('emails[type eq "work"].value',)},
    ),
    "externalid-objectid": Variant(
        "externalId <- objectId, so OIDC oid pre-links (§1.9)",
        {
            "external_id_source": "objectId",
            "sso_logins": (SsoLogin("saml", "userName"), SsoLogin("oidc", "externalId")),
        },
    ),
    "no-delete": Variant(
        "the Delete target object action is off: purged users get no DELETE (§1.5)",
        {"on_delete": OnDelete.DEACTIVATE},
    ),
    "legacy-manager": Variant(
        'manager as path "manager" with [{"value": id}] (older doc sample, §1.4.1)',
        {"manager_form": "legacy-list"},
    ),
}
