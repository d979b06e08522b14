"""A plan is checked whole when it is submitted (报审) and again when it is approved:
sessions that overlap each other, another plan's sessions of the same representative,
or the representative's events refuse the step with every clash named, and nothing
changes. A clash with a plan that is not before the department (a draft, or a plan
returned for revision) only warns (plans.BLOCKING). The add-time check
(test_plan_overlaps.py) cannot see sessions saved before it existed, nor events."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from minyi.duties import events, plans
from minyi.duties.models import AnnualPlan, Event, EventKind, EventState, PlannedSession, PlanState
from minyi.people.models import Representative
from minyi.studios.models import Studio, StudioAssignment
from tests.at_once import at_once, needs_a_shared_database
from tests.core.helpers import client_for, text_of

SHATOUJIAO = "沙头角社区党代表工作室"
DAMEISHA = "大梅沙社区党代表工作室"
CHEN = "演示代表·陈明"


def _rep(name: str = CHEN) -> Representative:
    return Representative.objects.get(name=name)


def _plan(actor: Any, studio: str = SHATOUJIAO) -> AnnualPlan:
    return plans.plan_create(
        actor=actor,
        studio=Studio.objects.get(name=studio),
        year=2027,
        opening_weekday=2,
        opening_start=time(9),
        opening_end=time(12),
    )


def _dameisha_plan(actor: Any) -> AnnualPlan:
    """大梅沙's plan, where 陈明 works too (SM 6: a representative may serve several)."""
    StudioAssignment.objects.create(studio=Studio.objects.get(name=DAMEISHA), representative=_rep())
    return _plan(actor, DAMEISHA)


def _saved(plan: AnnualPlan, start: int, end: int, day: int = 8, rep: str = CHEN) -> PlannedSession:
    """A session saved without the add-time check: one from before the rule existed."""
    return PlannedSession.objects.create(
        plan=plan,
        representative=_rep(rep),
        date=date(2027, 5, day),
        start=time(start),
        end=time(end),
    )


def _event(studio: str, start: int, end: int, day: int = 8, **fields: Any) -> Event:
    """An event of 陈明's, saved directly (an ad-hoc one, or as plan_expand makes them)."""
    event = Event.objects.create(
        studio=Studio.objects.get(name=studio),
        kind=fields.pop("kind", EventKind.FORUM),
        theme="社区议事",
        starts_at=datetime(2027, 5, day, start, tzinfo=plans.SHANGHAI),
        ends_at=datetime(2027, 5, day, end, tzinfo=plans.SHANGHAI),
        **fields,
    )
    event.representatives.add(_rep())
    return event


def _set(plan: AnnualPlan, state: str) -> None:
    AnnualPlan.objects.filter(pk=plan.pk).update(state=state)
    plan.refresh_from_db()


def _refusal(call: Any) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        call()
    return exc.value.messages


def test_every_state_that_holds_time_is_decided_blocking_or_warning() -> None:
    """A state added to PlanState must be decided in HOLDING_TIME (test_plan_overlaps) and
    here: does a clash with such a plan refuse approval, or only warn?"""
    assert {PlanState.SUBMITTED, PlanState.APPROVED} == plans.BLOCKING
    assert {PlanState.DRAFT, PlanState.RETURNED} == plans.HOLDING_TIME - plans.BLOCKING


@pytest.mark.django_db
def test_sessions_overlapping_in_the_plan_refuse_submission_and_approval(
    liaison: Any, district_official: Any
) -> None:
    plan = _plan(liaison)
    _saved(plan, 9, 12)
    _saved(plan, 11, 14)
    _saved(plan, 14, 17)  # touches the second: no clash
    _saved(plan, 9, 12, rep="演示代表·林秀英")  # someone else: no clash
    expected = [
        "计划中有 1 处时间重叠，同一党代表不能同时在两处活动，须先调整才能报审：",
        f"{CHEN}：2027-05-08 09:00—12:00与本计划的另一项安排（11:00—14:00）时间重叠。",
    ]
    assert _refusal(lambda: plans.plan_submit(actor=liaison, plan=plan)) == expected
    plan.refresh_from_db()
    assert plan.state == PlanState.DRAFT and plan.submitted_at is None
    # The page: 400, every clash listed, the plan still a draft.
    response = client_for(liaison).post(reverse("duties:plan_submit", args=[plan.pk]))
    assert response.status_code == 400
    page = text_of(response)
    assert all(line in page for line in expected)
    plan.refresh_from_db()
    assert plan.state == PlanState.DRAFT
    # Submitted before the check existed: approval is refused the same way, no events.
    _set(plan, PlanState.SUBMITTED)
    messages = _refusal(
        lambda: plans.plan_approve(actor=district_official, plan=plan, shortfall_reason="x")
    )
    assert messages == [expected[0].replace("报审", "批准"), expected[1]]
    plan.refresh_from_db()
    assert plan.state == PlanState.SUBMITTED and plan.expanded_at is None
    assert not Event.objects.filter(plan=plan).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("state", [PlanState.SUBMITTED, PlanState.APPROVED])
def test_a_submitted_or_approved_plan_of_another_studio_blocks(
    liaison: Any, outsider: Any, district_official: Any, state: str
) -> None:
    theirs = _dameisha_plan(outsider)
    _saved(theirs, 10, 11)
    _set(theirs, state)
    ours = _plan(liaison)
    _saved(ours, 9, 12)
    _saved(ours, 14, 17)  # the same day, clear of theirs: not named
    line = (
        f"{CHEN}：2027-05-08 09:00—12:00与{DAMEISHA}的2027年度计划"
        f"（{PlanState(state).label}）中的安排（10:00—11:00）时间重叠。"
    )
    assert _refusal(lambda: plans.plan_submit(actor=liaison, plan=ours))[1:] == [line]
    _set(ours, PlanState.SUBMITTED)
    refused = client_for(district_official).post(
        reverse("duties:plan_approve", args=[ours.pk]), {"shortfall_reason": "另行安排"}
    )
    assert refused.status_code == 400
    assert line in text_of(refused) and "须先调整才能批准" in text_of(refused)
    ours.refresh_from_db()
    assert ours.state == PlanState.SUBMITTED and not ours.events.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("state", [PlanState.DRAFT, PlanState.RETURNED])
def test_a_plan_not_before_the_department_only_warns(
    liaison: Any, outsider: Any, district_official: Any, state: str
) -> None:
    """Its liaison may never submit it: the department could not approve ours until they
    moved. When they submit, our plan (submitted or approved by then) blocks theirs."""
    theirs = _dameisha_plan(outsider)
    _saved(theirs, 10, 13)
    _set(theirs, state)
    ours = _plan(liaison)
    _saved(ours, 9, 12)
    warning = (
        f"{CHEN}：2027-05-08 09:00—12:00与{DAMEISHA}的2027年度计划"
        f"（{PlanState(state).label}）中的安排（10:00—13:00）时间重叠。"
        "该计划未在报审中，不妨碍本计划报审和批准；它报审前须调整。"
    )
    # Both see it on the plan page, as a warning, before submitting.
    page = text_of(client_for(liaison).get(reverse("duties:plan_detail", args=[ours.pk])))
    assert warning in page and "只作提醒" in page and "须先调整" not in page
    warned: list[str] = []
    plans.plan_submit(actor=liaison, plan=ours, warn=warned.append)
    assert warned == [warning]
    client = client_for(district_official)
    page = text_of(client.get(reverse("duties:plan_detail", args=[ours.pk])))
    assert warning in page and "批准并生成活动安排" in page
    response = client.post(
        reverse("duties:plan_approve", args=[ours.pk]),
        {"shortfall_reason": "另行安排"},
        follow=True,
    )
    assert response.status_code == 200
    assert f"提醒：{warning}" in text_of(response)  # the message after the redirect
    ours.refresh_from_db()
    assert ours.state == PlanState.APPROVED
    # Their plan now meets ours, approved: it may not go up until they move.
    _set(theirs, PlanState.DRAFT)
    refusal = _refusal(lambda: plans.plan_submit(actor=outsider, plan=theirs))
    assert refusal[1] == (
        f"{CHEN}：2027-05-08 10:00—13:00与{SHATOUJIAO}的2027年度计划（已批准）中的安排"
        "（09:00—12:00）时间重叠。"
    )
    page = text_of(client_for(outsider).get(reverse("duties:plan_detail", args=[theirs.pk])))
    assert "以下 1 处重叠须先调整，计划才能报审和批准" in page and refusal[1] in page


@pytest.mark.django_db
def test_an_event_of_the_representative_blocks_approval(
    liaison: Any, district_official: Any
) -> None:
    """An ad-hoc event at another studio, made after the plan went up: the expansion's
    bulk insert would skip the events' own overlap check, so approval looks first."""
    StudioAssignment.objects.create(studio=Studio.objects.get(name=DAMEISHA), representative=_rep())
    plan = _plan(liaison)
    _saved(plan, 9, 12)
    plans.plan_submit(actor=liaison, plan=plan)
    _event(DAMEISHA, 11, 13, state=EventState.PUBLISHED)
    _event(DAMEISHA, 10, 11, state=EventState.CANCELLED)  # cancelled: holds no time
    _event(DAMEISHA, 12, 14)  # starts as the session ends
    before = Event.objects.count()
    messages = _refusal(
        lambda: plans.plan_approve(actor=district_official, plan=plan, shortfall_reason="x")
    )
    assert messages == [
        "计划中有 1 处时间重叠，同一党代表不能同时在两处活动，须先调整才能批准：",
        f"{CHEN}：2027-05-08 09:00—12:00与{DAMEISHA}的活动（座谈，2027-05-08 11:00—13:00，"
        "状态：已预告）时间重叠。",
    ]
    assert Event.objects.count() == before
    plan.refresh_from_db()
    assert plan.state == PlanState.SUBMITTED and plan.expanded_at is None
    # The page shows it to the department before it tries.
    page = text_of(client_for(district_official).get(reverse("duties:plan_detail", args=[plan.pk])))
    assert messages[1] in page
    # Once the event is cancelled the plan goes through, and its own events are no clash.
    Event.objects.filter(state=EventState.PUBLISHED).update(state=EventState.CANCELLED)
    plans.plan_approve(actor=district_official, plan=plan, shortfall_reason="x")
    assert plans.plan_clashes(plan) == []


@pytest.mark.django_db
def test_an_event_made_from_another_plans_session_is_named_once(
    liaison: Any, outsider: Any
) -> None:
    theirs = _dameisha_plan(outsider)
    _saved(theirs, 10, 13)
    _set(theirs, PlanState.APPROVED)
    _event(DAMEISHA, 10, 13, plan=theirs)  # as plan_expand made it
    _event(DAMEISHA, 11, 12, plan=theirs)  # moved since: a clash of its own
    ours = _plan(liaison)
    _saved(ours, 9, 12)
    assert [c.message for c in plans.plan_clashes(ours)] == [
        f"{CHEN}：2027-05-08 09:00—12:00与{DAMEISHA}的2027年度计划（已批准）中的安排"
        "（10:00—13:00）时间重叠。",
        f"{CHEN}：2027-05-08 09:00—12:00与{DAMEISHA}的活动（座谈，2027-05-08 11:00—12:00，"
        "状态：计划）时间重叠。",
    ]


@pytest.mark.django_db
def test_the_check_is_two_queries_whatever_the_plan_holds(
    liaison: Any, outsider: Any, django_assert_num_queries: Any
) -> None:
    theirs, ours = _dameisha_plan(outsider), _plan(liaison)

    def clashes() -> list[str]:
        sessions = list(ours.sessions.select_related("representative"))
        with django_assert_num_queries(2):
            return [c.message for c in plans.plan_clashes(ours, sessions)]

    _saved(ours, 9, 12)
    _saved(theirs, 11, 12)
    assert len(clashes()) == 1
    for day in range(10, 20):
        _saved(ours, 9, 12, day=day)
        _saved(ours, 11, 14, day=day)
        _saved(ours, 9, 12, day=day, rep="演示代表·林秀英")
        _saved(theirs, 8, 10, day=day)
        _event(SHATOUJIAO, 13, 15, day=day)
    # Each day: the two of ours, theirs with the first, an event with the second.
    assert len(clashes()) == 1 + 10 * 3
    with CaptureQueriesContext(connection) as context:
        plans.plan_clashes(ours)
    assert len(context) == 3  # the plan's sessions read too


@pytest.mark.django_db
def test_a_plan_without_sessions_needs_no_event_query(
    liaison: Any, django_assert_num_queries: Any
) -> None:
    plan = _plan(liaison)
    with django_assert_num_queries(1):
        assert plans.plan_clashes(plan, []) == []


@pytest.mark.django_db
def test_a_plan_with_a_thousand_sessions_is_still_one_event_query(liaison: Any) -> None:
    """The events' query ORs one window a day, not one a session: an OR of each of 1,095
    sessions was too deep an expression for SQLite."""
    plan, chen = _plan(liaison), _rep()
    PlannedSession.objects.bulk_create(
        PlannedSession(
            plan=plan, representative=chen, date=day, start=time(hour), end=time(hour + 1)
        )
        for day in (date(2027, 1, 1) + timedelta(n) for n in range(365))
        for hour in (9, 10, 11)
    )
    event = _event(SHATOUJIAO, 10, 11)
    Event.objects.filter(pk=event.pk).update(
        starts_at=datetime(2027, 12, 31, 10, 30, tzinfo=plans.SHANGHAI),
        ends_at=datetime(2027, 12, 31, 11, 30, tzinfo=plans.SHANGHAI),
    )
    assert [c.message.split("与")[0] for c in plans.plan_clashes(plan)] == [
        f"{CHEN}：2027-12-31 10:00—11:00",
        f"{CHEN}：2027-12-31 11:00—12:00",
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    # SQLite's writers queue at BEGIN (IMMEDIATE): the second never meets the first.
    reason="needs concurrent writers (PostgreSQL)",
)
def test_an_approval_and_an_overlapping_event_at_once_do_not_both_pass(
    world: Any, liaison: Any, outsider: Any, district_official: Any, monkeypatch: Any
) -> None:
    """Both past their first steps (the plan locked; the event's fields read) before
    either looks for a clash: the representatives' row locks make the second wait, and
    then it sees the first's events."""
    needs_a_shared_database()
    StudioAssignment.objects.create(studio=Studio.objects.get(name=DAMEISHA), representative=_rep())
    plan = _plan(liaison)
    _saved(plan, 9, 12)
    plans.plan_submit(actor=liaison, plan=plan)
    barrier = threading.Barrier(2, timeout=20)
    for owner, name in ((plans, "_clashes_locked"), (events, "_check")):
        function = getattr(owner, name)
        monkeypatch.setattr(owner, name, _meeting(barrier, function))
    data = events.EventData(
        studio=Studio.objects.get(name=DAMEISHA),
        kind=EventKind.FORUM,
        starts_at=datetime(2027, 5, 8, 11, tzinfo=plans.SHANGHAI),
        ends_at=datetime(2027, 5, 8, 13, tzinfo=plans.SHANGHAI),
    )
    calls = iter(
        [
            lambda: plans.plan_approve(actor=district_official, plan=plan, shortfall_reason="x"),
            lambda: events.event_create(actor=outsider, data=data, representatives=[_rep()]),
        ]
    )

    def run() -> str:
        call = next(calls)
        try:
            call()
        except ValidationError as exc:
            return " ".join(exc.messages)
        return "done"

    answers = at_once(run)
    assert sorted(a == "done" for a in answers) == [False, True], answers
    assert "时间重叠" in next(a for a in answers if a != "done")
    chen_events = Event.objects.filter(representatives=_rep(), starts_at__date=date(2027, 5, 8))
    assert chen_events.count() == 1


def _meeting(barrier: threading.Barrier, function: Any) -> Any:
    def meet(*args: Any, **kwargs: Any) -> Any:
        barrier.wait()
        return function(*args, **kwargs)

    return meet
