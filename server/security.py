"""Credential material: generation, hashing and constant-time comparison.

Client secrets, access tokens and API keys are 256-bit random strings, so a single
SHA-256 is a sound one-way store for them (no dictionary to attack) and is cheap
enough for every request. Human passwords are low-entropy and get Argon2id. Secrets that
must be read back (TOTP seeds) are encrypted with Fernet (``SecretBox``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "SealedSecretError",
    "SecretBox",
    "constant_time_equals",
    "hash_password",
    "hash_secret",
    "mask_secret",
    "new_client_id",
    "new_secret",
    "parse_basic_credentials",
    "verify_password",
]

_password_hasher = PasswordHasher()


def new_secret(prefix: str) -> str:
    """A URL-safe random credential with a readable prefix (``scs_`` secret, ``sat_`` token)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def new_client_id() -> str:
    return f"scimlab-{secrets.token_hex(12)}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def constant_time_equals(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))


def mask_secret(hint: str) -> str:
    """What a secret looks like once it may no longer be shown: its last four characters."""
    return f"••••••••{hint}"


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def parse_basic_credentials(header: str) -> tuple[str, str] | None:
    """``Authorization: Basic`` as (user, password) (RFC 7617 §2); None for other schemes.

    Raises ``ValueError`` for a Basic header that does not decode to ``user:password``.
    """
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "basic" or not credential.strip():
        return None
    try:
        decoded = base64.b64decode(credential.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("malformed Basic credentials") from None
    user, separator, password = decoded.partition(":")
    if not separator:
        raise ValueError("malformed Basic credentials")
    return user, password


class SealedSecretError(RuntimeError):
    """A stored secret that the configured keys cannot open (a key missing or removed)."""


class SecretBox:
    """Encrypts secrets at rest with Fernet (AES-128-CBC plus HMAC-SHA256, from
    ``cryptography``), with key rotation through ``MultiFernet``.

    ``keys`` are Fernet keys, newest first: the first encrypts, every one decrypts. A sealed
    value is ``fernet:<token>``; a value without that prefix is plaintext kept from before
    encryption (or from a development server without keys) and is read as it is. Without
    keys nothing is encrypted: ``seal`` returns the plaintext.
    """

    PREFIX = "fernet:"

    __slots__ = ("_fernet",)

    def __init__(self, keys: Sequence[str] = ()) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys]) if keys else None

    @property
    def encrypts(self) -> bool:
        return self._fernet is not None

    def seal(self, plaintext: str) -> str:
        if self._fernet is None:
            return plaintext
        return self.PREFIX + self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def open(self, stored: str) -> str:
        if not stored.startswith(self.PREFIX):
            return stored
        if self._fernet is None:
            raise SealedSecretError("a secret is encrypted but SCIMLAB_SECRET_KEY is not set")
        try:
            return self._fernet.decrypt(stored.removeprefix(self.PREFIX).encode()).decode()
        except InvalidToken:
            msg = "a secret was encrypted with a key that SCIMLAB_SECRET_KEY no longer lists"
            raise SealedSecretError(msg) from None

    def reseal(self, stored: str) -> str:
        """``stored`` encrypted with the newest key (plaintext gets encrypted)."""
        return self.seal(self.open(stored))
