"""Scenario files QA writes in TOML: loaded, validated with precise messages, and played."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from simulators.core.registry import builtin_scenarios, find_scenario, make_dialect
from simulators.core.runner import run_scenario
from simulators.core.scenario import EXPECTATION_KINDS, STEP_KINDS, isolate, load_scenario
from tests.simulators.conftest import scimlab_target

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from tests.conftest import PracticeFixture

NIGHT_SHIFT = """
name = "night-shift"
title = "Night shift: onboard, a leaver, a new on-call group"
idps = ["okta"]
users = 4

[[steps]]
do = "add_people"

[[steps]]
do = "add_person"
key = "nia"
user_name = "nia.okoro@clinic.example"
given_name = "Nia"
family_name = "Okoro"
email = "nia.okoro@clinic.example"
mobile = "+1 555 0188"

[[steps]]
do = "cycle"
id = "onboard"

[[steps]]
do = "disable"
key = "user1"

[[steps]]
do = "add_group"
key = "oncall"
name = "Night on-call"
members = ["nia", "user0"]

[[steps]]
do = "schedule"
duration = "2h"
id = "later"

[[expect]]
id = "created"
kind = "responses"
label = "user.create"
status = [201]
count = 5
at = "onboard"

[[expect]]
id = "leaver"
kind = "user"
person = "user1"
active = false
attributes = {}

[[expect]]
id = "on-call"
kind = "group"
group = "oncall"
members = ["nia", "user0"]

[[expect]]
kind = "users_in_sync"
"""


def _write(tmp_path: Path, text: str, name: str = "scenario.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def test_a_toml_scenario_plays_against_our_server(
    tmp_path: Path, client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    scenario = find_scenario(str(_write(tmp_path, NIGHT_SHIFT)))
    assert scenario.name == "night-shift"
    assert scenario.source.endswith("scenario.toml")
    target = await scimlab_target("token", client, practice)
    result = await run_scenario(scenario, make_dialect("okta"), target)
    assert result.passed, [(r.id, r.detail) for r in result.results if r.status != "passed"]
    assert [r.id for r in result.results][:1] == ["night-shift.created"]  # evaluated "at" onboard
    assert result.simulated >= 2 * 3600


EXAMPLES = sorted((Path(__file__).parents[2] / "simulators/scenarios/examples").glob("*.toml"))
AUTH = {"entra": "oauth", "okta": "basic", "google": "token"}


def test_there_are_commented_examples_to_copy() -> None:
    assert len(EXAMPLES) >= 3
    assert all(path.read_text().count("#") >= 5 for path in EXAMPLES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
async def test_every_example_file_plays_against_our_server(
    path: Path, client: AsyncTestClient[Any], practice: PracticeFixture
) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    for idp in scenario.idps:
        target = await scimlab_target(AUTH[idp], client, practice)
        result = await run_scenario(isolate(scenario, idp), make_dialect(idp), target)
        assert result.passed, [(r.id, r.detail) for r in result.results if r.status != "passed"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'name = "x"\n\n[[steps]]\ndo = "cycle"\n\n[[steps]]\ndo = "teleport"\n',
            "line 6: scenario 'x'",
        ),
        ('[[steps]]\ndo = "cycle"\n[[expect]]\nkind = "vibes"\n', "line 3:"),
        ('[[steps]]\ndo = "teleport"\n', "expected one of: test_connection, add_people"),
        ('[[steps]]\ndo = "cycle"\n[[expect]]\nkind = "vibes"\n', "expected one of: responses"),
        (
            '[[steps]]\ndo = "cycle"\nid = "a"\n[[expect]]\nkind = "users_in_sync"\nat = "b"\n',
            "line 4:",
        ),
        ('name = "x"\nusers = 3 3\n', "at line 2"),
        (
            'name = "x"\ntitel = "typo"\n[[steps]]\ndo = "cycle"\n',
            "line 2: unknown key 'titel' (expected one of: auth, balancer, expect, idps",
        ),
        ('name = "x"\n[[step]]\ndo = "cycle"\n', "line 2: unknown key 'step'"),
    ],
    ids=[
        "step-line",
        "expect-line",
        "step-kinds",
        "expect-kinds",
        "unknown-at",
        "toml",
        "unknown-key",
        "unknown-table",
    ],
)
def test_file_errors_name_the_line_and_what_was_expected(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        load_scenario(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[steps]]\ndo = "teleport"\n', "unknown do='teleport'"),
        ('[[steps]]\ndo = "disable"\n', "step 1 (disable) needs ['key']"),
        ('[[steps]]\ndo = "cycle"\n[[expect]]\nkind = "vibes"\n', "unknown kind='vibes'"),
        (
            '[[steps]]\ndo = "cycle"\n[[expect]]\nkind = "users_in_sync"\nat = "nowhere"\n',
            "unknown step",
        ),
        ("steps = [", "cannot read scenario file"),
        ('title = "no steps"\n', "missing 'steps'"),
    ],
)
def test_invalid_files_are_refused_with_a_precise_message(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        load_scenario(_write(tmp_path, text))


def test_unknown_names_and_variants_are_refused() -> None:
    with pytest.raises(ValueError, match="no built-in scenario"):
        find_scenario("E-99")
    with pytest.raises(ValueError, match="okta has no variant 'aadOptscim062020'"):
        make_dialect("okta", ["aadOptscim062020"])


def test_every_reference_scenario_is_built_in() -> None:
    names = {s.name for s in builtin_scenarios()}
    wanted = {f"E-{i:02d}" for i in range(1, 18)} | {f"O-{i:02d}" for i in range(1, 11)}
    wanted |= {
        "G-01",
        "G-02",
        "X-01",
        "onboard",
        "leaver",
        "rehire",
        "rename",
        "group-reshuffle",
        "secret-rotation",
    }
    assert wanted <= names
    assert all(s.expectations for s in builtin_scenarios())


def test_isolation_tags_every_mail_domain_and_group_name_consistently() -> None:
    e03 = isolate(find_scenario("E-03"), "a1b2c3")
    seed, person = e03.steps[0].args, e03.steps[1].args
    assert seed["user_name"] == "MARA.QUINN@SUNRISE-CLINIC-A1B2C3.EXAMPLE"
    assert person["user_name"] == "mara.quinn@sunrise-clinic-a1b2c3.example"
    assert person["email"] == person["user_name"]
    e10 = isolate(find_scenario("E-10"), "a1b2c3")
    assert next(s for s in e10.steps if s.do == "add_group").args["name"] == "Platform Team a1b2c3"
    rename = isolate(find_scenario("rename"), "x9")
    values = [e.args.get("value") for e in rename.expectations if e.kind == "lookup"]
    assert values == ["lena.berg-sato@example-x9.org", "lena.berg@example-x9.org"]


def test_the_format_page_names_every_step_and_expectation_kind() -> None:
    page = (Path(__file__).parents[2] / "simulators/scenarios/README.md").read_text()
    for kind in STEP_KINDS:
        assert f"`{kind}`" in page, kind
    for kind in EXPECTATION_KINDS:
        assert f"`{kind}`" in page, kind
    for example in EXAMPLES:
        assert example.name in page
