"""TOTP secrets at rest (issue 29 item 6): encrypted with ``SCIMLAB_SECRET_KEY`` (Fernet),
read back for sign-in, plaintext ones from before still read, and key rotation with
``scimlab secret-key rotate``. Rows are read straight from the database."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import pyotp
import pytest
from cryptography.fernet import Fernet

from server.persistence.store import open_store
from server.security import SealedSecretError, SecretBox
from tests.conftest import TEST_SECRET_KEY
from tests.console.helpers import ConsolePractice, csrf_of, post_form, sign_in_admin
from tests.reliability.support import query

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore

SCIMLAB = Path(sys.executable).parent / "scimlab"
#: A key that was in use before ``TEST_SECRET_KEY`` (rotation).
OLD_KEY = "kHmqPNFGo-5UkiR5fvK1pyNugLngK7xM5LW3MqyrvE4="


async def _stored(database_url: str, practice: ConsolePractice) -> tuple[UUID, str]:
    """The practice administrator's staff id and stored TOTP secret, as the database has them."""
    sql = f"SELECT staff_id, totp_secret FROM staff_mfa WHERE practice_id = '{practice.id}'"  # noqa: S608 - a UUID
    [(staff_id, secret)] = await query(database_url, sql)
    return UUID(str(staff_id)), str(secret)


async def _store_secret(database_url: str, practice: ConsolePractice, value: str) -> None:
    """Overwrite the stored secret as an older version (or an older key) left it."""
    statement = "UPDATE staff_mfa SET totp_secret = {} WHERE practice_id = '{}'"
    if database_url.startswith("sqlite"):
        import sqlite3  # noqa: PLC0415

        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            connection.execute(statement.format("?", practice.id), (value,))
        return
    import asyncpg  # noqa: PLC0415

    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(statement.format("$1", practice.id), value)
    finally:
        await connection.close()


async def _sign_in(web: AsyncTestClient[Any], practice: ConsolePractice, code: str) -> int:
    """A fresh browser signs in with the password and ``code``: the status of the code step."""
    web.cookies.clear()
    page = f"/console/{practice.id}/sign-in"
    password = {"user_name": "admin", "password": practice.admin_password}
    assert (await post_form(web, page, page, password)).status_code == 303
    code_page = await web.get(f"{page}/code")
    done = await web.post(
        f"{page}/code", data={"csrf_token": csrf_of(code_page.text), "code": code}
    )
    return done.status_code


async def test_totp_secrets_are_stored_encrypted_and_sign_in_reads_them(
    web: AsyncTestClient[Any], console_practice: ConsolePractice, database_url: str
) -> None:
    secret = await sign_in_admin(web, console_practice)
    _, stored = await _stored(database_url, console_practice)
    assert stored.startswith("fernet:")
    assert secret not in stored
    assert Fernet(TEST_SECRET_KEY).decrypt(stored.removeprefix("fernet:")).decode() == secret
    later = pyotp.TOTP(secret).at(time.time() + 30)  # the next step
    assert await _sign_in(web, console_practice, later) == 303


async def test_plaintext_secrets_still_sign_in_and_rotation_reencrypts(
    web: AsyncTestClient[Any],
    console_practice: ConsolePractice,
    database_url: str,
    store: PiccoloStore,
) -> None:
    secret = await sign_in_admin(web, console_practice)
    staff_id, _ = await _stored(database_url, console_practice)

    # Kept in the clear by a version before encryption: still read.
    await _store_secret(database_url, console_practice, secret)
    later = pyotp.TOTP(secret).at(time.time() + 30)  # the next step
    assert await _sign_in(web, console_practice, later) == 303

    # Encrypted with a key that is no longer the newest: unreadable with the new one alone.
    await _store_secret(database_url, console_practice, SecretBox([OLD_KEY]).seal(secret))
    with pytest.raises(SealedSecretError, match="no longer lists"):
        await store.mfa.get(console_practice.uuid, staff_id)

    # New key first, old key kept: rotate, after which the new key alone reads every secret.
    code, output = await _cli(
        database_url, "secret-key", "rotate", key=f"{TEST_SECRET_KEY},{OLD_KEY}"
    )
    assert code == 0, output
    assert output.splitlines()[0].startswith("database: ")  # stderr first names the database
    assert int(output.splitlines()[1].split()[0]) >= 1
    _, stored = await _stored(database_url, console_practice)
    assert Fernet(TEST_SECRET_KEY).decrypt(stored.removeprefix("fernet:")).decode() == secret
    state = await store.mfa.get(console_practice.uuid, staff_id)
    assert state is not None
    assert state.totp_secret == secret


async def test_rotation_needs_every_key_still_in_use(
    console_practice: ConsolePractice, web: AsyncTestClient[Any], database_url: str
) -> None:
    """Dropping a key before rotating leaves that secret unreadable: the command says so and
    leaves the row as it was."""
    secret = await sign_in_admin(web, console_practice)
    sealed = SecretBox([OLD_KEY]).seal(secret)
    await _store_secret(database_url, console_practice, sealed)
    code, output = await _cli(database_url, "secret-key", "rotate", key=TEST_SECRET_KEY)
    assert code == 1
    assert "put the old key back" in output
    assert (await _stored(database_url, console_practice))[1] == sealed
    # Leave nothing the other tests' rotations could not read.
    await _store_secret(database_url, console_practice, SecretBox([TEST_SECRET_KEY]).seal(secret))


async def _cli(database_url: str, *args: str, key: str | None) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMLAB_")}
    env["SCIMLAB_DATABASE_URL"] = database_url
    if key is not None:
        env["SCIMLAB_SECRET_KEY"] = key
    process = await asyncio.create_subprocess_exec(
        str(SCIMLAB),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, output.decode()


_INSERT = (
    "INSERT INTO staff_mfa (id, practice_id, staff_id, totp_secret, totp_confirmed,"
    " failed_attempts, updated_at) VALUES "
)


async def _insert_sealed(database_url: str, practice_id: UUID, staff_id: UUID, value: str) -> None:
    """A ``staff_mfa`` row as the database holds it, written straight to the database."""
    if database_url.startswith("sqlite"):
        import sqlite3  # noqa: PLC0415

        row = (str(uuid4()), str(practice_id), str(staff_id), value, 1, 0, "2026-01-01 00:00:00")
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            connection.execute(_INSERT + "(?, ?, ?, ?, ?, ?, ?)", row)
        return
    import asyncpg  # noqa: PLC0415

    connection = await asyncpg.connect(database_url)
    try:
        sql = _INSERT + "($1, $2, $3, $4, true, 0, now())"
        await connection.execute(sql, uuid4(), practice_id, staff_id, value)
    finally:
        await connection.close()


async def test_rotation_walks_every_row_in_batches(database_url: str, store: PiccoloStore) -> None:
    accounts = {(uuid4(), uuid4()): f"SECRET{n}SECRET{n}" for n in range(3)}
    for (practice_id, staff_id), secret in accounts.items():
        await _insert_sealed(database_url, practice_id, staff_id, SecretBox([OLD_KEY]).seal(secret))
    rotating = await open_store(database_url, migrate=False, secret_keys=[TEST_SECRET_KEY, OLD_KEY])
    try:
        assert await rotating.mfa.reseal_secrets(batch=1) >= 3
    finally:
        await rotating.close()
    for (practice_id, staff_id), secret in accounts.items():
        state = await store.mfa.get(practice_id, staff_id)  # the new key alone
        assert state is not None
        assert state.totp_secret == secret
