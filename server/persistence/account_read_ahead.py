"""An account read in the statement that checked the request's bearer token.

A read by id, PATCH and PUT of ``/Users/{id}`` check the token, then read the account with
its groups; a ``userName eq`` filter reads the account of that userName the same way
(``server.domain.account_keys``). On PostgreSQL every statement is a round trip, so the
token check reads the account too (on SQLite too when it does not remember the token:
``PiccoloTokenRepository.credential_for`` with ``account``) and leaves its rows here; the staff
repository's next plain read of that account in the request takes them instead of asking
again (``take``), once. The rows are as fresh as a read made right after the check.

The rows live in a context variable: a request runs in its own task, so what one request keeps
no other sees; a later token check replaces them, and an operation forgets what it did not
take when it ends (``server.scim.operations.conditions``), so nothing outlives its request
even where several run one after another in one task (in-process tests and probes).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from uuid import UUID

    from server.domain.account_keys import AccountKey
    from server.persistence.fixed_statements import ColumnRow

__all__ = ["forget", "keep", "take"]

_kept: ContextVar[tuple[UUID, AccountKey, Sequence[ColumnRow]] | None] = ContextVar(
    "account_read_ahead", default=None
)


def keep(practice_id: UUID, account: AccountKey, rows: Sequence[ColumnRow]) -> None:
    """The account's rows (none: no such account) as read with the token."""
    _kept.set((practice_id, account, rows))


def forget() -> None:
    if _kept.get() is not None:
        _kept.set(None)


def take(practice_id: UUID, account: AccountKey) -> Sequence[ColumnRow] | None:
    """The rows kept for this account, once; ``None`` when none are kept for it."""
    kept = _kept.get()
    if kept is None:
        return None
    _kept.set(None)
    if kept[0] != practice_id or kept[1] != account:
        return None
    return kept[2]
