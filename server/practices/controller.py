"""Management API for a practice's administrators: the SCIM configuration lifecycle.

Authenticated with the administrator's API key (``Authorization: Bearer``); an administrator
of another practice gets 404, so practice ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import (
    ClientException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.params import FromPath, JSONBody

from server.domain.errors import DomainError, NotFound
from server.practices.api_errors import API_EXCEPTION_HANDLERS
from server.practices.service import ConfirmationRequired, ScimCredentials
from server.security import hash_secret, mask_secret
from server.services import Services

__all__ = ["ScimConfigController"]


@dataclass(frozen=True, slots=True)
class Confirmation:
    confirm: str


@dataclass(frozen=True, slots=True)
class StaticTokenCreated:
    id: UUID
    token: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StaticTokenInfo:
    id: UUID
    token: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuditRecord:
    actor: str
    action: str
    detail: str
    created_at: datetime
    #: The client address of the request that caused it (null from the command line).
    address: str | None


async def authenticated_admin(
    request: Request[Any, Any, Any],
    practice_id: FromPath[UUID],
    services: NamedDependency[Services],
) -> str:
    """The acting administrator's audit name."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise NotAuthorizedException("an administrator API key is required")
    admin = await services.store.staff.find_admin_by_api_key(hash_secret(key.strip()))
    if admin is None or not admin.profile.active:
        raise NotAuthorizedException("the API key is not valid")
    if admin.practice_id != practice_id:
        raise NotFoundException("no such practice")
    return f"admin:{admin.profile.user_name}"


def _translate(error: DomainError) -> Exception:
    if isinstance(error, NotFound):
        return NotFoundException(error.detail)
    if isinstance(error, ConfirmationRequired):
        return ClientException(error.detail)
    return PermissionDeniedException(error.detail)


class ScimConfigController(Controller):
    path = "/api/v1/practices/{practice_id:uuid}/scim"
    dependencies = {"actor": Provide(authenticated_admin)}  # noqa: RUF012
    tags = ["SCIM configuration"]  # noqa: RUF012
    exception_handlers = API_EXCEPTION_HANDLERS

    @get("/", summary="Show the SCIM configuration (secret masked)")
    async def show(
        self,
        practice_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
    ) -> ScimCredentials:
        try:
            return await services.practices.show(practice_id)
        except DomainError as error:
            raise _translate(error) from None

    @post("/enable", status_code=200, summary="Enable or resume; the secret is shown once")
    async def enable(
        self,
        practice_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
    ) -> ScimCredentials:
        return await services.practices.enable(practice_id, actor=actor)

    @post("/disable", status_code=200, summary="Pause provisioning (confirm with DISABLE)")
    async def disable(
        self,
        practice_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
        data: JSONBody[Confirmation],
    ) -> ScimCredentials:
        try:
            return await services.practices.disable(practice_id, confirm=data.confirm, actor=actor)
        except DomainError as error:
            raise _translate(error) from None

    @post("/regenerate-secret", status_code=200, summary="New secret; old one and tokens die")
    async def regenerate(
        self,
        practice_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
    ) -> ScimCredentials:
        try:
            return await services.practices.regenerate_secret(practice_id, actor=actor)
        except DomainError as error:
            raise _translate(error) from None

    @post("/delete", status_code=204, summary="Delete the configuration (confirm with DELETE)")
    async def delete_config(
        self,
        practice_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
        data: JSONBody[Confirmation],
    ) -> None:
        try:
            await services.practices.delete(practice_id, confirm=data.confirm, actor=actor)
        except DomainError as error:
            raise _translate(error) from None

    @post("/tokens", status_code=201, summary="Issue a static bearer token, shown once")
    async def create_token(
        self,
        practice_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
    ) -> StaticTokenCreated:
        try:
            token = await services.practices.create_static_token(practice_id, actor=actor)
        except DomainError as error:
            raise _translate(error) from None
        return StaticTokenCreated(token.id, token.token, token.created_at)

    @get("/tokens", summary="List static tokens (masked)")
    async def list_tokens(
        self,
        practice_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
    ) -> list[StaticTokenInfo]:
        tokens = await services.practices.list_static_tokens(practice_id)
        return [StaticTokenInfo(t.id, mask_secret(t.hint), t.created_at) for t in tokens]

    @delete("/tokens/{token_id:uuid}", status_code=204, summary="Revoke a static token")
    async def revoke_token(
        self,
        practice_id: FromPath[UUID],
        token_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
    ) -> None:
        try:
            await services.practices.revoke_static_token(practice_id, token_id, actor=actor)
        except DomainError as error:
            raise _translate(error) from None

    @get("/audit", summary="The practice's audit log, newest first")
    async def audit(
        self,
        practice_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
    ) -> list[AuditRecord]:
        entries = await services.practices.audit_log(practice_id)
        return [AuditRecord(e.actor, e.action, e.detail, e.created_at, e.address) for e in entries]
