"""The annual plan (SM 9, 10, 12.1): the shortfall check as table tests, approval
rules, and the expansion of an approved plan into events."""

from __future__ import annotations

from datetime import date, time
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from minyi.duties import plans
from minyi.duties.models import AnnualPlan, Event, EventKind, PlannedSession, PlanState
from minyi.people.models import Representative
from minyi.studios.models import Studio
from tests.core.helpers import client_for, text_of

# --- the shortfall check: a pure function on hand-built plans ------------------------


def _rep(pk: int, name: str, level: str = "district") -> Any:
    # District representatives unless a test says otherwise: CM 6's July check
    # (activity_month_shortfall) concerns city representatives and has its own tests.
    return SimpleNamespace(pk=pk, name=name, level=level)


def _plan(year: int = 2026, start: time = time(9), end: time = time(12)) -> Any:
    return SimpleNamespace(year=year, opening_start=start, opening_end=end)


def _s(rep: Any, day: date, start: time = time(9), end: time = time(12)) -> Any:
    return SimpleNamespace(representative_id=rep.pk, date=day, start=start, end=end)


CHEN, LIN = _rep(1, "陈明"), _rep(2, "林秀英")
EVERY_WINDOW = [date(2026, m, 10) for m in (1, 3, 5, 7, 9, 11)]


def _full(rep: Any, year: int = 2026, skip: int | None = None) -> list[Any]:
    return [_s(rep, day.replace(year=year)) for i, day in enumerate(EVERY_WINDOW) if i != skip]


def _messages(found: list[Any]) -> list[str]:
    return [f.message for f in found]


def test_a_plan_with_a_half_day_session_in_every_window_has_no_shortfalls() -> None:
    assert plans.plan_shortfalls(_plan(), [CHEN], 3, sessions=_full(CHEN)) == []


JULY = "七月党代表活动月：尚未安排市党代表到工作室开展活动。"


def test_a_city_representative_s_july_is_the_activity_month() -> None:
    """CM 6: the plan carries the studio's part of July's activity month. A session in
    August covers SM 9's July–August window but not the activity month; one in July
    covers both. A district representative's July session does not count for it."""
    city, district = _rep(3, "王红", "city"), _rep(4, "李强")
    august = [*_full(city, skip=3), _s(city, date(2026, 8, 12))]
    found = plans.plan_shortfalls(_plan(), [city, district], 3, sessions=august + _full(district))
    assert [(f.message, f.rule) for f in found] == [(JULY, "CM 6")]
    assert plans.plan_shortfalls(_plan(), [city], 3, sessions=_full(city)) == []


def test_only_a_city_representative_at_the_studio_in_july_owes_it() -> None:
    """One who joins after July 1st, or leaves before three weeks of it, owes no July;
    a studio of district representatives owes none."""
    city = _rep(3, "王红", "city")
    sessions = _full(city, skip=3)
    assert plans.plan_shortfalls(_plan(), [(city, date(2026, 7, 2))], 3, sessions=sessions) == []
    left = (city, None, date(2026, 7, 20))
    assert JULY not in _messages(plans.plan_shortfalls(_plan(), [left], 3, sessions=sessions))
    stayed = (city, None, date(2026, 7, 21))
    assert JULY in _messages(plans.plan_shortfalls(_plan(), [stayed], 3, sessions=sessions))
    assert plans.plan_shortfalls(_plan(), [CHEN], 3, sessions=_full(CHEN, skip=3)) == [
        plans.PlanShortfall("陈明：7—8月没有安排到工作室活动。", representative=CHEN, window=3)
    ]


@pytest.mark.parametrize(
    ("sessions", "expected"),
    [
        pytest.param(
            _full(CHEN, skip=2), ["陈明：5—6月没有安排到工作室活动。"], id="no May–June session"
        ),
        pytest.param(
            [*_full(CHEN, skip=2), _s(CHEN, date(2026, 6, 3), time(9), time(11))],
            ["陈明：5—6月的活动只有 2 小时，不足半天（3 小时）。"],
            id="a 2-hour session is less than half a day",
        ),
        pytest.param(
            [*_full(CHEN, skip=2), _s(CHEN, date(2026, 6, 30), time(14), time(17))],
            [],
            id="last day of the window counts",
        ),
        pytest.param(
            [*_full(CHEN, skip=2), _s(CHEN, date(2026, 7, 1))],
            ["陈明：5—6月没有安排到工作室活动。"],
            id="first day of the next window does not",
        ),
        pytest.param(
            [*_full(CHEN, skip=2), _s(CHEN, date(2025, 5, 10))],
            ["陈明：5—6月没有安排到工作室活动。"],
            id="a session of another year does not count",
        ),
        pytest.param(
            [],
            [
                f"陈明：{m}月没有安排到工作室活动。"
                for m in ("1—2", "3—4", "5—6", "7—8", "9—10", "11—12")
            ],
            id="nothing planned",
        ),
    ],
)
def test_each_representative_needs_half_a_day_every_two_months(
    sessions: list[Any], expected: list[str]
) -> None:
    assert _messages(plans.plan_shortfalls(_plan(), [CHEN], 3, sessions=sessions)) == expected


def test_february_29_of_a_leap_year_is_in_the_january_february_window() -> None:
    sessions = [*_full(CHEN, year=2028, skip=0), _s(CHEN, date(2028, 2, 29))]
    assert plans.plan_shortfalls(_plan(2028), [CHEN], 3, sessions=sessions) == []


def test_a_representative_assigned_mid_year_owes_only_the_windows_after_assignment() -> None:
    sessions = [_s(LIN, date(2026, 7, 20)), _s(LIN, date(2026, 9, 5)), _s(LIN, date(2026, 11, 5))]
    found = plans.plan_shortfalls(_plan(), [(LIN, date(2026, 6, 15))], 3, sessions=sessions)
    assert found == []
    # Assigned on the first day of a window: that window is owed.
    found = plans.plan_shortfalls(_plan(), [(LIN, date(2026, 5, 1))], 3, sessions=sessions)
    assert _messages(found) == ["林秀英：5—6月没有安排到工作室活动。"]


def test_each_representative_is_checked_on_their_own_sessions() -> None:
    found = plans.plan_shortfalls(_plan(), [CHEN, LIN], 3, sessions=_full(CHEN))
    assert {f.representative.name for f in found} == {"林秀英"}
    assert len(found) == 6


@pytest.mark.parametrize(
    ("start", "end", "half_day", "short"),
    [
        (time(9), time(12), 3, False),
        (time(9), time(11, 30), 3, True),
        (time(9), time(11, 30), 2.5, False),
        (time(14), time(16), 3, True),
    ],
)
def test_the_weekly_opening_lasts_at_least_half_a_day(
    start: time, end: time, half_day: float, short: bool
) -> None:
    found = plans.plan_shortfalls(_plan(start=start, end=end), [], half_day, sessions=[])
    assert bool(found) is short
    if short:
        assert found[0].rule == "SM 10"
        assert "不足半天" in found[0].message


def test_half_a_day_is_a_setting(settings: Any) -> None:
    settings.MINYI_HALF_DAY_HOURS = 4
    assert plans.half_day_hours() == 4


@pytest.mark.parametrize(
    ("year", "weekday", "count"), [(2026, 2, 52), (2026, 3, 53), (2028, 5, 53)]
)
def test_a_year_has_52_or_53_openings_on_a_weekday(year: int, weekday: int, count: int) -> None:
    days = plans.opening_dates(year, weekday)
    assert len(days) == count
    assert all(d.weekday() == weekday and d.year == year for d in days)


# --- services on the demo world -------------------------------------------------------


def _studio() -> Studio:
    return Studio.objects.get(name="沙头角社区党代表工作室")


def _draft(liaison: Any, year: int = 2027) -> AnnualPlan:
    return plans.plan_create(
        actor=liaison,
        studio=_studio(),
        year=year,
        opening_weekday=2,
        opening_start=time(9),
        opening_end=time(12),
        place="工作室",
    )


def _complete(plan: AnnualPlan, liaison: Any, skip_for: str | None = None) -> None:
    for rep in Representative.objects.filter(assignments__studio=plan.studio):
        for month in (1, 3, 5, 7, 9, 11):
            if rep.name == skip_for and month == 5:
                continue
            plans.plan_session_add(
                actor=liaison,
                plan=plan,
                representative=rep,
                date=date(plan.year, month, 6),
                start=time(14),
                end=time(17),
                kind=EventKind.RECEPTION,
                theme="接待群众",
            )


@pytest.mark.django_db
def test_one_plan_per_studio_and_year(liaison: Any) -> None:
    _draft(liaison)
    with pytest.raises(ValidationError) as exc:
        _draft(liaison)
    assert "已有2027年度计划" in str(exc.value)
    assert AnnualPlan.objects.count() == 1


@pytest.mark.django_db
def test_a_draft_with_shortfalls_can_be_saved_and_submitted(liaison: Any) -> None:
    plan = _draft(liaison)
    _complete(plan, liaison, skip_for="演示代表·林秀英")
    assert [f.message for f in plans.shortfalls_of(plan)] == [
        "演示代表·林秀英：5—6月没有安排到工作室活动。"
    ]
    plan = plans.plan_submit(actor=liaison, plan=plan)
    assert plan.state == PlanState.SUBMITTED


@pytest.mark.django_db
def test_a_session_must_be_in_the_plan_year_for_an_assigned_representative(
    liaison: Any,
) -> None:
    plan = _draft(liaison)
    outsider_rep = Representative.objects.get(name="演示代表·黄海")
    with pytest.raises(ValidationError) as exc:
        plans.plan_session_add(
            actor=liaison,
            plan=plan,
            representative=outsider_rep,
            date=date(2028, 1, 5),
            start=time(12),
            end=time(9),
        )
    errors = exc.value.message_dict
    assert "未进驻本工作室" in errors["representative"][0]
    assert errors["date"] == ["日期须在2027年内。"]
    assert errors["end"] == ["结束时间须晚于开始时间。"]
    assert not plan.sessions.exists()


@pytest.mark.django_db
def test_the_street_department_may_not_approve(
    liaison: Any, street_official: Any, district_official: Any
) -> None:
    plan = _draft(liaison)
    _complete(plan, liaison)
    plans.plan_submit(actor=liaison, plan=plan)
    assert plans.can_approve(street_official, plan) is False
    with pytest.raises(PermissionError):
        plans.plan_approve(actor=street_official, plan=plan)
    response = client_for(street_official).post(reverse("duties:plan_approve", args=[plan.pk]))
    assert response.status_code == 404
    plan.refresh_from_db()
    assert plan.state == PlanState.SUBMITTED
    plan = plans.plan_approve(actor=district_official, plan=plan)
    assert plan.state == PlanState.APPROVED
    assert plan.decided_by == district_official


@pytest.mark.django_db
def test_approving_with_shortfalls_needs_a_reason(liaison: Any, district_official: Any) -> None:
    """Journey 2: one representative has no session in May–June; the plan cannot be
    approved without a reason until it does."""
    plan = _draft(liaison)
    _complete(plan, liaison, skip_for="演示代表·林秀英")
    plans.plan_submit(actor=liaison, plan=plan)
    client = client_for(district_official)
    url = reverse("duties:plan_approve", args=[plan.pk])
    response = client.post(url, {"shortfall_reason": "  "})
    assert response.status_code == 400
    assert "批准须填写未达最低要求的理由" in text_of(response)
    assert "5—6月没有安排到工作室活动" in text_of(response)
    assert "。）" not in text_of(response)  # the example's full stop inside the bracket
    plan.refresh_from_db()
    assert plan.state == PlanState.SUBMITTED
    assert not Event.objects.exists()
    response = client.post(url, {"shortfall_reason": "林代表5—6月援疆，已安排7月补足"})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.state == PlanState.APPROVED
    assert plan.shortfall_reason == "林代表5—6月援疆，已安排7月补足"


@pytest.mark.django_db
def test_a_complete_plan_is_approved_without_a_reason(liaison: Any, district_official: Any) -> None:
    plan = _draft(liaison)
    _complete(plan, liaison)
    plans.plan_submit(actor=liaison, plan=plan)
    plan = plans.plan_approve(actor=district_official, plan=plan)
    assert plan.state == PlanState.APPROVED and plan.shortfall_reason == ""


@pytest.mark.django_db
def test_a_plan_that_can_no_longer_be_changed_says_what_to_do_instead(
    liaison: Any, district_official: Any
) -> None:
    """The edit address of a sent or approved plan showed a form that could only be
    refused (计划当前状态为“已批准”，不能修改。); it now leads to the plan's page and says
    where a change is made instead, as the services' refusals do."""
    plan = _draft(liaison)
    _complete(plan, liaison)
    plans.plan_submit(actor=liaison, plan=plan)
    client = client_for(liaison)
    edit = reverse("duties:plan_edit", args=[plan.pk])
    response = client.get(edit, follow=True)
    assert response.redirect_chain == [(reverse("duties:plan_detail", args=[plan.pk]), 302)]
    assert "请联系审批的组织部门退回修改" in text_of(response)
    plans.plan_approve(actor=district_official, plan=plan)
    response = client.get(edit, follow=True)
    assert response.redirect_chain == [(reverse("duties:plan_detail", args=[plan.pk]), 302)]
    assert "活动安排与预告" in text_of(response)
    with pytest.raises(ValidationError, match="计划已批准，不能再修改。要调整某一次"):
        plans.plan_session_remove(
            actor=liaison, plan=plan, session_pk=plan.sessions.values_list("pk", flat=True)[0]
        )


@pytest.mark.django_db
def test_transitions_out_of_order_are_refused_in_chinese(
    liaison: Any, district_official: Any
) -> None:
    plan = _draft(liaison)
    with pytest.raises(ValidationError, match="当前状态为“草稿”，不能批准"):
        plans.plan_approve(actor=district_official, plan=plan, shortfall_reason="x")
    plans.plan_submit(actor=liaison, plan=plan)
    with pytest.raises(ValidationError, match="不能报审"):
        plans.plan_submit(actor=liaison, plan=plan)
    with pytest.raises(ValidationError, match="不能修改"):
        plans.plan_session_add(
            actor=liaison,
            plan=plan,
            representative=Representative.objects.get(name="演示代表·陈明"),
            date=date(2027, 5, 5),
            start=time(9),
            end=time(12),
        )
    with pytest.raises(ValidationError, match="退回须写明审批意见"):
        plans.plan_return(actor=district_official, plan=plan, note=" ")
    plan = plans.plan_return(actor=district_official, plan=plan, note="请补充5—6月安排")
    assert plan.state == PlanState.RETURNED
    plan = plans.plan_submit(actor=liaison, plan=plan)  # a returned plan goes back up
    assert plan.state == PlanState.SUBMITTED


@pytest.mark.django_db
def test_an_approved_plan_becomes_events_once(liaison: Any, city_official: Any) -> None:
    plan = _draft(liaison, year=2027)  # Wednesdays of 2027: 52
    _complete(plan, liaison)
    plans.plan_submit(actor=liaison, plan=plan)
    plans.plan_approve(actor=city_official, plan=plan)
    plan.refresh_from_db()
    assert plan.expanded_at is not None
    openings = Event.objects.filter(plan=plan, kind=EventKind.OPENING)
    assert openings.count() == 52
    first = openings.first()
    assert first is not None
    assert first.starts_at.isoformat() == "2027-01-06T01:00:00+00:00"  # 09:00 in Shanghai
    sessions = Event.objects.filter(plan=plan).exclude(kind=EventKind.OPENING)
    assert sessions.count() == PlannedSession.objects.filter(plan=plan).count() == 18
    chen = Representative.objects.get(name="演示代表·陈明")
    assert sessions.filter(representatives=chen).count() == 6
    assert sessions.filter(activity_month=True).count() == 3  # the July sessions
    total = Event.objects.count()
    assert plans.plan_expand(plan=plan) == 0
    assert Event.objects.count() == total


@pytest.mark.django_db
def test_a_thursday_plan_in_2026_skips_its_three_holiday_openings(
    liaison: Any, admin_user: Any
) -> None:
    plan = plans.plan_create(
        actor=liaison,
        studio=_studio(),
        year=2026,
        opening_weekday=3,
        opening_start=time(14),
        opening_end=time(17, 30),
    )
    plans.plan_submit(actor=liaison, plan=plan)
    warnings: list[str] = []
    plans.plan_approve(
        actor=admin_user, plan=plan, shortfall_reason="代表活动另行安排", warn=warnings.append
    )
    openings = Event.objects.filter(plan=plan, kind=EventKind.OPENING)
    # 53 Thursdays, less 元旦 (1-1), 春节 (2-19) and 国庆节 (10-1): statutory holidays.
    assert openings.count() == 50
    days = {e.starts_at.astimezone(plans.SHANGHAI).date() for e in openings}
    assert not days & {date(2026, 1, 1), date(2026, 2, 19), date(2026, 10, 1)}
    assert date(2026, 2, 12) in days and date(2026, 10, 8) in days
    assert any(w.startswith("3 次每周开放日适逢法定节假日，未生成") for w in warnings), warnings
    page = text_of(client_for(liaison).get(reverse("duties:plan_detail", args=[plan.pk])))
    assert "3 次每周开放日适逢法定节假日，未生成" in page
    assert "春节 2月19日" in page


@pytest.mark.django_db
def test_a_saturday_plan_keeps_make_up_working_saturdays(liaison: Any, admin_user: Any) -> None:
    # 2026-02-14 and 2026-10-10 are make-up working Saturdays (调休上班): still openings,
    # as every other Saturday is; 2026-01-03, 02-21, 10-03 are holidays and are skipped.
    plan = plans.plan_create(
        actor=liaison,
        studio=_studio(),
        year=2026,
        opening_weekday=5,
        opening_start=time(9),
        opening_end=time(12),
    )
    plans.plan_submit(actor=liaison, plan=plan)
    plans.plan_approve(actor=admin_user, plan=plan, shortfall_reason="代表活动另行安排")
    days = {
        e.starts_at.astimezone(plans.SHANGHAI).date()
        for e in Event.objects.filter(plan=plan, kind=EventKind.OPENING)
    }
    assert {date(2026, 2, 14), date(2026, 10, 10)} <= days
    skipped = {date(2026, d.month, d.day) for d in plans.opening_dates(2026, 5)} - days
    assert date(2026, 1, 3) in skipped and date(2026, 2, 21) in skipped
    assert date(2026, 10, 3) in skipped and date(2026, 2, 28) not in skipped


@pytest.mark.django_db
def test_a_year_without_a_calendar_gets_every_week_and_says_so(
    liaison: Any, city_official: Any
) -> None:
    plan = _draft(liaison, year=2027)  # the calendar of 2027 is not entered yet
    plans.plan_submit(actor=liaison, plan=plan)
    warnings: list[str] = []
    plans.plan_approve(
        actor=city_official, plan=plan, shortfall_reason="另行安排", warn=warnings.append
    )
    assert Event.objects.filter(plan=plan, kind=EventKind.OPENING).count() == 52
    assert any("2027年的法定节假日安排尚未录入" in w for w in warnings), warnings


# --- pages ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_liaison_drafts_a_plan_and_adds_and_removes_sessions_with_htmx(liaison: Any) -> None:
    client = client_for(liaison)
    response = client.post(
        reverse("duties:plan_create"),
        {
            "studio": _studio().pk,
            "year": 2027,
            "opening_weekday": 2,
            "opening_start": "09:00",
            "opening_end": "11:00",
        },
    )
    plan = AnnualPlan.objects.get()
    assert response.status_code == 302
    page = text_of(client.get(reverse("duties:plan_detail", args=[plan.pk])))
    assert "每周开放时间 2 小时，不足半天" in page
    chen = Representative.objects.get(name="演示代表·陈明")
    url = reverse("duties:plan_session_add", args=[plan.pk])
    data = {
        "representative": chen.pk,
        "date": "2027-05-08",
        "start": "09:00",
        "end": "12:00",
        "submission_key": str(uuid4()),
    }
    response = client.post(url, {**data, "kind": "reception"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in text_of(response)
    assert "2027-05-08" in text_of(response)
    session = plan.sessions.get()
    response = client.post(url, {**data, "end": "08:00", "kind": "forum"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "结束时间须晚于开始时间" in text_of(response)
    assert plan.sessions.count() == 1
    response = client.post(
        reverse("duties:plan_session_remove", args=[plan.pk, session.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert not plan.sessions.exists()
    # Removed again (a second tab, a double click): the refusal is in the part htmx swaps.
    response = client.post(
        reverse("duties:plan_session_remove", args=[plan.pk, session.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "<html" not in text_of(response)
    assert "该活动安排已不存在。" in text_of(response)


@pytest.mark.django_db
def test_plan_form_rejects_an_opening_that_ends_before_it_starts(liaison: Any) -> None:
    response = client_for(liaison).post(
        reverse("duties:plan_create"),
        {
            "studio": _studio().pk,
            "year": 2027,
            "opening_weekday": 2,
            "opening_start": "12:00",
            "opening_end": "09:00",
        },
    )
    assert response.status_code == 400
    assert "开放结束时间须晚于开始时间" in text_of(response)
    assert not AnnualPlan.objects.exists()


@pytest.mark.django_db
def test_the_plan_list_flags_plans_that_fall_short(liaison: Any, outsider: Any) -> None:
    _draft(liaison)
    page = text_of(client_for(liaison).get(reverse("duties:plan_list")))
    # three representatives × six windows, and July's activity month (CM 6)
    assert "19 项未达要求" in page
    assert (
        "沙头角社区党代表工作室"
        not in text_of(client_for(outsider).get(reverse("duties:plan_list"))).split("<tbody>")[1]
    )


@pytest.mark.django_db
def test_the_plan_list_runs_a_fixed_number_of_queries(liaison: Any, city_official: Any) -> None:
    from tests.studios.factories import make_studio

    def add(n: int) -> None:
        for _ in range(n):
            existing = Studio.objects.first()
            assert existing is not None
            studio = make_studio(existing.unit)
            plan = AnnualPlan.objects.create(
                studio=studio,
                year=2027,
                opening_weekday=1,
                opening_start=time(9),
                opening_end=time(12),
            )
            for rep in Representative.objects.all()[:2]:
                studio.assignments.create(representative=rep)
                plan.sessions.create(
                    representative=rep, date=date(2027, 3, 3), start=time(9), end=time(12)
                )

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(city_official)
    add(2)
    client.get(
        reverse("duties:plan_list")
    )  # the account and its unread count are read once, then kept (cache)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("duties:plan_list")).status_code == 200
    add(10)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("duties:plan_list")).status_code == 200
    assert len(many) == len(few)


@pytest.mark.django_db
def test_the_plan_page_asks_for_july_and_marks_its_sessions(liaison: Any) -> None:
    """Journey 2: the plan carries July's activity month. Without a city representative's
    July session the page lists it among the shortfalls (CM 6); with them, the July
    sessions are marked 活动月 and the city's theme for the year is named."""
    from minyi.duties.models import ActivityMonth

    plan = _draft(liaison)
    url = reverse("duties:plan_detail", args=[plan.pk])
    page = text_of(client_for(liaison).get(url))
    assert "七月党代表活动月：尚未安排市党代表到工作室开展活动。" in page
    assert "2027年主题待市委确定" in page
    ActivityMonth.objects.create(year=2027, theme="聚焦民生实事", content="走访群众")
    _complete(plan, liaison)
    page = text_of(client_for(liaison).get(url))
    assert "七月党代表活动月：尚未安排" not in page
    assert "2027年主题：聚焦民生实事" in page
    assert page.count('<span class="badge">活动月</span>') == 3  # a July session each
