"""Journey 2, planning the year, in a real browser: the liaison drafts the studio's plan
(the weekly opening, each representative's sessions every two months, July's activity
month), the page shows that one representative has no session in May–June, the
district cannot approve it without a reason, returns it, the liaison adds the missing
session (htmx: the shortfalls update in place) and sends it again, and the district,
starting from its start page, approves it: the year's events are generated and the July
sessions are the activity month's."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from minyi.duties import plans
from minyi.duties.models import AnnualPlan, Event
from minyi.org.models import OrgUnit
from minyi.people.models import Representative, User
from minyi.studios.models import Studio

pytestmark = pytest.mark.browser

STUDIO = "沙头角社区党代表工作室"
MONTHS = (1, 3, 5, 7, 9, 11)  # one session in each two-month window (SM 9)


def _sessions_but_one(plan: AnnualPlan) -> Representative:
    """What the liaison has typed in over several days: a half-day session for each
    representative in every window, except one representative's May–June. Returns
    that representative."""
    liaison = User.objects.get(username="liaison")
    reps = list(
        Representative.objects.filter(assignments__studio=plan.studio, assignments__active=True)
        .distinct()
        .order_by("name")
    )
    missing = reps[0]
    for index, rep in enumerate(reps):
        for month in MONTHS:
            if rep == missing and month == 5:
                continue
            plans.plan_session_add(
                actor=liaison,
                plan=plan,
                representative=rep,
                date=date(plan.year, month, 10 + index),
                start=time(9),
                end=time(12),
            )
    return missing


def _step(page: Any, heading: str) -> Any:
    return page.locator("form").filter(has=page.get_by_role("heading", name=heading))


def test_the_liaison_plans_the_year_and_the_district_approves_it(
    new_page: Any, live_world: dict[str, OrgUnit], login: Any
) -> None:
    year = timezone.localdate().year + 1

    # 1. The liaison drafts the plan: the weekly opening. ---------------------------------
    liaison = new_page()
    login(liaison, "liaison")
    liaison.get_by_role("navigation", name="主导航").get_by_role("link", name="履职").click()
    liaison.get_by_role("link", name="年度计划", exact=True).click()
    liaison.get_by_role("link", name="新建年度计划").click()
    liaison.get_by_label("工作室").select_option(label=f"沙头角街道 {STUDIO}")
    expect(liaison.get_by_label("年度")).to_have_value(str(year))
    liaison.get_by_label("每周开放日").select_option(label="星期三")
    liaison.get_by_label("开放开始时间").fill("09:00")
    liaison.get_by_label("开放结束时间").fill("12:00")
    liaison.get_by_role("button", name=re.compile("保存|建立")).click()
    expect(liaison.get_by_text("年度计划草稿已建立，请逐一安排党代表的活动。")).to_be_visible()
    expect(liaison.get_by_role("heading", level=1)).to_have_text(f"{STUDIO} {year}年度计划")
    plan = AnnualPlan.objects.get(studio__name=STUDIO, year=year)

    # 2. Each representative's sessions: one May–June is missing, and the page says so. --
    missing = _sessions_but_one(plan)
    liaison.reload()
    shortfalls = liaison.locator("section.warnings").filter(has_text="计划尚有")
    expect(shortfalls).to_contain_text("对照最低要求，计划尚有 1 项不足")
    expect(shortfalls).to_contain_text(f"{missing.name}：5—6月没有安排到工作室活动。")
    # July's sessions are the activity month's (CM 6); its theme is not set yet.
    expect(liaison.locator("main")).to_contain_text(f"{year}年主题待市委确定")
    expect(liaison.locator("tbody .badge", has_text="活动月").first).to_be_visible()
    liaison.get_by_role("button", name="报审").click()
    expect(liaison.get_by_text("年度计划已报审。")).to_be_visible()

    # 3. The district starts from its start page and cannot approve without a reason. --
    district = new_page()
    login(district, "yantian")
    district.get_by_role("link", name="年度计划待审批").click()
    district.get_by_role("link", name=re.compile(STUDIO)).first.click()
    expect(district.get_by_role("heading", level=1)).to_have_text(f"{STUDIO} {year}年度计划")
    _step(district, "批准").get_by_role("button", name="批准并生成活动安排").click()
    expect(district.locator("main")).to_contain_text(
        f"计划有 1 项未达到最低要求（如：{missing.name}：5—6月没有安排到工作室活动），"
        "批准须填写未达最低要求的理由。"
    )
    assert not Event.objects.filter(plan=plan).exists()
    returned = _step(district, "退回修改")
    returned.get_by_label("审批意见").fill(f"请补充{missing.name}5—6月的进驻安排。")
    returned.get_by_role("button", name="退回").click()
    expect(district.locator(".badge.state")).to_have_text("退回修改")

    # 4. The liaison adds the missing session; the list of shortfalls empties in place. --
    liaison.reload()
    expect(liaison.locator(".badge.state")).to_have_text("退回修改")
    expect(liaison.locator("main")).to_contain_text(f"请补充{missing.name}5—6月的进驻安排。")
    add = liaison.locator("#sessions form").filter(
        has=liaison.get_by_role("button", name="加入计划")
    )
    add.get_by_label("党代表").select_option(label=missing.name)
    add.get_by_label("日期").fill(f"{year}-05-20")
    add.get_by_label("开始时间").fill("09:00")
    add.get_by_label("结束时间").fill("12:00")
    add.get_by_label("主题").fill("听取居民对加装电梯的意见")
    add.get_by_role("button", name="加入计划").click()
    expect(liaison.get_by_text("已加入计划。")).to_be_visible()
    expect(shortfalls).to_have_count(0)
    expect(liaison.locator("#sessions")).to_contain_text("均达到要求")
    liaison.get_by_role("button", name="报审").click()
    expect(liaison.get_by_text("年度计划已报审。")).to_be_visible()

    # 5. The district approves; the year's events are generated. ---------------------------
    district.goto("/")
    district.get_by_role("link", name="年度计划待审批").click()
    district.get_by_role("link", name=re.compile(STUDIO)).first.click()
    _step(district, "批准").get_by_role("button", name="批准并生成活动安排").click()
    expect(district.get_by_text("年度计划已批准，并已生成全年活动安排。")).to_be_visible()
    expect(district.locator(".badge.state")).to_have_text("已批准")
    expect(district.get_by_role("link", name=re.compile(r"已生成 \d+ 项活动安排"))).to_be_visible()
    events = Event.objects.filter(plan=plan)
    assert events.filter(activity_month=True).count() == 3  # each representative's July
    assert events.filter(activity_month=True, starts_at__month=7).count() == 3
    assert Studio.objects.get(name=STUDIO).plans.get(year=year).state == "approved"
