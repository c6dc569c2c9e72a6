"""Settings → SCIM Provisioning → Activity, in-process on both databases: the rows, a refused
request in words, filters, paging, the details page and the downloads; administrators only."""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any

from tests.console.helpers import USER_SCHEMA, scim_headers, sign_in_admin

if TYPE_CHECKING:
    from litestar.testing import AsyncTestClient

    from server.ops.front import Front
    from tests.console.helpers import ConsolePractice

PAGE = "/console/settings/scim/activity"


async def _flush(web: AsyncTestClient[Any], app: Front) -> None:
    recorder = app.state.activity_recorder
    await asyncio.to_thread(web.blocking_portal.call, recorder.flush)


def _user(user_name: str, given: str, family: str) -> dict[str, Any]:
    return {
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "name": {"givenName": given, "familyName": family},
    }


async def test_activity_page_lists_explains_filters_and_exports(
    web: AsyncTestClient[Any], console_app: Front, console_practice: ConsolePractice
) -> None:
    headers = {**await scim_headers(web, console_practice), "User-Agent": "Okta SCIM Client 1.0.0"}
    scim = f"/scim/v2/{console_practice.id}/Users"
    dana = await web.post(scim, json=_user("dana.lee@example.org", "Dana", "Lee"), headers=headers)
    assert dana.status_code == 201
    clash = await web.post(scim, json=_user("Dana.Lee@example.org", "D", "L"), headers=headers)
    assert clash.status_code == 409
    for n in range(30):
        made = await web.post(scim, json=_user(f"p{n}@example.org", f"P{n}", "X"), headers=headers)
        assert made.status_code == 201
    await _flush(web, console_app)
    await sign_in_admin(web, console_practice)

    shown = await web.get(PAGE)
    assert shown.status_code == 200
    assert shown.text.count("<tr>") == 1 + 25  # the header row and a page of 25
    assert 'id="older"' in shown.text
    assert 'id="newest"' not in shown.text
    older = re.search(
        r'href="(/console/settings/scim/activity\?[^"]*cursor=[^"]+)" id="older"', shown.text
    )
    assert older is not None
    second = await web.get(older.group(1).replace("&amp;", "&"))
    assert second.text.count("<tr>") == 1 + 7
    assert 'id="newest"' in second.text
    assert "The identity provider sent a userName already used by Dana Lee." in second.text

    refused = await web.get(PAGE, params={"outcome": "refused"})
    assert refused.text.count("<tr>") == 2
    entry = re.search(r'href="(/console/settings/scim/activity/[0-9a-f-]{36})"', refused.text)
    assert entry is not None
    details = await web.get(entry.group(1))
    assert details.status_code == 200
    assert "uniqueness" in details.text
    assert "Okta SCIM Client 1.0.0" in details.text
    assert f"OAuth client …{console_practice.client_id[-4:]}" in details.text

    dana_id = dana.json()["id"]
    mine = await web.get(PAGE, params={"staff": dana_id})
    assert mine.text.count("<tr>") == 2
    assert "Create user" in mine.text

    bad = await web.get(PAGE, params={"since": "last week"})
    assert bad.status_code == 400
    assert "since must be a date" in bad.text

    csv = await web.get(f"{PAGE}/export.csv", params={"outcome": "refused"})
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text.strip().splitlines()) == 2
    exported = await web.get(f"{PAGE}/export.json")
    assert len(json.loads(exported.text)["items"]) == 32


async def test_activity_page_is_for_administrators(
    web: AsyncTestClient[Any], console_practice: ConsolePractice
) -> None:
    first = await web.get(PAGE)
    assert first.status_code == 303  # not signed in: to the sign-in page
