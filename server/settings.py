"""Runtime settings, read once from the environment into one frozen object."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_PUBLIC_URL",
    "ENVIRONMENTS",
    "Settings",
    "SettingsError",
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


ENVIRONMENTS = frozenset({"development", "production"})
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the variable and what to do."""


def _on_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


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
    #: Console sign-in attempts (password or code) per source address, over all practices.
    sign_in_rate_limit: float = 0.2
    sign_in_rate_burst: int = 30
    #: Console sign-in attempts per account (or per user name typed, if no account has it).
    sign_in_account_rate_limit: float = 0.05
    sign_in_account_rate_burst: int = 10
    log_level: str = "INFO"
    #: Record this practice's SCIM traffic to a trace (server/ops/recording.py); "" = off.
    record_practice: str = ""
    #: How long a recording lasts from start-up, seconds (at most a day).
    record_seconds: float = 900.0
    record_dir: str = "traces"
    record_pseudonymise: bool = False
    #: Days the SCIM activity log keeps an entry; the server purges older ones itself.
    activity_retention_days: int = 90
    # Deployment (README "Behind a load balancer", "Secrets at rest").
    #: ``development`` or ``production``; production refuses to start without ``secret_key``.
    environment: str = "development"
    #: Fernet keys, newest first, comma-separated; they encrypt TOTP secrets at rest.
    secret_key: str = field(default="", repr=False)
    #: Peers (addresses or CIDRs) whose ``X-Forwarded-For`` / ``Forwarded`` are believed.
    trusted_proxies: tuple[str, ...] = ()
    #: When set, ``GET /metrics`` needs ``Authorization: Bearer <metrics_token>``.
    metrics_token: str = field(default="", repr=False)
    #: After SIGTERM, ``/readyz`` answers 503 this long while the listener still serves, so a
    #: load balancer takes the host out before it stops accepting (README "Deployment").
    shutdown_drain_seconds: float = 0.0
    #: Then the listener closes and requests in flight get this long to finish.
    shutdown_grace_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.environment not in ENVIRONMENTS:
            msg = f"SCIMLAB_ENV must be development or production, not {self.environment!r}"
            raise SettingsError(msg)
        if self.activity_retention_days < 1:
            msg = "SCIMLAB_ACTIVITY_RETENTION_DAYS must be a whole number of days, at least 1"
            raise SettingsError(msg)
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                msg = f"SCIMLAB_TRUSTED_PROXIES: {proxy!r} is not an address or CIDR"
                raise SettingsError(msg) from None
        for number, key in enumerate(self.secret_keys, start=1):
            try:
                Fernet(key)
            except ValueError:
                msg = (
                    f"SCIMLAB_SECRET_KEY: key {number} is not a Fernet key (32 url-safe "
                    "base64-encoded bytes; `scimlab secret-key generate` makes one)"
                )
                raise SettingsError(msg) from None
        if self.shutdown_drain_seconds < 0 or self.shutdown_grace_seconds < 0:
            msg = "SCIMLAB_SHUTDOWN_DRAIN_SECONDS and SCIMLAB_SHUTDOWN_GRACE_SECONDS are >= 0"
            raise SettingsError(msg)

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """The encryption keys, newest (the one that encrypts) first."""
        return _list(self.secret_key)

    def refuse_unsafe(self) -> None:
        """Raise ``SettingsError`` for a configuration that must not serve: production
        without a secret key (TOTP secrets would be kept in the clear)."""
        if self.environment == "production" and not self.secret_keys:
            msg = (
                "SCIMLAB_SECRET_KEY is required in production (SCIMLAB_ENV=production, or "
                "SCIMLAB_PUBLIC_URL off loopback): generate one with `scimlab secret-key "
                "generate`, or set SCIMLAB_ENV=development for a development server"
            )
            raise SettingsError(msg)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        public_url = (env.get("SCIMLAB_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/")
        default_environment = "development" if _on_loopback(public_url) else "production"
        environment = (env.get("SCIMLAB_ENV") or default_environment).strip().lower()
        # A production host drains by default; a development server stops at once.
        default_drain = "5" if environment == "production" else "0"
        return cls(
            database_url=env.get("SCIMLAB_DATABASE_URL") or DEFAULT_DATABASE_URL,
            public_url=public_url,
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
            sign_in_rate_limit=float(env.get("SCIMLAB_SIGN_IN_RATE_LIMIT", "0.2")),
            sign_in_rate_burst=int(env.get("SCIMLAB_SIGN_IN_RATE_BURST", "30")),
            sign_in_account_rate_limit=float(env.get("SCIMLAB_SIGN_IN_ACCOUNT_RATE_LIMIT", "0.05")),
            sign_in_account_rate_burst=int(env.get("SCIMLAB_SIGN_IN_ACCOUNT_RATE_BURST", "10")),
            log_level=env.get("SCIMLAB_LOG_LEVEL", "INFO").strip().upper(),
            environment=environment,
            secret_key=env.get("SCIMLAB_SECRET_KEY", ""),
            trusted_proxies=_list(env.get("SCIMLAB_TRUSTED_PROXIES", "")),
            metrics_token=env.get("SCIMLAB_METRICS_TOKEN", "").strip(),
            shutdown_drain_seconds=float(
                env.get("SCIMLAB_SHUTDOWN_DRAIN_SECONDS") or default_drain
            ),
            shutdown_grace_seconds=float(env.get("SCIMLAB_SHUTDOWN_GRACE_SECONDS") or "30"),
            record_practice=env.get("SCIMLAB_RECORD_PRACTICE", "").strip().lower(),
            record_seconds=float(env.get("SCIMLAB_RECORD_SECONDS", "900")),
            record_dir=env.get("SCIMLAB_RECORD_DIR") or "traces",
            record_pseudonymise=env.get("SCIMLAB_RECORD_PSEUDONYMISE", "false").strip().lower()
            in {"1", "true", "yes", "on"},
            activity_retention_days=int(env.get("SCIMLAB_ACTIVITY_RETENTION_DAYS", "90")),
        )

    def scim_base_url(self, practice_id: str) -> str:
        """The per-practice SCIM base URL handed to the identity provider."""
        return f"{self.public_url}/scim/v2/{practice_id}"

    @property
    def token_url(self) -> str:
        return f"{self.public_url}/oauth/token"
