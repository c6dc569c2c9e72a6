"""Who an identity provider's request acts as: the credential it was accepted with, named.

The SCIM credential check (``server.auth.service``) knows which credential it accepted: it
sets :data:`acting_credential` for the rest of the request, so the provisioning service
names the actor of an audit entry without a lookup and no SCIM handler has to pass it along.
:class:`ActingCredential` is the one place a credential is named: as the audit log's actor
(``idp:oauth:<client id>``) and in words for people (the activity log's label). It never
carries a secret: an OAuth or Basic client by its client id, a static token by the last
four characters it is shown with.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

__all__ = ["IDP_ACTOR", "ActingCredential", "CredentialKind", "acting_credential"]

#: The actor of an identity provider's change when the credential is not known.
IDP_ACTOR = "idp"

CredentialKind = Literal["oauth", "static", "basic"]

_KINDS: dict[str, CredentialKind] = {"oauth": "oauth", "static": "static", "basic": "basic"}
_WORDS: dict[str, str] = {
    "oauth": "OAuth client",
    "static": "Static token",
    "basic": "Basic, client",
}


@dataclass(frozen=True, slots=True)
class ActingCredential:
    """``kind`` with ``name``: the client id of an OAuth or Basic client, the hint (last four
    characters) of a static token."""

    kind: CredentialKind
    name: str

    @classmethod
    def from_actor(cls, actor: str) -> ActingCredential | None:
        """The credential an audit entry's ``idp:<kind>:<name>`` actor names, else None."""
        source, _, rest = actor.partition(":")
        kind, _, name = rest.partition(":")
        known = _KINDS.get(kind)
        if source != IDP_ACTOR or known is None:
            return None
        return cls(known, name)

    @property
    def actor(self) -> str:
        """The audit log's actor: ``idp:<kind>:<name>``."""
        return f"{IDP_ACTOR}:{self.kind}:{self.name}"

    @property
    def label(self) -> str:
        """In words, with only the last four characters of the name: "OAuth client …c169"."""
        words = _WORDS[self.kind]
        return f"{words} …{self.name[-4:]}" if self.name else words


acting_credential: ContextVar[ActingCredential | None] = ContextVar(
    "scimlab_acting_credential", default=None
)
