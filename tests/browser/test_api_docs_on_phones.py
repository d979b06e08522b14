"""The open API's document (/api/v1/docs) on a phone: an integrator reading it on the
move. At 390 px the page itself does not scroll sideways (it was 811 px wide: the
method and path columns never wrapped), no text is under 14 px, it still passes axe,
and each operation is still a row of a table with its method, path and description
to a screen reader. A long path or piece of code may scroll inside its own box."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.axe import serious_violations
from tests.browser.phone import small_text
from tests.browser.settle import settle
from tests.browser.test_staff_on_phones import MIN_TEXT_PX, PHONE, SCREEN, table_roles

pytestmark = pytest.mark.browser

# Code that sticks out of the screen without a box of its own that scrolls.
CODE_OUTSIDE_JS = """(screen) => {
  const out = [];
  for (const el of document.querySelectorAll('code, pre')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= screen + 1) continue;
    let scroller = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) scroller = true;
    }
    if (!scroller) out.push(`${el.textContent.slice(0, 30)} ${Math.round(r.right)}`);
  }
  return out;
}"""


def test_the_api_document_fits_a_phone(transactional_db: None, new_page: Any) -> None:
    page = new_page(**PHONE)
    page.goto("/api/v1/docs")
    settle(page)
    # Not window.innerWidth: a phone's browser widens its layout to a page too wide for
    # the screen (and shrinks it to fit), so innerWidth grew with the page, to 811 px.
    screen = SCREEN["width"]
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= screen + 1, f"the page scrolls sideways: {width} px wide on {screen} px"
    assert page.evaluate(CODE_OUTSIDE_JS, screen) == []
    assert small_text(page, MIN_TEXT_PX) == []
    roles = table_roles(page)
    assert all(roles.values()), f"the operations are no longer tables: {roles}"
    assert serious_violations(page) == []
    # The path is on the first screen's width, whole, beside its method.
    refer = page.get_by_role("cell", name="/api/v1/cases/{case_id}/extension/decide", exact=True)
    box = refer.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= screen + 1
