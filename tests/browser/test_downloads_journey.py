"""The documents people take away, downloaded in a real browser by clicking the links
they would click (Playwright's download API), then read back: PDFs with pdftotext for
their Chinese text, workbooks with openpyxl. Journey 8's circular and summary (PDF and
Excel) as the district and the city get them, and the printed forms of journeys 4–6:
a case's tracking-ledger sheet, the studio's ledger for the year, the case list in
Excel and a representative's duty record."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from minyi.cases.models import Case, PersonalDataView
from minyi.org.models import OrgUnit
from tests.browser.test_case_journey import open_case
from tests.documents.pdftools import compact, pages_text
from tests.evaluation.test_outputs import _approved_round

pytestmark = pytest.mark.browser

SHATOUJIAO = "沙头角社区党代表工作室"
DAMEISHA = "大梅沙社区党代表工作室"
UNIT = "沙头角街道城市管理办公室"


def download(link: Any, tmp_path: Path, *, inline: bool = False) -> tuple[str, bytes]:
    """Clicks the link and returns the file's suggested name and bytes. A PDF is served
    inline (it opens in the viewer): Alt+click is the browser's own "save the link"."""
    page = link.page
    # The server renders the file while the browser waits (WeasyPrint for a PDF): on a
    # busy machine, or under libfaketime, longer than the 10 s default.
    with page.expect_download(timeout=30_000) as info:
        link.click(modifiers=["Alt"] if inline else None)
    file = info.value
    assert file.failure() is None, file.failure()
    target = tmp_path / file.suggested_filename
    file.save_as(target)
    return file.suggested_filename, target.read_bytes()


def open_round(page: Any, year: int) -> None:
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="年度评估").click()
    page.get_by_role("link", name=f"{year}年度").click()


def pdf_text(data: bytes, tmp_path: Path) -> str:
    assert data.startswith(b"%PDF-")
    return compact("".join(pages_text(data, tmp_path)))


def rows(data: bytes, sheet: str | None = None) -> list[tuple[Any, ...]]:
    assert data.startswith(b"PK")
    book = openpyxl.load_workbook(io.BytesIO(data))
    chosen = book[sheet] if sheet else book.active
    assert chosen is not None
    return list(chosen.iter_rows(values_only=True))


def cells(table: list[tuple[Any, ...]]) -> set[str]:
    return {str(value) for row in table for value in row if value is not None}


def test_the_district_downloads_the_approved_circular_and_the_city_its_summary(
    new_page: Any, live_world: dict[str, OrgUnit], login: Any, tmp_path: Path
) -> None:
    round = _approved_round()

    district = new_page(accept_downloads=True)
    login(district, "yantian")
    open_round(district, round.year)
    district.get_by_role("link", name="年度通报").click()
    expect(district.get_by_role("heading", level=1)).to_contain_text("市委已同意")

    name, data = download(district.get_by_role("link", name="通报 PDF"), tmp_path, inline=True)
    assert name == f"{round.year}年度通报.pdf"
    text = pdf_text(data, tmp_path)
    for words in (
        f"关于{round.year}年度“五好”党代表工作室评估和社情民意办理评议情况的通报",
        f"限期纠正：{SHATOUJIAO}",
        f"通报批评：{DAMEISHA}",
        "日常开放记录不全，限期整改",
        UNIT,
        "中共深圳市委组织部",
    ):
        assert compact(words) in text, words

    name, data = download(district.get_by_role("link", name="通报附表 Excel"), tmp_path)
    assert name == f"{round.year}年度通报附表.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(data))
    everything = cells([row for sheet in book for row in sheet.iter_rows(values_only=True)])
    for words in (SHATOUJIAO, DAMEISHA, "限期纠正", "通报批评", UNIT):
        assert words in everything, words

    city = new_page(accept_downloads=True)
    login(city, "city")
    open_round(city, round.year)
    city.get_by_role("link", name="评估和评议汇总").click()
    expect(city.get_by_role("heading", level=1)).to_contain_text("评估和评议汇总")
    name, data = download(city.get_by_role("link", name="下载 PDF"), tmp_path, inline=True)
    assert name.endswith(".pdf")
    text = pdf_text(data, tmp_path)
    assert SHATOUJIAO in text and DAMEISHA in text and UNIT in text
    name, data = download(city.get_by_role("link", name="下载 Excel"), tmp_path)
    assert name.endswith(".xlsx")
    studios = {row[2] for row in rows(data, "工作室评估结果")[3:] if row[2]}
    assert studios == {SHATOUJIAO, DAMEISHA}


def test_the_printed_forms_of_a_case_and_its_studio(
    new_page: Any, live_world: dict[str, OrgUnit], login: Any, tmp_path: Path
) -> None:
    _approved_round()  # leaves a case walked to the end: answered on time, rated 满意
    case = Case.objects.get()

    # The street official prints the case's tracking-ledger sheet (annex 2).
    street = new_page(accept_downloads=True)
    login(street, "shatoujiao")
    open_case(street, case.number)
    _, data = download(street.get_by_role("link", name="打印跟踪明细帐"), tmp_path, inline=True)
    text = pdf_text(data, tmp_path)
    for words in (case.number, "跟踪明细帐", "演示居民·王大爷", "13800005678", UNIT, "满意"):
        assert words in text, words
    assert PersonalDataView.objects.filter(case=case, viewer__username="shatoujiao").exists()

    # …and exports the case list as it is filtered on screen.
    street.get_by_role("navigation", name="主导航").get_by_role("link", name="社情民意").click()
    name, data = download(street.get_by_role("link", name=re.compile("^导出 Excel")), tmp_path)
    assert name.endswith(".xlsx")
    assert case.number in cells(rows(data))

    # The liaison prints the studio's ledger for the year, reporters masked.
    liaison = new_page(accept_downloads=True)
    login(liaison, "liaison")
    liaison.get_by_role("link", name=SHATOUJIAO).first.click()
    expect(liaison.get_by_role("heading", level=1)).to_have_text(SHATOUJIAO)
    # This year is the server's when it answers: the one before or after the download,
    # should the run cross New Year (docs/decisions.md "Tests and the clock").
    before = timezone.localdate().year
    _, data = download(
        liaison.get_by_role("link", name="本年度跟踪明细帐（PDF）"), tmp_path, inline=True
    )
    years = {before, timezone.localdate().year}
    text = pdf_text(data, tmp_path)
    assert SHATOUJIAO in text and any(str(year) in text for year in years)
    # The case is in the ledger of the year it was received (2026): asked for by its
    # dates, since this year's is another once the run is in 2027.
    received = case.received_on.year
    ledger = reverse("documents:studio_ledger", args=[case.studio_id])
    response = liaison.request.get(f"{ledger}?date_from={received}-01-01&date_to={received}-12-31")
    assert response.ok
    text = pdf_text(response.body(), tmp_path)
    assert SHATOUJIAO in text and case.number in text
    assert "13800005678" not in text

    # The representative downloads their duty record.
    rep = new_page(accept_downloads=True)
    login(rep, "rep")
    rep.get_by_role("navigation", name="主导航").get_by_role("link", name="履职").click()
    rep.get_by_role("link", name="我的履职档案").click()
    expect(rep.get_by_role("heading", level=1)).to_contain_text("履职档案")
    _, data = download(rep.get_by_role("link", name="下载 PDF"), tmp_path, inline=True)
    text = pdf_text(data, tmp_path)
    assert "演示代表·陈明" in text and "履职档案" in text
