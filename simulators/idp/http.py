"""Serving a ``SimulatedOidcIdp`` or a ``SimulatedSamlIdp`` on loopback with the standard
library (a thread per request).

with serve(idp) as running:
    running.base_url   # http://127.0.0.1:<port>
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import parse_qsl, urlsplit

from simulators.idp.oidc import Reply, SimulatedOidcIdp
from simulators.idp.saml import SimulatedSamlIdp

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["serve"]

Idp = TypeVar("Idp", SimulatedOidcIdp, SimulatedSamlIdp)

MAX_BODY = 64 * 1024


def _handler(idp: SimulatedOidcIdp | SimulatedSamlIdp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, reply: Reply) -> None:
            if reply.json is not None:
                body = json.dumps(reply.json).encode()
                content_type = "application/json"
            elif reply.xml is not None:
                body = reply.xml.encode()
                content_type = "application/samlmetadata+xml"
            else:
                body = (reply.html or "").encode()
                content_type = "text/html; charset=utf-8"
            self.send_response(reply.status)
            headers = {"Content-Type": content_type, **reply.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _dispatch(self, method: str) -> None:
            url = urlsplit(self.path)
            query = dict(parse_qsl(url.query))
            if isinstance(idp, SimulatedSamlIdp):
                self._send(idp.dispatch(method, url.path, query))
                return
            endpoint = idp.route(method, url.path)
            if endpoint == "discovery" and method == "GET":
                self._send(idp.discovery())
            elif endpoint == "jwks" and method == "GET":
                self._send(idp.jwks())
            elif endpoint == "authorize" and method == "GET":
                self._send(idp.authorize(query))
            elif endpoint == "token" and method == "POST":
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
                form = dict(parse_qsl(self.rfile.read(length).decode("utf-8", "replace")))
                self._send(idp.token(form, self.headers.get("Authorization")))
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
def serve(idp: Idp, *, port: int = 0) -> Iterator[Idp]:
    """Serve on 127.0.0.1 (a free port unless given); ``idp.base_url`` is set."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(idp))
    server.daemon_threads = True
    idp.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="idp-sim", daemon=True
    )
    thread.start()
    try:
        yield idp
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
