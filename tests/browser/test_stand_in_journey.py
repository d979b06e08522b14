"""A community without a studio (journey 1's last step, CM 7), in a real browser: its
party secretary, standing in as liaison, records a household visit of a representative
linked to the community, sees the address masked, corrects the visit and finds it
corrected in the list."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from minyi.duties.models import HouseholdVisit
from minyi.org.models import OrgUnit

pytestmark = pytest.mark.browser

REPRESENTATIVE = "演示代表·林秀英"  # linked to 沙头角社区 and 田心社区
ADDRESS = "田心演示花园 3 栋 502"


def test_the_party_secretary_records_and_corrects_a_household_visit(
    live_world: dict[str, OrgUnit], page: Any, login: Any
) -> None:
    login(page, "secretary")
    page.goto("/duties/visits/")
    page.get_by_role("link", name="登记入户走访").click()

    representative = page.get_by_label("党代表")
    # Only the representatives linked to 田心社区, and only 田心社区 itself.
    expect(representative.locator("option", has_text=REPRESENTATIVE)).to_have_count(1)
    expect(representative.locator("option", has_text="演示代表·陈明")).to_have_count(0)
    representative.select_option(label=REPRESENTATIVE)
    page.get_by_label("社区").select_option(label="田心社区")
    day = timezone.localdate() - timedelta(days=2)
    page.get_by_label("走访日期").fill(day.isoformat())
    page.get_by_label("住户").fill("演示·李女士家")
    page.get_by_label("住址").fill(ADDRESS)
    page.get_by_role("button", name="保存").click()

    page.wait_for_url(re.compile(r"/duties/visits/\d+/$"))
    expect(page.get_by_role("heading", name="入户走访", exact=True)).to_be_visible()
    body = page.locator("main")
    expect(body).to_contain_text("演示·李女士家")
    expect(body).not_to_contain_text(ADDRESS)  # masked until asked for, and then recorded
    expect(page.get_by_role("button", name="查看完整住址")).to_be_visible()

    page.get_by_role("link", name="修改").first.click()
    page.get_by_label("住户").fill("演示·李先生家")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/duties/visits/\d+/$"))
    expect(body).to_contain_text("演示·李先生家")

    page.goto("/duties/visits/")
    row = page.locator("tbody tr", has_text="演示·李先生家")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(REPRESENTATIVE)
    expect(row).to_contain_text("田心社区")
    visit = HouseholdVisit.objects.get()
    assert (visit.household, visit.address, visit.version) == ("演示·李先生家", ADDRESS, 2)
    assert visit.recorded_by.username == "secretary"
