"""Journey 6's rating loop from the resident's side, in a real browser, with the
three-party consultation of a hard case: a resident who reported online follows the
case from home, reads the unit's answer and rates it 不满意; the street department
sees that rating, holds a three-party consultation (reporter, representative and
unit) and records its minutes, rates the answer 不满意 with the representative and
sends the case back; the unit answers again; the resident reads the second answer on
the same progress page and rates it 满意; the department records the joint rating and
the case is closed. The resident sees every step in plain words."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from minyi.cases import services as case_services
from minyi.cases.models import Case
from minyi.cases.states import CaseState
from minyi.online.services import online_report_submit
from minyi.org.models import HandlingUnit, OrgUnit
from minyi.people.models import Representative, User
from minyi.studios.models import Studio
from tests.browser.test_case_journey import (
    fact,
    open_case,
    rate_satisfied,
    state_badge,
    step_form,
    timeline,
)

pytestmark = pytest.mark.browser

STUDIO = "沙头角社区党代表工作室"
URBAN = "沙头角街道城市管理办公室"
SUMMARY = "菜市场门口摊贩占道"


def _referred_online_report() -> tuple[Case, str]:
    """What the online-studio and routing journeys leave behind: the resident's own
    report, sent on by the studio and referred to the urban-management office."""
    report, code = online_report_submit(
        studio=Studio.objects.get(name=STUDIO),
        representative=Representative.objects.get(name="演示代表·陈明"),
        data={
            "reporter_name": "演示居民·李阿姨",
            "reporter_phone": "+8613800007777",
            "summary": SUMMARY,
            "content": "海山路菜市场门口摊贩占道经营，轮椅和婴儿车过不去。",
        },
    )
    case = case_services.case_send_to_street(
        case=report.case, actor=User.objects.get(username="liaison")
    )
    case = case_services.case_refer(
        case=case,
        actor=User.objects.get(username="shatoujiao"),
        handling_unit=HandlingUnit.objects.get(name=URBAN),
    )
    return case, code


def unit_answers(unit: Any, number: str, text: str, result: str) -> None:
    open_case(unit, number)
    answer = step_form(unit, "书面答复（《进社区联系群众办法》第十一条）")
    answer.get_by_label("书面答复内容").fill(text)
    answer.get_by_label("办理结果").fill(result)
    answer.get_by_role("button", name="提交答复").click()
    expect(unit.get_by_text("书面答复已提交，将抄送反映人、党代表和工作室。")).to_be_visible()
    state_badge(unit, CaseState.ANSWERED)


def resident_rates(resident: Any, rating: str, comment: str) -> None:
    form = resident.locator("form").filter(
        has=resident.get_by_role("heading", name="请评价办理结果")
    )
    form.get_by_label(rating, exact=True).check()
    form.get_by_label(re.compile("^还想说的话")).fill(comment)
    form.get_by_role("button", name="提交评价").click()
    expect(resident.get_by_role("heading", name="请评价办理结果")).to_have_count(0)


def test_the_resident_rates_dissatisfied_and_the_case_is_handled_again(
    new_page: Any, live_world: dict[str, OrgUnit], login: Any
) -> None:
    case, code = _referred_online_report()
    number = case.number

    # 1. The unit answers. ----------------------------------------------------------------
    unit = new_page()
    login(unit, "unit")
    unit_answers(unit, number, "已对摊贩进行劝导，要求其退回市场内经营。", "已劝导摊贩退回市场内")

    # 2. The resident follows the case from home and rates the answer 不满意. -------------
    resident = new_page()
    resident.goto("/online/")
    resident.get_by_role("link", name=re.compile("查询办理进度")).first.click()
    resident.get_by_label(re.compile("^编号")).fill(number)
    resident.get_by_label(re.compile("^查询码")).fill(code)
    resident.get_by_role("button", name="查询").click()
    expect(resident.get_by_role("heading", name="办理进度")).to_be_visible()
    main = resident.locator("main")
    expect(main).to_contain_text("已答复，请您评价（见下方）")
    expect(main).to_contain_text(f"{URBAN}的答复")
    expect(main).to_contain_text("已对摊贩进行劝导，要求其退回市场内经营。")
    resident_rates(resident, "不满意", "第二天摊贩又回来了，问题没有解决。")
    expect(main).to_contain_text("您的评价：不满意")

    # 3. The street department sees the resident's rating and holds a three-party ------
    #    consultation: a date in the future is refused, nothing typed is lost.
    #    The department starts from its start page: the answer waits for its rating,
    #    and the notification says so.
    street = new_page()
    login(street, "shatoujiao")
    street.goto("/")
    expect(street.get_by_role("link", name=re.compile("^通知"))).to_contain_text("1")
    street.get_by_role("link", name="已答复，待本部门评议").click()
    expect(street.get_by_role("heading", level=1)).to_have_text("社情民意")
    street.get_by_role("link", name=number).click()
    expect(street.get_by_role("heading", level=1)).to_contain_text(number)
    state_badge(street, CaseState.ANSWERED)
    # The resident's rating reaches the department on the case's timeline.
    expect(timeline(street).last).to_contain_text(
        "反映人网上评价：不满意。意见：第二天摊贩又回来了，问题没有解决。"
    )
    consult = step_form(street, "三方协商（《进社区联系群众办法》第十二条）")
    # Two days ahead: still in the future on the server should the run cross midnight
    # before the form is sent (docs/decisions.md "Tests and the clock").
    ahead = timezone.localdate() + timedelta(days=2)
    consult.get_by_label("协商日期").fill(f"{ahead:%Y-%m-%d}")
    consult.get_by_label("参加人员（反映人、党代表、承办单位）").fill(
        "反映人演示居民·李阿姨，党代表演示代表·陈明，城管办周主任"
    )
    consult.get_by_label("协商纪要").fill(
        "反映人说明摊贩早晚高峰回流；城管办同意在早晚高峰安排专人值守，并在市场内增设临时摊位。"
    )
    consult.get_by_label("协商结果").fill("城管办重新办理：高峰值守并增设摊位")
    consult.get_by_role("button", name="记录协商").click()
    consult = step_form(street, "三方协商（《进社区联系群众办法》第十二条）")
    expect(consult.get_by_role("alert")).to_contain_text(
        "协商日期不能晚于今天；尚未举行的协商请先作备注。"
    )
    expect(consult.get_by_label("协商纪要")).to_have_value(re.compile("早晚高峰安排专人值守"))
    consult.get_by_label("协商日期").fill(f"{timezone.localdate():%Y-%m-%d}")
    consult.get_by_role("button", name="记录协商").click()
    expect(street.get_by_text("三方协商已记录。")).to_be_visible()
    consultations = street.locator("section").filter(
        has=street.get_by_role("heading", name="三方协商", exact=True)
    )
    expect(consultations).to_contain_text("反映人演示居民·李阿姨，党代表演示代表·陈明")
    expect(consultations).to_contain_text("早晚高峰安排专人值守")
    expect(consultations).to_contain_text("结果：城管办重新办理：高峰值守并增设摊位")
    expect(timeline(street).last).to_contain_text("三方协商")
    state_badge(street, CaseState.ANSWERED)

    # The representative, who took part, reads the same minutes on the case.
    rep = new_page()
    login(rep, "rep")
    open_case(rep, number)
    expect(rep.locator("main")).to_contain_text("早晚高峰安排专人值守")

    # 4. The joint rating: 不满意, back to the unit. --------------------------------------
    evaluate = step_form(street, "满意度评议（《进社区联系群众办法》第十二条）")
    evaluate.get_by_role("radio", name="不满意", exact=True).check()
    evaluate.get_by_role("checkbox", name="反映人已签名确认").check()
    evaluate.get_by_role("checkbox", name="党代表已签名确认").check()
    evaluate.get_by_label("评议意见").fill("经三方协商，退回重新办理。")
    evaluate.get_by_role("checkbox", name="不满意，退回承办单位重新办理").check()
    evaluate.get_by_role("button", name="提交评议").click()
    expect(street.get_by_text("评议结果已记录。")).to_be_visible()
    state_badge(street, CaseState.WITH_UNIT)
    expect(fact(street, "不满意重办")).to_have_text("1 次")

    # The resident sees it go back, in plain words; nothing to rate meanwhile.
    resident.reload()
    expect(main).to_contain_text("已召集您、党代表和承办单位三方协商")
    expect(main).to_contain_text("评议为不满意，已退回承办单位重新办理")
    expect(main).to_contain_text("承办单位正在办理")
    expect(resident.get_by_role("heading", name="请评价办理结果")).to_have_count(0)

    # 5. The unit handles it again and answers. -------------------------------------------
    unit_answers(
        unit,
        number,
        "已在早晚高峰安排专人值守，并在市场内增设 12 个临时摊位，占道已清理。",
        "高峰值守，增设临时摊位",
    )

    # 6. The resident reads the second answer and rates it 满意. --------------------------
    resident.reload()
    expect(main).to_contain_text("增设 12 个临时摊位")
    # Each answer has its own heading: the first, and the one after 重新办理.
    first = resident.get_by_role("heading", name=re.compile(f"^{URBAN}的答复"))
    again = resident.get_by_role("heading", name=re.compile(f"^{URBAN}重新办理后的答复"))
    expect(first).to_have_count(1)
    expect(again).to_have_count(1)
    resident_rates(resident, "满意", "现在通行顺畅了，谢谢。")
    expect(main.get_by_text("您的评价：")).to_have_count(2)
    expect(main).to_contain_text("您的评价：满意")

    # 7. The department records the joint rating; the case is closed. ---------------------
    street.reload()
    expect(timeline(street).last).to_contain_text("反映人网上评价：满意。")
    rate_satisfied(street)
    ratings = street.locator("section").filter(
        has=street.get_by_role("heading", name="满意度评议", exact=True)
    )
    expect(ratings.get_by_role("listitem")).to_have_count(2)
    expect(ratings.get_by_role("listitem").first).to_contain_text("第 1 次：不满意")
    expect(ratings.get_by_role("listitem").last).to_contain_text("第 2 次：满意")

    resident.reload()
    expect(main).to_contain_text("已办结")
    expect(main).to_contain_text("已完成评议，结果：满意")

    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert case.reopen_count == 1
    assert case.consultations.count() == 1
    assert case.resident_ratings.count() == 2
