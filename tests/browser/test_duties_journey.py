"""A reception from its announcement to the representative's duty record, in a real
browser (journeys 3 and 8): the liaison publishes an event, a resident books it on a
phone, the liaison confirms and the representative is notified, the liaison records
what happened, and the representative's duty record shows the session."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from minyi.core.names import mask_name
from minyi.duties.models import (
    Appointment,
    AppointmentState,
    AppointmentView,
    Event,
    EventState,
)
from minyi.org.models import OrgUnit
from minyi.people.models import Representative

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
STUDIO = "沙头角社区党代表工作室"
REPRESENTATIVE = "演示代表·陈明"
OTHERS = ("演示代表·林秀英", "演示代表·何建国")
THEME = "听取居民对工地施工噪声的意见"
RESIDENT = "居民·张女士"
PHONE = "13800001111"
TOPIC = "工地噪声"
PHONE_VIEWPORT = {"width": 360, "height": 740}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def screenshot(page: Any, path: Path) -> None:
    page.screenshot(path=path, full_page=True)
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC), f"{path} is not a PNG"
    assert len(data) > 20_000, f"{path} is only {len(data)} bytes: a blank page?"


def fact(page: Any, term: str) -> Any:
    """The <dd> after the <dt> of that name in a facts list."""
    return page.locator("dt", has_text=re.compile(f"^{term}$")).locator(
        "xpath=following-sibling::dd[1]"
    )


def section(page: Any, heading: str) -> Any:
    return page.locator("section").filter(has=page.get_by_role("heading", name=heading, exact=True))


def no_horizontal_overflow(page: Any) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{page.url} overflows sideways at 360px: {widths}"


def local_input(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_a_published_reception_is_booked_confirmed_held_and_on_the_duty_record(
    new_page: Any, live_world: dict[str, OrgUnit], login: Any, artifacts: Path
) -> None:
    day = timezone.now().astimezone(SHANGHAI).date() + timedelta(days=9)
    starts = datetime.combine(day, time(9, 0), SHANGHAI)
    ends = starts + timedelta(hours=3)
    chen = Representative.objects.get(name=REPRESENTATIVE)

    # 1. The liaison creates the event and publishes it, more than a week ahead. ------
    liaison = new_page()
    login(liaison, "liaison")
    liaison.goto("/duties/events/")
    liaison.get_by_role("link", name="新建活动").click()
    expect(liaison.get_by_role("heading", level=1)).to_have_text("新建活动")
    liaison.get_by_label("工作室").select_option(label=f"沙头角街道 {STUDIO}")
    liaison.get_by_label("活动方式").select_option(label="接待群众")
    liaison.get_by_label("主题").fill(THEME)
    liaison.get_by_label("开始时间").fill(local_input(starts))
    liaison.get_by_label("结束时间").fill(local_input(ends))
    liaison.get_by_role("checkbox", name=f"{REPRESENTATIVE}（工程师）").check()
    liaison.get_by_label("可预约人数").fill("5")
    liaison.get_by_role("button", name="保存").click()

    expect(liaison.get_by_text("活动已保存（尚未发布预告）。")).to_be_visible()
    title = f"{STUDIO} · 接待群众：{THEME}"
    expect(liaison.get_by_role("heading", level=1)).to_have_text(title)
    expect(liaison.locator(".badge.state")).to_have_text("计划")
    expect(fact(liaison, "党代表")).to_have_text(f"{REPRESENTATIVE}（工程师）")
    expect(fact(liaison, "可预约")).to_have_text("5 人，已预约 0 人")
    publish = liaison.locator("form").filter(
        has=liaison.get_by_role("heading", name="发布预告", exact=True)
    )
    publish.get_by_role("button", name="发布").click()
    expect(liaison.get_by_text("活动预告已发布。")).to_be_visible()
    expect(liaison.locator(".badge.state")).to_have_text("已预告")
    expect(liaison.get_by_text("预告不足7天")).to_have_count(0)
    expect(liaison.get_by_role("heading", name="发布预告")).to_have_count(0)
    screenshot(liaison, artifacts / "duties-1-event-published.png")
    event = Event.objects.get(theme=THEME)
    assert event.state == EventState.PUBLISHED
    assert event.starts_at == starts and event.ends_at == ends

    # 2. A resident, on a phone and not logged in, finds it and books a place. --------
    resident = new_page(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    resident.goto("/duties/public/events/")
    expect(resident.get_by_role("heading", level=1)).to_have_text("党代表活动预告")
    # One card per event (a residents' page: the large-text mode, no staff frame).
    row = resident.get_by_role("listitem").filter(has_text=THEME)
    expect(row).to_contain_text(STUDIO)
    weekday = "一二三四五六日"[starts.weekday()]
    expect(row).to_contain_text(
        f"{starts.year}年{starts.month}月{starts.day}日 星期{weekday} {starts:%H:%M}—{ends:%H:%M}"
    )
    expect(row).to_contain_text(f"{REPRESENTATIVE}（工程师）")
    expect(row).to_contain_text("余 5 / 5")
    no_horizontal_overflow(resident)
    screenshot(resident, artifacts / "duties-2-public-events-phone.png")
    row.get_by_role("link", name="预约").click()

    expect(resident.get_by_role("heading", level=1)).to_have_text("预约见党代表")
    expect(fact(resident, "工作室")).to_have_text(STUDIO)
    expect(fact(resident, "剩余名额")).to_have_text("5 个")
    no_horizontal_overflow(resident)
    # Large-text mode, kept by a cookie for the pages that follow.
    body = resident.locator("body")
    normal = float(body.evaluate("b => parseFloat(getComputedStyle(b).fontSize)"))
    resident.get_by_role("link", name="大字模式").click()
    expect(body).to_have_class(re.compile(r"\blarge\b"))
    large = float(body.evaluate("b => parseFloat(getComputedStyle(b).fontSize)"))
    assert large > normal, f"大字模式 did not enlarge the text ({normal}px → {large}px)"
    expect(resident.get_by_role("link", name="标准字号")).to_be_visible()
    no_horizontal_overflow(resident)

    expect(resident.get_by_role("radio", name="个人")).to_be_checked()
    resident.get_by_label("姓名或单位名称").fill(RESIDENT)
    resident.get_by_label("联系电话").fill(PHONE)
    resident.get_by_label("想反映的事情").fill(TOPIC)
    resident.get_by_label("希望约见的党代表").select_option(label=REPRESENTATIVE)
    screenshot(resident, artifacts / "duties-2-booking-on-phone.png")
    resident.get_by_role("button", name="提交预约").click()

    expect(resident.get_by_role("heading", level=1)).to_have_text("预约已提交")
    expect(resident.get_by_role("status")).to_contain_text("联络员将与您联系确认")
    expect(fact(resident, "工作室")).to_have_text(STUDIO)
    expect(fact(resident, "时间")).to_contain_text(f"{day.year}年{day.month}月{day.day}日")
    expect(fact(resident, "时间")).to_contain_text(f"{starts:%H:%M}—{ends:%H:%M}")
    expect(fact(resident, "预约人")).to_have_text(RESIDENT)  # her own name, in full
    expect(fact(resident, "反映事项")).to_have_text(TOPIC)
    expect(fact(resident, "希望约见")).to_have_text(REPRESENTATIVE)
    expect(resident.locator("body")).to_have_class(re.compile(r"\blarge\b"))
    no_horizontal_overflow(resident)
    screenshot(resident, artifacts / "duties-3-booking-confirmation.png")
    appointment = Appointment.objects.get(event=event)
    assert appointment.state == AppointmentState.REQUESTED
    assert appointment.phone == f"+86{PHONE}"
    assert appointment.preferred_representative == chen

    # 3. The liaison confirms it; the representative is told. -------------------------
    liaison.goto("/duties/appointments/")
    # The search finds the topic and never the booker's name, in part or in full.
    search = liaison.get_by_role("searchbox", name="反映事项")
    expect(search).to_have_attribute("placeholder", re.compile("不按姓名查找"))
    search.fill("张女士")
    expect(liaison.locator("#results")).to_contain_text("没有符合条件的预约")
    search.fill("噪声")
    row = liaison.locator("#results").get_by_role("row").filter(has_text=TOPIC)
    expect(row).to_contain_text("待确认")
    expect(row).to_contain_text("138****1111")
    # The list and the page show the booker masked; the liaison, who must ring her to
    # confirm, asks for the full view, which is recorded.
    expect(row).not_to_contain_text(RESIDENT)
    row.get_by_role("link", name=mask_name(RESIDENT)).click()
    expect(fact(liaison, "姓名或单位")).to_have_text(mask_name(RESIDENT))
    expect(fact(liaison, "联系电话")).to_have_text("138****1111")
    liaison.get_by_role("button", name="查看预约人完整信息").click()
    expect(fact(liaison, "姓名或单位")).to_have_text(RESIDENT)
    expect(fact(liaison, "联系电话")).to_contain_text("1111")
    expect(fact(liaison, "联系电话")).not_to_contain_text("*")
    assert AppointmentView.objects.filter(
        appointment=appointment, viewer__username="liaison"
    ).exists()
    liaison.get_by_role("button", name="确认", exact=True).click()
    expect(
        liaison.get_by_text("已确认预约，并已通知党代表；给预约人的短信将随后发出。")
    ).to_be_visible()
    expect(liaison.get_by_role("heading", level=1)).to_contain_text("已确认")
    expect(liaison.get_by_role("button", name="确认", exact=True)).to_have_count(0)
    # The booker's text message waits for deliver_feedback (cron), and the page says so.
    expect(fact(liaison, "短信通知")).to_contain_text("接待已确认")
    expect(fact(liaison, "短信通知")).to_contain_text("待发送")

    rep = new_page()
    login(rep, "rep")
    notifications = rep.get_by_role("navigation", name="主导航").get_by_role("link", name="通知")
    expect(notifications).to_contain_text("1")
    notifications.click()
    expect(rep.get_by_role("heading", level=1)).to_have_text("通知")
    note = rep.locator("ul.timeline > li").filter(has_text="预约已确认")
    expect(note).to_have_count(1)
    expect(note).to_contain_text(STUDIO)
    expect(note).to_contain_text(TOPIC)
    expect(note).to_contain_text("未读")
    screenshot(rep, artifacts / "duties-4-representative-notified.png")
    note.get_by_role("button", name="查看").click()
    expect(rep.get_by_role("heading", level=1)).to_contain_text("已确认")
    expect(fact(rep, "反映事项")).to_have_text(TOPIC)
    expect(fact(rep, "联系电话")).to_have_text("138****1111")

    # 4. After the event (moved to yesterday), the liaison records what happened. ----
    yesterday = timezone.now().astimezone(SHANGHAI).date() - timedelta(days=1)
    held_from = datetime.combine(yesterday, time(9, 0), SHANGHAI)
    Event.objects.filter(pk=event.pk).update(
        starts_at=held_from, ends_at=held_from + timedelta(hours=3)
    )
    liaison.goto(f"/duties/events/?q={THEME}")
    liaison.locator("#results").get_by_role("row").filter(has_text=THEME).get_by_role(
        "link"
    ).first.click()
    expect(liaison.get_by_role("heading", level=1)).to_have_text(title)
    liaison.get_by_role("link", name="记录活动情况").click()
    expect(liaison.get_by_role("heading", level=1)).to_contain_text("记录活动情况")
    # Only the representative on the event starts with its times filled in.
    for other in OTHERS:
        expect(liaison.get_by_label(f"{other} 到达时间")).to_have_value("")
        expect(liaison.get_by_label(f"{other} 离开时间")).to_have_value("")
    expect(liaison.get_by_label(f"{REPRESENTATIVE} 到达时间")).to_have_value(local_input(held_from))
    liaison.get_by_label(f"{REPRESENTATIVE} 到达时间").fill(f"{yesterday:%Y-%m-%d}T09:10")
    liaison.get_by_label(f"{REPRESENTATIVE} 离开时间").fill(f"{yesterday:%Y-%m-%d}T11:50")
    liaison.get_by_label("接待人数").fill("5")
    liaison.get_by_label("活动情况").fill(
        "陈明代表接待群众5人，集中听取工地夜间施工噪声问题，已登记社情民意并转街道处理。"
    )
    liaison.get_by_role("button", name="保存").click()

    expect(liaison.get_by_text("活动情况已记录。")).to_be_visible()
    expect(liaison.locator(".badge.state")).to_have_text("已举行")
    held = section(liaison, "活动情况")
    expect(fact(held, "接待人数")).to_have_text("5")
    expect(fact(held, "出席")).to_have_text(f"{REPRESENTATIVE} 09:10—11:50")
    expect(held).to_contain_text("集中听取工地夜间施工噪声问题")
    screenshot(liaison, artifacts / "duties-5-event-held.png")
    event.refresh_from_db()
    assert event.state == EventState.HELD
    assert event.people_received == 5
    assert [a.representative for a in event.attendances.all()] == [chen]

    # 5. The representative's duty record shows the session and the appointment. -----
    rep.goto(f"/duties/representatives/{chen.pk}/record/?year={yesterday.year}")
    expect(rep.get_by_role("heading", level=1)).to_have_text(
        f"{REPRESENTATIVE} {yesterday.year}年履职档案"
    )
    expect(fact(rep, "参加活动")).to_have_text("安排 1 场，到场 1 场，共 2.7 小时")
    expect(fact(rep, "群众预约")).to_have_text("1 件，已接待 0 件")
    session = section(rep, "工作室活动").get_by_role("row").filter(has_text=THEME)
    expect(session).to_have_count(1)
    expect(session).to_contain_text(f"{yesterday:%Y-%m-%d}")
    expect(session).to_contain_text(STUDIO)
    expect(session).to_contain_text(f"接待群众：{THEME}")
    expect(session).to_contain_text("09:00—12:00")
    expect(session).to_contain_text("09:10—11:50")
    expect(session).to_contain_text("已举行")
    booked = section(rep, "群众预约").get_by_role("row").filter(has_text=TOPIC)
    expect(booked).to_have_count(1)
    expect(booked).to_contain_text(f"{yesterday:%Y-%m-%d}")
    expect(booked).to_contain_text(STUDIO)
    expect(booked).to_contain_text("个人")
    expect(booked).to_contain_text("已确认")
    expect(rep.locator("main")).not_to_contain_text(RESIDENT)
    expect(rep.locator("main")).not_to_contain_text(PHONE)
    screenshot(rep, artifacts / "duties-6-duty-record.png")
