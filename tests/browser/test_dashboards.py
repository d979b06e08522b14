"""The dashboard in a real Chromium: every chart draws (a canvas with pixels), the page
logs no console error and breaks no CSP rule, the Chinese text is drawn with a CJK font,
and a number in a chart's table opens the list behind it with the same count."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.dashboards.helpers import YEAR, build_cases

pytestmark = pytest.mark.browser

CJK_FONT = re.compile(r"Noto (Sans|Serif) CJK")


def rendered_fonts(page: Any, selector: str) -> list[str]:
    """The fonts Chromium really drew the element's text with, through DevTools."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        assert node, f"no element matches {selector}"
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()
    return [font["familyName"] for font in fonts]


def test_the_charts_draw_and_their_numbers_open_the_lists(
    live_world: Any, page: Any, login: Any, artifacts: Any
) -> None:
    build_cases()
    problems: list[str] = []
    # The browser asks for /favicon.ico on its own; the site has none.
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    login(page, "shatoujiao")
    page.get_by_role("link", name="统计图表").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("统计图表")
    page.get_by_role("link", name=f"{YEAR}年").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{YEAR}年")

    charts = page.locator(".chart-canvas")
    expect(charts).to_have_count(8)
    for index in range(8):
        expect(charts.nth(index).locator("canvas")).to_have_count(1)
    # Drawn, not just created: the opinions-by-month canvas has coloured pixels.
    inked = page.evaluate(
        """() => {
          const canvas = document.querySelector('[data-chart="month"] canvas');
          const ctx = canvas.getContext('2d');
          const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
          let n = 0;
          for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
          return n;
        }"""
    )
    assert inked > 1000, f"the month chart looks blank ({inked} pixels)"
    # ECharts' aria description (in Chinese) replaces the placeholder label.
    label = page.locator('[data-chart="month"]').get_attribute("aria-label") or ""
    assert "各月反映的社情民意" in label and "折线图" in label, label
    page.screenshot(path=artifacts / "dashboard.png", full_page=True)
    page.evaluate("document.fonts.ready")
    fonts = rendered_fonts(page, "h1")
    assert any(CJK_FONT.search(f) for f in fonts), fonts
    assert problems == [], problems

    # The table under the channel chart: its "当面反映" number opens that list.
    section = page.locator("section.dash-chart").filter(
        has=page.get_by_role("heading", name="反映方式", exact=True)
    )
    section.locator("summary").click()
    row = section.locator("tr").filter(has_text="当面反映")
    link = row.get_by_role("link")
    number = link.inner_text()
    assert number == "6"
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("社情民意")
    expect(page.locator("#results")).to_contain_text(f"共 {number} 条")
    expect(page.get_by_label("反映方式")).to_have_value("in_person")
    assert problems == [], problems
