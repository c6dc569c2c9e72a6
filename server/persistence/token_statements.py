"""The statements that check a bearer token: the token joined to its practice's current,
enabled credential, with the expiry and what names the credential (kind, hint, the
practice's client id). The practice is matched in SQL. A request that reads an account or the
practice's SSO configuration next has it read in the same statement
(:mod:`server.persistence.account_read_ahead`)."""

from __future__ import annotations

from server.persistence.fixed_statements import Statement
from server.persistence.staff_batch import BY_ID_WITH_GROUPS_TEXT, BY_USER_NAME_WITH_GROUPS_TEXT

__all__ = [
    "VALID_TOKEN",
    "VALID_TOKEN_WITH_ACCOUNT",
    "VALID_TOKEN_WITH_NAMED_ACCOUNT",
    "VALID_TOKEN_WITH_SSO_CONFIG",
]

_CHECK = (
    "SELECT t.expires_at AS token_expires_at, t.kind AS token_kind, t.hint AS token_hint, "
    "c.client_id AS token_client_id{columns} FROM access_token t JOIN scim_config c "
    "ON c.practice_id = t.practice_id AND c.credential_id = t.credential_id{joined} "
    "WHERE t.token_hash = {{}} AND t.practice_id = {{}} AND c.enabled = {{}}"
)


def _check(columns: str = "", joined: str = "") -> Statement:
    return Statement.of(_CHECK.format(columns=columns, joined=joined))


VALID_TOKEN = _check()
# With the account the request reads next, with its groups: no row when the token is not
# valid, else the account's rows (``BY_ID_WITH_GROUPS``'s columns), or one row of NULLs beside
# the expiry when there is no such account.
VALID_TOKEN_WITH_ACCOUNT = _check(", a.*", f" LEFT JOIN ({BY_ID_WITH_GROUPS_TEXT}) a ON TRUE")
VALID_TOKEN_WITH_NAMED_ACCOUNT = _check(
    ", a.*", f" LEFT JOIN ({BY_USER_NAME_WITH_GROUPS_TEXT}) a ON TRUE"
)
# With the practice's SSO configuration, which a create reads next: its columns beside the
# token's, NULL when the practice has none.
VALID_TOKEN_WITH_SSO_CONFIG = _check(
    ", s.*", " LEFT JOIN sso_config s ON s.practice_id = t.practice_id"
)
