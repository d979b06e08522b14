"""Compliance loaded from the database and shown on its page: scoped per persona,
rolled up per child unit, a fixed number of queries however many studios."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from minyi.duties.compliance import evaluate, make_rules, rollup_rows
from minyi.duties.compliance_rules import Status
from minyi.duties.models import (
    Attendance,
    BimonthlyReport,
    Event,
    EventKind,
    EventState,
    HouseholdVisit,
    ReportState,
)
from minyi.org.models import OrgUnit
from minyi.people.models import Representative, RepresentativeCategory, RepresentativeLevel, User
from minyi.studios.models import Studio, StudioAssignment
from tests.core.helpers import client_for, text_of
from tests.studios.factories import make_studio

URL = reverse("duties:compliance")
TODAY = date(2026, 6, 17)  # a Wednesday, two weeks before May–June closes


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


def make_event(
    studio: Studio,
    day: date,
    *,
    hours: int = 3,
    state: str = EventState.HELD,
    reps: tuple[Representative, ...] = (),
    published: date | None = None,
    theme: str = "",
    kind: str = EventKind.OPENING,
) -> Event:
    event = Event.objects.create(
        studio=studio,
        kind=kind,
        theme=theme,
        starts_at=at(day, 9),
        ends_at=at(day, 9 + hours),
        state=state,
        published_at=at(published, 10) if published else None,
    )
    event.representatives.set(reps)
    return event


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> date:
    monkeypatch.setattr("minyi.duties.views_compliance.timezone.localdate", lambda: TODAY)
    return TODAY


def studio() -> Studio:
    return Studio.objects.get(name="沙头角社区党代表工作室")


def chen() -> Representative:
    return Representative.objects.get(name="演示代表·陈明")


def rules(today: date = TODAY) -> Any:
    return make_rules(date(today.year, 1, 1), date(today.year, 12, 31), today)


def results_for(key_part: str, studios: Any = None) -> dict[str, Any]:
    studios = studios if studios is not None else Studio.objects.filter(pk=studio().pk)
    evaluation = evaluate(studios.select_related("unit"), rules())
    return {r.key: r for r in evaluation.results() if key_part in r.key}


# --- Loading ----------------------------------------------------------------------------


def test_attendance_decides_the_length_of_a_session(world: Any) -> None:
    rep = chen()
    event = make_event(studio(), date(2026, 1, 14), hours=4, reps=(rep,))
    Attendance.objects.create(
        event=event,
        representative=rep,
        arrived_at=at(date(2026, 1, 14), 9),
        left_at=at(date(2026, 1, 14), 11),  # two hours: not half a day
    )
    make_event(studio(), date(2026, 3, 11), reps=(rep,))  # held, no attendance: 3 hours
    found = results_for(f"sm9:r{rep.pk}:")
    assert found[f"sm9:r{rep.pk}:2026-1"].status is Status.RED
    assert found[f"sm9:r{rep.pk}:2026-2"].status is Status.GREEN


def test_cancelled_and_unheld_events_do_not_count_but_scheduled_ones_keep_it_green(
    world: Any,
) -> None:
    rep = chen()
    make_event(studio(), date(2026, 1, 14), state=EventState.CANCELLED, reps=(rep,))
    make_event(studio(), date(2026, 3, 11), state=EventState.PUBLISHED, reps=(rep,))
    make_event(studio(), date(2026, 6, 24), state=EventState.PUBLISHED, reps=(rep,))
    found = results_for(f"sm9:r{rep.pk}:")
    assert found[f"sm9:r{rep.pk}:2026-1"].status is Status.RED
    assert found[f"sm9:r{rep.pk}:2026-2"].status is Status.RED
    june = found[f"sm9:r{rep.pk}:2026-3"]
    assert (june.status, june.label) == (Status.GREEN, "已安排")


def test_sessions_at_another_studio_count_after_changing_studio(world: Any) -> None:
    rep = chen()
    old = make_studio(world["440308001002"])
    old_assignment = StudioAssignment.objects.get(representative=rep, studio=studio())
    old_assignment.delete()
    StudioAssignment.objects.create(studio=old, representative=rep, since=date(2025, 1, 1))
    make_event(old, date(2026, 2, 4), reps=(rep,))
    StudioAssignment.objects.filter(studio=old, representative=rep).update(
        active=False, until=date(2026, 2, 28)
    )
    StudioAssignment.objects.create(studio=studio(), representative=rep, since=date(2026, 3, 1))
    make_event(studio(), date(2026, 4, 8), reps=(rep,))
    # The new studio shows the windows from March, the old one January–February, which
    # its session makes green; judged over both, each shown where it was owed.
    found = results_for(f"sm9:r{rep.pk}:")
    assert f"sm9:r{rep.pk}:2026-1" not in found
    assert found[f"sm9:r{rep.pk}:2026-2"].status is Status.GREEN
    found = results_for(f"sm9:r{rep.pk}:", Studio.objects.filter(pk=old.pk))
    assert sorted(found) == [f"sm9:r{rep.pk}:2026-1"]
    assert found[f"sm9:r{rep.pk}:2026-1"].status is Status.GREEN


def test_a_representative_assigned_mid_year_is_not_judged_before(world: Any) -> None:
    rep = chen()
    StudioAssignment.objects.filter(representative=rep).update(since=date(2026, 5, 1))
    found = results_for(f"sm9:r{rep.pk}:")
    assert sorted(found) == [f"sm9:r{rep.pk}:2026-{i}" for i in range(3, 7)]


def test_household_visits_reports_and_publication_from_the_database(world: Any) -> None:
    rep = chen()  # a city representative
    recorder = User.objects.get(username="liaison")
    for i in range(3):
        HouseholdVisit.objects.create(
            representative=rep,
            community=world["440308003006"],
            visited_on=date(2026, 2, 1) + timedelta(days=i),
            household=f"测试{i}家",
            address="演示路",
            recorded_by=recorder,
        )
    BimonthlyReport.objects.create(
        studio=studio(),
        year=2026,
        period=1,
        body="…",
        state=ReportState.SUBMITTED,
        submitted_at=at(date(2026, 3, 5), 10),
    )
    BimonthlyReport.objects.create(studio=studio(), year=2026, period=2, body="…")  # draft
    make_event(studio(), date(2026, 3, 18), published=date(2026, 3, 14), theme="听民声座谈会")
    found = results_for("")
    assert found[f"cm4:r{rep.pk}:2026"].status is Status.AMBER  # 3 by mid-June: 5 expected
    assert found[f"sm12.5:s{studio().pk}:2026-1"].status is Status.GREEN
    assert found[f"sm12.5:s{studio().pk}:2026-2"].status is Status.RED
    late = [r for r in found.values() if r.topic == "提前一周预告"]
    assert [r.status for r in late] == [Status.RED]
    assert "听民声座谈会" in late[0].reason


def test_roll_up_per_child_unit_worst_wins(world: Any) -> None:
    street = world["440308003"]
    healthy = make_studio(world["440308003009"])  # 田心社区
    for week in range(25):  # every week from 29 December 2025 (ISO week 1)
        make_event(healthy, date(2025, 12, 31) + timedelta(weeks=week))
    for period, submitted in ((1, date(2026, 3, 5)), (2, date(2026, 5, 8))):
        BimonthlyReport.objects.create(
            studio=healthy,
            year=2026,
            period=period,
            body="…",
            state=ReportState.SUBMITTED,
            submitted_at=at(submitted, 10),
        )
    evaluation = evaluate(
        Studio.objects.filter(street.subtree_q("unit__")).select_related("unit"), rules()
    )
    rows = {row.label: row for row in rollup_rows(evaluation, street)}
    assert set(rows) == {"沙头角社区", "田心社区"}
    assert rows["沙头角社区"].summary.worst is Status.RED
    assert rows["田心社区"].summary.red == 0
    city_rows = rollup_rows(
        evaluate(Studio.objects.select_related("unit"), rules()), OrgUnit.objects.get(code="4403")
    )
    assert [r.label for r in city_rows] == ["盐田区"]
    assert city_rows[0].summary.worst is Status.RED
    assert city_rows[0].studio_count == 3


# --- The page ---------------------------------------------------------------------------


def test_an_official_sees_child_units_and_drills_down_to_a_studio(
    world: Any, city_official: User, today: date
) -> None:
    client = client_for(city_official)
    page = text_of(client.get(URL))
    assert "深圳市 履职达标情况" in page
    assert "盐田区" in page and "未达标" in page
    page = text_of(client.get(URL, {"unit": world["440308003"].pk, "year": 2026}))
    assert "沙头角社区" in page
    page = text_of(client.get(URL, {"unit": world["440308003006"].pk, "year": 2026}))
    assert "沙头角社区党代表工作室" in page
    response = client.get(URL, {"studio": studio().pk, "year": 2026})
    page = text_of(response)
    assert "演示代表·陈明" in page and "演示代表·林秀英" in page
    assert "每周开放" in page and "双月报告" in page
    # Colour is never the only signal.
    assert "预警" in page and "未达标" in page


def test_a_district_sees_the_warnings_behind_a_year_of_missed_weeks(
    world: Any, city_official: User, today: date
) -> None:
    """More than 100 red results (every missed week since January, at six studios) once
    filled the list, and no amber one was shown: the warnings this week, which the
    district can still act on, were never on the page."""
    for _ in range(4):
        make_studio(world["440308003006"])
    response = client_for(city_official).get(URL, {"unit": world["440308"].pk, "year": 2026})
    assert response.context["summary"].red > 100
    page = text_of(response)
    assert "各列最早到期的 100 项" in page
    shown = response.context["problems"]
    assert sum(1 for r in shown if r.status is Status.RED) == 100
    assert any(r.status is Status.AMBER for r in shown)
    assert "本周尚未开放，也未安排半天以上的开放活动。" in page


def test_a_liaison_sees_their_studio(liaison: User, today: date) -> None:
    page = text_of(client_for(liaison).get(URL))
    assert "沙头角社区党代表工作室" in page
    assert "大梅沙社区党代表工作室" not in page
    assert "演示代表·何建国" in page


def test_a_representative_sees_only_their_own(representative: User, today: date) -> None:
    page = text_of(client_for(representative).get(URL))
    assert "我的履职达标情况" in page
    assert "演示代表·陈明" in page
    assert "演示代表·林秀英" not in page
    assert "每周开放" not in page
    page = text_of(client_for(representative).get(URL, {"studio": studio().pk}))
    assert "演示代表·林秀英" not in page


def test_out_of_scope_units_and_studios_are_not_found(
    world: Any, outsider: User, handling_unit_staff: User, today: date
) -> None:
    client = client_for(outsider)
    assert client.get(URL, {"unit": world["440308003"].pk}).status_code == 404
    assert client.get(URL, {"studio": studio().pk}).status_code == 404
    assert client.get(URL, {"studio": "x"}).status_code == 404
    assert client.get(URL).status_code == 200
    assert client_for(handling_unit_staff).get(URL).status_code == 404


def test_a_bad_period_falls_back_to_the_year_with_a_message(
    street_official: User, today: date
) -> None:
    page = text_of(client_for(street_official).get(URL, {"from": "2026-05-01", "to": "bad"}))
    assert "起止日期格式应为" in page


def _grow(world: Any, n: int) -> None:
    unit = world["440308003009"]
    for i in range(n):
        s = make_studio(unit)
        rep = Representative.objects.create(
            name=f"测试代表{s.pk}-{i}",
            level=RepresentativeLevel.CITY,
            category=RepresentativeCategory.DISTRICT,
            unit=world["440308"],
            employer="测试",
            phone="+8613900002222",
        )
        StudioAssignment.objects.create(studio=s, representative=rep, since=date(2025, 1, 1))
        e = make_event(s, date(2026, 3, 4), reps=(rep,), published=date(2026, 2, 1))
        Attendance.objects.create(
            event=e, representative=rep, arrived_at=e.starts_at, left_at=e.ends_at
        )
        make_event(s, date(2026, 3, 11), reps=(rep,))
        BimonthlyReport.objects.create(studio=s, year=2026, period=1, body="…")
        HouseholdVisit.objects.create(
            representative=rep,
            community=unit,
            visited_on=date(2026, 3, 1),
            household="王家",
            address="演示路",
            recorded_by=User.objects.get(username="liaison"),
        )


@pytest.mark.parametrize("persona", ["city_official", "street_official", "liaison"])
def test_the_page_runs_a_fixed_number_of_queries(
    world: Any, today: date, persona: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(persona)
    params = {"studio": studio().pk} if persona == "liaison" else {}

    def count() -> int:
        client = client_for(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL, params).status_code == 200
        return len(queries)

    _grow(world, 2)
    count()  # the account and its unread count are read once, then kept (cache)
    few = count()
    _grow(world, 12)
    assert count() == few
