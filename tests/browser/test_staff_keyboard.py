"""The staff pages without a mouse (GB/T 37668-2019; WCAG 2.1 2.1.1, 2.1.2, 2.4.1, 2.4.3,
2.4.7): a liaison registers an opinion, a street official finds it in the list and
refers it to a handling unit, and the folded menu opens on a phone, all with Tab,
Shift+Tab, Enter, Space and the arrow keys only; what htmx swaps in leaves the focus
somewhere sensible, not on the page's body.

Every page is walked once round with Tab (tests/browser/keyboard.py): every control is
reached and Tab moves on from it (no trap), each shows where the focus is, the focus
goes down the page as it reads (no positive tabindex), and on a freshly loaded page
the first stop is the skip link 跳到主要内容. As in the axe test, every page's faults
are listed before the test fails.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from minyi.cases.models import Case
from minyi.cases.states import CaseState
from minyi.core.demo import DEMO_PASSWORD
from tests import test_access_matrix as made
from tests.browser import test_staff_accessibility as axe_pages
from tests.browser.keyboard import (
    SKIP_LINK,
    audit,
    check_radio_by_keys,
    choose_by_keys,
    focused,
    labelled,
    named,
    tab_to,
)

pytestmark = pytest.mark.browser

REPRESENTATIVE = "演示代表·陈明"
URBAN = "沙头角街道城市管理办公室"
SCREEN = {"width": 390, "height": 844}
IN_MAIN = "el => !!el.closest('main')"


class Walk:
    """One persona at the keyboard: audits each page it comes to, keeps the faults."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.found: dict[str, list[str]] = {}

    def check(self, label: str, from_top: bool = True) -> None:
        if bad := audit(self.page, from_top=from_top):
            self.found[label] = bad

    def press_on(self, matches: str, key: str = "Enter") -> None:
        tab_to(self.page, matches)
        self.page.keyboard.press(key)

    def report(self) -> str:
        return "\n".join(f"{where}:\n  " + "\n  ".join(bad) for where, bad in self.found.items())


def focus_stays_in(page: Any, selector: str, what: str) -> None:
    """After an htmx swap (and its settling) the focus is inside `selector`, not lost
    to the body."""
    inside = f"() => !!document.activeElement.closest({selector!r})"
    try:
        page.wait_for_function(inside, timeout=2_000)
    except PlaywrightTimeoutError:
        where = focused(page)
        raise AssertionError(f"{what}: the focus is on {where}, not inside {selector}") from None


def log_in(walk: Walk, username: str) -> None:
    page = walk.page
    page.goto("/accounts/login/")
    walk.check("/accounts/login/")
    page.goto("/accounts/login/")  # the walk moved the focus: start again at the top
    tab_to(page, labelled("用户名"))
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.type") == "password"
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    walk.check("/")


def to_the_cases(walk: Walk) -> None:
    """From the start page: 社情民意 in the main navigation, by Tab and Enter."""
    page = walk.page
    page.goto("/")
    walk.press_on(f"el => !!el.closest('nav[aria-label=主导航]') && ({named('社情民意')})(el)")
    expect(page.get_by_role("heading", level=1)).to_have_text("社情民意")
    walk.check("/cases/")


def test_a_liaison_registers_an_opinion_by_keyboard(live_world: Any, new_page: Any) -> None:
    page = new_page()
    walk = Walk(page)
    log_in(walk, "liaison")

    # The skip link: shown when focused, and Enter takes the next Tab into <main>.
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name=SKIP_LINK)
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate(f"() => ({IN_MAIN})(document.activeElement)"), focused(page)

    to_the_cases(walk)
    page.goto("/cases/")
    walk.press_on(named("登记社情民意"))
    expect(page.get_by_role("heading", level=1)).to_have_text("市党代表社情民意登记表")
    walk.check("/cases/new/")
    page.goto("/cases/new/")

    # The form, field by field. Her only studio is already chosen.
    summary = "楼道堆物堵塞消防通道（键盘登记）"
    tab_to(page, labelled("接待党代表"))
    choose_by_keys(page, REPRESENTATIVE)
    for label, text in (
        ("反映人姓名", "演示居民·王伯伯"),
        ("年龄", "70"),
        ("联系电话", "13800001234"),
        ("内容摘要", summary),
        ("反映内容", "3 栋楼道长期堆放杂物，堵塞消防通道，请督促物业清理。"),
    ):
        tab_to(page, labelled(label))
        page.keyboard.type(text)
    tab_to(page, "el => el.type === 'radio' && el.name === 'outcome'")
    check_radio_by_keys(page, "报送街道组织部门")
    tab_to(page, named("保存登记表"))
    page.keyboard.press("Enter")

    expect(page.get_by_text("登记成功", exact=False)).to_be_visible()
    case = Case.objects.get(summary=summary)
    assert case.representative.name == REPRESENTATIVE
    assert case.reporter_name == "演示居民·王伯伯"
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.number)
    walk.check("/cases/<registered>/")

    # htmx: the reporter's full details, swapped into their section.
    page.goto(f"/cases/{case.pk}/")
    walk.press_on(named("查看反映人完整信息"))
    expect(page.get_by_text("13800001234", exact=False)).to_be_visible()
    focus_stays_in(page, "#reporter", "查看反映人完整信息")

    # htmx: a step form swaps the whole case; the focus goes to the outcome.
    page.goto(f"/cases/{case.pk}/")
    walk.press_on(named("报送"))
    expect(page.get_by_text("已报送街道组织部门。")).to_be_visible()
    focus_stays_in(page, "#case", "报送")
    case.refresh_from_db()
    assert case.state == CaseState.AT_DEPARTMENT
    walk.check("/cases/<sent to the street> (after the swap)", from_top=False)
    assert not walk.found, walk.report()


def test_a_street_official_refers_a_case_by_keyboard(live_world: Any, new_page: Any) -> None:
    case = Case.objects.get(**made._case_at_department(live_world))
    page = new_page()
    walk = Walk(page)
    log_in(walk, "shatoujiao")
    to_the_cases(walk)

    # The filter: htmx swaps the results in while the focus stays in the field.
    page.goto("/cases/")
    tab_to(page, labelled("编号或摘要"))
    page.keyboard.type(case.summary)
    results = page.locator("#results")
    expect(results.get_by_role("link", name=case.number)).to_be_visible()
    expect(page.get_by_label("编号或摘要")).to_be_focused()
    tab_to(page, labelled("状态"))
    choose_by_keys(page, "组织部门处理中")
    expect(page).to_have_url(re.compile(r"[?&]state=at_department"))
    expect(page.get_by_label("状态")).to_be_focused()
    expect(results.get_by_role("link", name=case.number)).to_be_visible()
    walk.check("/cases/?q=…&state=at_department (after the swap)", from_top=False)
    tab_to(page, f"el => el.closest('#results') && ({named(case.number)})(el)")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.number)
    walk.check("/cases/<at the department>/")

    # Refer it to the urban-management office: first without choosing one, which comes
    # back with the step's errors, where the focus then is.
    page.goto(f"/cases/{case.pk}/")
    tab_to(page, named("转办"))
    page.keyboard.press("Enter")
    expect(page.locator("#case form [role=alert]")).to_contain_text("请选择承办单位")
    focus_stays_in(page, "#case form [role=alert]", "转办 without a unit")
    page.goto(f"/cases/{case.pk}/")
    tab_to(page, labelled("承办单位"))
    choose_by_keys(page, URBAN)
    tab_to(page, labelled("转办说明"))
    page.keyboard.type("请核查楼道堆物，督促物业清理。")
    tab_to(page, named("转办"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("已转办承办单位，答复期限已计算。")).to_be_visible()
    focus_stays_in(page, "#case", "转办")
    case.refresh_from_db()
    assert case.state == CaseState.WITH_UNIT
    assert case.handling_unit is not None and case.handling_unit.name == URBAN
    walk.check("/cases/<referred> (after the swap)", from_top=False)
    assert not walk.found, walk.report()


def test_the_folded_menu_opens_by_keyboard_on_a_phone(live_world: Any, new_page: Any) -> None:
    page = new_page(viewport=SCREEN, is_mobile=True, has_touch=True)
    walk = Walk(page)
    log_in(walk, "liaison")
    nav = page.get_by_role("navigation", name="主导航")
    page.goto("/")
    tab_to(page, "el => el.tagName === 'SUMMARY'")
    expect(nav).to_be_hidden()
    page.keyboard.press("Enter")
    expect(nav).to_be_visible()
    page.keyboard.press("Space")
    expect(nav).to_be_hidden()
    page.keyboard.press("Space")
    expect(nav).to_be_visible()
    walk.check("/ (menu open, on a phone)", from_top=False)
    # The links follow the button; back with Shift+Tab to it, and on to 社情民意.
    page.goto("/")
    tab_to(page, "el => el.tagName === 'SUMMARY'")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("() => !!document.activeElement.closest('nav')"), focused(page)
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.activeElement.tagName") == "SUMMARY"
    tab_to(page, named("社情民意"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("社情民意")
    walk.check("/cases/ (on a phone)")
    assert not walk.found, walk.report()


# The pages the axe test walks, persona by persona (its own lists, so a page added
# there is walked here too), each walked once round with Tab from the top.
SWEEP = axe_pages.PERSONAS


@pytest.mark.parametrize("username", list(SWEEP))
def test_every_staff_page_can_be_used_by_keyboard(
    live_world: Any, new_page: Any, login: Any, username: str
) -> None:
    paths = [p.removesuffix(axe_pages.SUBMIT) for p in SWEEP[username](live_world)]
    page = new_page()
    login(page, username)
    walk = Walk(page)
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status == 200, f"{path}: {response.status}"
        walk.check(path)
    assert not walk.found, walk.report()
