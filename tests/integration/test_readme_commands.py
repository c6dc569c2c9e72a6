"""Every ``scimlab`` command line that README.md, conformance/README.md and the scenario page
show, run as written against ``scimlab serve`` on a real socket.

The commands run from the server's directory with no ``SCIMLAB_*`` variable, as in a second
terminal of the walkthrough; the shell variables they use (``$PRACTICE``, ``$CLIENT_SECRET``,
…) hold what the CLI printed for a fresh practice, so that each command starts from the state
the documentation describes (one command's secret rotation never breaks the next). Where the
documentation names the default address (``http://127.0.0.1:8000``), an example host or a
placeholder (``URL``, ``T``, ``DIR``), the live server's values stand in. Optional parts in
``[...]`` are run included.

Not run: ``scimlab serve`` (the live server is that command) and ``scimlab bench`` (it starts
its own servers and runs for many minutes; ``tests/integration/test_benchmark_smoke.py``
covers it).
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.reliability.support import free_port
from tests.served import SCIMLAB, Served, clean_env, cli, cli_json

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
    """What the walkthrough's commands print for a new practice, as shell variables."""
    made = cli_json(cli("practice", "create", name, "--json", env=live.env, cwd=live.where))
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
        values |= {"OTHER_PRACTICE": other["PRACTICE"], "OTHER_STATIC_TOKEN": other["TOKEN"]}
    words = _filled(shown, live, values, tmp_path)
    done = subprocess.run(
        words, env=live.env, cwd=ROOT if shown.subcommand == "pytest" else live.where,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{shown.line}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr
