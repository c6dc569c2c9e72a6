"""The people an identity provider signs in, with the identifiers each IdP derives for them.

The derivations match ``simulators.core.directory.Person`` (``object_id``, ``okta_id``), so the
ids a simulated directory sends over SCIM are the ones its OpenID provider puts in tokens.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

__all__ = ["IdpPerson", "person_from"]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class IdpPerson:
    """``user_name`` is the UPN (Entra), the Okta login, or the primary email (Google)."""

    key: str
    user_name: str
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    active: bool = True

    @property
    def object_id(self) -> str:
        """Entra's objectId, the OIDC ``oid``: a GUID, the same in every app of the tenant."""
        h = _digest(f"object:{self.key}")[:32]
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    @property
    def okta_id(self) -> str:
        """Okta's user id (``00u`` + 17 characters), the OIDC ``sub`` at Okta."""
        return "00u" + _digest(f"okta:{self.key}")[:17]

    @property
    def google_id(self) -> str:
        """Google's numeric account id (21 digits), the OIDC ``sub`` at Google."""
        return "1" + str(int(_digest(f"google:{self.key}"), 16))[:20]

    @property
    def primary_email(self) -> str:
        return self.email or self.user_name

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p) or self.user_name


def person_from(source: Any) -> IdpPerson:
    """An ``IdpPerson`` from any record with ``key`` and ``user_name`` (a directory's person);
    its ids derive from the record's ``id_seed`` when it has one, as the directory's do."""
    return IdpPerson(
        key=str(getattr(source, "id_seed", None) or source.key),
        user_name=str(source.user_name),
        given_name=getattr(source, "given_name", None),
        family_name=getattr(source, "family_name", None),
        email=getattr(source, "email", None),
        active=bool(getattr(source, "active", True)),
    )
