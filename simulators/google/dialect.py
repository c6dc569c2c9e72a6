"""Google Workspace automated provisioning, as a dialect: a generic SCIM catalog connector.

Google publishes no wire-level description of its SCIM client (idp-behaviors.md §3), so most
of this profile is a documented, switchable assumption. Sources: support.google.com/a/answer/
7681608 (scope, "every few hours", archived users ignored), answer/9227528 (endpoint URL and
access token), and the third-party reports §3 lists. Each knob below says how sure we are.
"""

from __future__ import annotations

from simulators.core.dialect import (
    DAY,
    HOUR,
    ActiveStyle,
    Booleans,
    ConnectionTest,
    Dialect,
    FailurePolicy,
    OnDelete,
    OpCase,
    RetryPolicy,
    SsoLogin,
    UpdateStyle,
    Variant,
)

__all__ = ["GOOGLE", "VARIANTS"]

GOOGLE = Dialect(
    idp="google",
    # ASSUMPTION (§3.4, low confidence): a mostly RFC-shaped client, lowercase ops, booleans.
    op_case=OpCase.LOWER,
    patch_booleans=Booleans.JSON,
    body_booleans=Booleans.JSON,
    # ASSUMPTION (§3.3, one third-party guide): a GET /Users?count=1 probe on "Continue".
    connection_test=ConnectionTest.COUNT_PROBE,
    connection_test_count=1,
    # ASSUMPTION (§3.4, §5): userName eq "<primary email>" before create, no paging params.
    match_attributes=("userName",),
    lookup_paging=None,
    # ASSUMPTION (§3.4: "whether updates use PUT or PATCH is unknown"): PATCH with paths;
    # the "put" variant switches to PUT of the whole object.
    update_style=UpdateStyle.PATCH_PER_ATTRIBUTE,
    active_style=ActiveStyle.PATCH_PATH,
    # §3.4 [ISSUE, cloudposse/docs#893]: users only, no groups, for at least some connectors.
    push_groups=False,
    # §3.4 [ISSUE, third-party reproductions]: per trigger, suspend or delete, after a delay of
    # "within 24 hours", 1, 7 or 30 days; suspend after 1 day by default here.
    on_delete=OnDelete.DEACTIVATE,
    suspend_action=OnDelete.DEACTIVATE,
    deprovision_delay=1 * DAY,
    # ASSUMPTION (§3.4 typical mapping): userName and emails <- primary email, names, active.
    user_attributes=("userName", "name.givenName", "name.familyName", "emails[work]"),
    external_id_source=None,  # §3.6: Google's user id is not sent as externalId [INFERRED]
    headers=(
        ("Content-Type", "application/scim+json"),
        # §3: Google's real User-Agent is not on record, so a labelled scimlab one.
        ("User-Agent", "scimlab-simulator/1 (simulating Google Workspace provisioning)"),
    ),
    # ASSUMPTION (§3.5): no documented backoff; a failure is simply retried on the next sync.
    retry=RetryPolicy(max_attempts=1),
    timeout=60.0,  # §3.5: not documented [INFERRED]
    failure_policy=FailurePolicy.NEXT_SYNC,
    quarantine=None,
    cycle_interval=3 * HOUR,  # §3.1 "every few hours" [DOC]; 3 h as §3.5 suggests
    sso_logins=(SsoLogin("saml", "userName"),),  # §3.6: NameID = primary email = userName
    notes=("generic SCIM catalog connector; most wire details are assumptions (§3)",),
)

VARIANTS: dict[str, Variant] = {
    "delete": Variant(
        "the admin chose 'delete' for suspended and deleted users (§3.4)",
        {"on_delete": OnDelete.DELETE, "suspend_action": OnDelete.DELETE},
    ),
    "string-booleans": Variant(
        'active as "true"/"false" strings in POST, PUT and PATCH (§3.4, third-party README)',
        {"patch_booleans": Booleans.STRING_LOWER, "body_booleans": Booleans.STRING_LOWER},
    ),
    "put": Variant(
        "updates and deactivation as PUT of the whole user (§3.4: method unknown)",
        {"update_style": UpdateStyle.PUT, "active_style": ActiveStyle.PUT},
    ),
    "no-probe": Variant("no connection probe (§3.3)", {"connection_test": ConnectionTest.NONE}),
    "no-delay": Variant(
        "deprovision 'within 24 hours' modelled as on the next sync (§3.4)",
        {"deprovision_delay": 0.0},
    ),
    "delay-7d": Variant("deprovision after 7 days (§3.4)", {"deprovision_delay": 7 * DAY}),
    "delay-30d": Variant("deprovision after 30 days (§3.4)", {"deprovision_delay": 30 * DAY}),
}
