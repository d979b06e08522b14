"""Building blocks for the evaluation tests: a round opened by the city on the
personas' world, and filling in every studio's outcome."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone

from minyi.cases.models import Answer, Case, Evaluation
from minyi.evaluation import services
from minyi.evaluation.models import CriterionScore, EvaluationRound, StudioAssessment
from minyi.evaluation.outcomes import suggested_outcome
from minyi.evaluation.summary import assessments_with_scores, decorate
from minyi.people.models import User
from minyi.studios.models import Studio
from tests.documents.test_pdfs import walked_case

YEAR = 2026
# Every bi-monthly report of 2026 is due by then (the last on 10 January), so the
# figures do not depend on the day the tests run.
AS_OF = date(2027, 1, 31)
SHATOUJIAO = "沙头角社区党代表工作室"
DAMEISHA = "大梅沙社区党代表工作室"


def rated_in(year: int, **which: Any) -> None:
    """Move the ratings `which` names into `year`: a rating is stamped with the moment
    it is given, and the round's year is fixed (YEAR)."""
    Evaluation.objects.filter(**which).update(
        rated_at=timezone.make_aware(datetime(year, 3, 11, 10))
    )


def walked_case_in(year: int = YEAR) -> Case:
    """A walked case (registered on 4 March 2026, answered on time and rated 满意) whose
    answer and rating fall in `year` whatever day the tests run: the services stamp
    today, which is not in 2026 once the run is in 2027 (the year-end evaluation reads
    a unit's answers and ratings by their year)."""
    case = walked_case()
    Answer.objects.filter(case=case).update(answered_on=date(year, 3, 10))
    rated_in(year, case=case)
    return case


def user(name: str) -> User:
    return User.objects.get(username=name)


def open_round(year: int = YEAR) -> EvaluationRound:
    return services.round_open(actor=user("city"), year=year, today=AS_OF)


def assessment(round: EvaluationRound, studio: str = SHATOUJIAO) -> StudioAssessment:
    qs = assessments_with_scores(StudioAssessment.objects.filter(round=round))
    return decorate(qs.select_related("round").get(studio__name=studio))


def ordered_scores(a: StudioAssessment) -> list[CriterionScore]:
    """The scores in criterion order, as the round's page shows them."""
    return a.ordered_scores  # type: ignore[attr-defined]  # set by summary.decorate


def scores(a: StudioAssessment) -> dict[str, Any]:
    return {c.criterion: c for c in ordered_scores(a)}


def assess_all(round: EvaluationRound, actor: str = "city") -> None:
    """Give every studio the outcome its scores suggest."""
    for a in StudioAssessment.objects.filter(round=round):
        a = assessment(round, a.studio.name)
        services.assessment_save(
            actor=user(actor),
            assessment=a,
            version=a.version,
            criteria={},
            outcome=suggested_outcome(c.score for c in ordered_scores(a)),
            outcome_reason="按五项得分评定",
        )


def studio(name: str = SHATOUJIAO) -> Studio:
    return Studio.objects.get(name=name)
