"""Pre-fill from the records (SM 16 five goods): each criterion's score and evidence
come from the studio's premises and liaisons, its plan and reports, its duty
compliance, its cases and their satisfaction."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from minyi.cases.models import Outcome, Satisfaction
from minyi.duties.models import AnnualPlan, BimonthlyReport, PlanState, ReportState
from minyi.evaluation import prefill
from minyi.evaluation.models import MAX_SCORE, Criterion, StudioAssessment
from minyi.studios.models import Studio, StudioKind
from tests.cases.helpers import register
from tests.documents.test_pdfs import walked_case
from tests.evaluation.helpers import (
    AS_OF,
    DAMEISHA,
    YEAR,
    assessment,
    open_round,
    ordered_scores,
    scores,
    studio,
)

pytestmark = pytest.mark.django_db


def test_every_active_studio_gets_the_five_criteria(world: Any) -> None:
    round = open_round()
    assert StudioAssessment.objects.filter(round=round).count() == Studio.objects.active().count()
    for name in ("沙头角社区党代表工作室", DAMEISHA):
        a = assessment(round, name)
        assert [c.criterion for c in ordered_scores(a)] == list(Criterion.values)
        assert all(c.evidence for c in ordered_scores(a)), "every score shows its evidence"
        assert all(0 <= c.prefilled_score <= MAX_SCORE for c in ordered_scores(a))


def test_building_comes_from_the_shortfalls(world: Any) -> None:
    """沙头角 has 36 m², all seven SM 5 facilities and a full-time liaison; 大梅沙 has
    15 m², two facilities and no full-time liaison."""
    round = open_round()
    good = scores(assessment(round))[Criterion.BUILDING]
    assert good.prefilled_score == MAX_SCORE
    assert "《工作室管理办法》第五条：面积 36 平方米。" in good.evidence
    short = scores(assessment(round, DAMEISHA))[Criterion.BUILDING]
    expected = MAX_SCORE - prefill.AREA_PENALTY - 5 * prefill.FACILITY_PENALTY
    expected -= prefill.NO_FULL_TIME_LIAISON_PENALTY
    assert short.prefilled_score == max(0, expected)
    text = "".join(short.evidence)
    assert "不足 20 平方米" in text and "没有专职联络员" in text and "缺少" in text


def test_online_studios_are_not_judged_on_premises(world: Any) -> None:
    online = Studio.objects.create(
        name="沙头角网络工作室",
        kind=StudioKind.ONLINE,
        unit=world["440308003"],
        host_organisation="x",
    )
    item = prefill.building(prefill.studios_for_prefill([online.pk])[0])
    assert item.score == MAX_SCORE - prefill.NO_FULL_TIME_LIAISON_PENALTY
    assert "不要求固定场所" in item.evidence[0]


def test_rules_come_from_the_plan_and_the_reports(world: Any) -> None:
    s = studio()
    AnnualPlan.objects.create(
        studio=s,
        year=YEAR,
        state=PlanState.APPROVED,
        opening_weekday=2,
        opening_start=time(9),
        opening_end=time(12),
    )
    for period in (1, 2, 3):
        BimonthlyReport.objects.create(
            studio=s, year=YEAR, period=period, body="报告", state=ReportState.SUBMITTED
        )
    BimonthlyReport.objects.create(studio=s, year=YEAR, period=4, body="草稿")  # not sent
    item = scores(assessment(open_round()))[Criterion.RULES]
    # Plan approved (8) and 3 of 6 reports (6).
    assert item.prefilled_score == 8 + 6
    assert "年度计划：已批准" in item.evidence[0]
    assert "应报 6 期，已报送 3 期，缺第 4、5、6 期" in item.evidence[1]


def test_no_plan_and_no_reports_score_nothing(world: Any) -> None:
    item = scores(assessment(open_round(), DAMEISHA))[Criterion.RULES]
    assert item.prefilled_score == 0
    assert "未制定" in item.evidence[0]
    # The studio's annual work plan: SM 10 and SM 12 item 5 (item 1 is the
    # representatives' own activity plans).
    assert "《工作室管理办法》第十条、第十二条第五项" in item.evidence[0]


@pytest.mark.parametrize(
    ("today", "due"),
    [("2026-01-05", []), ("2026-03-10", [1]), ("2026-03-11", [1]), ("2026-11-22", [1, 2, 3, 4, 5])],
)
def test_reports_count_only_once_due(today: str, due: list[int]) -> None:
    from datetime import date

    # Period 1 (Jan–Feb) is due ten days after February ends: 10 March.
    assert prefill.reports_due(2026, date.fromisoformat(today)) == due


def test_management_comes_from_compliance(world: Any) -> None:
    """No events in the year: every weekly opening and every two-month session is
    missed, so the studio scores 0 with the reasons listed."""
    item = scores(assessment(open_round()))[Criterion.MANAGEMENT]
    assert item.prefilled_score == 0
    text = "".join(item.evidence)
    assert "每周开放" in text and "未达标" in text


def test_role_and_public_come_from_the_cases(world: Any) -> None:
    walked_case()  # referred, answered, rated 满意
    register(
        outcome=Outcome.ON_THE_SPOT,
        spot_answer="当场说明",
        spot_satisfaction=Satisfaction.VERY_SATISFIED,
    )
    register()  # still registered
    a = scores(assessment(open_round()))
    role = a[Criterion.ROLE]
    assert "登记社情民意 3 件" in role.evidence[0]
    # The on-the-spot answer closes its case at once: it is one of the 已办结, so it is
    # said as a part of the total, and the states after it add up to the total.
    total = "登记社情民意 3 件（《进社区联系群众办法》第九条），其中当场答复 1 件；"
    assert total in role.evidence[0]
    assert "目前已办结 2 件" in role.evidence[0]
    assert "办理中 1 件" in role.evidence[0]
    assert "按期答复 1 件" in role.evidence[1]
    assert role.prefilled_score == round(12 * 2 / 3 + 8)
    public = a[Criterion.PUBLIC]
    assert "共 2 件" in public.evidence[0]
    assert "非常满意 1 件" in public.evidence[0] and "满意 1 件" in public.evidence[0]
    assert public.prefilled_score == round(MAX_SCORE * (1.0 + 0.9) / 2)
    assert "100%" in public.evidence[1]


def test_a_withdrawn_case_counts_as_neither_handled_nor_waiting(world: Any) -> None:
    from minyi.cases.services import case_withdraw
    from minyi.people.models import User

    walked_case()  # referred, answered, rated 满意
    register()  # still registered
    case_withdraw(case=register(), actor=User.objects.get(username="liaison"), text="撤回")
    role = scores(assessment(open_round()))[Criterion.ROLE]
    assert "登记社情民意 3 件" in role.evidence[0]
    assert "办理中 1 件" in role.evidence[0]
    assert "反映人撤回 1 件（不计入办理）" in role.evidence[0]
    assert role.prefilled_score == round(12 * 1 / 2 + 8)


def test_a_studio_whose_only_case_was_withdrawn_starts_in_the_middle(world: Any) -> None:
    from minyi.cases.services import case_withdraw
    from minyi.people.models import User

    case_withdraw(case=register(), actor=User.objects.get(username="liaison"), text="撤回")
    role = scores(assessment(open_round()))[Criterion.ROLE]
    assert role.prefilled_score == prefill.NO_RECORD_SCORE
    assert "反映人撤回 1 件" in role.evidence[0]


def test_no_cases_start_in_the_middle(world: Any) -> None:
    a = scores(assessment(open_round(), DAMEISHA))
    assert a[Criterion.ROLE].prefilled_score == prefill.NO_RECORD_SCORE
    assert a[Criterion.PUBLIC].prefilled_score == prefill.NO_RECORD_SCORE
    assert "未登记" in a[Criterion.ROLE].evidence[0]


def test_prefill_runs_a_fixed_number_of_queries(world: Any) -> None:
    def count() -> int:
        ids = list(Studio.objects.values_list("pk", flat=True))
        with CaptureQueriesContext(connection) as captured:
            prefill.prefill(prefill.studios_for_prefill(ids), YEAR, AS_OF)
        return len(captured)

    register()
    few = count()
    for n in range(15):
        Studio.objects.create(
            name=f"测试工作室{n}",
            kind=StudioKind.COMMUNITY,
            unit=world["440308003009"],
            host_organisation="测试",
        )
    assert count() == few
