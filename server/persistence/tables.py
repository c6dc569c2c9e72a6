"""piccolo tables: columns only. Queries live in the repositories.

These classes are unbound; ``bind_tables`` gives each engine its own subclasses so two
databases (SQLite and PostgreSQL in one test run, say) never share a global engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from piccolo.columns import UUID, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from server.persistence.rows import undeclared_columns

if TYPE_CHECKING:
    from piccolo.engine.base import Engine

__all__ = [
    "AccessTokenTable",
    "AuditEventTable",
    "BoundTables",
    "GroupMemberTable",
    "GroupTable",
    "LocationTable",
    "OutboxMessageTable",
    "PracticeTable",
    "ProviderTable",
    "SamlAssertionTable",
    "SamlSpKeyTable",
    "ScimConfigTable",
    "SignInFlowTable",
    "SsoConfigTable",
    "StaffLocationTable",
    "StaffMfaTable",
    "StaffSessionTable",
    "StaffUserTable",
    "bind_tables",
]

_T = TypeVar("_T", bound=Table)


class PracticeTable(Table, tablename="practice"):
    id = UUID(primary_key=True)
    name = Varchar(length=200)
    created_at = Timestamptz()


class ScimConfigTable(Table, tablename="scim_config"):
    id = UUID(primary_key=True)
    practice_id = UUID(unique=True)
    client_id = Varchar(length=64, unique=True)
    secret_hash = Varchar(length=64, secret=True)
    secret_hint = Varchar(length=8)
    credential_id = UUID()
    enabled = Boolean(default=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class AccessTokenTable(Table, tablename="access_token"):
    id = UUID(primary_key=True)
    practice_id = UUID(index=True)
    token_hash = Varchar(length=64, unique=True, secret=True)
    kind = Varchar(length=16)
    credential_id = UUID()
    hint = Varchar(length=8)
    expires_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class StaffUserTable(Table, tablename="staff_user"):
    id = UUID(primary_key=True)
    # No index of its own: the composite indexes the migrations create start with it (m0102).
    practice_id = UUID()
    user_name = Varchar(length=256)
    # text_key(userName); NULL once SCIM deleted the account so the name can be reused.
    # Unique per practice through the index created in m0002. The *_key columns are text
    # (m0103): NFKC and case folding can make a key longer than the value.
    user_name_key = Text(null=True, default=None)
    given_name = Varchar(length=256, null=True, default=None)
    family_name = Varchar(length=256, null=True, default=None)
    cell_phone = Varchar(length=64, null=True, default=None)
    email = Varchar(length=256, null=True, default=None)
    # text_key copies: case-insensitive filters and sorting mean the same on SQLite (whose
    # lower() is ASCII-only) and PostgreSQL. email_key is unique per practice (m0008).
    given_name_key = Text(null=True, default=None)
    family_name_key = Text(null=True, default=None)
    email_key = Text(null=True, default=None)
    active = Boolean(default=True)
    external_id = Varchar(length=256, null=True, default=None)
    access_level = Varchar(length=32)
    is_practice_admin = Boolean(default=False)
    scim_provisioned = Boolean(default=False)
    scim_deleted = Boolean(default=False)
    sso_issuer = Varchar(length=512, null=True, default=None)
    sso_subject = Text(null=True, default=None)
    password_hash = Text(null=True, default=None, secret=True)
    api_key_hash = Varchar(length=64, null=True, default=None, unique=True, secret=True)
    version = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class AuditEventTable(Table, tablename="audit_event"):
    id = UUID(primary_key=True)
    practice_id = UUID(index=True)
    actor = Varchar(length=256)
    action = Varchar(length=64)
    detail = Text(default="")
    #: The client address of the request that caused the entry (null from the CLI).
    address = Varchar(length=64, null=True, default=None)
    created_at = Timestamptz()


class GroupTable(Table, tablename="scim_group"):
    id = UUID(primary_key=True)
    practice_id = UUID(index=True)
    display_name = Varchar(length=256)
    # text_key(displayName), unique per practice (index in m0005)
    display_name_key = Text()
    external_id = Varchar(length=256, null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class GroupMemberTable(Table, tablename="group_member"):
    id = UUID(primary_key=True)
    practice_id = UUID()
    group_id = UUID(index=True)
    staff_id = UUID(index=True)
    position = Integer(default=0)


class LocationTable(Table, tablename="location"):
    id = UUID(primary_key=True)
    practice_id = UUID(index=True)
    name = Varchar(length=200)
    created_at = Timestamptz()


class StaffLocationTable(Table, tablename="staff_location"):
    id = UUID(primary_key=True)
    practice_id = UUID()
    staff_id = UUID(index=True)
    location_id = UUID()


class StaffSessionTable(Table, tablename="staff_session"):
    """Signed-in sessions of staff (the console and SSO create them); revoked on deactivation."""

    id = UUID(primary_key=True)
    practice_id = UUID()
    staff_id = UUID(index=True)
    token_hash = Varchar(length=64, unique=True, secret=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()


class SsoConfigTable(Table, tablename="sso_config"):
    """A practice's identity provider (OpenID Connect or SAML 2.0) and which claim or
    assertion value identifies a person. For SAML ``issuer`` is the IdP's entity id."""

    id = UUID(primary_key=True)
    practice_id = UUID(unique=True)
    issuer = Varchar(length=512)
    metadata_url = Varchar(length=1024, null=True, default=None)
    client_id = Varchar(length=256)
    # Sent to the identity provider's token endpoint, so it is kept (never shown again).
    client_secret = Text(default="", secret=True)
    link_rule = Varchar(length=64)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    protocol = Varchar(length=8, default="oidc")
    saml_sso_url = Varchar(length=1024, null=True, default=None)
    #: the IdP's signing certificates, PEM, one after the other (two during a rotation)
    saml_certificates = Text(null=True, default=None)
    saml_name_id_format = Varchar(length=128, default="")
    saml_idp_initiated = Boolean(default=False)


class SamlSpKeyTable(Table, tablename="saml_sp_key"):
    """The practice's SAML service-provider key pair, made on first use (its metadata is
    served before SAML is chosen). The key signs AuthnRequests, so it is kept."""

    id = UUID(primary_key=True)
    practice_id = UUID(unique=True)
    private_key = Text(secret=True)
    certificate = Text()
    created_at = Timestamptz()


class SamlAssertionTable(Table, tablename="saml_assertion"):
    """Assertion ids already used to sign in, until they expire: a replay is refused.
    ``assertion_key`` is the SHA-256 of practice id and assertion id (unique: one use)."""

    id = UUID(primary_key=True)
    practice_id = UUID()
    assertion_key = Varchar(length=64, unique=True)
    expires_at = Timestamptz(index=True)


class SignInFlowTable(Table, tablename="sign_in_flow"):
    """A sign-in under way (password done, code pending; an SSO redirect; a password reset).

    The browser holds the random token; only its hash is here. Used once, then deleted.
    """

    id = UUID(primary_key=True)
    practice_id = UUID()
    kind = Varchar(length=16)
    token_hash = Varchar(length=64, unique=True, secret=True)
    staff_id = UUID(null=True, default=None)
    nonce = Varchar(length=128, null=True, default=None)
    code_verifier = Varchar(length=128, null=True, default=None, secret=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()


class StaffMfaTable(Table, tablename="staff_mfa"):
    """TOTP enrollment and failed-attempt lockout of an account that signs in with a password."""

    id = UUID(primary_key=True)
    practice_id = UUID()
    staff_id = UUID(unique=True)
    #: ``fernet:<token>`` (``server.security.SecretBox``); plaintext from before encryption.
    totp_secret = Text(null=True, default=None, secret=True)
    totp_confirmed = Boolean(default=False)
    last_totp_step = Integer(null=True, default=None)
    failed_attempts = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()


class ProviderTable(Table, tablename="provider"):
    """A staff account enrolled as a provider (prescriber) of the practice."""

    id = UUID(primary_key=True)
    practice_id = UUID(index=True)
    staff_id = UUID(unique=True)
    npi = Varchar(length=10)
    specialty = Varchar(length=200)
    created_at = Timestamptz()


class OutboxMessageTable(Table, tablename="outbox_message"):
    """Email the platform would send (password reset links), kept here instead of sent."""

    id = UUID(primary_key=True)
    practice_id = UUID(index=True)
    recipient = Varchar(length=256)
    subject = Varchar(length=256)
    body = Text(default="")
    created_at = Timestamptz()


@dataclass(frozen=True, slots=True)
class BoundTables:
    practice: type[PracticeTable]
    scim_config: type[ScimConfigTable]
    access_token: type[AccessTokenTable]
    staff_user: type[StaffUserTable]
    audit_event: type[AuditEventTable]
    group: type[GroupTable]
    group_member: type[GroupMemberTable]
    location: type[LocationTable]
    staff_location: type[StaffLocationTable]
    staff_session: type[StaffSessionTable]
    sso_config: type[SsoConfigTable]
    saml_sp_key: type[SamlSpKeyTable]
    saml_assertion: type[SamlAssertionTable]
    sign_in_flow: type[SignInFlowTable]
    staff_mfa: type[StaffMfaTable]
    provider: type[ProviderTable]
    outbox_message: type[OutboxMessageTable]


def _bind(table: type[_T], engine: Engine[Any], columns: dict[str, Any] | None = None) -> type[_T]:
    return type(table.__name__, (table,), columns or {}, tablename=table._meta.tablename, db=engine)


def bind_tables(engine: Engine[Any]) -> BoundTables:
    return BoundTables(
        practice=_bind(PracticeTable, engine),
        scim_config=_bind(ScimConfigTable, engine),
        access_token=_bind(AccessTokenTable, engine),
        staff_user=_bind(StaffUserTable, engine, undeclared_columns(StaffUserTable)),
        audit_event=_bind(AuditEventTable, engine),
        group=_bind(GroupTable, engine),
        group_member=_bind(GroupMemberTable, engine),
        location=_bind(LocationTable, engine),
        staff_location=_bind(StaffLocationTable, engine),
        staff_session=_bind(StaffSessionTable, engine),
        sso_config=_bind(SsoConfigTable, engine),
        saml_sp_key=_bind(SamlSpKeyTable, engine),
        saml_assertion=_bind(SamlAssertionTable, engine),
        sign_in_flow=_bind(SignInFlowTable, engine),
        staff_mfa=_bind(StaffMfaTable, engine),
        provider=_bind(ProviderTable, engine),
        outbox_message=_bind(OutboxMessageTable, engine),
    )
