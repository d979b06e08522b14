"""The online studio's four resident journeys on a 360 px phone (issue 6; JOURNEYS.md 3
and 7): find a studio, book, send an opinion, follow it and rate the answer in the
large-text mode. Every page is checked with axe-core (no serious or critical
violations), for 44 px tap targets (60 px in the large-text mode), for no sideways
scrolling, and the first page for its weight (under 100 KB with CSS, scripts, fonts)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from minyi.cases import services as case_services
from minyi.cases.models import Case
from minyi.duties.models import Appointment, Event
from minyi.org.models import HandlingUnit
from minyi.people.models import Representative, User
from minyi.studios.models import Studio
from tests.browser.axe import duplicate_ids, serious_violations
from tests.browser.phone import small_tap_targets, small_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
STUDIO = "沙头角社区党代表工作室"


def check_page(page: Any, *, large: bool = False) -> None:
    """axe-core and unique ids, tap targets, no sideways scroll, and the text size of
    the mode."""
    bad = serious_violations(page) + [f"duplicate id: {d}" for d in duplicate_ids(page)]
    assert not bad, f"{page.url}: {bad}"
    small = small_tap_targets(page, 60 if large else 44)
    assert not small, f"{page.url}: tap targets too small: {small}"
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways at 360 px: {widths}"
    size = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= (24 if large else 18), f"{page.url}: body text {size}px"
    # Headings follow the text size: a heading smaller than the text under it (rem
    # sizes ignore the large-text mode) reads as a footnote.
    headings = page.evaluate(
        "() => [...document.querySelectorAll('main h2')]"
        ".map(h => [h.textContent.trim(), parseFloat(getComputedStyle(h).fontSize)])"
    )
    small_headings = [text for text, px in headings if px < size]
    assert not small_headings, f"{page.url}: headings smaller than the text: {small_headings}"
    # Text in rem (the staff pages' sizes) stays small when the large-text mode grows the
    # body: every piece of text on a resident's page is at least this share of the body's.
    tiny = small_text(page, size * 0.85)
    assert not tiny, f"{page.url}: text much smaller than the body's {size}px: {tiny}"
    assert page.evaluate("() => document.body.classList.contains('large')") == large


def _event() -> Event:
    start = timezone.now() + timedelta(days=8)
    event = Event.objects.create(
        studio=Studio.objects.get(name=STUDIO),
        kind="reception",
        theme="听取居民意见",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        place="工作室接待室",
        capacity=5,
        state="published",
        published_at=timezone.now(),
    )
    event.representatives.add(Representative.objects.get(name="演示代表·陈明"))
    return event


def test_find_a_studio_on_a_phone_and_the_first_page_is_light(
    live_world: Any, new_page: Any
) -> None:
    page = new_page(viewport=PHONE)
    sizes: list[int] = []
    page.on("requestfinished", lambda request: sizes.append(_size(request)))
    page.goto("/online/")
    page.wait_for_load_state("networkidle")
    total = sum(sizes)
    assert total < 100_000, f"first page transferred {total} bytes"
    check_page(page)
    _event()
    # Keyboard only: the search box is the first field; Enter searches.
    page.get_by_label("输入社区、街道或地址").fill("沙头角")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=re.compile("查找结果")).wait_for()
    check_page(page)
    page.get_by_role("link", name=STUDIO).click()
    page.get_by_role("heading", name=STUDIO).wait_for()
    body = page.locator("main").inner_text()
    assert "演示代表·陈明" in body and "每周三 9:00—12:00" in body and "听取居民意见" in body
    check_page(page)


def _size(request: Any) -> int:
    sizes = request.sizes()
    return sizes["responseBodySize"] + sizes["responseHeadersSize"]


def test_book_a_representative_from_the_studio_page(live_world: Any, new_page: Any) -> None:
    event = _event()
    page = new_page(viewport=PHONE)
    page.goto("/online/?text=large")
    page.get_by_label("输入社区、街道或地址").fill("沙头角社区")
    page.get_by_role("button", name="查找").click()
    page.get_by_role("link", name=STUDIO).click()
    check_page(page, large=True)
    page.get_by_role("link", name=re.compile("预约这场")).click()
    page.get_by_role("heading", name="预约见党代表").wait_for()
    check_page(page, large=True)
    page.get_by_label("个人").check()
    page.get_by_label(re.compile("^姓名或单位名称")).fill("演示居民·王大爷")
    page.get_by_label(re.compile("^联系电话")).fill("13800005678")
    page.get_by_label(re.compile("^想反映的事情")).fill("工地夜间施工噪声扰民")
    page.get_by_role("button", name="提交预约").click()
    page.get_by_role("heading", name="预约已提交").wait_for()
    check_page(page, large=True)
    appointment = Appointment.objects.get(event=event)
    assert appointment.name == "演示居民·王大爷"
    # The reference to quote on the phone, large and spaced out on the phone's screen.
    shown = page.locator("main .code")
    assert shown.inner_text() == appointment.reference_display
    style = shown.evaluate(
        "el => [getComputedStyle(el).fontSize, getComputedStyle(el).letterSpacing]"
    )
    assert float(style[0].removesuffix("px")) >= 32 and style[1] != "normal"


def test_send_an_opinion_online_with_a_check_page_and_a_confirmation(
    live_world: Any, new_page: Any, tmp_path: Path
) -> None:
    page = new_page(viewport=PHONE)
    studio = Studio.objects.get(name=STUDIO)
    page.goto(f"/online/studios/{studio.pk}/")
    page.get_by_role("link", name="在网上反映意见").click()
    page.get_by_role("heading", name="网上反映意见").wait_for()
    check_page(page)
    # Sent empty: the summary at the top links to each field.
    page.get_by_role("button", name="下一步：检查填写内容").click()
    summary = page.locator("#error-summary")
    summary.wait_for()
    check_page(page)
    summary.get_by_role("link", name=re.compile("一句话说明是什么事")).click()
    assert page.evaluate("() => document.activeElement.id") == "id_summary"
    page.get_by_label(re.compile("演示代表·陈明")).check()
    page.get_by_label(re.compile("^一句话说明是什么事")).fill("工地夜间施工噪声扰民")
    page.get_by_label(re.compile("^详细情况和您的建议")).fill("海山路工地每晚十点后仍在施工。")
    page.get_by_label(re.compile("^您的姓名")).fill("演示居民·李阿姨")
    page.get_by_label(re.compile("^手机号码")).fill("13800007777")
    page.get_by_label("不让承办单位看到我的姓名和电话").check()
    page.get_by_role("button", name="下一步：检查填写内容").click()
    page.get_by_role("heading", name="检查您填写的内容").wait_for()
    check_page(page)
    assert "海山路工地每晚十点后仍在施工。" in page.locator("main").inner_text()
    photo = tmp_path / "工地.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    page.get_by_label(re.compile("^照片或材料")).set_input_files(str(photo))
    page.get_by_label(re.compile("我已阅读上面的个人信息说明")).check()
    page.get_by_role("button", name="确认无误，提交").click()
    page.get_by_role("heading", name="已收到您的意见").wait_for()
    check_page(page)
    case = Case.objects.get()
    text = page.locator("main").inner_text()
    assert case.number in text and "接下来会怎样" in text
    assert re.search(r"[2-9A-Z]{4}-[2-9A-Z]{4}", text)
    assert case.hide_identity_from_unit and case.attachments.count() == 1
    assert page.get_by_role("button", name="撤回这次反映").is_visible()


def _submitted(summary: str, content: str) -> tuple[Any, str]:
    """李阿姨's online report to 沙头角's studio: the report and its progress code."""
    from minyi.online.services import online_report_submit

    return online_report_submit(
        studio=Studio.objects.get(name=STUDIO),
        representative=Representative.objects.get(name="演示代表·陈明"),
        data={
            "reporter_name": "演示居民·李阿姨",
            "reporter_phone": "+8613800007777",
            "summary": summary,
            "content": content,
        },
    )


def test_follow_progress_and_rate_in_large_text(live_world: Any, new_page: Any) -> None:

    report, code = _submitted("工地夜间施工噪声扰民", "海山路工地每晚十点后仍在施工。")
    case = case_services.case_send_to_street(
        case=report.case, actor=User.objects.get(username="liaison")
    )
    case = case_services.case_refer(
        case=case,
        actor=User.objects.get(username="shatoujiao"),
        handling_unit=HandlingUnit.objects.get(name="沙头角街道城市管理办公室"),
    )
    case_services.case_answer(
        case=case, actor=User.objects.get(username="unit"), text="已责令工地晚上十点后停工。"
    )
    page = new_page(viewport=PHONE)
    page.goto("/online/progress/find/?text=large")
    check_page(page, large=True)
    # Keyboard only: Tab to the number field, type, Tab to the code, Enter.
    page.locator("#id_number").focus()
    page.keyboard.type(case.number)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "id_code"
    page.keyboard.type(code.lower())
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="办理进度").wait_for()
    check_page(page, large=True)
    text = page.locator("main").inner_text()
    for words in (
        "您的意见已登记",
        "组织部门已交给沙头角街道城市管理办公室办理",
        "已责令工地晚上十点后停工。",
        "失效",
    ):
        assert words in text, words
    page.get_by_label("基本满意").check()
    page.get_by_label(re.compile("^还想说的话")).fill("希望持续监督")
    page.get_by_role("button", name="提交评价").click()
    page.get_by_text("您的评价：").wait_for()
    check_page(page, large=True)
    assert "基本满意" in page.locator("main").inner_text()
    page.get_by_role("button", name=re.compile("延长")).click()
    page.get_by_role("heading", name="办理进度").wait_for()


def test_withdraw_an_opinion_and_the_studio_sees_it_withdrawn(
    live_world: Any, new_page: Any, login: Any
) -> None:
    from playwright.sync_api import expect

    report, code = _submitted("楼道灯不亮", "三栋楼道灯坏了一个月。")
    number = report.case.number
    resident = new_page(viewport=PHONE)
    resident.goto("/online/progress/find/")
    resident.locator("#id_number").fill(number)
    resident.locator("#id_code").fill(code)
    resident.locator("#id_code").press("Enter")
    resident.get_by_role("heading", name="办理进度").wait_for()
    resident.get_by_role("button", name="撤回这次反映").click()
    expect(resident.locator("dd", has_text="您已撤回这次反映")).to_be_visible()
    check_page(resident)
    assert "您撤回了这次反映，不再办理" in resident.locator("main").inner_text()
    expect(resident.get_by_role("button", name="撤回这次反映")).to_have_count(0)

    # The liaison finds it under 已撤回, with no step left to send it on.
    page = new_page()
    login(page, "liaison")
    page.goto("/cases/")
    page.get_by_label("状态").select_option(label="已撤回")
    page.get_by_role("button", name="筛选").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=number))
    expect(row).to_contain_text("已撤回")
    expect(page.get_by_role("row")).to_have_count(2)  # the header and this one
    row.get_by_role("link", name=number).click()
    badges = page.get_by_role("heading", level=1).locator("xpath=following-sibling::p[1]")
    expect(badges).to_contain_text("已撤回")
    expect(
        page.get_by_role("heading", name="报送街道组织部门（《进社区联系群众办法》第十条）")
    ).to_have_count(0)
    expect(page.locator("dt", has_text="撤回时间")).to_be_visible()


def test_a_reporter_who_came_in_person_follows_from_home(
    live_world: Any, new_page: Any, login: Any
) -> None:
    """Journeys 4 and 7 joined: the liaison registers 王大爷 at the reception, hands him a
    progress code on the printed slip, and he follows the answer on his phone."""
    from playwright.sync_api import expect

    from tests.cases.helpers import register

    case = register()
    page = new_page()
    login(page, "liaison")
    page.goto(case.get_absolute_url())
    page.get_by_role("button", name="给反映人发网上查询码").click()
    page.get_by_role("heading", name="网上查询凭条").wait_for()
    bad = serious_violations(page) + [f"duplicate id: {d}" for d in duplicate_ids(page)]
    assert not bad, bad
    slip = page.locator(".slip").inner_text()
    assert case.number in slip and "/online/progress/find/" in slip
    code = page.locator("#slip-code").inner_text()
    expect(page.get_by_role("button", name="打印凭条")).to_be_visible()
    # Shown once: coming back to the slip no longer shows it.
    page.reload()
    expect(page.get_by_text("查询码只显示一次")).to_be_visible()
    expect(page.locator("#slip-code")).to_have_count(0)

    resident = new_page(viewport=PHONE)
    resident.goto("/online/progress/find/")
    check_page(resident)
    resident.locator("#id_number").fill(case.number)
    resident.locator("#id_code").fill(code)
    resident.locator("#id_code").press("Enter")
    resident.get_by_role("heading", name="办理进度").wait_for()
    check_page(resident)
    text = resident.locator("main").inner_text()
    assert "您的意见已登记" in text and case.summary in text
    # Registered with the studio: the resident cannot withdraw it online.
    expect(resident.get_by_role("button", name="撤回这次反映")).to_have_count(0)


def test_the_slip_fits_a_liaison_s_phone(live_world: Any, new_page: Any, login: Any) -> None:
    """A liaison at the reception gives the code from a phone: the slip's number, set
    large and unbroken, pushed the page to 485 px on a 390 px screen."""
    from tests.cases.helpers import register

    case = register()
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    login(page, "liaison")
    page.goto(case.get_absolute_url())
    page.get_by_role("button", name="给反映人发网上查询码").click()
    page.get_by_role("heading", name="网上查询凭条").wait_for()
    # Against the screen, not innerWidth, which a mobile browser widens to the page.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the slip is {width} px wide on a 390 px screen"
    number = page.locator(".slip-value").first.inner_text()
    assert "".join(number.split()) == case.number
