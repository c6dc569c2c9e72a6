"""The platform side of a target: the practice's SCIM configuration lifecycle.

With ``--platform-url`` and ``--platform-admin`` (the practice administrator's API key), the
checks drive the management API under ``/api/v1/practices/{practice_id}/scim``: show,
enable, disable, regenerate-secret, delete and static tokens. The practice id is the last
segment of the SCIM URL. Sign-in and SSO are not offered by the platform yet: the checks that
need them report "not applicable" with :data:`SIGN_IN_PENDING`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from conformance.session import Session

__all__ = ["SIGN_IN_PENDING", "Platform", "platform"]

SIGN_IN_PENDING = (
    "waits for the web console and SSO issue: the platform offers no sign-in or staff "
    "endpoint to drive yet"
)


class Platform:
    def __init__(self, s: Session, base: str, practice_id: str, admin_key: str) -> None:
        self._s = s
        self._base = f"{base.rstrip('/')}/api/v1/practices/{practice_id}/scim"
        self._headers = {"Authorization": f"Bearer {admin_key}"}

    async def _call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self._s.request(method, self._base + path, headers=self._headers, json=body)

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


def platform(s: Session) -> Platform:
    """The platform of the target, or not applicable when the run was given none."""
    target = s.target
    if target.platform_url is None or target.platform_admin is None:
        s.not_applicable("needs the platform (--platform-url and --platform-admin)")
    if target.tenant_id is None:
        s.not_applicable("the SCIM URL does not end with a practice id")
    return Platform(s, target.platform_url, target.tenant_id, target.platform_admin)
