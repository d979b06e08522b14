"""An opinion from registration to rating, in a real browser (journeys 4, 5 and 6):
the liaison registers it with a photo and sends it on, the street official refers it
to the urban-management office, the office asks for more time and the representative
consents, the office answers, the street official rates it 不满意 and sends it back,
the office answers again and it is rated 满意. Along the way: who may see the
reporter's full details, and who may not even see their name."""

from __future__ import annotations

import re
import struct
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from minyi.cases import services
from minyi.cases.models import Case, CaseAttachment, PersonalDataView
from minyi.cases.states import CaseState
from minyi.core.sealed_files import MAGIC
from minyi.org.models import HandlingUnit, OrgUnit
from minyi.people.models import User
from minyi.workdays.calendar import add_workdays, workdays_between
from tests.cases.helpers import register

pytestmark = pytest.mark.browser

STUDIO = "沙头角社区党代表工作室"
REPRESENTATIVE = "演示代表·陈明"
REPORTER = "演示居民·李阿姨"
PHONE = "13800005678"
SUMMARY = "工地夜间施工噪声"
URBAN = "沙头角街道城市管理办公室"
STREET_DEPARTMENT = "沙头角街道组织部门"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def tiny_png(path: Path) -> Path:
    """A real 2×2 PNG: signature, IHDR, one IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)  # 2×2, 8-bit RGB
    rows = b"".join(b"\x00" + b"\xcc\x33\x33" * 2 for _ in range(2))
    path.write_bytes(
        PNG_MAGIC
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def screenshot(page: Any, path: Path) -> None:
    page.screenshot(path=path, full_page=True)
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC), f"{path} is not a PNG"
    assert len(data) > 20_000, f"{path} is only {len(data)} bytes: a blank page?"


def step_form(page: Any, title: str) -> Any:
    """One step's form on the case page, found by its heading."""
    return page.locator("form").filter(has=page.get_by_role("heading", name=title, exact=True))


def fact(page: Any, term: str) -> Any:
    """The <dd> after the <dt> of that name in a facts list."""
    return page.locator("dt", has_text=re.compile(f"^{term}$")).locator(
        "xpath=following-sibling::dd[1]"
    )


def timeline(page: Any) -> Any:
    section = page.locator("section").filter(has=page.get_by_role("heading", name="办理记录"))
    return section.get_by_role("listitem")


def state_badge(page: Any, state: CaseState) -> None:
    """The case's state, shown in words right under its title."""
    badges = page.get_by_role("heading", level=1).locator("xpath=following-sibling::p[1]")
    expect(badges).to_contain_text(str(state.label))


def rate_satisfied(page: Any) -> None:
    """The street department's joint rating 满意, signed by all three; the case closes."""
    evaluate = step_form(page, "满意度评议（《进社区联系群众办法》第十二条）")
    evaluate.get_by_role("radio", name="满意", exact=True).check()
    for who in ("反映人已签名确认", "党代表已签名确认", "街道组织部门负责人已签名确认"):
        evaluate.get_by_role("checkbox", name=who).check()
    evaluate.get_by_role("button", name="提交评议").click()
    expect(page.get_by_text("评议结果已记录。")).to_be_visible()
    state_badge(page, CaseState.CLOSED)


def open_case(page: Any, number: str) -> None:
    """From anywhere: 社情民意 in the main navigation, then the case by its number."""
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="社情民意").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("社情民意")
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)


def test_an_opinion_from_registration_to_rating(
    new_page: Any,
    live_world: dict[str, OrgUnit],
    login: Any,
    artifacts: Path,
    tmp_path: Path,
) -> None:
    photo = tiny_png(tmp_path / "工地夜间照片.png")

    # 1. The liaison registers the opinion and sends it to the street. ----------------
    liaison = new_page(accept_downloads=True)
    login(liaison, "liaison")
    liaison.get_by_role("navigation", name="主导航").get_by_role("link", name="社情民意").click()
    liaison.get_by_role("link", name="登记社情民意").click()
    expect(liaison.get_by_role("heading", level=1)).to_have_text("市党代表社情民意登记表")

    # Her only studio is already chosen, and only the representatives working there
    # are offered.
    studio = liaison.get_by_label("工作室")
    expect(studio.locator("option:checked")).to_have_text(f"沙头角街道 {STUDIO}")
    representative = liaison.get_by_label("接待党代表")
    expect(representative.locator("option", has_text="演示代表·黄海")).to_have_count(0)
    representative.select_option(label=f"{REPRESENTATIVE}（工程师）")
    liaison.get_by_label("反映人姓名").fill(REPORTER)
    liaison.get_by_label("年龄").fill("62")
    liaison.get_by_label("联系电话").fill(PHONE)
    liaison.get_by_label("内容摘要").fill(SUMMARY)
    liaison.get_by_label("反映内容").fill(
        "小区旁工地每晚十点后仍在打桩、运土，噪声很大，老人孩子无法休息，希望依法管理夜间施工。"
    )
    liaison.get_by_role("radio", name="报送街道组织部门").check()
    liaison.get_by_label("附件", exact=True).set_input_files(photo)
    screenshot(liaison, artifacts / "case-1-registration-form.png")
    liaison.get_by_role("button", name="保存登记表").click()

    expect(liaison.get_by_text("登记成功", exact=False)).to_be_visible()
    # The number carries the year of the day received, which the form filled in when it
    # was opened: today's, or last year's if the run crossed New Year since
    # (docs/decisions.md "Tests and the clock").
    received_on = Case.objects.get(summary=SUMMARY).received_on
    assert received_on in {timezone.localdate(), timezone.localdate() - timedelta(days=1)}
    number = f"沙头角街道沙头角社区{received_on.year}001"
    expect(liaison.get_by_text(f"登记成功，编号：{number}")).to_be_visible()
    expect(liaison.get_by_role("heading", level=1)).to_have_text(f"社情民意登记表 {number}")
    state_badge(liaison, CaseState.REGISTERED)
    attachments = liaison.locator("#attachments")
    expect(attachments.get_by_role("heading")).to_have_text("附件（1）")
    expect(attachments.get_by_role("link", name="工地夜间照片.png")).to_be_visible()
    # Stored sealed (minyi.core.sealed_files), downloaded as the very bytes uploaded.
    with liaison.expect_download() as info:
        attachments.get_by_role("link", name="工地夜间照片.png").click()
    info.value.save_as(tmp_path / "downloaded.png")
    assert (tmp_path / "downloaded.png").read_bytes() == photo.read_bytes()
    stored = Path(CaseAttachment.objects.get(case__number=number).file.path).read_bytes()
    assert stored.startswith(MAGIC) and photo.read_bytes()[:16] not in stored
    expect(fact(liaison, "联系电话").first).to_have_text("138****5678")
    case = Case.objects.get(number=number)
    assert case.reporter_phone == f"+86{PHONE}"
    assert case.representative.name == REPRESENTATIVE

    # The representative and the reporter confirm the form (notes 4 and 7).
    confirm_rep = liaison.get_by_role("button", name="党代表确认", exact=True)
    if confirm_rep.count():
        confirm_rep.click()
        expect(fact(liaison, "党代表确认")).to_contain_text("已确认")
        expect(confirm_rep).to_have_count(0)
    confirm_reporter = liaison.get_by_role("button", name="记录反映人已确认")
    if confirm_reporter.count():
        confirm_reporter.click()
        expect(fact(liaison, "反映人确认")).to_contain_text("已签字确认")
        expect(confirm_reporter).to_have_count(0)

    step_form(liaison, "报送街道组织部门（《进社区联系群众办法》第十条）").get_by_role(
        "button", name="报送"
    ).click()
    expect(liaison.get_by_text("已报送街道组织部门。")).to_be_visible()
    state_badge(liaison, CaseState.AT_DEPARTMENT)
    expect(fact(liaison, "当前组织部门")).to_have_text(f"{STREET_DEPARTMENT}（街道组织部门）")
    screenshot(liaison, artifacts / "case-2-sent-to-street.png")

    # 2. The street official finds it and refers it to the urban-management office. ---
    street = new_page()
    login(street, "shatoujiao")
    street.get_by_role("navigation", name="主导航").get_by_role("link", name="社情民意").click()
    street.get_by_role("searchbox", name="编号或摘要").fill(SUMMARY)
    results = street.locator("#results")
    row = results.get_by_role("row").filter(has=street.get_by_role("link", name=number))
    expect(row).to_contain_text(SUMMARY)
    expect(row).to_contain_text("组织部门处理中")
    expect(row).to_contain_text("138****5678")
    row.get_by_role("link", name=number).click()
    expect(street.get_by_role("heading", level=1)).to_contain_text(number)

    refer = step_form(street, "转办本级承办单位")
    refer.get_by_label("承办单位").select_option(label=URBAN)
    refer.get_by_label("转办说明").fill("请核查工地夜间施工许可，依法处理。")
    refer.get_by_role("button", name="转办").click()
    expect(street.get_by_text("已转办承办单位，答复期限已计算。")).to_be_visible()
    state_badge(street, CaseState.WITH_UNIT)
    expect(fact(street, "承办单位")).to_have_text(URBAN)
    # Counted from the day the unit received it (the referral's day, not today's if the
    # run has crossed midnight since).
    case.refresh_from_db()
    assert case.unit_received_on is not None
    ten_days = add_workdays(case.unit_received_on, 10).due
    expect(fact(street, "答复期限")).to_contain_text(f"{ten_days:%Y-%m-%d}（10 个工作日）")

    # The timeline tells the story in words, never in codes.
    steps = timeline(street)
    expect(steps).to_have_count(5)
    expect(steps.nth(0)).to_contain_text("演示联络员·林芳")
    expect(steps.nth(0)).to_contain_text("登记")
    expect(steps.nth(1)).to_contain_text("党代表确认")
    expect(steps.nth(2)).to_contain_text("反映人确认")
    expect(steps.nth(3)).to_contain_text(f"将登记表报送{STREET_DEPARTMENT}")
    expect(steps.nth(3)).to_contain_text("状态：已登记（待报送街道） → 组织部门处理中")
    expect(steps.nth(4)).to_contain_text(f"由{STREET_DEPARTMENT}转办给{URBAN}")
    expect(steps.nth(4)).to_contain_text("状态：组织部门处理中 → 承办单位办理中")
    expect(steps.nth(4)).to_contain_text(f"答复期限：{ten_days:%Y-%m-%d}")
    expect(steps.nth(4)).to_contain_text("请核查工地夜间施工许可")
    for code in ("send_to_street", "refer", "with_unit", "at_department"):
        expect(street.locator("ol.timeline")).not_to_contain_text(code)
    screenshot(street, artifacts / "case-3-referred.png")

    # 3. The unit asks for more time; the representative consents; the unit answers. --
    unit = new_page()
    login(unit, "unit")
    open_case(unit, number)
    state_badge(unit, CaseState.WITH_UNIT)
    extension = step_form(unit, "申请延期至 30 个工作日")
    extension.get_by_label("延期理由").fill(
        "需协调住建部门联合执法并核查夜间施工许可，10 个工作日内难以办结。"
    )
    extension.get_by_role("button", name="申请延期").click()
    expect(unit.get_by_text("延期申请已提交，等待党代表意见。")).to_be_visible()
    expect(fact(unit, "延期申请")).to_contain_text("待党代表意见")
    expect(step_form(unit, "申请延期至 30 个工作日")).to_have_count(0)

    rep = new_page()
    login(rep, "rep")
    open_case(rep, number)
    expect(fact(rep, "延期申请")).to_contain_text("需协调住建部门联合执法")
    decide = step_form(rep, "对延期申请的意见")
    decide.get_by_role("radio", name="同意", exact=True).check()
    decide.get_by_label("意见").fill("情况属实，同意延期。")
    decide.get_by_role("button", name="提交意见").click()
    expect(rep.get_by_text("已记录对延期申请的意见。")).to_be_visible()
    expect(step_form(rep, "对延期申请的意见")).to_have_count(0)
    expect(timeline(rep).last).to_contain_text("党代表同意延期")

    thirty_days = add_workdays(case.unit_received_on, 30).due
    assert thirty_days > ten_days
    reloaded_on = timezone.localdate()
    unit.reload()
    due = fact(unit, "答复期限")
    expect(due).to_contain_text(f"{thirty_days:%Y-%m-%d}（30 个工作日）")
    # 30 left on the day the unit received it; one fewer for each working day the run
    # has crossed into since.
    left = {workdays_between(day, thirty_days) for day in (reloaded_on, timezone.localdate())}
    expect(due).to_contain_text(re.compile(f"还剩 ({'|'.join(map(str, left))}) 个工作日"))
    expect(fact(unit, "延期申请")).to_have_count(0)
    expect(step_form(unit, "申请延期至 30 个工作日")).to_have_count(0)
    expect(timeline(unit).last).to_contain_text(f"答复期限：{thirty_days:%Y-%m-%d}")
    screenshot(unit, artifacts / "case-4-extended.png")

    answer = step_form(unit, "书面答复（《进社区联系群众办法》第十一条）")
    answer.get_by_label("书面答复内容").fill(
        "经核查，该工地已办理夜间施工许可，已要求其 22 时后停止高噪声作业。"
    )
    answer.get_by_label("办理结果").fill("已责令夜间停止高噪声作业")
    answer.get_by_role("button", name="提交答复").click()
    expect(unit.get_by_text("书面答复已提交，将抄送反映人、党代表和工作室。")).to_be_visible()
    state_badge(unit, CaseState.ANSWERED)

    # 4. 不满意: back to the unit; the second answer is rated 满意. ----------------------
    street.reload()
    state_badge(street, CaseState.ANSWERED)
    evaluate = step_form(street, "满意度评议（《进社区联系群众办法》第十二条）")
    evaluate.get_by_role("radio", name="不满意", exact=True).check()
    evaluate.get_by_label("评议意见").fill("反映人反映夜间仍有施工噪声。")
    evaluate.get_by_role("checkbox", name="不满意，退回承办单位重新办理").check()
    evaluate.get_by_role("button", name="提交评议").click()
    expect(street.get_by_text("评议结果已记录。")).to_be_visible()
    state_badge(street, CaseState.WITH_UNIT)
    expect(fact(street, "不满意重办")).to_have_text("1 次")
    expect(timeline(street).last).to_contain_text(f"评议不满意，退回{URBAN}重新办理")
    expect(timeline(street).last).to_contain_text("评议结果：不满意")
    ratings = street.locator("section").filter(has=street.get_by_role("heading", name="满意度评议"))
    expect(ratings.get_by_role("listitem")).to_have_count(1)
    expect(ratings).to_contain_text("第 1 次：不满意")
    screenshot(street, artifacts / "case-5-reopened.png")

    unit.reload()
    state_badge(unit, CaseState.WITH_UNIT)
    expect(fact(unit, "不满意重办")).to_have_text("1 次")
    answer = step_form(unit, "书面答复（《进社区联系群众办法》第十一条）")
    answer.get_by_label("书面答复内容").fill(
        "已联合住建部门夜间巡查，工地 22 时后已全面停工，并设置隔音屏障。"
    )
    answer.get_by_label("办理结果").fill("夜间停工并设隔音屏障")
    answer.get_by_role("button", name="提交答复").click()
    expect(unit.get_by_text("书面答复已提交，将抄送反映人、党代表和工作室。")).to_be_visible()
    state_badge(unit, CaseState.ANSWERED)

    street.reload()
    rate_satisfied(street)
    expect(street.get_by_text("评议：满意")).to_be_visible()
    expect(ratings.get_by_role("listitem")).to_have_count(2)
    expect(ratings.get_by_role("listitem").last).to_contain_text("第 2 次：满意")
    expect(ratings.get_by_role("listitem").last).to_contain_text(
        "反映人已签名 · 党代表已签名 · 街道组织部门负责人已签名"
    )
    expect(fact(street, "办结时间")).to_be_visible()
    expect(
        street.get_by_role("heading", name="满意度评议（《进社区联系群众办法》第十二条）")
    ).to_have_count(0)
    screenshot(street, artifacts / "case-6-closed.png")

    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert case.final_rating == "satisfied"
    assert case.reopen_count == 1
    assert case.answers.count() == 2

    # 5. The reporter's full details. ----------------------------------------------------
    full = street.get_by_role("button", name="查看反映人完整信息")
    full.click()
    reporter = street.locator("#reporter")
    expect(reporter.get_by_role("heading")).to_have_text("反映人（完整信息）")
    expect(fact(street, "联系电话").first).to_have_text(PHONE)
    expect(reporter).to_contain_text(REPORTER)
    expect(reporter).to_contain_text("62 岁")
    assert PersonalDataView.objects.filter(case=case, viewer__username="shatoujiao").count() == 1
    screenshot(street, artifacts / "case-7-reporter-details.png")

    # The unit of an ordinary case may look too; of a protected one, not even the name.
    protected = register(
        hide_identity_from_unit=True,
        received_on=timezone.localdate(),
        summary="反映物业乱收费（要求保密）",
    )
    services.case_send_to_street(case=protected, actor=User.objects.get(username="liaison"))
    services.case_refer(
        case=protected,
        actor=User.objects.get(username="shatoujiao"),
        handling_unit=HandlingUnit.objects.get(name=URBAN),
    )
    unit.get_by_role("navigation", name="主导航").get_by_role("link", name="社情民意").click()
    rows = unit.locator("#results").get_by_role("row")
    hidden_row = rows.filter(has=unit.get_by_role("link", name=protected.number))
    expect(hidden_row).to_contain_text("身份保密")
    expect(hidden_row).not_to_contain_text("138****5678")
    expect(rows.filter(has=unit.get_by_role("link", name=number))).to_contain_text("138****5678")

    hidden_row.get_by_role("link", name=protected.number).click()
    expect(unit.get_by_role("heading", level=1)).to_contain_text(protected.number)
    expect(unit.locator("#reporter")).to_contain_text("反映人身份和联系方式对本单位保密")
    expect(unit.get_by_role("button", name="查看反映人完整信息")).to_have_count(0)
    expect(unit.locator("main")).not_to_contain_text("5678")
    expect(unit.locator("main")).not_to_contain_text("王大爷")
    screenshot(unit, artifacts / "case-8-unit-identity-protected.png")
