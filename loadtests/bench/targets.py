"""The three benchmark targets and the SCIM requests each operation sends them."""

from __future__ import annotations

import json
import random
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import asyncpg

from loadtests.bench.load import drive, request_bytes
from loadtests.seed import seed_practice, seed_users, seeded_user_name
from server.persistence.store import open_store
from server.services import Services
from server.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["OPERATIONS", "Target", "fresh_database", "prepare_scimlab", "request_maker"]

OPERATIONS = ("create", "read", "filter", "patch", "put", "list")
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@dataclass
class Target:
    name: str
    base: str  # SCIM base path on the server, e.g. /scim/v2/<practice>
    headers: dict[str, str]
    ids: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


class fresh_database:  # noqa: N801 - used as a context manager, like tempfile's
    """A throwaway SQLite file or PostgreSQL database."""

    def __init__(self, backend: str, postgres_url: str) -> None:
        self.backend, self.postgres_url = backend, postgres_url
        self.name = f"scimlab_bench_{uuid.uuid4().hex[:10]}"
        self.folder: tempfile.TemporaryDirectory[str] | None = None

    async def __aenter__(self) -> str:
        if self.backend == "sqlite":
            self.folder = tempfile.TemporaryDirectory(prefix="scimlab-bench-")
            return f"sqlite:///{Path(self.folder.name) / 'bench.db'}"
        admin = await asyncpg.connect(self.postgres_url)
        await admin.execute(f'CREATE DATABASE "{self.name}"')
        await admin.close()
        return self.postgres_url.rsplit("/", 1)[0] + f"/{self.name}"

    async def __aexit__(self, *_: object) -> None:
        if self.folder is not None:
            self.folder.cleanup()
            return
        admin = await asyncpg.connect(self.postgres_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        await admin.close()


async def prepare_scimlab(url: str, users: int, name: str) -> Target:
    """Seed a practice of ``users`` staff straight into the database; bearer token auth."""
    settings = Settings(database_url=url)
    store = await open_store(url)
    try:
        services = Services.build(store, settings)
        practice_id, _client, _secret = await seed_practice(services, name)
        ids = await seed_users(store, practice_id, users)
        token = await services.practices.create_static_token(practice_id, actor="bench")
    finally:
        await store.close()
    return Target(
        name=name,
        base=f"/scim/v2/{practice_id}",
        headers={"Authorization": f"Bearer {token.token}"},
        ids=[str(i) for i in ids],
        names=[seeded_user_name(i) for i in range(users)],
    )


async def seed_over_http(target: Target, port: int, users: int) -> None:
    """scim2-server keeps users in memory: create them through its API and keep their ids."""
    names = [f"peer{i:07d}@seed.example.org" for i in range(users)]
    make = request_maker(target, "create", host=f"127.0.0.1:{port}", names=names)
    result = await drive(
        "127.0.0.1", port, make, connections=20, total=users, duration_s=600, keep_bodies=True
    )
    created = [json.loads(body) for body in result.bodies]
    target.ids = [user["id"] for user in created]
    target.names = [user["userName"] for user in created]


def _user(name: str, *, active: bool = True) -> dict[str, Any]:
    return {
        "schemas": [USER_SCHEMA],
        "userName": name,
        "name": {"givenName": "Bench", "familyName": "User"},
        "active": active,
    }


def request_maker(
    target: Target, operation: str, *, host: str, names: list[str] | None = None
) -> Callable[[int], bytes]:
    """index -> the raw request one ``operation`` sends (new names for creates, else seeded)."""
    json_headers = {**target.headers, "Content-Type": "application/scim+json"}
    run = uuid.uuid4().hex[:8]
    rng = random.Random(11)
    ids = target.ids or [str(uuid.uuid4())]
    known = target.names or ["nobody@example.org"]

    def build(index: int) -> bytes:
        pick = rng.randrange(len(ids))
        user_path = f"{target.base}/Users/{ids[pick]}"
        if operation == "create":
            name = names[index] if names else f"new-{run}-{index}@bench.example.org"
            body = json.dumps(_user(name)).encode()
            return request_bytes(
                "POST", f"{target.base}/Users", host=host, headers=json_headers, body=body
            )
        if operation == "read":
            return request_bytes("GET", user_path, host=host, headers=target.headers)
        if operation == "filter":
            wanted = quote(f'userName eq "{known[rng.randrange(len(known))]}"')
            path = f"{target.base}/Users?filter={wanted}"
            return request_bytes("GET", path, host=host, headers=target.headers)
        if operation == "patch":
            value = "False" if index % 2 else "True"
            op = {"op": "Replace", "path": "active", "value": value}
            body = json.dumps({"schemas": [PATCH_SCHEMA], "Operations": [op]}).encode()
            return request_bytes("PATCH", user_path, host=host, headers=json_headers, body=body)
        if operation == "put":
            body = json.dumps(_user(known[pick % len(known)], active=index % 2 == 0)).encode()
            return request_bytes("PUT", user_path, host=host, headers=json_headers, body=body)
        path = f"{target.base}/Users?startIndex=1&count=100"
        return request_bytes("GET", path, host=host, headers=target.headers)

    return build
