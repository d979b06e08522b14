"""The summary and the circular as PDF (WeasyPrint, read back with pdftotext, page 1
kept as a PNG under test-artifacts/documents/) and as Excel (read back with openpyxl:
numbers as numbers, text as text, formula-like text neutralised)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.urls import reverse

from minyi.evaluation import services
from minyi.evaluation.excel import neutralise
from minyi.evaluation.models import Criterion, EvaluationRound, StudioOutcome
from minyi.evaluation.services import CriterionInput
from minyi.studios.models import Studio
from tests.core.helpers import client_for
from tests.documents.pdftools import compact, fonts, keep_first_page_png, pages_text, raw_text
from tests.evaluation.helpers import DAMEISHA, assessment, open_round, user, walked_case_in

pytestmark = pytest.mark.django_db

UNIT = "沙头角街道城市管理办公室"


def _approved_round(dameisha: str = StudioOutcome.CRITICISE) -> EvaluationRound:
    walked_case_in()  # the unit answered on time and was rated 满意 in 2026
    round = open_round()
    a = assessment(round)
    services.assessment_save(
        actor=user("shatoujiao"),
        assessment=a,
        version=a.version,
        criteria={Criterion.MANAGEMENT: CriterionInput(14, "开放台账补录后核实")},
        outcome=StudioOutcome.CORRECT,
        outcome_reason="日常开放记录不全，限期整改",
    )
    b = assessment(round, DAMEISHA)
    services.assessment_save(
        actor=user("meisha"),
        assessment=b,
        version=b.version,
        criteria={},
        outcome=dameisha,
        outcome_reason="面积不足，无专职联络员",
    )
    city = user("city")
    round = services.round_finalise(actor=city, round=round, version=round.version)
    round = services.round_submit(actor=city, round=round, version=round.version)
    return services.round_approve(actor=city, round=round, version=round.version)


def _get(client: Any, name: str, pk: int, content_type: str) -> bytes:
    response = client.get(reverse(name, args=[pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Cache-Control"] == "no-store"
    return response.content


def test_the_circular_pdf_carries_the_outcomes_and_the_ratings(world: Any, tmp_path: Path) -> None:
    round = _approved_round()
    data = _get(client_for(user("yantian")), "evaluation:circular_pdf", round.pk, "application/pdf")
    text = compact("".join(pages_text(data, tmp_path)))
    for expected in (
        "关于2026年度“五好”党代表工作室评估和社情民意办理评议情况的通报",
        "限期纠正：沙头角社区党代表工作室",
        "通报批评：大梅沙社区党代表工作室",
        "日常开放记录不全，限期整改",
        "面积不足，无专职联络员",
        UNIT,
        "满意率",
        "100%",
        "中共深圳市委组织部",
    ):
        assert compact(expected) in text, expected
    assert "草稿" not in text
    assert any("CJK" in name and emb == "yes" for name, emb in fonts(data, tmp_path))
    keep_first_page_png(data, "evaluation-circular", tmp_path)


def test_the_summary_pdf_carries_every_score(world: Any, tmp_path: Path) -> None:
    round = _approved_round()
    data = _get(client_for(user("city")), "evaluation:summary_pdf", round.pk, "application/pdf")
    text = compact("".join(pages_text(data, tmp_path)))
    for label in Criterion.labels:
        assert label in text
    assert "沙头角社区党代表工作室" in text and "大梅沙社区党代表工作室" in text
    assert "报送时汇总" in text
    keep_first_page_png(data, "evaluation-summary", tmp_path)


def test_the_summary_pdf_keeps_a_studio_name_on_one_line(world: Any, tmp_path: Path) -> None:
    """Eleven columns on a portrait page left the studio column two characters wide, each
    name wrapped over six lines: the summary is printed landscape, as the ledger is."""
    round = _approved_round()
    data = _get(client_for(user("city")), "evaluation:summary_pdf", round.pk, "application/pdf")
    text = raw_text(data, tmp_path)
    assert "沙头角社区党代表工作室" in text and "大梅沙社区党代表工作室" in text


def test_a_draft_circular_says_so(world: Any, tmp_path: Path) -> None:
    round = open_round()
    from tests.evaluation.helpers import assess_all

    assess_all(round)
    round = services.round_finalise(actor=user("city"), round=round, version=round.version)
    data = _get(client_for(user("city")), "evaluation:circular_pdf", round.pk, "application/pdf")
    text = compact("".join(pages_text(data, tmp_path)))
    assert "草稿" in text and "未印发" in text


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_summary_xlsx_reads_back(world: Any) -> None:
    round = _approved_round()
    data = _get(client_for(user("city")), "evaluation:summary_xlsx", round.pk, XLSX)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["工作室评估结果", "承办单位评议汇总"]
    studios = book["工作室评估结果"]
    header = [c.value for c in studios[3]]
    assert header[:3] == ["区（新区）", "街道", "工作室"]
    assert header[3:8] == list(Criterion.labels)
    rows = {r[2]: r for r in studios.iter_rows(min_row=4, values_only=True)}
    row = rows["沙头角社区党代表工作室"]
    assert row[0] == "盐田区" and row[1] == "沙头角街道"
    assert row[5] == 14  # the adjusted 日常管理好, as a number
    criteria = [value for value in row[3:8] if isinstance(value, int | float)]
    assert len(criteria) == 5 and isinstance(row[8], int) and row[8] == sum(criteria)
    assert row[9] == "限期纠正"
    units = book["承办单位评议汇总"]
    lines = list(units.iter_rows(min_row=4, values_only=True))
    assert lines == [(UNIT, "沙头角街道", 1, 1, 0, 1, 0, 0, 1, 100)]


def test_formula_like_text_is_written_as_text(world: Any) -> None:
    Studio.objects.filter(name=DAMEISHA).update(name='=HYPERLINK("http://x")工作室')
    round = open_round()
    a = assessment(round, '=HYPERLINK("http://x")工作室')
    services.assessment_save(
        actor=user("city"),
        assessment=a,
        version=a.version,
        criteria={},
        outcome=StudioOutcome.CRITICISE,
        outcome_reason="＋1 -2 @SUM(A1)",
    )
    data = _get(client_for(user("city")), "evaluation:summary_xlsx", round.pk, XLSX)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["工作室评估结果"]
    values = [c for row in sheet.iter_rows(min_row=4, values_only=True) for c in row]
    assert '\'=HYPERLINK("http://x")工作室' in values
    assert "'＋1 -2 @SUM(A1)" in values
    for cell in (c for row in sheet.iter_rows(min_row=1) for c in row):
        assert cell.data_type != "f", cell.coordinate


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+86", "'+86"),
        ("-", "'-"),
        ("@x", "'@x"),
        ("＝1", "'＝1"),
        ("\t=1", "'\t=1"),
        ("沙头角", "沙头角"),
        ("1=1", "1=1"),
    ],
)
def test_neutralise(text: str, written: str) -> None:
    assert neutralise(text) == written


def test_the_circular_xlsx_is_the_frozen_annex(world: Any) -> None:
    round = _approved_round()
    data = _get(client_for(user("meisha")), "evaluation:circular_xlsx", round.pk, XLSX)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["工作室评估结果"]
    header = [c.value for c in sheet[3]]
    assert header == ["区（新区）", "街道", "工作室", "评估结果", "说明"]
    rows = sorted(sheet.iter_rows(min_row=4, values_only=True))
    assert (
        "盐田区",
        "梅沙街道",
        "大梅沙社区党代表工作室",
        "通报批评",
        "面积不足，无专职联络员",
    ) in rows


@pytest.mark.parametrize("name", ["evaluation:summary_pdf", "evaluation:circular_pdf"])
def test_the_pdfs_keep_a_street_and_an_outcome_on_one_line(
    world: Any, tmp_path: Path, name: str
) -> None:
    """The 街道 (and 区域) and 评估结果 columns were narrower than their longest words:
    "沙头角街/道", "保持（继/续巩固）", in the summary and in the circular's table."""
    round = _approved_round(dameisha=StudioOutcome.KEEP)
    data = _get(client_for(user("city")), name, round.pk, "application/pdf")
    # -raw keeps a row's cells on one line, in order, as long as none wraps.
    text = raw_text(data, tmp_path)
    assert "盐田区 沙头角街道 沙头角社区党代表工作室" in text
    assert f"{StudioOutcome.KEEP.label} 面积不足，无专职联络员" in text
    assert "街\n道" not in text  # the units' 区域 column
