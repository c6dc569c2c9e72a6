"""A fleet of practices for load tests: each with SCIM enabled, a static token and seeded
staff, written as JSON the locust users read (credentials for many tenants at once).

    SCIMLAB_DATABASE_URL=... SCIMLAB_PUBLIC_URL=http://127.0.0.1:8000 \\
        python -m loadtests.fleet --practices 50 --users 1000 --out fleet.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from loadtests.seed import seed_practice, seed_users
from server.persistence.store import open_store
from server.services import Services
from server.settings import Settings

__all__ = ["seed_fleet"]


async def seed_fleet(settings: Settings, practices: int, users: int) -> list[dict[str, Any]]:
    store = await open_store(settings.database_url)
    fleet = []
    try:
        services = Services.build(store, settings)
        for number in range(practices):
            practice_id, client_id, secret = await seed_practice(services, f"Load {number}")
            await seed_users(store, practice_id, users)
            token = await services.practices.create_static_token(practice_id, actor="load")
            fleet.append(
                {
                    "practice_id": str(practice_id),
                    "scim_url": settings.scim_base_url(str(practice_id)),
                    "token_url": settings.token_url,
                    "client_id": client_id,
                    "client_secret": secret,
                    "static_token": token.token,
                    "seeded_users": users,
                }
            )
    finally:
        await store.close()
    return fleet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--practices", type=int, default=10)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--out", type=Path, default=Path("fleet.json"))
    args = parser.parse_args(argv)
    fleet = asyncio.run(seed_fleet(Settings.from_env(), args.practices, args.users))
    args.out.write_text(json.dumps(fleet, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
