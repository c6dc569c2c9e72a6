"""Okta as a SCIM client: OIN (PUT + PATCH) and AIW (PUT only) dialects and O-scenarios."""

from __future__ import annotations

from simulators.core.registry import IdpProfile
from simulators.okta.dialect import OKTA, OKTA_AIW, VARIANTS
from simulators.okta.scenarios import SCENARIOS

__all__ = ["OKTA", "OKTA_AIW", "PROFILE", "VARIANTS"]

PROFILE = IdpProfile(
    name="okta",
    title="Okta (OIN integration; --variant aiw for a wizard-built app)",
    dialect=OKTA,
    variants=VARIANTS,
    auth_kinds=("basic", "token"),  # §2.1: Basic Auth or a header token; no client credentials
    scenarios=tuple(SCENARIOS),
)
