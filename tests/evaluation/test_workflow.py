"""The round's workflow (SM 16, CM 12): the city opens, finalises, drafts the
circular, submits it with the summary to the city committee and records the
committee's decision. Each edge of the state table, who may take it, and that an
approved round is closed for good."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from minyi.cases.models import Evaluation
from minyi.evaluation import services
from minyi.evaluation.models import EvaluationRound, StudioOutcome
from minyi.evaluation.states import TRANSITIONS, NotAllowed, RoundAction, RoundState, next_state
from minyi.evaluation.summary import summary_of
from tests.evaluation.helpers import (
    YEAR,
    assess_all,
    assessment,
    open_round,
    rated_in,
    user,
    walked_case_in,
)
from tests.studios.factories import make_studio

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("action", list(RoundAction))
@pytest.mark.parametrize("state", list(RoundState))
def test_the_state_table(action: str, state: str) -> None:
    if (action, state) in TRANSITIONS:
        assert next_state(action, state) == TRANSITIONS[(action, state)]
    else:
        with pytest.raises(NotAllowed) as caught:
            next_state(action, state)
        assert "不能" in str(caught.value)


def test_nothing_leaves_an_approved_round() -> None:
    assert not [key for key in TRANSITIONS if key[1] == RoundState.APPROVED]


@pytest.mark.parametrize("persona", ["yantian", "shatoujiao", "liaison", "rep", "unit"])
def test_only_the_city_opens_a_round(world: Any, persona: str) -> None:
    with pytest.raises(PermissionError):
        services.round_open(actor=user(persona), year=YEAR)
    assert not EvaluationRound.objects.exists()


@pytest.mark.parametrize(
    ("year", "message"),
    [(1999, "2000 到 2100"), (2999, "2000 到 2100"), (2099, "尚未开始")],
)
def test_a_bad_year_is_refused(world: Any, year: int, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        services.round_open(actor=user("city"), year=year)
    assert message in caught.value.message_dict["year"][0]


def test_a_year_not_begun_on_the_given_day_is_refused(world: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        services.round_open(actor=user("city"), year=YEAR, today=date(YEAR - 1, 12, 31))
    assert "尚未开始" in caught.value.message_dict["year"][0]
    assert not EvaluationRound.objects.exists()


def test_a_year_is_opened_once(world: Any) -> None:
    open_round()
    with pytest.raises(ValidationError, match="已经开展"):
        open_round()


def test_finalising_needs_every_outcome(world: Any) -> None:
    round = open_round()
    with pytest.raises(
        NotAllowed, match="还有工作室未评定结果：大梅沙社区党代表工作室、沙头角社区党代表工作室"
    ):
        services.round_finalise(actor=user("city"), round=round, version=round.version)
    round.refresh_from_db()
    assert round.state == RoundState.ASSESSING


def test_finalising_needs_an_assessment_for_every_studio_opened_since(world: Any) -> None:
    """A studio opened after the round's last reading had no assessment: finalising left
    it out of the year's evaluation, and the circular counted the studios without it."""
    round = open_round()
    assess_all(round)
    make_studio(world["440308003003"], name="桥东社区党代表工作室")
    with pytest.raises(NotAllowed, match=r"桥东社区党代表工作室.*根据最新记录重新取数"):
        services.round_finalise(actor=user("city"), round=round, version=round.version)
    round.refresh_from_db()
    assert round.state == RoundState.ASSESSING


@pytest.mark.parametrize("persona", ["yantian", "shatoujiao"])
def test_departments_below_the_city_cannot_finalise(world: Any, persona: str) -> None:
    round = open_round()
    assess_all(round)
    with pytest.raises(PermissionError):
        services.round_finalise(actor=user(persona), round=round, version=round.version)


def _finalised() -> EvaluationRound:
    round = open_round()
    assess_all(round)
    return services.round_finalise(actor=user("city"), round=round, version=round.version)


def test_finalising_drafts_the_circular(world: Any) -> None:
    round = _finalised()
    assert round.state == RoundState.DRAFTING
    c = round.circular
    assert "2026年度" in c.title
    assert "全市 2 个党代表工作室" in c.body
    assert round.finalised_by == user("city")


def test_reopening_lets_the_assessors_change_again(world: Any) -> None:
    round = _finalised()
    round = services.round_reopen(actor=user("city"), round=round, version=round.version)
    assert round.state == RoundState.ASSESSING
    a = assessment(round)
    services.assessment_save(
        actor=user("shatoujiao"),
        assessment=a,
        version=a.version,
        criteria={},
        outcome=StudioOutcome.CORRECT,
        outcome_reason="复核后限期纠正",
    )


def test_the_circular_draft_is_edited_with_title_and_body(world: Any) -> None:
    round = _finalised()
    with pytest.raises(ValidationError) as caught:
        services.circular_update(
            actor=user("city"), round=round, version=round.version, title=" ", body=""
        )
    assert set(caught.value.message_dict) == {"title", "body"}
    services.circular_update(
        actor=user("city"), round=round, version=round.version, title="通报", body="正文"
    )
    round.refresh_from_db()
    assert (round.circular.title, round.circular.body) == ("通报", "正文")


def test_a_stale_page_changes_nothing(world: Any) -> None:
    round = _finalised()
    with pytest.raises(services.Changed):
        services.round_submit(actor=user("city"), round=round, version=round.version - 1)
    round.refresh_from_db()
    assert round.state == RoundState.DRAFTING


def test_submitting_freezes_the_summary(world: Any) -> None:
    walked_case_in()  # 沙头角街道城市管理办公室 rated 满意 in 2026
    round = _finalised()
    round = services.round_submit(actor=user("city"), round=round, version=round.version)
    assert round.state == RoundState.SUBMITTED
    frozen = summary_of(EvaluationRound.objects.get(pk=round.pk))
    assert [(u.unit, u.rated) for u in frozen.units] == [("沙头角街道城市管理办公室", 1)]
    # A rating given afterwards does not change what the committee has in front of it.
    e = Evaluation.objects.get()
    later = Evaluation.objects.create(
        case=e.case,
        answer=e.answer,
        handling_unit=e.handling_unit,
        rating="dissatisfied",
        rated_by=e.rated_by,
    )
    rated_in(YEAR, pk=later.pk)  # in the round's year, or it would not count whatever the freeze
    again = summary_of(EvaluationRound.objects.get(pk=round.pk))
    assert [(u.unit, u.rated) for u in again.units] == [("沙头角街道城市管理办公室", 1)]


def test_the_committee_returns_with_a_note(world: Any) -> None:
    round = _finalised()
    round = services.round_submit(actor=user("city"), round=round, version=round.version)
    with pytest.raises(ValidationError, match="修改意见"):
        services.round_return(actor=user("city"), round=round, version=round.version, note="")
    round = services.round_return(
        actor=user("city"), round=round, version=round.version, note="请补充整改要求"
    )
    assert round.state == RoundState.DRAFTING
    assert round.circular.decision_note == "请补充整改要求"


def test_an_approved_round_is_closed_for_good(world: Any) -> None:
    round = _finalised()
    round = services.round_submit(actor=user("city"), round=round, version=round.version)
    round = services.round_approve(actor=user("city"), round=round, version=round.version)
    assert round.state == RoundState.APPROVED
    city = user("city")
    v = round.version
    for step in (services.round_reopen, services.round_submit, services.round_finalise):
        with pytest.raises(NotAllowed, match="已关闭"):
            step(actor=city, round=round, version=v)
    with pytest.raises(NotAllowed):
        services.round_refresh(actor=city, round=round, version=v)
    with pytest.raises(NotAllowed):
        services.circular_update(actor=city, round=round, version=v, title="改", body="改")
    a = assessment(round)
    with pytest.raises(NotAllowed, match="已关闭"):
        services.assessment_save(
            actor=city,
            assessment=a,
            version=a.version,
            criteria={},
            outcome="keep",
            outcome_reason="改",
        )


def test_refresh_keeps_the_adjustments_and_adds_new_studios(world: Any) -> None:
    from minyi.evaluation.models import Criterion
    from minyi.evaluation.services import CriterionInput
    from minyi.studios.models import Studio, StudioKind

    round = open_round()
    a = assessment(round)
    services.assessment_save(
        actor=user("shatoujiao"),
        assessment=a,
        version=a.version,
        criteria={Criterion.ROLE: CriterionInput(17, "核实台账")},
        outcome="",
        outcome_reason="",
    )
    Studio.objects.create(
        name="田心社区党代表工作室",
        kind=StudioKind.COMMUNITY,
        unit=world["440308003009"],
        host_organisation="田心社区党委",
    )
    round.refresh_from_db()
    services.round_refresh(actor=user("city"), round=round, version=round.version)
    assert round.assessments.count() == 3
    row = assessment(round).criteria.get(criterion=Criterion.ROLE)
    assert (row.adjusted_score, row.reason) == (17, "核实台账")
