"""CM 11 deadlines across the 2025 and 2026 State Council schedules.

Expected dates were worked out by hand from the holiday and 调休 dates in
chinesecalendar 1.11.0 (which match the published notices) and cross-checked with the
package's own is_workday.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from minyi.workdays.calendar import (
    WorkCalendar,
    add_workdays,
    is_workday,
    missing_calendar_years,
    workdays_between,
)

pytestmark = pytest.mark.django_db

D = date.fromisoformat

DEADLINES = [
    # received, N, due, why
    ("2025-09-26", 10, "2025-10-16", "CM 11 example: 国庆+中秋, 调休 Sun 09-28 and Sat 10-11"),
    ("2025-09-26", 30, "2025-11-13", "30 working days with the representative's consent"),
    ("2025-01-24", 10, "2025-02-13", "春节 01-28..02-04, 调休 Sun 01-26 and Sat 02-08"),
    ("2025-04-03", 1, "2025-04-07", "清明 Fri 04-04..Sun 04-06"),
    ("2025-04-25", 1, "2025-04-27", "调休 Sun 04-27 before 劳动节 is a working day"),
    ("2025-04-30", 1, "2025-05-06", "劳动节 05-01..05-05"),
    ("2025-05-30", 1, "2025-06-03", "端午 Sat 05-31..Mon 06-02"),
    ("2025-12-31", 1, "2026-01-04", "元旦 2026 01-01..01-03, 调休 Sun 01-04, across the year"),
    ("2026-02-13", 1, "2026-02-14", "调休 Sat 02-14 before 春节"),
    ("2026-02-14", 1, "2026-02-24", "春节 02-15..02-23"),
    ("2026-02-13", 10, "2026-03-05", "春节 2026 with 调休 Sat 02-14 and Sat 02-28"),
    ("2026-02-13", 30, "2026-04-02", "30 working days across 春节 2026"),
    ("2026-04-03", 1, "2026-04-07", "清明 Sat 04-04..Mon 04-06"),
    ("2026-04-30", 1, "2026-05-06", "劳动节 05-01..05-05"),
    ("2026-06-18", 1, "2026-06-22", "端午 Fri 06-19..Sun 06-21"),
    ("2026-09-24", 1, "2026-09-28", "中秋 Fri 09-25..Sun 09-27"),
    ("2026-09-30", 1, "2026-10-08", "国庆 10-01..10-07"),
    ("2026-09-18", 10, "2026-10-09", "调休 Sun 09-20, 中秋 and 国庆 2026"),
    ("2025-10-01", 10, "2025-10-21", "received on a holiday"),
    ("2025-10-04", 1, "2025-10-09", "received on a weekend day inside a holiday"),
    ("2025-09-27", 10, "2025-10-16", "received on a Saturday: same as the Friday before"),
    ("2025-09-28", 1, "2025-09-29", "received on a make-up Sunday: it does not count either"),
]


@pytest.mark.parametrize(("received", "n", "due", "why"), DEADLINES)
def test_deadline(received, n, due, why):
    deadline = add_workdays(D(received), n)
    assert deadline.due == D(due), why
    assert not deadline.provisional
    assert deadline.missing_years == ()
    assert workdays_between(D(received), deadline.due) == n


def test_cm11_example_explains_every_skipped_day():
    deadline = add_workdays(D("2025-09-26"), 10)
    assert deadline.skipped == [
        (D("2025-09-27"), "周末"),
        (D("2025-10-01"), "法定节假日：国庆节"),
        (D("2025-10-02"), "法定节假日：国庆节"),
        (D("2025-10-03"), "法定节假日：国庆节"),
        (D("2025-10-04"), "法定节假日：国庆节"),
        (D("2025-10-05"), "法定节假日：国庆节"),
        (D("2025-10-06"), "法定节假日：中秋节"),
        (D("2025-10-07"), "法定节假日：国庆节"),
        (D("2025-10-08"), "法定节假日：国庆节"),
        (D("2025-10-12"), "周末"),
    ]
    assert deadline.makeup_workdays == [
        (D("2025-09-28"), "调休上班：国庆节"),
        (D("2025-10-11"), "调休上班：国庆节"),
    ]


@pytest.mark.parametrize(
    ("day", "works"),
    [
        ("2025-09-26", True),  # an ordinary Friday
        ("2025-09-27", False),  # an ordinary Saturday
        ("2025-09-28", True),  # 调休上班
        ("2025-10-01", False),  # 国庆节 on a Wednesday
        ("2026-01-04", True),  # 调休上班 on a Sunday
        ("2026-02-16", False),  # 春节 on a Monday
        ("2026-10-10", True),  # 调休上班 on a Saturday
    ],
)
def test_is_workday(day, works):
    assert is_workday(D(day)) is works


@pytest.mark.parametrize("n", [0, -1, 1.5, "10", True, None])
def test_n_must_be_a_positive_integer(n):
    with pytest.raises(ValueError, match="工作日数必须是不小于1的整数"):
        add_workdays(D("2025-09-26"), n)


def test_a_datetime_is_refused_because_its_day_depends_on_the_time_zone():
    with pytest.raises(TypeError, match=r"timezone\.localdate"):
        add_workdays(datetime(2025, 9, 26, 23, 30), 10)


def test_workdays_between_counts_the_end_not_the_start_and_is_signed():
    assert workdays_between(D("2025-09-26"), D("2025-09-26")) == 0
    assert workdays_between(D("2025-09-26"), D("2025-10-16")) == 10
    assert workdays_between(D("2025-10-16"), D("2025-09-26")) == -10
    # Overdue by: working days after the due date up to today.
    assert workdays_between(D("2025-10-16"), D("2025-10-20")) == 2


def test_one_query_pair_per_year_not_per_day(django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        add_workdays(D("2025-09-26"), 30)
    calendar = WorkCalendar()
    with django_assert_max_num_queries(4):  # 2025 and 2026, then nothing more
        add_workdays(D("2025-12-01"), 30, calendar=calendar)
        add_workdays(D("2025-12-15"), 30, calendar=calendar)
        workdays_between(D("2025-12-01"), D("2026-02-01"), calendar=calendar)


def test_missing_calendar_years(unknown_year):
    assert missing_calendar_years([2025, 2026]) == ()
    assert missing_calendar_years([unknown_year, 2025, unknown_year - 1]) == (
        unknown_year - 1,
        unknown_year,
    )
