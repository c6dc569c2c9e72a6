"""Rows read in the statement that checked the request's bearer token.

A read by id, PATCH and PUT of ``/Users/{id}`` check the token, then read the account with
its groups; a ``userName eq`` filter reads the account of that userName the same way
(``server.domain.account_keys``); a create checks the token, then reads the practice's SSO
configuration (to link the new account). On PostgreSQL every statement is a round trip, so
the token check reads what comes next too (on SQLite too when it does not remember the token:
``PiccoloTokenRepository.credential_for`` with ``account`` or ``sso_config``) and leaves its
rows here; the repository's next plain read of that account, or of that configuration
(``SSO_CONFIG``), in the request takes them instead of asking again (``take``), once. The
rows are as fresh as a read made right after the check.

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

__all__ = ["SSO_CONFIG", "forget", "keep", "take"]

#: What is kept when it is the practice's SSO configuration rather than an account.
SSO_CONFIG = "sso_config"

_kept: ContextVar[tuple[UUID, AccountKey | str, Sequence[ColumnRow]] | None] = ContextVar(
    "account_read_ahead", default=None
)


def keep(practice_id: UUID, what: AccountKey | str, rows: Sequence[ColumnRow]) -> None:
    """The rows (none: no such account or configuration) of ``what``, an account (by id or
    by userName) or ``SSO_CONFIG``, as read with the token."""
    _kept.set((practice_id, what, rows))


def forget() -> None:
    if _kept.get() is not None:
        _kept.set(None)


def take(practice_id: UUID, what: AccountKey | str) -> Sequence[ColumnRow] | None:
    """The rows kept for ``what`` in this practice, once; ``None`` when none are kept for it."""
    kept = _kept.get()
    if kept is None:
        return None
    _kept.set(None)
    if kept[0] != practice_id or kept[1] != what:
        return None
    return kept[2]
