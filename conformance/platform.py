"""The platform side of a target: the practice's management API, with its administrator's key.

With ``--platform-url`` and ``--admin-key`` (the practice administrator's API key), the
checks drive ``/api/v1/practices/{practice_id}``: the SCIM configuration lifecycle under
``/scim`` (show, enable, disable, regenerate-secret, delete, static tokens), the staff
accounts under ``/staff`` and ``/locations`` (access level and locations), and the SSO
configuration under ``/sso`` (show, configure, remove). The practice id is the last segment
of the SCIM URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from conformance.session import Session

__all__ = ["LOCATION", "NEEDS_PLATFORM", "Platform", "platform"]

NEEDS_PLATFORM = "needs the platform (--platform-url and --admin-key)"
#: The location the suite gives accounts (DA-009); the platform offers no way to delete one.
LOCATION = "scimlab conformance"


class Platform:
    def __init__(self, s: Session, base: str, practice_id: str, admin_key: str) -> None:
        self._s = s
        self.url = base.rstrip("/")
        self.practice_id = practice_id
        self._practice = f"{self.url}/api/v1/practices/{practice_id}"
        self._headers = {"Authorization": f"Bearer {admin_key}"}

    async def api(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """A management API call under ``/api/v1/practices/{practice_id}``."""
        url = self._practice + path
        return await self._s.request(method, url, headers=self._headers, json=body)

    async def _call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.api(method, "/scim" + path, body)

    async def _credentials(self, response: httpx.Response, doing: str) -> dict[str, Any]:
        payload = self._s.expect_status(response, 200, doing=doing)
        secret = payload.get("client_secret") if isinstance(payload, dict) else None
        client_id = payload.get("client_id") if isinstance(payload, dict) else None
        shown = payload.get("secret_shown", True) if isinstance(payload, dict) else False
        masked = isinstance(secret, str) and any(c in secret for c in "*\u2022")
        if isinstance(secret, str) and isinstance(client_id, str) and shown and not masked:
            self._s.use_client_secret(client_id, secret)
        return dict(payload)

    async def enable(self) -> dict[str, Any]:
        """Enable (new credentials, adopted by the session) or resume a paused config."""
        return await self._credentials(await self._call("POST", "/enable"), "enabling SCIM")

    async def disable(self) -> httpx.Response:
        """Pause provisioning; the session's token is revoked with it."""
        self._s.forget_token()
        return await self._call("POST", "/disable", {"confirm": "DISABLE"})

    async def regenerate_secret(self) -> dict[str, Any]:
        response = await self._call("POST", "/regenerate-secret")
        return await self._credentials(response, "regenerating the client secret")

    async def delete(self) -> httpx.Response:
        self._s.forget_token()
        return await self._call("POST", "/delete", {"confirm": "DELETE"})

    async def create_static_token(self) -> tuple[str, str]:
        """A static bearer token (id, token); revoked when the check ends."""
        response = await self._call("POST", "/tokens")
        payload = self._s.expect_status(response, 201, doing="issuing a static token")
        token_id, token = str(payload.get("id")), str(payload.get("token"))
        self._s.redactor.add(token)
        self._s.defer(lambda: self.revoke_static_token(token_id))
        return token_id, token

    async def revoke_static_token(self, token_id: str) -> httpx.Response:
        return await self._call("DELETE", f"/tokens/{token_id}")

    # --- staff accounts ----------------------------------------------------------------
    async def find_staff(self, user_name: str) -> dict[str, Any] | None:
        """The staff account whose ``user_name`` matches (any case), from ``GET /staff``."""
        listing = await self.api("GET", "/staff")
        records = self._s.expect_status(listing, 200, doing="listing the staff accounts")
        wanted = user_name.casefold()
        found = [
            r
            for r in (records if isinstance(records, list) else [])
            if isinstance(r, dict) and str(r.get("user_name", "")).casefold() == wanted
        ]
        return dict(found[0]) if found else None

    async def staff(self, user_id: str, user_name: str) -> dict[str, Any]:
        """The staff account of a SCIM user: by the SCIM id when the platform shares it,
        else by ``user_name``. Fails the check when there is none."""
        response = await self.api("GET", f"/staff/{user_id}")
        if response.status_code == 200 and isinstance(record := self._s.json(response), dict):
            return record
        found = await self.find_staff(user_name)
        self._s.expect(found, f"the platform has no staff account for SCIM user {user_name}", None)
        assert found is not None
        return found

    async def conformance_location(self) -> str:
        """The id of the location the suite assigns (``LOCATION``), made on first use. The
        platform has no way to delete a location, so it stays and later runs reuse it."""
        listing = await self.api("GET", "/locations")
        records = self._s.expect_status(listing, 200, doing="listing the locations")
        for record in records if isinstance(records, list) else ():
            if isinstance(record, dict) and record.get("name") == LOCATION:
                return str(record.get("id"))
        created = await self.api("POST", "/locations", {"name": LOCATION})
        record = self._s.expect_status(created, 201, doing="adding a location")
        self._s.notes.append(
            f"added the location {LOCATION!r}; the platform cannot delete locations, so it "
            "stays (later runs reuse it)"
        )
        return str(record.get("id") if isinstance(record, dict) else "")


def platform(s: Session) -> Platform:
    """The platform of the target, or not applicable when the run was given none."""
    target = s.target
    if target.platform_url is None or target.platform_admin is None:
        s.not_applicable(NEEDS_PLATFORM)
    if target.tenant_id is None:
        s.not_applicable("the SCIM URL does not end with a practice id")
    return Platform(s, target.platform_url, target.tenant_id, target.platform_admin)
