"""Properties of add_workdays over every year the package knows.

The package's own is_workday serves as an independent oracle for what a working day
is, so these also check that seeding lost nothing (such as make-up weekend days).
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minyi.workdays.calendar import WorkCalendar, add_workdays, workdays_between
from minyi.workdays.seeding import package_years

pytestmark = pytest.mark.django_db

YEARS = package_years()
# Up to the package's last day, so late receipts also run into the first unknown year;
# those results must come back provisional instead of being checked against the oracle.
RECEIVED = st.dates(min_value=date(YEARS.start, 1, 1), max_value=date(YEARS.stop - 1, 12, 31))
N = st.integers(min_value=1, max_value=30)

# The database is only read, so sharing one function-scoped WorkCalendar across the
# examples is safe (and keeps the run fast): hence the suppressed health check.
RELAXED = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar()


@RELAXED
@given(received=RECEIVED, n=N)
def test_due_is_the_nth_working_day_after_receipt(calendar, received, n):
    deadline = add_workdays(received, n, calendar=calendar)
    if deadline.due.year not in YEARS:
        assert deadline.provisional
        return
    assert not deadline.provisional
    assert deadline.due > received
    assert chinese_calendar.is_workday(deadline.due)
    worked = [d for d in _days_after(received, deadline.due) if chinese_calendar.is_workday(d)]
    assert len(worked) == n
    assert workdays_between(received, deadline.due, calendar=calendar) == n
    # Every day that did not count is named with a reason, and only those.
    assert [d for d, _ in deadline.skipped] == [
        d for d in _days_after(received, deadline.due) if not chinese_calendar.is_workday(d)
    ]


@RELAXED
@given(received=st.dates(min_value=date(YEARS.stop, 1, 1), max_value=date(2099, 12, 31)), n=N)
def test_unknown_years_count_weekends_only_and_are_provisional(calendar, received, n):
    deadline = add_workdays(received, n, calendar=calendar)
    assert deadline.provisional
    assert deadline.missing_years
    assert deadline.due.weekday() < 5
    assert sum(d.weekday() < 5 for d in _days_after(received, deadline.due)) == n


def _days_after(start: date, end: date):
    """(start, end]."""
    day = start
    while day < end:
        day += timedelta(days=1)
        yield day
