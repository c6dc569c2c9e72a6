"""What ``scimlab serve`` hands granian (JSON-lines logging, multi-process metrics, a drained
shutdown) and checks before it: that the port is free, and the URL the bound address gives.

Kept free of prometheus-client imports: the client reads ``PROMETHEUS_MULTIPROC_DIR`` when
it is first imported, and granian forks its workers from the process that calls this.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import socket
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType

__all__ = [
    "PortInUse",
    "bound_url",
    "drain_on_sigterm",
    "draining",
    "granian_options",
    "refuse_busy_port",
]

_MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"
#: The file whose existence tells every worker of a host that its shutdown has begun.
_DRAINING = "SCIMLAB_DRAINING_FILE"


def _granian_log_config() -> dict[str, Any]:
    return {
        "formatters": {"json": {"()": "server.ops.logs.JsonFormatter"}},
        "handlers": {
            "json": {
                "formatter": "json",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "_granian": {"handlers": ["json"], "level": "INFO", "propagate": False},
            "granian.access": {"handlers": ["json"], "level": "INFO", "propagate": False},
        },
    }


def _prepare_multiprocess_metrics(workers: int) -> None:
    """A fresh directory where every worker writes its samples, read by ``GET /metrics``."""
    if workers <= 1:
        return
    directory = os.environ.get(_MULTIPROC)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)
    else:
        os.environ[_MULTIPROC] = tempfile.mkdtemp(prefix="scimlab-metrics-")


def granian_options(workers: int) -> dict[str, Any]:
    """Extra keyword arguments for ``Granian(...)``; call before any worker starts."""
    _prepare_multiprocess_metrics(workers)
    return {"log_dictconfig": _granian_log_config()}


class PortInUse(OSError):
    """Another process listens on the address ``scimlab serve`` was asked to bind."""


def refuse_busy_port(host: str, port: int) -> None:
    """Raise :class:`PortInUse` when ``host:port`` is taken.

    granian binds with ``SO_REUSEPORT``, so a second server on a busy port would start and
    share the requests with the first. A socket bound here without that option fails as
    soon as anyone listens there (``SO_REUSEADDR`` only lets it past connections left in
    TIME_WAIT by a server that has just stopped).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                msg = f"{host}:{port}: address already in use (is another scimlab serve running?)"
                raise PortInUse(errno.EADDRINUSE, msg) from None
            raise


def bound_url(host: str, port: int) -> str:
    """The http URL of a bound address; a wildcard address is reached on loopback."""
    if host in {"0.0.0.0", ""}:  # noqa: S104 - naming the wildcard, not binding it
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def draining() -> bool:
    """True once this host's ``scimlab serve`` has received SIGTERM (``/readyz`` says 503)."""
    marker = os.environ.get(_DRAINING)
    return marker is not None and os.path.exists(marker)


def drain_on_sigterm(
    drain_seconds: float, notice: Callable[[str], None]
) -> tuple[Callable[[], None], Callable[[], None]]:
    """granian start-up and shutdown hooks that put a drain before granian's own SIGTERM.

    On SIGTERM the host is marked draining at once (every worker's ``/readyz`` answers 503)
    while it keeps serving; ``drain_seconds`` later the signal goes to granian's handler,
    which closes the listener and lets requests in flight finish (``workers_kill_timeout``).
    A second SIGTERM skips what is left of the drain. Call before granian forks its workers:
    they find the marker through the environment.
    """
    folder = Path(tempfile.mkdtemp(prefix="scimlab-serve-"))
    marker = folder / "draining"
    os.environ[_DRAINING] = str(marker)

    def install() -> None:
        granian_handler = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            marker.touch()
            signal.signal(signal.SIGTERM, granian_handler)
            notice(f"SIGTERM: /readyz answers 503; the listener closes in {drain_seconds:g} s")
            if drain_seconds <= 0 or not callable(granian_handler):
                os.kill(os.getpid(), signal.SIGTERM)
                return
            timer = threading.Timer(drain_seconds, os.kill, (os.getpid(), signal.SIGTERM))
            timer.daemon = True
            timer.start()

        signal.signal(signal.SIGTERM, on_sigterm)

    def remove() -> None:
        shutil.rmtree(folder, ignore_errors=True)

    return install, remove
