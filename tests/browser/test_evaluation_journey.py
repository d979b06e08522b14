"""Journey 8, its year-end part, in a real browser: the city opens the year's round;
each street department assesses its own studio on the five goods with the evidence
pre-filled (an adjustment without a reason is refused, then saved with one) and sets
the outcome; the city finalises, reads the summary, submits the circular to the city
committee and records its approval; the district then reads the circular, as PDF and
Excel."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import expect

from minyi.evaluation.models import EvaluationRound, StudioAssessment
from minyi.evaluation.states import RoundState
from minyi.org.models import OrgUnit

pytestmark = pytest.mark.browser

YEAR = "2026"
SHATOUJIAO = "沙头角社区党代表工作室"
DAMEISHA = "大梅沙社区党代表工作室"


def studio_names(page: Any) -> list[str]:
    return page.locator("table.evaluation tbody tr td:first-child").all_inner_texts()


def test_the_year_end_evaluation_from_opening_to_the_citywide_circular(
    new_page: Any, live_world: dict[str, OrgUnit], login: Any, artifacts: Path
) -> None:
    # 1. The city organisation department opens the year's round. -----------------------
    city = new_page()
    login(city, "city")
    city.get_by_role("navigation", name="主导航").get_by_role("link", name="年度评估").click()
    city.get_by_label("年度").fill(YEAR)
    city.get_by_role("button", name="开展评估").click()
    expect(city.locator(".messages")).to_contain_text("已根据记录预填")
    expect(city.get_by_role("heading", level=1)).to_contain_text("2026年度")
    assert sorted(studio_names(city)) == sorted([SHATOUJIAO, DAMEISHA])
    round_url = city.url

    # 2. 沙头角街道 sees only its studio and assesses it with the evidence in view. ---------
    street = new_page()
    login(street, "shatoujiao")
    street.get_by_role("navigation", name="主导航").get_by_role("link", name="年度评估").click()
    street.get_by_role("link", name="2026年度").click()
    assert studio_names(street) == [SHATOUJIAO]
    street.get_by_role("link", name=SHATOUJIAO).click()
    building = street.locator("#criterion-building")
    expect(building).to_contain_text("面积 36 平方米")
    expect(building).to_contain_text("专职联络员 1 名")
    management = street.locator("#criterion-management")
    expect(management).to_contain_text("每周开放")
    management.get_by_label("调整为", exact=False).fill("15")
    street.get_by_label("评估结果", exact=True).select_option(label="限期纠正")
    street.get_by_label("结果说明").fill("日常开放记录不全，限期整改")
    street.get_by_role("button", name="保存评估").click()
    expect(street.locator(".error-summary")).to_contain_text("调整“日常管理好”的分数须写明理由")
    street.screenshot(path=artifacts / "evaluation-reason-required.png", full_page=True)
    # What was typed is still there; add the reason and save.
    expect(management.get_by_label("调整为", exact=False)).to_have_value("15")
    management.get_by_label("调整理由", exact=False).fill("开放台账补录后核实")
    street.get_by_role("button", name="保存评估").click()
    expect(street.locator(".messages")).to_contain_text("评估已保存")
    expect(street.locator("#criterion-management")).to_contain_text("评估人调整为 15 分")
    # The other street's studio is not there for them.
    other = StudioAssessment.objects.get(studio__name=DAMEISHA)
    assert street.goto(f"/evaluation/assessments/{other.pk}/").status == 404

    # 3. 梅沙街道 assesses its studio: a sanction needs its reason. --------------------------
    meisha = new_page()
    login(meisha, "meisha")
    meisha.goto(round_url)
    assert studio_names(meisha) == [DAMEISHA]
    meisha.get_by_role("link", name=DAMEISHA).click()
    expect(meisha.locator("#criterion-building")).to_contain_text("没有专职联络员")
    meisha.get_by_label("评估结果", exact=True).select_option(label="通报批评")
    meisha.get_by_role("button", name="保存评估").click()
    expect(meisha.locator(".error-summary")).to_contain_text("须写明事实和理由")
    meisha.get_by_label("结果说明").fill("面积不足，无专职联络员，全年未开放")
    meisha.get_by_role("button", name="保存评估").click()
    expect(meisha.locator(".messages")).to_contain_text("评估已保存")

    # 4. The city finalises, reads the summary and sends the circular up. ----------------
    city.goto(round_url)
    city.get_by_role("button", name="评估定稿").click()
    expect(city.locator(".messages")).to_contain_text("评估已定稿")
    city.get_by_role("link", name="评估和评议汇总").click()
    expect(city.get_by_role("heading", level=1)).to_contain_text("评估和评议汇总")
    expect(city.locator("main")).to_contain_text("限期纠正")
    expect(city.locator("main")).to_contain_text("通报批评")
    workbook = city.request.get(city.url.replace("/summary/", "/summary.xlsx"))
    assert workbook.ok
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.body()))["工作室评估结果"]
    assert {row[2] for row in sheet.iter_rows(min_row=4, values_only=True)} == {
        SHATOUJIAO,
        DAMEISHA,
    }
    city.goto(round_url)
    city.get_by_role("link", name="年度通报").click()
    expect(city.get_by_label("标题")).to_have_value(
        "关于2026年度“五好”党代表工作室评估和社情民意办理评议情况的通报"
    )
    city.get_by_role("button", name="报送市委").click()
    expect(city.locator(".messages")).to_contain_text("已报送市委")
    city.get_by_label("市委意见").fill("同意印发")
    city.get_by_role("button", name="市委同意，全市通报").click()
    expect(city.locator(".messages")).to_contain_text("通报已在全市印发")
    expect(city.get_by_role("heading", level=1)).to_contain_text("市委已同意")
    city.screenshot(path=artifacts / "evaluation-circular-approved.png", full_page=True)
    assert EvaluationRound.objects.get().state == RoundState.APPROVED

    # 5. The district reads the circular, in PDF and Excel; nothing can change now. -----
    district = new_page()
    login(district, "yantian")
    district.goto(round_url)
    district.get_by_role("link", name="年度通报").click()
    expect(district.locator("main")).to_contain_text("限期纠正：沙头角社区党代表工作室")
    pdf = district.request.get(district.url.replace("/circular/", "/circular.pdf"))
    assert pdf.ok and pdf.body().startswith(b"%PDF-")
    annex = district.request.get(district.url.replace("/circular/", "/circular.xlsx"))
    assert annex.ok and annex.body().startswith(b"PK")
    street.goto(round_url)
    street.get_by_role("link", name=SHATOUJIAO).click()
    expect(street.get_by_role("button", name="保存评估")).to_have_count(0)
