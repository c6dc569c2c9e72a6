"""The peer's one credential: ``Authorization: Bearer $PEER_TOKEN`` signs the caller in."""

from __future__ import annotations

import hmac
import os
from typing import Any


class Client:
    is_authenticated = True
    is_active = True
    pk = None


class BearerToken:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.wanted = f"Bearer {os.environ['PEER_TOKEN']}".encode()

    def __call__(self, request: Any) -> Any:
        offered = request.headers.get("Authorization", "").encode()
        if hmac.compare_digest(offered, self.wanted):
            request.user = Client()
        return self.get_response(request)
