"""Microsoft Entra ID as a SCIM client: the default dialect, its variants and E-scenarios."""

from __future__ import annotations

from simulators.core.registry import IdpProfile
from simulators.entra import lifecycle, scenarios
from simulators.entra.dialect import ENTRA, ENTRA_FLAGGED, FLAG, VARIANTS

__all__ = ["ENTRA", "ENTRA_FLAGGED", "FLAG", "PROFILE", "VARIANTS"]

PROFILE = IdpProfile(
    name="entra",
    title="Microsoft Entra ID (scim job template, non-gallery app)",
    dialect=ENTRA,
    variants=VARIANTS,
    auth_kinds=("oauth", "token"),  # §1.1: client credentials, or a static Secret Token
    scenarios=(*scenarios.SCENARIOS, *lifecycle.SCENARIOS),
)
