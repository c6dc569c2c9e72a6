"""Google Workspace as a SCIM client (generic catalog connector): dialect and G-scenarios."""

from __future__ import annotations

from simulators.core.registry import IdpProfile
from simulators.google.dialect import GOOGLE, VARIANTS
from simulators.google.scenarios import SCENARIOS

__all__ = ["GOOGLE", "PROFILE", "VARIANTS"]

PROFILE = IdpProfile(
    name="google",
    title="Google Workspace (generic SCIM catalog connector; mostly assumptions)",
    dialect=GOOGLE,
    variants=VARIANTS,
    auth_kinds=("token",),  # §3.2: a pasted access token
    scenarios=tuple(SCENARIOS),
)
