"""Who an identity provider's request acts as, for the audit log.

The SCIM credential check (``server.auth.service``) names the credential it accepted here;
the provisioning service reads it when it writes an audit entry, so no SCIM handler has to
pass it along. The value names a credential, never carries a secret: an OAuth client or a
Basic client by its client id, a static token by the last four characters it is shown with.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["IDP_ACTOR", "CredentialRef", "acting_credential"]

#: The actor of an identity provider's change when the credential is not known.
IDP_ACTOR = "idp"


@dataclass(frozen=True, slots=True)
class CredentialRef:
    """The credential a SCIM request was accepted with: ``basic`` with its client id, or
    ``bearer`` with the token's hash (looked up only when an audit entry needs its kind)."""

    kind: str
    value: str


acting_credential: ContextVar[CredentialRef | None] = ContextVar(
    "scimlab_acting_credential", default=None
)
