"""The staff pages on a phone (JOURNEYS.md 3 and 4): a representative at a reception
registers an opinion and checks their duty record, a liaison confirms appointments on
the move, a street official looks a case up away from the desk.

Each persona walks its pages at 390×844 (a common phone, touch, mobile viewport) and
every page is measured: the page itself does not scroll sideways (a wide table may
scroll inside its own container), every form field and button fits the screen, the
controls of forms and menus are tap targets of 44×44 CSS px as on the residents'
pages, no text is under 14 px, and the page's title shows on the first screen (not
under a menu that fills it). The staff tables are cards on a phone (minyi.css,
table.stack): no date or time in a table breaks across lines, no such table scrolls
sideways, and the cards are still a table to a screen reader (and pass axe). The main
menu opens on a phone and every item in it can be tapped. As in the axe test, every
page's faults are listed before the test fails. The records the pages show are made
the way the access matrix makes them.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from minyi.api.models import ApiCall
from minyi.cases.models import Case
from minyi.duties.models import HouseholdVisit
from minyi.people.models import Representative
from minyi.studios.models import Studio
from tests import test_access_matrix as made
from tests.browser.axe import serious_violations
from tests.browser.phone import small_tap_targets, small_text
from tests.browser.settle import settle

pytestmark = pytest.mark.browser

SCREEN = {"width": 390, "height": 844}
PHONE = {"viewport": SCREEN, "is_mobile": True, "has_touch": True}
REPRESENTATIVE = "演示代表·陈明"
# What a thumb taps on the staff pages: the header with its menu, form controls, the
# button-like links and the pager. Links inside running text and table cells are read
# more than tapped and keep the desktop's size.
TAPPED = "header, form, .btn, .actions, .pagination, summary"
MIN_TEXT_PX = 14

# Controls that stick out of the screen. One inside a container that scrolls sideways
# (a wide table's wrapper) is reached by scrolling that container, not the page.
OUTSIDE_JS = """() => {
  const out = [];
  const width = window.innerWidth;
  const inScroller = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  window.scrollTo(0, window.scrollY);
  for (const el of document.querySelectorAll(
      'input:not([type=hidden]), select, textarea, button, .btn, summary')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || el.closest('[aria-hidden=true]') || inScroller(el)) continue;
    if (r.left < -1 || r.right > width + 1) {
      out.push(`${el.tagName} "${(el.textContent || el.name || '').trim().slice(0, 20)}" ` +
               `${Math.round(r.left)}–${Math.round(r.right)}`);
    }
  }
  return out;
}"""

# Every link of the open main menu lies within the screen's width and is what a tap
# at its centre hits (not hidden under something else), once scrolled to.
MENU_JS = """() => {
  const bad = [];
  const nav = [...document.querySelectorAll('nav[aria-label=主导航]')]
    .find(n => n.getClientRects().length);
  if (!nav) return ['主导航 is not shown'];
  const links = [...nav.querySelectorAll('a[href]')];
  if (links.length < 5) return [`主导航 shows ${links.length} links`];
  for (const a of links) {
    window.scrollTo(0, 0);
    let r = a.getBoundingClientRect();
    if (r.width === 0) { bad.push(`"${a.textContent.trim()}" is hidden`); continue; }
    if (r.left < 0 || r.right > window.innerWidth + 1) {
      bad.push(`"${a.textContent.trim()}" at ${Math.round(r.left)}–${Math.round(r.right)} ` +
               `is off the ${window.innerWidth} px screen`);
      continue;
    }
    window.scrollTo(0, r.top - window.innerHeight / 2);
    r = a.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (!hit || !a.contains(hit)) bad.push(`"${a.textContent.trim()}" is covered`);
  }
  window.scrollTo(0, 0);
  return bad;
}"""


# A date or time in a table cell that breaks across lines ("2026-11-" / "25"): each one
# found in a cell's text is measured, and its characters must lie on one line.
BROKEN_DATES_JS = r"""() => {
  const bad = [];
  const when = /\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?(?:[–—]\d{2}:\d{2})?|\d{2}:\d{2}[–—]\d{2}:\d{2}/g;
  for (const cell of document.querySelectorAll('main td')) {
    if (!cell.getClientRects().length) continue;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.textContent.matchAll(when)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].filter(r => r.width)
          .map(r => Math.round(r.top)));
        if (tops.size > 1) bad.push(`"${m[0]}" on ${tops.size} lines`);
      }
    }
  }
  return bad;
}"""

# A staff table (table.stack) on the phone shows each row as a card: its cells stand one
# under another, each as wide as the card, and the table does not scroll sideways.
SQUEEZED_TABLES_JS = """() => {
  const bad = [];
  for (const table of document.querySelectorAll('main table.stack')) {
    const wrap = table.closest('.table-wrap') || table;
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      bad.push(`a table scrolls sideways: ${wrap.scrollWidth} px in ${wrap.clientWidth} px`);
    }
    for (const row of table.tBodies[0].rows) {
      const cells = [...row.cells].filter(c => c.getClientRects().length);
      if (cells.some(c => c.getBoundingClientRect().width < table.clientWidth - 2)) {
        bad.push(`a row is not a card: "${row.textContent.trim().slice(0, 20)}"`);
        break;
      }
    }
  }
  return bad;
}"""


# Any table of the page wider than its container (which then scrolls sideways).
TABLE_SCROLLS_JS = """() => [...document.querySelectorAll('main .table-wrap')]
  .filter(w => w.scrollWidth > w.clientWidth + 1)
  .map(w => `${w.scrollWidth} px in ${w.clientWidth} px`)"""


def table_roles(page: Any) -> dict[str, int]:
    """How many tables, rows, column headers and cells Chromium's accessibility tree
    holds: the cards are still a table to a screen reader."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    roles = [n["role"]["value"] for n in nodes if not n.get("ignored")]
    return {role: roles.count(role) for role in ("table", "row", "columnheader", "cell")}


def faults(page: Any) -> list[str]:
    """What is wrong with the page as it stands on the phone, one line each."""
    settle(page)
    bad: list[str] = []
    # The screen's width, not innerWidth: a phone's browser widens its layout to a page
    # too wide for the screen (and shrinks it to fit), so innerWidth grows with the page
    # and a page of any width passed (the API document was 811 px on 390).
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    if width > SCREEN["width"] + 1:
        bad.append(f"the page scrolls sideways: {width} px wide on a {SCREEN['width']} px screen")
    if outside := page.evaluate(OUTSIDE_JS):
        bad.append(f"controls off the screen: {outside}")
    if small := small_tap_targets(page, 44, TAPPED):
        bad.append(f"tap targets under 44×44 px: {small}")
    if tiny := small_text(page, MIN_TEXT_PX):
        bad.append(f"text under {MIN_TEXT_PX} px: {tiny}")
    if broken := page.evaluate(BROKEN_DATES_JS):
        bad.append(f"dates and times broken inside: {broken}")
    if squeezed := page.evaluate(SQUEEZED_TABLES_JS):
        bad.append(f"tables not shown as cards: {squeezed}")
    if page.locator("main table.stack").count():
        roles = table_roles(page)
        if not all(roles.values()):
            bad.append(f"the cards are no longer a table to a screen reader: {roles}")
        if violations := serious_violations(page):
            bad.append(f"axe, with the tables as cards: {violations}")
    title = page.evaluate(
        "() => { window.scrollTo(0, 0); const h = document.querySelector('main h1');"
        " return h ? h.getBoundingClientRect().top : null; }"
    )
    if title is not None and title > SCREEN["height"] / 2:
        bad.append(f"the page's title starts {round(title)} px down, below half the screen")
    return bad


class Walk:
    """One persona on one phone: checks each page it opens and keeps the faults."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.found: dict[str, list[str]] = {}

    def check(self, label: str) -> None:
        if bad := faults(self.page):
            self.found[label] = bad

    def open(self, path: str, label: str | None = None) -> None:
        response = self.page.goto(path)
        assert response is not None and response.status == 200, f"{path}: {response.status}"
        self.check(label or path)

    def menu(self, item: str) -> None:
        """Opens the main menu as a thumb would, checks every item can be tapped, and
        taps `item`."""
        page = self.page
        toggle = page.locator("header summary")
        if toggle.count() and toggle.first.is_visible():
            toggle.first.tap()
        if bad := page.evaluate(MENU_JS):
            self.found["主导航 (menu open)"] = bad
        nav = page.get_by_role("navigation", name="主导航")
        nav.get_by_role("link", name=item, exact=True).tap()
        expect(page.get_by_role("heading", level=1)).to_contain_text(item)

    def report(self) -> str:
        return "\n".join(f"{where}:\n  " + "\n  ".join(bad) for where, bad in self.found.items())


def _register_an_opinion(walk: Walk, summary: str) -> None:
    """Journey 4: the opinion heard at the reception, registered on the phone."""
    page = walk.page
    page.get_by_role("link", name="登记社情民意").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("市党代表社情民意登记表")
    walk.check("/cases/new/")
    page.get_by_label("接待党代表").select_option(label=f"{REPRESENTATIVE}（工程师）")
    page.get_by_label("反映人姓名").fill("演示居民·李阿姨")
    page.get_by_label("年龄").fill("62")
    page.get_by_label("联系电话").fill("13800005678")
    page.get_by_label("内容摘要").fill(summary)
    page.get_by_label("反映内容").fill("小区旁工地每晚十点后仍在打桩、运土，老人孩子无法休息。")
    page.get_by_role("radio", name="报送街道组织部门").check()
    page.get_by_role("button", name="保存登记表").tap()
    expect(page.get_by_text("登记成功", exact=False)).to_be_visible()
    case = Case.objects.get(summary=summary)
    assert case.representative.name == REPRESENTATIVE
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.number)
    walk.check("/cases/<registered>/ (with its step forms)")


def choose(select: Any, words: str) -> None:
    """Selects the first option whose label contains `words`."""
    select.select_option(select.locator("option", has_text=words).first.get_attribute("value"))


def _record_a_visit(walk: Walk, household: str) -> None:
    page = walk.page
    walk.open("/duties/visits/new/")
    choose(page.locator("#id_representative"), REPRESENTATIVE)
    choose(page.locator("#id_community"), "沙头角社区")
    page.get_by_label("走访日期").fill("2026-03-04")
    page.get_by_label("住户").fill(household)
    page.get_by_label("住址").fill("沙头角演示小区 5 栋 302")
    before = HouseholdVisit.objects.count()
    page.get_by_role("button", name="保存").tap()
    expect(page.get_by_text("入户走访已登记。")).to_be_visible()
    assert HouseholdVisit.objects.count() == before + 1
    walk.check("/duties/visits/<recorded>/")


def _the_cases(walk: Walk, case: int, label: str) -> None:
    """The start page, through the menu to the cases, and one case with its step forms."""
    walk.check("/")
    walk.menu("社情民意")
    walk.check("/cases/")
    walk.open("/cases/ledger/")
    walk.open(f"/cases/{case}/", label)


def _at_a_reception(walk: Walk, w: Any, registrar: str) -> None:
    """Journey 4 on the phone: the cases, then a new opinion registered."""
    _the_cases(walk, made._case(w)["pk"], "/cases/<registered>/")
    walk.page.goto("/cases/")
    _register_an_opinion(walk, f"工地夜间施工噪声（{registrar}登记）")


def _duties(walk: Walk) -> None:
    rep = Representative.objects.get(name=REPRESENTATIVE)
    walk.open(f"/duties/representatives/{rep.pk}/record/")
    walk.open("/duties/events/")
    walk.open("/duties/visits/")


def _liaison(walk: Walk, w: Any) -> None:
    page = walk.page
    appointment = made._appointment(w)["pk"]
    _at_a_reception(walk, w, "联络员")
    walk.open("/duties/appointments/")
    walk.open(f"/duties/appointments/{appointment}/")
    page.get_by_role("button", name="确认", exact=True).tap()
    expect(
        page.get_by_text("已确认预约，并已通知党代表；给预约人的短信将随后发出。")
    ).to_be_visible()
    walk.check("/duties/appointments/<confirmed>/")
    _record_a_visit(walk, "演示·赵阿姨家")
    _duties(walk)
    # Journeys 2 and 8 on the move: the year's plan with a session, the reports.
    walk.open(f"/duties/plans/{made._plan_session(w)['pk']}/", "/duties/plans/<with a session>/")
    report = made._report(w)["pk"]
    walk.open("/duties/reports/")
    walk.open(f"/duties/reports/{report}/")


def _representative(walk: Walk, w: Any) -> None:
    appointment = made._appointment(w)["pk"]
    _at_a_reception(walk, w, "党代表")
    walk.open("/duties/appointments/")
    walk.open(f"/duties/appointments/{appointment}/")
    _record_a_visit(walk, "演示·钱先生家")
    _duties(walk)


def _street_official(walk: Walk, w: Any) -> None:
    appointment = made._appointment(w)["pk"]
    case = made._case_at_department(w)["pk"]
    _the_cases(walk, case, "/cases/<at the department>/ (refer, escalate …)")
    walk.open("/cases/new/")
    walk.open("/duties/appointments/")
    walk.open(f"/duties/appointments/{appointment}/")
    walk.open("/duties/visits/new/")
    _duties(walk)
    # The street's studios, people and units, as cards.
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    for path in (
        "/studios/",
        f"/studios/{studio.pk}/",
        "/people/representatives/",
        "/people/liaisons/",
        "/people/accounts/",
        "/org/units/",
        "/org/handling-units/",
    ):
        walk.open(path)
    # The street's API tokens: the call log's 结果 scrolled sideways inside its table,
    # past a long path.
    token = made._street_token(w)["pk"]
    for status in (200, 404):
        ApiCall.objects.create(
            token_id=token,
            method="GET",
            path="/api/v1/cases?state=at_department&received_from=2026-01-01&page=2",
            status=status,
        )
    for path in ("/api-tokens/", f"/api-tokens/{token}/"):
        walk.open(path)
        # Not only the page: these tables are cards, so no table scrolls either.
        if scrolls := walk.page.evaluate(TABLE_SCROLLS_JS):
            walk.found.setdefault(path, []).append(f"a table scrolls sideways: {scrolls}")


PERSONAS = {"liaison": _liaison, "rep": _representative, "shatoujiao": _street_official}


@pytest.mark.parametrize("username", list(PERSONAS))
def test_the_staff_pages_work_on_a_phone(
    live_world: Any, new_page: Any, login: Any, username: str
) -> None:
    page = new_page(**PHONE)
    login(page, username)
    walk = Walk(page)
    PERSONAS[username](walk, live_world)
    assert not walk.found, walk.report()


# The list filters (core/filters.html) on a phone: each field as wide as the form, a
# 44 px tap target, its text and label at least 14 px; a checkbox's whole line is its
# tap target. On a desktop they stay side by side.
FILTERS_JS = """() => {
  const form = document.querySelector('form[role=search]');
  const inner = form.clientWidth - parseFloat(getComputedStyle(form).paddingLeft)
    - parseFloat(getComputedStyle(form).paddingRight);
  const fields = [...form.querySelectorAll('input:not([type=hidden]), select')]
    .filter(el => el.getClientRects().length);
  const bad = [];
  for (const el of fields) {
    const box = el.type === 'checkbox' ? el.closest('label') : el;
    const r = box.getBoundingClientRect();
    const label = el.closest('label') || el.labels[0];
    const name = `${el.name} ${Math.round(r.width)}x${Math.round(r.height)}`;
    if (r.width < inner - 1) bad.push(`${name}: narrower than the form's ${Math.round(inner)} px`);
    if (r.height < 44 - 0.5) bad.push(`${name}: under 44 px tall`);
    if (el.type === 'checkbox') {
      // The box at the start of its line, its words beside it (not a box stretched to
      // the width with the words pushed to the far edge).
      const own = el.getBoundingClientRect();
      const inset = Math.round(own.left - r.left);
      if (own.width > 48 || inset > 4)
        bad.push(`${name}: box ${Math.round(own.width)} px wide, ${inset} px in`);
    }
    for (const part of [el, label]) {
      const px = parseFloat(getComputedStyle(part).fontSize);
      if (px < 14) bad.push(`${name}: ${part.tagName} text ${px} px`);
    }
  }
  const tops = new Set(fields.map(el => Math.round(el.getBoundingClientRect().top)));
  return {bad, fields: fields.length, rows: tops.size};
}"""


def test_the_case_filters_fill_the_phone_width(live_world: Any, new_page: Any, login: Any) -> None:
    phone = new_page(**PHONE)
    login(phone, "shatoujiao")
    phone.goto("/cases/")
    filters = phone.evaluate(FILTERS_JS)
    assert filters["fields"] >= 8, filters
    assert not filters["bad"], "\n".join(filters["bad"])
    # The desktop keeps several fields to a row.
    desktop = new_page()
    login(desktop, "shatoujiao")
    desktop.goto("/cases/")
    filters = desktop.evaluate(FILTERS_JS)
    assert filters["rows"] < filters["fields"] / 2, filters


def test_the_case_list_s_dates_do_not_break_on_a_desktop(
    live_world: Any, page: Any, login: Any
) -> None:
    """At 1280 px the list's columns squeezed 2026-11-25 into "2026-11-" and "25"."""
    made._case_with_unit(live_world)  # a deadline: the row's second date
    login(page, "shatoujiao")
    page.goto("/cases/")
    assert page.locator("main td.when").count() >= 2
    assert not page.evaluate(BROKEN_DATES_JS), page.evaluate(BROKEN_DATES_JS)


def test_the_evaluation_round_is_cards_on_a_phone(
    live_world: Any, new_page: Any, login: Any
) -> None:
    """Journey 8 on the move: the district's list of its studios' five-goods scores had
    eleven columns squeezed into the phone, a studio's name one character to a line; it
    is cards like the other staff tables."""
    round_pk = made._eval_open(live_world)["pk"]
    page = new_page(**PHONE)
    login(page, "yantian")
    walk = Walk(page)
    walk.open(f"/evaluation/{round_pk}/", "/evaluation/<open round>/")
    assert page.locator("main table.stack").count() == 1
    assert not walk.found, walk.report()


def test_the_evaluation_summary_is_cards_on_a_phone(
    live_world: Any, new_page: Any, login: Any
) -> None:
    """The city's summary of the scores and of the units' ratings: the same eleven
    columns, cards on a phone too."""
    round_pk = made._eval_open(live_world)["pk"]
    page = new_page(**PHONE)
    login(page, "city")
    walk = Walk(page)
    walk.open(f"/evaluation/{round_pk}/summary/", "/evaluation/<open round>/summary/")
    assert page.locator("main table.stack").count() >= 1
    assert page.locator("main table:not(.stack)").count() == 0
    assert not walk.found, walk.report()


def test_the_compliance_page_is_cards_on_a_phone(
    live_world: Any, new_page: Any, login: Any
) -> None:
    """Journey 8: the district looks up which studios and representatives are amber or
    red. Its tables (the streets, the items needing attention, each representative's
    two-month windows) squeezed five to eight columns into the phone, the windows' table
    scrolling sideways under a header taller than the screen; they are cards."""
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    page = new_page(**PHONE)
    login(page, "yantian")
    walk = Walk(page)
    for path in ("/duties/compliance/", f"/duties/compliance/?studio={studio.pk}"):
        walk.open(path)
        assert page.locator("main table.stack").count() >= 1, path
        assert page.locator("main table:not(.stack)").count() == 0, path
    assert not walk.found, walk.report()
