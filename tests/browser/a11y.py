"""axe-core (the copy shipped in the ``axe-playwright-python`` package) run on a page state,
and the state kept as a screenshot: each browser check of the console calls ``checked``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from axe_playwright_python.async_playwright import Axe

from tests.browser.flows import fits_width, shot

if TYPE_CHECKING:
    from playwright.async_api import Page

__all__ = ["WIDTHS", "axe_violations", "checked", "contrast_ratio"]

#: The widths every console state is checked at: a laptop and a phone.
WIDTHS = ((1280, 900), (390, 844))
_AXE = Axe()


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (WCAG 2.x A and AA and best practice)."""
    results = await _AXE.run(page)
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results.response["violations"]
    ]


async def checked(page: Page, name: str) -> None:
    """A screenshot of this state, no sideways scrolling and no axe-core violation."""
    await shot(page, name)
    assert await fits_width(page), f"{name} scrolls sideways"
    assert await axe_violations(page) == [], name


def _linear(channel: float) -> float:
    channel /= 255
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def contrast_ratio(first: tuple[float, float, float], second: tuple[float, float, float]) -> float:
    """WCAG 2.x contrast ratio of two sRGB colours (0-255 channels)."""

    def luminance(rgb: tuple[float, float, float]) -> float:
        r, g, b = (_linear(c) for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
