"""Runtime settings, read once from the environment into one frozen object."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["DEFAULT_DATABASE_URL", "Settings"]

DEFAULT_DATABASE_URL = "sqlite:///./scimlab.db"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the app factory and the command line need to know.

    ``public_url`` is the base that credentials and ``Location`` headers are built on;
    ``max_body_bytes`` bounds every request body (hostile input stays small).
    """

    database_url: str = DEFAULT_DATABASE_URL
    public_url: str = "http://127.0.0.1:8000"
    access_token_ttl_seconds: int = 3600
    max_body_bytes: int = 1024 * 1024
    max_page_size: int = 1000
    database_timeout_seconds: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("SCIMLAB_DATABASE_URL") or DEFAULT_DATABASE_URL,
            public_url=(env.get("SCIMLAB_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/"),
            access_token_ttl_seconds=int(env.get("SCIMLAB_ACCESS_TOKEN_TTL", "3600")),
            max_body_bytes=int(env.get("SCIMLAB_MAX_BODY_BYTES", str(1024 * 1024))),
            max_page_size=int(env.get("SCIMLAB_MAX_PAGE_SIZE", "1000")),
            database_timeout_seconds=float(env.get("SCIMLAB_DATABASE_TIMEOUT", "10")),
        )

    def scim_base_url(self, practice_id: str) -> str:
        """The per-practice SCIM base URL handed to the identity provider."""
        return f"{self.public_url}/scim/v2/{practice_id}"

    @property
    def token_url(self) -> str:
        return f"{self.public_url}/oauth/token"
