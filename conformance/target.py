"""What a run is pointed at: a SCIM base URL, how to authenticate, and optional extras.

Authentication is either OAuth 2.0 client credentials (``token_url`` + ``client_id`` +
``client_secret``) or a bearer ``token``. ``platform_url`` + ``platform_admin`` (the practice
administrator's API key) unlock the checks that drive the SCIM configuration lifecycle; a
``peer`` (a second tenant's SCIM URL and bearer token) unlocks the cross-tenant checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["Peer", "Target", "TargetError"]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class TargetError(ValueError):
    """The target description is incomplete or contradictory."""


@dataclass(frozen=True, slots=True)
class Peer:
    """A second tenant on the same service: its SCIM base URL and a bearer token for it."""

    scim_url: str
    token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Target:
    scim_url: str
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    platform_url: str | None = None
    platform_admin: str | None = field(default=None, repr=False)
    peer: Peer | None = None
    #: The expiry check waits for a token to expire when it lives at most this long (seconds).
    expiry_wait_limit: float = 5.0

    def __post_init__(self) -> None:
        _require_http(self.scim_url, "the SCIM URL")
        oauth = (self.token_url, self.client_id, self.client_secret)
        if any(v is not None for v in oauth) and not all(oauth):
            raise TargetError("--token-url, --client-id and --client-secret go together")
        if self.token is not None and self.token_url is not None:
            raise TargetError("give either --token or --token-url/--client-id/--client-secret")
        if self.token is None and self.token_url is None:
            raise TargetError("give --token or --token-url/--client-id/--client-secret")
        if (self.platform_url is None) != (self.platform_admin is None):
            raise TargetError("--platform-url and --platform-admin go together")
        for url, what in ((self.token_url, "the token URL"), (self.platform_url, "platform")):
            if url is not None:
                _require_http(url, what)
        if self.peer is not None:
            _require_http(self.peer.scim_url, "the peer SCIM URL")

    @property
    def scim_base(self) -> str:
        return self.scim_url.rstrip("/")

    @property
    def uses_oauth(self) -> bool:
        return self.token_url is not None

    @property
    def tenant_id(self) -> str | None:
        """The tenant (practice) id: the last segment of the SCIM URL when it is a UUID."""
        segment = urlsplit(self.scim_base).path.rsplit("/", 1)[-1]
        return segment if _UUID.match(segment) else None

    def with_tenant(self, tenant_id: str) -> str:
        """The SCIM URL with the tenant segment replaced (for cross-tenant probes)."""
        current = self.tenant_id
        if current is None:
            raise TargetError("the SCIM URL names no tenant")
        return self.scim_base[: -len(current)] + tenant_id

    def describe(self) -> dict[str, str | None]:
        """The target without any secret, for reports."""
        return {
            "scim_url": self.scim_url,
            "auth": "oauth client credentials" if self.uses_oauth else "bearer token",
            "token_url": self.token_url,
            "client_id": self.client_id,
            "platform_url": self.platform_url,
            "peer_scim_url": self.peer.scim_url if self.peer else None,
        }


def _require_http(url: str, what: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TargetError(f"{what} must be an http(s) URL, not {url!r}")
