"""One representative, one place at a time (SM 9, 10): a planned session that overlaps
another of the same representative, in this plan or in another studio's, is refused
with the clash named, and nothing is saved. Touching times (one ends as the other
starts) are fine."""

from __future__ import annotations

from datetime import date, time
from typing import Any
from uuid import uuid4

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from minyi.duties import plans
from minyi.duties.models import AnnualPlan, PlannedSession, PlanState
from minyi.people.models import Representative
from minyi.studios.models import Studio, StudioAssignment
from tests.at_once import at_once, meeting_first, needs_a_shared_database
from tests.core.helpers import client_for, text_of

SHATOUJIAO = "沙头角社区党代表工作室"
DAMEISHA = "大梅沙社区党代表工作室"
CLASH = "同一党代表不能同时在两处活动"


def _chen() -> Representative:
    return Representative.objects.get(name="演示代表·陈明")


def _plan(actor: Any, studio: str = SHATOUJIAO, year: int = 2027) -> AnnualPlan:
    return plans.plan_create(
        actor=actor,
        studio=Studio.objects.get(name=studio),
        year=year,
        opening_weekday=2,
        opening_start=time(9),
        opening_end=time(12),
    )


def _dameisha_plan(actor: Any) -> AnnualPlan:
    """大梅沙's plan, where 陈明 works too (a representative may serve several studios)."""
    StudioAssignment.objects.create(
        studio=Studio.objects.get(name=DAMEISHA), representative=_chen()
    )
    return _plan(actor, DAMEISHA)


def _add(
    actor: Any, plan: AnnualPlan, start: int, end: int, day: int = 8, rep: str = "演示代表·陈明"
) -> PlannedSession:
    return plans.plan_session_add(
        actor=actor,
        plan=plan,
        representative=Representative.objects.get(name=rep),
        date=date(plan.year, 5, day),
        start=time(start),
        end=time(end),
    )


def _form(start: str, end: str, **overrides: Any) -> dict[str, Any]:
    return {
        "representative": _chen().pk,
        "date": "2027-05-08",
        "start": start,
        "end": end,
        "kind": "forum",
        "theme": "老旧小区加装电梯座谈",
        "submission_key": str(uuid4()),
        **overrides,
    }


def _post(client: Any, plan: AnnualPlan, data: dict[str, Any], htmx: bool) -> Any:
    url = reverse("duties:plan_session_add", args=[plan.pk])
    if htmx:
        return client.post(url, data, HTTP_HX_REQUEST="true")
    return client.post(url, data)


def test_every_plan_state_is_decided_and_each_holds_the_time() -> None:
    """A state added to PlanState (withdrawn, rejected) must be decided in
    plans.HOLDING_TIME: a withdrawn plan's sessions would not hold the time."""
    assert set(PlanState) == plans.HOLDING_TIME


@pytest.mark.django_db
@pytest.mark.parametrize("htmx", [True, False])
def test_the_form_refuses_an_overlap_in_the_same_plan_and_keeps_what_was_typed(
    liaison: Any, htmx: bool
) -> None:
    client, plan = client_for(liaison), _plan(liaison)
    _add(liaison, plan, 9, 12)
    data = _form("11:00", "14:00")
    response = _post(client, plan, data, htmx)
    assert response.status_code == 400
    page = text_of(response)
    assert "演示代表·陈明在2027-05-08 09:00—12:00已安排在本计划" in page and CLASH in page
    # What was typed is still in the form, with its one-time key: nothing is lost.
    assert 'value="11:00"' in page and 'value="14:00"' in page
    assert "老旧小区加装电梯座谈" in page and data["submission_key"] in page
    assert ("<html" in page) is not htmx
    assert plan.sessions.count() == 1


@pytest.mark.django_db
def test_a_session_in_another_studios_plan_is_named_in_the_refusal(
    liaison: Any, outsider: Any
) -> None:
    """梅沙街道's plan for 大梅沙 is out of the 沙头角 liaison's sight, but 陈明 cannot be
    in both: the refusal names the studio, its plan and the time, nothing more."""
    theirs = _dameisha_plan(outsider)
    _add(outsider, theirs, 10, 13)
    ours = _plan(liaison)
    response = _post(client_for(liaison), ours, _form("09:00", "12:00"), htmx=True)
    assert response.status_code == 400
    page = text_of(response)
    assert (
        "演示代表·陈明在2027-05-08 10:00—13:00已安排在大梅沙社区党代表工作室的2027年度计划"
        "（草稿），与这项安排时间重叠" in page
    )
    assert not ours.sessions.exists()
    # And the other way round, through the service.
    _add(liaison, ours, 14, 17)
    with pytest.raises(ValidationError) as exc:
        _add(outsider, theirs, 16, 18)
    assert exc.value.message_dict["start"] == [
        "演示代表·陈明在2027-05-08 14:00—17:00已安排在沙头角社区党代表工作室的2027年度计划"
        f"（草稿），与这项安排时间重叠；{CLASH}。"
    ]
    assert theirs.sessions.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("state", list(PlanState))
def test_a_plan_in_any_state_holds_the_time(liaison: Any, outsider: Any, state: str) -> None:
    theirs = _dameisha_plan(outsider)
    _add(outsider, theirs, 9, 12)
    AnnualPlan.objects.filter(pk=theirs.pk).update(state=state)
    with pytest.raises(ValidationError) as exc:
        _add(liaison, _plan(liaison), 8, 10)
    assert f"（{PlanState(state).label}）" in exc.value.message_dict["start"][0]


@pytest.mark.django_db
def test_touching_times_another_day_or_another_representative_are_fine(
    liaison: Any, outsider: Any
) -> None:
    theirs, ours = _dameisha_plan(outsider), _plan(liaison)
    _add(outsider, theirs, 9, 12)
    _add(liaison, ours, 12, 15)  # starts as the other ends
    _add(liaison, ours, 7, 9)  # ends as the other starts
    _add(liaison, ours, 9, 12, day=9)  # the next day
    _add(liaison, ours, 9, 12, rep="演示代表·林秀英")  # someone else, at the same time
    assert ours.sessions.count() == 4
    # Through the form, too.
    response = _post(client_for(liaison), ours, _form("15:00", "17:00"), htmx=True)
    assert response.status_code == 200
    assert ours.sessions.count() == 5


@pytest.mark.django_db
def test_the_check_is_one_query_and_can_leave_out_the_session_being_edited(
    liaison: Any, django_assert_num_queries: Any
) -> None:
    plan = _plan(liaison)
    session = _add(liaison, plan, 9, 12)
    _add(liaison, plan, 13, 16)
    rep = _chen()
    with django_assert_num_queries(1):
        found = plans.session_clashes(
            representative=rep, date=date(2027, 5, 8), start=time(8), end=time(17)
        )
        assert [f"{s.plan.studio.name} {s.start:%H}" for s in found] == [
            f"{SHATOUJIAO} 09",
            f"{SHATOUJIAO} 13",
        ]
    # An edit of `session` to 10:00–12:30 clashes with nothing but itself.
    assert not plans.session_clashes(
        representative=rep,
        date=date(2027, 5, 8),
        start=time(10),
        end=time(12, 30),
        exclude_pk=session.pk,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "meet_at",
    [
        pytest.param("plan_session_add", id="before the transaction"),
        pytest.param(
            "_locked",
            id="after the plan's lock",
            # SQLite's writers queue at BEGIN (IMMEDIATE, config/settings.py): the second
            # never reaches a barrier inside the transaction.
            marks=pytest.mark.skipif(
                connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)"
            ),
        ),
    ],
)
def test_two_overlapping_sessions_added_at_once_in_two_plans_do_not_both_pass(
    world: Any, liaison: Any, outsider: Any, monkeypatch: pytest.MonkeyPatch, meet_at: str
) -> None:
    """Two adds for 陈明 at once, in two studios' plans. With the barrier after each
    plan's lock, both have passed their own checks before either looks for a clash: the
    representative's row lock makes the second wait and then see the first. Against a
    real database (PostgreSQL, or SQLite in a file)."""
    needs_a_shared_database()
    ours, theirs = _plan(liaison), _dameisha_plan(outsider)
    meeting_first(monkeypatch, plans, meet_at)

    def add(actor: Any, plan: AnnualPlan, start: int, end: int) -> Any:
        def run() -> str:
            try:
                _add(actor, plan, start, end)
            except ValidationError as exc:
                return " ".join(exc.messages)
            return "added"

        return run

    calls = iter([add(liaison, ours, 9, 12), add(outsider, theirs, 10, 13)])
    answers = at_once(lambda: next(calls)())
    assert sorted(a == "added" for a in answers) == [False, True]
    assert CLASH in next(a for a in answers if a != "added")
    assert PlannedSession.objects.count() == 1


@pytest.mark.django_db
def test_the_form_sent_twice_is_not_a_clash_with_itself(liaison: Any) -> None:
    client, plan, data = client_for(liaison), _plan(liaison), _form("09:00", "12:00")
    assert _post(client, plan, data, htmx=True).status_code == 200
    again = _post(client, plan, data, htmx=True)
    assert again.status_code == 200
    assert "这项安排已经加入计划，没有重复加入" in text_of(again)
    assert CLASH not in text_of(again)
    assert plan.sessions.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_form_sent_twice_at_once_adds_one_session_and_no_clash(
    world: Any, liaison: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second waits on the representative's lock, finds the first's session, and
    the page's one-time key, not the overlap, answers it."""
    needs_a_shared_database()
    plan, data = _plan(liaison), _form("09:00", "12:00")
    meeting_first(monkeypatch, plans, "plan_session_add")
    cookies = client_for(liaison).cookies

    def post() -> Any:
        client = Client()
        client.cookies = cookies
        return client.post(reverse("duties:plan_session_add", args=[plan.pk]), data)

    answers = at_once(post)
    assert [a.status_code for a in answers] == [302, 302]
    assert plan.sessions.count() == 1
