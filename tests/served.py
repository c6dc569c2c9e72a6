"""``scimlab`` as a user runs it: ``scimlab serve`` on a real socket and commands run as
separate processes, from an environment without ``SCIMLAB_*`` variables (a new shell)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from server.cli import main

SCIMLAB = Path(sys.executable).parent / "scimlab"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMLAB_")}
    return {**env, **extra}


def cli(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCIMLAB), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


def cli_in_process(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``cli`` run in this process by click's test runner, where a new interpreter adds nothing
    a test checks (a set-up step, or what a command prints): ``env``'s ``SCIMLAB_*`` variables
    set and the others unset, as in the new shell of ``cli``. A command runs its own event
    loop, so it runs in a thread of its own. The working directory is this process's: give
    the database in ``SCIMLAB_DATABASE_URL``."""
    scimlab = {k: v for k, v in env.items() if k.startswith("SCIMLAB_")}
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SCIMLAB_")}
    with ThreadPoolExecutor(max_workers=1) as thread:
        result = thread.submit(
            CliRunner().invoke, main, list(args), prog_name="scimlab", env=unset | scimlab
        ).result()
    stderr = result.stderr
    if result.exc_info is not None and not isinstance(result.exception, SystemExit | None):
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return subprocess.CompletedProcess(["scimlab", *args], result.exit_code, result.stdout, stderr)


def cli_json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@dataclass
class Served:
    """A ``scimlab serve --port`` process; its stderr lands in ``log``."""

    port: int
    env: dict[str, str]
    log: Path
    args: tuple[str, ...] = ()
    cwd: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, wait: bool = True) -> Served:
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [str(SCIMLAB), "serve", "--port", str(self.port), *self.args],
                env=self.env,
                cwd=self.cwd,
                stdout=sink,
                stderr=sink,
                start_new_session=True,
            )
        if not wait:
            return self
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"server did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(timeout=20)
