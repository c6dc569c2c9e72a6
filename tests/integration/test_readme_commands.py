"""Every ``scimlab`` command line that README.md, conformance/README.md and the scenario page
show, run as written against ``scimlab serve`` on a real socket.

The commands run from the server's directory with no ``SCIMLAB_*`` variable, as in a second
terminal of the walkthrough; the shell variables they use (``$PRACTICE``, ``$CLIENT_SECRET``,
…) hold what the CLI printed for a fresh practice, so that each command starts from the state
the documentation describes (one command's secret rotation never breaks the next). Where the
documentation names the default address (``http://127.0.0.1:8000``), an example host or a
placeholder (``URL``, ``T``, ``DIR``), the live server's values stand in. Optional parts in
``[...]`` are run included.

``scimlab record`` proxies until it is interrupted: it runs on a free port while a few
requests go through it, then gets the SIGINT of an operator's Ctrl-C. A command that replays
``tenant.jsonl`` first records it so, as the page's order has it.

Not run: ``scimlab serve`` (the live server is that command) and ``scimlab bench`` (it starts
its own servers and runs for many minutes; ``tests/integration/test_benchmark_smoke.py``
covers it).
"""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.reliability.support import USER_SCHEMA, free_port
from tests.served import SCIMLAB, Served, clean_env, cli_in_process, cli_json

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.socket

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("README.md", "conformance/README.md", "simulators/scenarios/README.md")
NOT_RUN = {"serve", "bench"}
_BLOCK = re.compile(r"```bash\n(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class Shown:
    page: str
    line: str
    words: tuple[str, ...]

    @property
    def subcommand(self) -> str:
        return self.words[1] if self.words[0].endswith("scimlab") else "pytest"


def shown_commands() -> list[Shown]:
    found = []
    for page in PAGES:
        for block in _BLOCK.findall((ROOT / page).read_text()):
            for line in block.replace("\\\n", " ").splitlines():
                if not line.startswith((".venv/bin/scimlab ", ".venv/bin/pytest ")):
                    continue
                words = tuple(
                    w.strip("[]") for w in shlex.split(line, comments=True) if w.strip("[]")
                )
                scimlab = words[:1] == (".venv/bin/scimlab",)
                plugin = words[:2] == (".venv/bin/pytest", "conformance")
                if scimlab or plugin:
                    found.append(Shown(page, line.strip(), words))
    return found


COMMANDS = shown_commands()


def test_the_pages_show_commands_and_only_serve_and_bench_are_left_out() -> None:
    assert len(COMMANDS) >= 20
    assert {c.subcommand for c in COMMANDS} - {c.subcommand for c in _runnable()} <= NOT_RUN


def _runnable() -> list[Shown]:
    return [c for c in COMMANDS if c.subcommand not in NOT_RUN]


@dataclass
class Live:
    server: Served
    where: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    where = tmp_path_factory.mktemp("readme")
    # The pages' paths are relative to the repository root, where the walkthrough runs.
    (where / "simulators").symlink_to(ROOT / "simulators")
    env = clean_env()
    server = Served(free_port(), env, where / "serve.log", cwd=where).start()
    yield Live(server, where, env)
    server.stop()


def _practice(live: Live, name: str) -> dict[str, str]:
    """What the walkthrough's commands print for a new practice, as shell variables. The
    practice is made in this process (``scimlab practice create``, on the server's database):
    this is the commands' starting state, not one of the commands under test."""
    env = {**live.env, "SCIMLAB_DATABASE_URL": f"sqlite:///{live.where / 'scimlab.db'}"}
    made = cli_json(cli_in_process("practice", "create", name, "--json", env=env))
    pid, key = made["practice_id"], made["admin"]["api_key"]
    api = f"{live.server.base}/api/v1/practices/{pid}/scim"
    headers = {"Authorization": f"Bearer {key}"}
    enabled = httpx.post(f"{api}/enable", headers=headers).json()
    token = httpx.post(f"{api}/tokens", headers=headers).json()
    return {
        "PRACTICE": pid,
        "ADMIN_API_KEY": key,
        "SCIM_URL": enabled["scim_endpoint_url"],
        "TOKEN_URL": enabled["token_endpoint_url"],
        "CLIENT_ID": enabled["client_id"],
        "CLIENT_SECRET": enabled["client_secret"],
        "STATIC_TOKEN": token["token"],
        "TOKEN": token["token"],
        "TOKEN_ID": token["id"],
    }


def _filled(shown: Shown, live: Live, values: dict[str, str], reports: Path) -> list[str]:
    stand_in = {
        "URL": values["SCIM_URL"],
        "T": values["TOKEN"],
        "DIR": str(reports),
        "https://scim.example.org/v2": values["SCIM_URL"],
    }
    words = []
    for written in shown.words:
        word = written.replace("http://127.0.0.1:8000", live.server.base)
        word = re.sub(r"\$([A-Z_]+)", lambda m: values[m[1]], word)
        words.append(stand_in.get(word, word))
    words[0] = str(SCIMLAB.parent / Path(words[0]).name)
    return words


@pytest.mark.parametrize("shown", _runnable(), ids=lambda c: f"{c.page}: {c.line[:70]}")
def test_a_command_the_documentation_shows_works(shown: Shown, live: Live, tmp_path: Path) -> None:
    values = _practice(live, "Sunrise Family Medicine")
    if any("OTHER_" in w for w in shown.words):
        other = _practice(live, "Other Practice")
        values |= {
            "OTHER_PRACTICE": other["PRACTICE"],
            "OTHER_STATIC_TOKEN": other["TOKEN"],
            "OTHER_TOKEN": other["TOKEN"],
            "OTHER_SCIM_URL": other["SCIM_URL"],
        }
    words = _filled(shown, live, values, tmp_path)
    if shown.subcommand == "record":
        done = _recorded(live, values, words)
        assert done.returncode == 0, f"{shown.line}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert (live.where / "tenant.jsonl").read_text().count("\n") >= 3  # header + 2 exchanges
        return
    if "tenant.jsonl" in shown.words:
        [record] = [c for c in COMMANDS if c.subcommand == "record"]
        recorded = _recorded(live, values, _filled(record, live, values, tmp_path))
        assert recorded.returncode == 0, recorded.stderr
    done = subprocess.run(
        words, env=live.env, cwd=ROOT if shown.subcommand == "pytest" else live.where,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{shown.line}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr


def _recorded(
    live: Live, values: dict[str, str], words: list[str]
) -> subprocess.CompletedProcess[str]:
    """``scimlab record`` as shown, on a free port: an identity provider creates and reads a
    user through it, then the operator's Ctrl-C (SIGINT) ends it."""
    port = free_port()
    words = [w.replace("127.0.0.1:9000", f"127.0.0.1:{port}") for w in words]
    process = subprocess.Popen(
        words, env=live.env, cwd=live.where, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {values['TOKEN']}"}
        body = {"schemas": [USER_SCHEMA], "userName": "recorded@example.org"}
        deadline = time.monotonic() + 30
        while True:
            try:
                created = httpx.post(f"{base}/Users", json=body, headers=headers, timeout=10)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "scimlab record never listened"
                time.sleep(0.2)
        assert created.status_code == 201, created.text
        read = httpx.get(f"{base}/Users/{created.json()['id']}", headers=headers, timeout=10)
        assert read.status_code == 200, read.text
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    return subprocess.CompletedProcess(words, process.returncode, out, err)
