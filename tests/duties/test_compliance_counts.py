"""count(): the status counts the city dashboard shows, from the same facts and rules
as evaluate() but without building every studio's weekly results. It must give what
evaluate().results() gives, for every rule and status; both run a fixed number of
queries however many studios they judge."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from minyi.duties.compliance import Evaluation, count, evaluate, make_rules
from minyi.duties.compliance_rules import Status
from minyi.duties.models import Attendance, BimonthlyReport, EventState, HouseholdVisit, ReportState
from minyi.people.models import Representative, RepresentativeCategory, RepresentativeLevel, User
from minyi.studios.models import Studio, StudioAssignment
from tests.duties.test_compliance_page import _grow, at, make_event
from tests.studios.factories import make_studio


def counts_of(evaluation: Evaluation) -> tuple[dict[Status, int], dict[Status, int]]:
    """What the dashboard counted before count() existed: each result of the
    evaluation once, split into the representatives' and the studios' own."""
    rep_keys = {
        r.key for row in evaluation.studios for rep in row.representatives for r in rep.results
    }
    reps = dict.fromkeys(Status, 0)
    own = dict.fromkeys(Status, 0)
    for result in evaluation.results():
        (reps if result.key in rep_keys else own)[result.status] += 1
    return reps, own


def varied(world: Any) -> None:
    """Besides the demo studios: a representative at two studios, one assigned
    mid-year, one who left in April and came back in September, one who left in June,
    a studio established mid-year, attendance shorter than the event, cancelled,
    scheduled, late-published and unpublished events, reports on time, late and
    drafted, household visits."""
    recorder = User.objects.get(username="liaison")
    first = make_studio(world["440308003009"])
    second = make_studio(world["440308003003"])
    late_opened = make_studio(world["440308001006"], established_on=date(2026, 4, 15))

    def rep(name: str, level: str) -> Representative:
        return Representative.objects.create(
            name=name,
            level=level,
            category=RepresentativeCategory.DISTRICT,
            unit=world["440308"],
            employer="测试",
            phone="+8613900003333",
        )

    both = rep("测试代表·两站", RepresentativeLevel.CITY)
    StudioAssignment.objects.create(studio=first, representative=both, since=date(2025, 1, 1))
    StudioAssignment.objects.create(studio=second, representative=both, since=date(2025, 6, 1))
    newcomer = rep("测试代表·年中", RepresentativeLevel.DISTRICT)
    StudioAssignment.objects.create(studio=second, representative=newcomer, since=date(2026, 5, 20))
    StudioAssignment.objects.create(
        studio=late_opened, representative=newcomer, since=date(2026, 5, 20)
    )

    # Left on 10 April, back on 15 September: owed Jan–Feb, Mar–Apr, Sep–Oct, Nov–Dec.
    returned = rep("测试代表·回来", RepresentativeLevel.CITY)
    StudioAssignment.objects.create(
        studio=first,
        representative=returned,
        since=date(2025, 1, 1),
        active=False,
        until=date(2026, 4, 10),
    )
    StudioAssignment.objects.create(studio=first, representative=returned, since=date(2026, 9, 15))
    # Left on 10 June: owed Jan–Feb to May–Jun only.
    leaver = rep("测试代表·离开", RepresentativeLevel.DISTRICT)
    StudioAssignment.objects.create(
        studio=second,
        representative=leaver,
        since=date(2025, 6, 1),
        active=False,
        until=date(2026, 6, 10),
    )

    for week in range(0, 40, 3):  # held every third week of the year
        day = date(2026, 1, 7) + timedelta(weeks=week)
        there = (both, returned) if day in (date(2026, 1, 7), date(2026, 10, 7)) else (both,)
        make_event(first, day, reps=there)
    short = make_event(second, date(2026, 2, 4), hours=4, reps=(both, leaver))
    Attendance.objects.create(
        event=short,
        representative=both,
        arrived_at=at(date(2026, 2, 4), 9),
        left_at=at(date(2026, 2, 4), 10),
    )
    make_event(second, date(2026, 3, 4), hours=2)  # too short to open the week
    make_event(second, date(2026, 3, 11), state=EventState.CANCELLED, reps=(both,))
    make_event(second, date(2026, 4, 8), published=date(2026, 4, 6), theme="迟到的预告")
    make_event(second, date(2026, 6, 19), state=EventState.PUBLISHED, published=date(2026, 6, 1))
    make_event(second, date(2026, 6, 22), state=EventState.PLANNED)  # not yet published
    make_event(second, date(2026, 7, 1), state=EventState.PLANNED, reps=(newcomer,))
    make_event(second, date(2026, 9, 2), state=EventState.PLANNED, reps=(newcomer,))
    make_event(late_opened, date(2026, 5, 27), reps=(newcomer,), published=date(2026, 5, 10))
    make_event(
        late_opened, date(2026, 7, 15), state=EventState.PUBLISHED, published=date(2026, 7, 10)
    )

    for studio, period, submitted, state in (
        (first, 1, date(2026, 3, 5), ReportState.SUBMITTED),
        (first, 2, date(2026, 5, 25), ReportState.SUBMITTED),  # late
        (second, 1, None, ReportState.DRAFT),
        (late_opened, 3, date(2026, 7, 8), ReportState.SUBMITTED),
    ):
        BimonthlyReport.objects.create(
            studio=studio,
            year=2026,
            period=period,
            body="…",
            state=state,
            submitted_at=at(submitted, 10) if submitted else None,
        )
    for i in range(12):
        HouseholdVisit.objects.create(
            representative=both,
            community=world["440308003009"],
            visited_on=date(2026, 1, 10) + timedelta(days=20 * i),
            household=f"测试{i}家",
            address="演示路",
            recorded_by=recorder,
        )


# Before the year, inside it at several points, after it; a period inside the year.
PERIODS = [
    (date(2026, 1, 1), date(2026, 12, 31), date(2025, 12, 20)),
    (date(2026, 1, 1), date(2026, 12, 31), date(2026, 3, 9)),
    (date(2026, 1, 1), date(2026, 12, 31), date(2026, 6, 17)),
    (date(2026, 1, 1), date(2026, 12, 31), date(2026, 6, 19)),
    (date(2026, 1, 1), date(2026, 12, 31), date(2026, 9, 1)),
    (date(2026, 1, 1), date(2026, 12, 31), date(2027, 2, 1)),
    (date(2026, 3, 15), date(2026, 8, 20), date(2026, 5, 10)),
]


@pytest.mark.parametrize(("start", "end", "today"), PERIODS)
def test_count_gives_the_counts_of_the_full_evaluation(
    world: Any, start: date, end: date, today: date
) -> None:
    varied(world)
    studios = Studio.objects.active().select_related("unit")
    rules = make_rules(start, end, today)
    evaluation = evaluate(studios, rules)
    reps, own = counts_of(evaluation)
    counts = count(studios, rules)
    assert (counts.representatives, counts.studios) == (reps, own)
    assert sum(reps.values()) > 0 and sum(own.values()) > 0


def test_the_fixture_reaches_every_rule_and_status(world: Any) -> None:
    """The equivalence above means something only if the fixture gives every rule
    and, over the periods, every status on both sides."""
    varied(world)
    studios = Studio.objects.active().select_related("unit")
    topics: set[str] = set()
    seen_reps: set[Status] = set()
    seen_own: set[Status] = set()
    for start, end, today in PERIODS:
        evaluation = evaluate(studios, make_rules(start, end, today))
        topics |= {r.topic for r in evaluation.results()}
        reps, own = counts_of(evaluation)
        seen_reps |= {s for s, n in reps.items() if n}
        seen_own |= {s for s, n in own.items() if n}
    assert topics == {"到工作室活动", "入户走访", "每周开放", "提前一周预告", "双月报告"}
    assert seen_reps == set(Status)
    assert seen_own == set(Status)
    # A representative at two studios is judged (and counted) once.
    evaluation = evaluate(studios, make_rules(*PERIODS[2][:2], PERIODS[2][2]))
    rows = [
        rep
        for row in evaluation.studios
        for rep in row.representatives
        if rep.representative.name == "测试代表·两站"
    ]
    assert len(rows) == 2
    reps, _ = counts_of(evaluation)
    assert sum(count(studios, evaluation.rules).representatives.values()) == sum(reps.values())
    # Those who left are judged for their periods only, where they were.
    owed = {
        rep.representative.name: (
            row.studio.pk,
            sorted(r.key.rsplit("-", 1)[1] for r in rep.results if r.rule == "SM 9"),
        )
        for row in evaluation.studios
        for rep in row.representatives
    }
    first, second = (
        Studio.objects.get(unit__code=code, name__startswith="测试工作室")
        for code in ("440308003009", "440308003003")
    )
    assert owed["测试代表·回来"] == (first.pk, ["1", "2", "5", "6"])
    assert owed["测试代表·离开"] == (second.pk, ["1", "2", "3"])


@pytest.mark.parametrize("how", ["evaluate", "count"])
def test_a_fixed_number_of_queries_however_many_studios(world: Any, how: str) -> None:
    rules = make_rules(date(2026, 1, 1), date(2026, 12, 31), date(2026, 6, 17))
    run = evaluate if how == "evaluate" else count

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            run(Studio.objects.active().select_related("unit"), rules)
        return len(captured)

    _grow(world, 2)
    few = queries()
    _grow(world, 6)
    assert Studio.objects.active().count() >= 8
    assert queries() == few


@pytest.mark.parametrize("how", ["evaluate", "count"])
def test_the_events_are_read_without_an_or_that_defeats_the_indexes(world: Any, how: str) -> None:
    # `studio_id IN … OR id IN …` made PostgreSQL read every event of the year in the
    # country (4.9 s a statement at 6.2 million events): the scope's events are one IN
    # over a UNION of the studios' events and the representatives' events.
    rules = make_rules(date(2026, 1, 1), date(2026, 12, 31), date(2026, 6, 17))
    run = evaluate if how == "evaluate" else count
    with CaptureQueriesContext(connection) as captured:
        run(Studio.objects.active().select_related("unit"), rules)
    reads = [q["sql"] for q in captured if 'FROM "duties_event"' in q["sql"]]
    assert reads
    for sql in reads:
        assert " OR " not in sql, sql
    assert any("UNION" in sql for sql in reads)
