"""The TOTP enrolment and failed-attempt lockout of accounts that sign in with a password.

Each change is one statement on the account's ``staff_mfa`` row (an upsert locks the row it
conflicts with), so concurrent sign-ins in any number of processes never read, modify and
write the counter; ``ON CONFLICT ... WHERE`` keeps every update within the practice. On
SQLite, instants are piccolo's UTC text in one fixed form, so text order is time order.
TOTP secrets are kept encrypted by ``box`` (``SCIMLAB_SECRET_KEY``) and decrypted here, so
the domain only ever sees them in the clear.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import uuid4

from server.domain.mfa import Attempt, MfaState
from server.persistence.fixed_statements import DirectSql, Statement
from server.persistence.rows import as_utc, as_uuid

if TYPE_CHECKING:
    from datetime import datetime, timedelta
    from uuid import UUID

    from server.persistence.tables import BoundTables
    from server.security import SecretBox

__all__ = ["PiccoloMfaRepository"]


def _cast_on_postgres(text: str) -> Statement:
    """``text`` with its ``::timestamptz`` casts on PostgreSQL only: PostgreSQL cannot tell
    the type of a parameter that CASE returns, and SQLite has no ``::``."""
    statement = Statement.of(text)
    return Statement(statement.sqlite.replace("::timestamptz", ""), statement.postgres)


_MFA = Statement.of("SELECT * FROM staff_mfa WHERE practice_id = {} AND staff_id = {}")
_MFA_INSERT = (
    "INSERT INTO staff_mfa (id, practice_id, staff_id, totp_secret, totp_confirmed,"
    " last_totp_step, failed_attempts, locked_until, updated_at) "
)
_ENROLL = Statement.of(
    _MFA_INSERT + "VALUES ({}, {}, {}, {}, {}, NULL, 0, NULL, {}) "
    "ON CONFLICT (staff_id) DO UPDATE SET"
    " totp_secret = coalesce(staff_mfa.totp_secret, excluded.totp_secret),"
    " updated_at = excluded.updated_at "
    "WHERE staff_mfa.practice_id = excluded.practice_id "
    "RETURNING totp_secret"
)
# The attempt's number: one more than the failures in a row, or 1 once a lock has run out.
_NUMBER = "(CASE WHEN staff_mfa.locked_until IS NULL THEN staff_mfa.failed_attempts + 1 ELSE 1 END)"
_CLAIM = _cast_on_postgres(
    _MFA_INSERT + "VALUES ({}, {}, {}, NULL, {}, NULL, 1, {}, {}) "
    "ON CONFLICT (staff_id) DO UPDATE SET"
    f" failed_attempts = {_NUMBER},"
    f" locked_until = CASE WHEN {_NUMBER} >= {{}} THEN {{}}::timestamptz ELSE NULL END,"
    " updated_at = excluded.updated_at "
    "WHERE staff_mfa.practice_id = excluded.practice_id"
    " AND (staff_mfa.locked_until IS NULL OR staff_mfa.locked_until <= excluded.updated_at) "
    "RETURNING failed_attempts, locked_until"
)
_RELEASE = Statement.of(
    "UPDATE staff_mfa SET"
    " failed_attempts = CASE WHEN failed_attempts > 0 THEN failed_attempts - 1 ELSE 0 END,"
    " locked_until = CASE WHEN locked_until = {} THEN NULL ELSE locked_until END,"
    " updated_at = {} "
    "WHERE practice_id = {} AND staff_id = {}"
)
_CONFIRM = Statement.of(
    "UPDATE staff_mfa SET totp_confirmed = {}, last_totp_step = {}, failed_attempts = 0,"
    " locked_until = NULL, updated_at = {} "
    "WHERE practice_id = {} AND staff_id = {}"
    " AND (last_totp_step IS NULL OR last_totp_step < {})"
    " AND (locked_until IS NULL OR locked_until <= {} OR locked_until = {}) "
    "RETURNING id"
)


class PiccoloMfaRepository:
    def __init__(self, direct: DirectSql, tables: BoundTables, box: SecretBox) -> None:
        self._direct = direct
        self._table = tables.staff_mfa
        self._box = box

    async def get(self, practice_id: UUID, staff_id: UUID) -> MfaState | None:
        arg = self._direct.argument
        rows = await self._direct.fetch(_MFA, arg(practice_id), arg(staff_id))
        if not rows:
            return None
        row = rows[0]
        return MfaState(
            practice_id=as_uuid(row["practice_id"]),
            staff_id=as_uuid(row["staff_id"]),
            totp_secret=self._open(row["totp_secret"]),
            totp_confirmed=bool(row["totp_confirmed"]),
            last_step=row["last_totp_step"],
            failed_attempts=int(row["failed_attempts"]),
            locked_until=_instant(row["locked_until"]),
        )

    async def enroll(self, practice_id: UUID, staff_id: UUID, secret: str, now: datetime) -> str:
        arg = self._direct.argument
        rows = await self._direct.fetch(
            _ENROLL,
            arg(uuid4()),
            arg(practice_id),
            arg(staff_id),
            self._box.seal(secret),
            False,
            now,
        )
        if not rows:
            msg = f"staff {staff_id} is not in practice {practice_id}"
            raise LookupError(msg)
        return self._box.open(str(rows[0]["totp_secret"]))

    def _open(self, stored: str | None) -> str | None:
        return None if stored is None else self._box.open(stored)

    async def claim_attempt(
        self, practice_id: UUID, staff_id: UUID, now: datetime, *, limit: int, lockout: timedelta
    ) -> Attempt | None:
        arg = self._direct.argument
        until = now + lockout
        rows = await self._direct.fetch(
            _CLAIM,
            arg(uuid4()),
            arg(practice_id),
            arg(staff_id),
            False,
            until if limit <= 1 else None,
            now,
            limit,
            until,
        )
        if not rows:
            return None
        return Attempt(int(rows[0]["failed_attempts"]), _instant(rows[0]["locked_until"]))

    async def release_attempt(
        self, practice_id: UUID, staff_id: UUID, attempt: Attempt, now: datetime
    ) -> None:
        arg = self._direct.argument
        await self._direct.fetch(
            _RELEASE, attempt.locks_until, now, arg(practice_id), arg(staff_id)
        )

    async def confirm_code(
        self, practice_id: UUID, staff_id: UUID, step: int, attempt: Attempt, now: datetime
    ) -> bool:
        arg = self._direct.argument
        rows = await self._direct.fetch(
            _CONFIRM,
            True,
            step,
            now,
            arg(practice_id),
            arg(staff_id),
            step,
            now,
            attempt.locks_until,
        )
        return bool(rows)

    async def reseal_secrets(self, *, batch: int = 500) -> int:
        """Encrypt every stored TOTP secret with the newest key (plaintext ones too): the
        key-rotation step of ``scimlab secret-key rotate``. Each row is rewritten only if it
        still holds what was read, so a concurrent enrolment is never overwritten."""
        table, done, after = self._table, 0, None
        while True:
            query = table.select(table.id, table.practice_id, table.totp_secret).where(
                table.totp_secret.is_not_null()
            )
            if after is not None:
                query = query.where(table.id > after)
            rows = await query.order_by(table.id).limit(batch).run()
            for row in rows:
                sealed = self._box.reseal(row["totp_secret"])
                changed = (
                    await table.update({table.totp_secret: sealed})
                    .where(
                        (table.id == row["id"])
                        & (table.practice_id == row["practice_id"])
                        # Compare-and-swap in SQL, on the stored value (no secret is
                        # compared in Python): only if nobody changed it since.
                        & table.totp_secret.is_in([row["totp_secret"]])
                    )
                    .returning(table.id)
                    .run()
                )
                done += len(changed)
            if len(rows) < batch:
                return done
            after = rows[-1]["id"]


def _instant(value: Any) -> datetime | None:
    return None if value is None else as_utc(value)
