"""Fixes made where the issue 8 benchmark found a hot path far from the database's own
time; each keeps the page's answer and pins the cheaper query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from minyi.duties.models import Attendance, EventState
from minyi.duties.record import duty_record
from minyi.people.models import Representative
from tests.duties.test_appointments import make_event


@pytest.mark.django_db
def test_the_duty_record_finds_listed_and_attended_events_once_without_a_distinct_join(
    world,
):
    chen = Representative.objects.get(name="演示代表·陈明")
    listed_only = make_event(days=-3, state=EventState.HELD, reps=(chen.name,))
    both = make_event(days=-2, state=EventState.HELD, reps=(chen.name,))
    attended_only = make_event(days=-1, state=EventState.HELD, reps=())
    make_event(days=-1, state=EventState.HELD, reps=("演示代表·林芳",))  # someone else's
    for event in (both, attended_only):
        Attendance.objects.create(
            event=event,
            representative=chen,
            arrived_at=event.starts_at,
            left_at=event.starts_at + timedelta(hours=2),
        )
    year = timezone.localdate().year
    with CaptureQueriesContext(connection) as queries:
        record = duty_record(representative=chen, year=year)
    found = [e.pk for e in record.events if e.starts_at.year == year]
    expected = [e.pk for e in (listed_only, both, attended_only) if e.starts_at.year == year]
    assert sorted(found) == sorted(expected)
    assert len(found) == len(set(found))
    event_sql = next(q["sql"] for q in queries if 'FROM "duties_event"' in q["sql"])
    assert "DISTINCT" not in event_sql
    # The studio, and their own attendance (at most one an event: attendance_once),
    # joined in place of a prefetch; nothing that could repeat an event.
    assert event_sql.count("INNER JOIN") == 1
    assert event_sql.count("LEFT OUTER JOIN") == 1
    assert event_sql.count("JOIN") == 2
    # The ids as one UNION, then the events by primary key: an OR of two sub-selects
    # made PostgreSQL test every event of the year against both.
    assert "UNION" in event_sql
    assert " OR " not in event_sql
