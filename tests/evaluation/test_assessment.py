"""Assessors adjust the pre-filled scores with a reason and set the outcome; bad
input is refused in Chinese and nothing is half-saved; two assessors at once: the
second is told."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from minyi.evaluation import services
from minyi.evaluation.models import Criterion, CriterionScore, StudioOutcome
from minyi.evaluation.outcomes import outcome_problem, suggested_outcome
from minyi.evaluation.services import CriterionInput
from minyi.evaluation.states import NotAllowed
from tests.evaluation.helpers import (
    DAMEISHA,
    assess_all,
    assessment,
    open_round,
    ordered_scores,
    scores,
    user,
)

pytestmark = pytest.mark.django_db


def save(a: Any, actor: str = "shatoujiao", **kwargs: Any) -> Any:
    args = {
        "criteria": {},
        "outcome": "",
        "outcome_reason": "",
        "version": a.version,
    } | kwargs
    return services.assessment_save(actor=user(actor), assessment=a, **args)


def test_an_adjusted_score_with_a_reason_is_kept_with_who_and_when(world: Any) -> None:
    round = open_round()
    a = assessment(round)
    before = scores(a)[Criterion.MANAGEMENT].prefilled_score
    save(a, criteria={Criterion.MANAGEMENT: CriterionInput(16, "开放记录漏录，已核实台账")})
    row = scores(assessment(round))[Criterion.MANAGEMENT]
    assert (row.prefilled_score, row.adjusted_score, row.score) == (before, 16, 16)
    assert row.reason == "开放记录漏录，已核实台账"
    assert row.adjusted_by == user("shatoujiao") and row.adjusted_at is not None


def test_an_adjustment_without_a_reason_is_refused_and_nothing_is_saved(world: Any) -> None:
    round = open_round()
    a = assessment(round)
    with pytest.raises(ValidationError) as caught:
        save(
            a,
            criteria={
                Criterion.RULES: CriterionInput(18, "计划已批准"),
                Criterion.MANAGEMENT: CriterionInput(16, "  "),
            },
            outcome=StudioOutcome.KEEP,
            outcome_reason="整体良好",
        )
    assert caught.value.message_dict == {
        "reason_management": ["调整“日常管理好”的分数须写明理由。"]
    }
    fresh = assessment(round)
    assert fresh.version == a.version and fresh.outcome == ""
    assert all(c.adjusted_score is None for c in ordered_scores(fresh))


def test_the_same_score_as_the_records_is_no_adjustment(world: Any) -> None:
    round = open_round()
    a = assessment(round)
    same = scores(a)[Criterion.BUILDING].prefilled_score
    save(a, criteria={Criterion.BUILDING: CriterionInput(same, "")})
    assert scores(assessment(round))[Criterion.BUILDING].adjusted_score is None


def test_clearing_an_adjustment_returns_to_the_records(world: Any) -> None:
    round = open_round()
    save(assessment(round), criteria={Criterion.PUBLIC: CriterionInput(19, "回访满意")})
    save(assessment(round), criteria={Criterion.PUBLIC: CriterionInput(None, "")})
    row = scores(assessment(round))[Criterion.PUBLIC]
    assert (row.adjusted_score, row.reason, row.adjusted_by) == (None, "", None)


def test_the_database_refuses_an_adjustment_without_a_reason(world: Any) -> None:
    row = CriterionScore.objects.filter(assessment__round=open_round()).first()
    assert row is not None
    row.adjusted_score = 5
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()


@pytest.mark.parametrize("value", [-1, 21])
def test_scores_outside_0_to_20_are_refused(world: Any, value: int) -> None:
    a = assessment(open_round())
    with pytest.raises(ValidationError) as caught:
        save(a, criteria={Criterion.ROLE: CriterionInput(value, "理由")})
    assert caught.value.message_dict["score_role"] == ["分数应在 0 到 20 之间。"]


@pytest.mark.parametrize(
    ("scores_", "expected"),
    [
        ([20, 20, 18, 19, 18], StudioOutcome.COMMEND),
        ([20, 20, 17, 20, 20], StudioOutcome.KEEP),  # one criterion only 较好
        ([12, 12, 12, 12, 12], StudioOutcome.KEEP),  # 60, nothing 差
        ([20, 20, 20, 9, 20], StudioOutcome.CORRECT),  # a 差 criterion
        ([8, 8, 8, 8, 8], StudioOutcome.CORRECT),  # 40
        ([7, 8, 8, 8, 8], StudioOutcome.CRITICISE),  # 39
    ],
)
def test_the_suggested_outcome(scores_: list[int], expected: str) -> None:
    assert suggested_outcome(scores_) == expected


@pytest.mark.parametrize(
    ("outcome", "scores_", "reason", "problem"),
    [
        ("", [0] * 5, "", None),  # not yet decided
        ("bogus", [20] * 5, "理由", ("outcome", "请选择有效的评估结果。")),
        (StudioOutcome.COMMEND, [20] * 5, "", None),
        (StudioOutcome.COMMEND, [20, 20, 20, 20, 17], "群众口碑好", ("outcome", None)),
        (StudioOutcome.KEEP, [12] * 5, "", None),
        (StudioOutcome.KEEP, [20] * 5, "", ("outcome_reason", None)),  # not the suggestion
        (StudioOutcome.KEEP, [20] * 5, "新建工作室，先行观察", None),
        (StudioOutcome.CRITICISE, [5] * 5, "", ("outcome_reason", None)),  # always a reason
        (StudioOutcome.CLOSE, [5] * 5, "全年未开放", None),
    ],
)
def test_outcomes_and_their_reasons(
    outcome: str, scores_: list[int], reason: str, problem: tuple | None
) -> None:
    found = outcome_problem(outcome, scores_, reason)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found[0] == problem[0]
        assert found[1]  # a message for the user


def test_an_outcome_that_does_not_fit_is_refused(world: Any) -> None:
    a = assessment(open_round(), DAMEISHA)
    with pytest.raises(ValidationError) as caught:
        save(a, actor="meisha", outcome=StudioOutcome.COMMEND)
    assert "五项均为“好”" in caught.value.message_dict["outcome"][0]
    with pytest.raises(ValidationError) as caught:
        save(a, actor="meisha", outcome=StudioOutcome.CLOSE)
    assert "须写明事实和理由" in caught.value.message_dict["outcome_reason"][0]
    save(a, actor="meisha", outcome=StudioOutcome.CLOSE, outcome_reason="面积不足且全年未开放")
    assert assessment(a.round, DAMEISHA).outcome == StudioOutcome.CLOSE


def test_two_assessors_at_once_the_second_is_told(world: Any) -> None:
    round = open_round()
    first = assessment(round)
    second = assessment(round)
    save(first, actor="shatoujiao", criteria={Criterion.ROLE: CriterionInput(15, "街道核实")})
    with pytest.raises(services.Changed):
        save(second, actor="yantian", criteria={Criterion.ROLE: CriterionInput(5, "区里核实")})
    row = scores(assessment(round))[Criterion.ROLE]
    assert (row.adjusted_score, row.adjusted_by) == (15, user("shatoujiao"))


def test_a_studio_out_of_scope_cannot_be_assessed(world: Any) -> None:
    a = assessment(open_round())
    with pytest.raises(PermissionError):
        save(a, actor="meisha", outcome=StudioOutcome.KEEP, outcome_reason="x")
    for persona in ("liaison", "rep", "unit"):
        with pytest.raises(PermissionError):
            save(a, actor=persona)


def test_after_finalising_nothing_can_be_edited(world: Any) -> None:
    round = open_round()
    assess_all(round)
    round = services.round_finalise(actor=user("city"), round=round, version=round.version)
    a = assessment(round)
    with pytest.raises(NotAllowed, match="评估不能再修改"):
        save(a, actor="city", outcome=StudioOutcome.CRITICISE, outcome_reason="复核")
