"""Non-text contrast (WCAG 1.4.11) computed from the styles Chromium applies: every input's
border and the keyboard focus ring reach 3:1 against the background behind them, on each
console page at 1280 and 390 px (axe-core checks text contrast; it does not check these)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.browser.a11y import WIDTHS, checked, contrast_ratio
from tests.browser.flows import signed_in_page

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

#: The colour behind an element: the first ancestor (or itself) with an opaque background.
_BEHIND = """(e, self) => {
  let node = self ? e : e.parentElement;
  while (node) {
    const bg = getComputedStyle(node).backgroundColor;
    if (bg && !bg.startsWith("rgba(0, 0, 0, 0)") && bg !== "transparent") { return bg; }
    node = node.parentElement;
  }
  return "rgb(255, 255, 255)";
}"""


def _rgb(css: str) -> tuple[float, float, float]:
    found = re.match(r"rgba?\(([\d.]+), ([\d.]+), ([\d.]+)", css)
    assert found, css
    return (float(found.group(1)), float(found.group(2)), float(found.group(3)))


async def _borders(page: Page) -> list[tuple[str, float]]:
    """(field, ratio) of each visible, enabled text field's border against what is behind."""
    found = []
    fields = page.locator(
        "main input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([disabled]),"
        "main select:not([disabled]), main textarea"
    )
    for index in range(await fields.count()):
        field = fields.nth(index)
        if not await field.is_visible():
            continue
        border = await field.evaluate("e => getComputedStyle(e).borderTopColor")
        behind = await field.evaluate(_BEHIND, False)
        name = await field.evaluate("e => e.id || e.name")
        found.append((name, contrast_ratio(_rgb(border), _rgb(behind))))
    return found


async def _focus_rings(page: Page, presses: int) -> list[tuple[str, float]]:
    """(element, ratio) of the focus outline against what is behind, Tab by Tab."""
    found = []
    await page.locator("body").click(position={"x": 1, "y": 1})
    for _ in range(presses):
        await page.keyboard.press("Tab")
        ring = await page.evaluate(
            """() => { const e = document.activeElement; const s = getComputedStyle(e);
                return [e.tagName + '#' + (e.id || e.textContent.trim().slice(0, 20)),
                        s.outlineStyle, s.outlineColor]; }"""
        )
        if ring[0].startswith("BODY"):  # past the last control: the document itself
            continue
        if ring[1] == "none":
            found.append((ring[0], 0.0))
            continue
        behind = await page.evaluate(f"({_BEHIND})(document.activeElement, false)")
        found.append((ring[0], contrast_ratio(_rgb(ring[2]), _rgb(behind))))
    return found


@pytest.mark.parametrize(("width", "height"), WIDTHS, ids=["1280", "390"])
async def test_field_borders_and_focus_ring_reach_3_to_1(
    context: BrowserContext, live: LiveServer, width: int, height: int
) -> None:
    page, _practice = await signed_in_page(context, live, width, height, scim=True)
    for path in ("/console/settings/scim", "/console/settings/audit", "/console/staff",
                 "/console/settings/sso", "/console/account"):  # fmt: skip
        await page.goto(live.base_url + path)
        weak = [(name, round(r, 2)) for name, r in await _borders(page) if r < 3]
        assert weak == [], f"{path}: input borders under 3:1"
        weak = [(name, round(r, 2)) for name, r in await _focus_rings(page, 12) if r < 3]
        assert weak == [], f"{path}: focus ring under 3:1"
        await checked(page, "contrast" + path.replace("/", "-"))
