"""Serving an ``OpenIdProvider`` on loopback with the standard library (a thread per request).

with serve(provider) as running:
    running.base_url   # http://127.0.0.1:<port>
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from simulators.idp.provider import Reply

if TYPE_CHECKING:
    from collections.abc import Iterator

    from simulators.idp.provider import OpenIdProvider

__all__ = ["serve"]

MAX_BODY = 64 * 1024


def _handler(provider: OpenIdProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, reply: Reply) -> None:
            if reply.json is not None:
                body = json.dumps(reply.json).encode()
                content_type = "application/json"
            else:
                body = (reply.html or "").encode()
                content_type = "text/html; charset=utf-8"
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _dispatch(self, method: str) -> None:
            url = urlsplit(self.path)
            endpoint = provider.route(method, url.path)
            query = dict(parse_qsl(url.query))
            if endpoint == "discovery" and method == "GET":
                self._send(provider.discovery())
            elif endpoint == "jwks" and method == "GET":
                self._send(provider.jwks())
            elif endpoint == "authorize" and method == "GET":
                self._send(provider.authorize(query))
            elif endpoint == "token" and method == "POST":
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
                form = dict(parse_qsl(self.rfile.read(length).decode("utf-8", "replace")))
                self._send(provider.token(form, self.headers.get("Authorization")))
            else:
                self._send(Reply(404, json={"error": "not_found"}))

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def log_message(self, format: str, *args: object) -> None:
            return  # quiet: tests read replies, not logs

    return Handler


@contextmanager
def serve(provider: OpenIdProvider, *, port: int = 0) -> Iterator[OpenIdProvider]:
    """Serve on 127.0.0.1 (a free port unless given); ``provider.base_url`` is set."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(provider))
    server.daemon_threads = True
    provider.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="idp-sim", daemon=True
    )
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
