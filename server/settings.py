"""Runtime settings, read once from the environment into one frozen object."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_PUBLIC_URL",
    "Settings",
    "describe_database",
    "sqlite_file",
    "sqlite_path",
]

DEFAULT_DATABASE_URL = "sqlite:///./scimlab.db"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


def sqlite_path(database_url: str) -> str:
    """The file path, as written, of a ``sqlite:///relative.db`` or ``sqlite:////abs/path.db``
    URL."""
    path = database_url.removeprefix("sqlite://").removeprefix("/")
    if database_url.startswith("sqlite:////"):
        path = "/" + path.lstrip("/")
    return path


def sqlite_file(database_url: str) -> Path:
    return Path(sqlite_path(database_url))


def describe_database(database_url: str) -> str:
    """The database a URL names, for people: the absolute file of SQLite, the URL without its
    password otherwise."""
    if urlsplit(database_url).scheme == "sqlite":
        return f"sqlite:///{sqlite_file(database_url).resolve()}"
    parts = urlsplit(database_url)
    if parts.password is None:
        return database_url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the app factory and the command line need to know.

    ``public_url`` is the base that credentials and ``Location`` headers are built on;
    ``max_body_bytes`` bounds every request body (hostile input stays small).
    """

    database_url: str = DEFAULT_DATABASE_URL
    public_url: str = DEFAULT_PUBLIC_URL
    access_token_ttl_seconds: int = 3600
    max_body_bytes: int = 1024 * 1024
    max_page_size: int = 1000
    database_timeout_seconds: float = 10.0
    #: Console cookies carry ``Secure``; turn off only to test over plain http off loopback.
    cookie_secure: bool = True
    session_ttl_seconds: int = 8 * 3600
    # Reliability and operations (server/ops; docs/operations.md).
    #: Past this a request that has not started its response is answered 503.
    request_timeout_seconds: float = 30.0
    #: ``auto`` (PostgreSQL when the database is, else memory), ``memory``, ``database``, ``off``.
    rate_limit_store: str = "auto"
    #: Per practice and per client on SCIM: tokens per second and bucket size.
    scim_rate_limit: float = 50.0
    scim_rate_burst: int = 250
    #: Per client id on the token endpoint.
    token_rate_limit: float = 5.0
    token_rate_burst: int = 50
    #: Refused requests (401 on SCIM, 4xx on the token endpoint) per address and client id.
    failed_auth_rate_limit: float = 1.0
    failed_auth_burst: int = 30
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("SCIMLAB_DATABASE_URL") or DEFAULT_DATABASE_URL,
            public_url=(env.get("SCIMLAB_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/"),
            access_token_ttl_seconds=int(env.get("SCIMLAB_ACCESS_TOKEN_TTL", "3600")),
            max_body_bytes=int(env.get("SCIMLAB_MAX_BODY_BYTES", str(1024 * 1024))),
            max_page_size=int(env.get("SCIMLAB_MAX_PAGE_SIZE", "1000")),
            database_timeout_seconds=float(env.get("SCIMLAB_DATABASE_TIMEOUT", "10")),
            cookie_secure=env.get("SCIMLAB_COOKIE_SECURE", "true").strip().lower()
            not in {"0", "false", "no", "off"},
            session_ttl_seconds=int(env.get("SCIMLAB_SESSION_TTL", str(8 * 3600))),
            request_timeout_seconds=float(env.get("SCIMLAB_REQUEST_TIMEOUT", "30")),
            rate_limit_store=env.get("SCIMLAB_RATE_LIMIT_STORE", "auto").strip().lower(),
            scim_rate_limit=float(env.get("SCIMLAB_SCIM_RATE_LIMIT", "50")),
            scim_rate_burst=int(env.get("SCIMLAB_SCIM_RATE_BURST", "250")),
            token_rate_limit=float(env.get("SCIMLAB_TOKEN_RATE_LIMIT", "5")),
            token_rate_burst=int(env.get("SCIMLAB_TOKEN_RATE_BURST", "50")),
            failed_auth_rate_limit=float(env.get("SCIMLAB_FAILED_AUTH_RATE_LIMIT", "1")),
            failed_auth_burst=int(env.get("SCIMLAB_FAILED_AUTH_BURST", "30")),
            log_level=env.get("SCIMLAB_LOG_LEVEL", "INFO").strip().upper(),
        )

    def scim_base_url(self, practice_id: str) -> str:
        """The per-practice SCIM base URL handed to the identity provider."""
        return f"{self.public_url}/scim/v2/{practice_id}"

    @property
    def token_url(self) -> str:
        return f"{self.public_url}/oauth/token"
