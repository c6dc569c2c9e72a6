"""``scimlab secret-key``: make a key for ``SCIMLAB_SECRET_KEY``, and re-encrypt what is kept
with the newest key once the keys have changed (README "Secrets at rest")."""

from __future__ import annotations

import asyncio

import click
from cryptography.fernet import Fernet

from server.cli_common import announce, database_url_option, require_existing
from server.persistence.store import open_store
from server.security import SealedSecretError
from server.settings import Settings

__all__ = ["secret_key"]


@click.group("secret-key")
def secret_key() -> None:
    """The key that encrypts TOTP secrets at rest (SCIMLAB_SECRET_KEY)."""


@secret_key.command("generate")
def generate() -> None:
    """Print a new random key (Fernet: 32 bytes, url-safe base64)."""
    click.echo(Fernet.generate_key().decode("ascii"))


async def _reseal(settings: Settings, database_url: str) -> int:
    store = await open_store(database_url, secret_keys=settings.secret_keys)
    try:
        return await store.mfa.reseal_secrets()
    finally:
        await store.close()


@secret_key.command("rotate")
@database_url_option
def rotate(database_url: str) -> None:
    """Encrypt every stored TOTP secret with the first key of SCIMLAB_SECRET_KEY (plaintext
    ones too). Run it after putting a new key first; drop the old key only afterwards."""
    announce(database_url)
    require_existing(database_url)
    settings = Settings.from_env()
    if not settings.secret_keys:
        raise click.ClickException("SCIMLAB_SECRET_KEY is not set: there is no key to use")
    try:
        count = asyncio.run(_reseal(settings, database_url))
    except SealedSecretError as error:
        msg = f"{error}: put the old key back in SCIMLAB_SECRET_KEY (after the new one) and rerun"
        raise click.ClickException(msg) from None
    click.echo(f"{count} TOTP secrets encrypted with the newest key")
