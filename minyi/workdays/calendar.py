"""Working-day arithmetic for CM 11 deadlines.

A weekday works unless it is a statutory holiday; a Saturday or Sunday rests unless the
State Council made it a make-up working day (调休上班). A year whose schedule is not
marked complete is counted by weekends alone and every result touching it is flagged
provisional, so a deadline is never guessed silently and never crashes.

Each year's special days are read once into a `WorkCalendar` (two queries a year, none
while the shared cache holds the year: minyi.workdays.cache); the day-by-day walk then
runs in memory. Pass one `WorkCalendar` to several calls to share
it, e.g. when recomputing many cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from minyi.workdays import cache
from minyi.workdays.models import WEEKEND, CalendarYear, DayKind, SpecialDay

WEEKEND_REASON = "周末"
HOLIDAY_REASON = "法定节假日：{name}"
MAKEUP_REASON = "调休上班：{name}"


@dataclass(frozen=True)
class YearSchedule:
    year: int
    complete: bool
    holidays: dict[date, str] = field(default_factory=dict)
    makeup_workdays: dict[date, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Deadline:
    """The end of the Nth working day after receipt.

    `skipped` lists every day in (received, due) that did not count, with the reason in
    Chinese; `makeup_workdays` the weekend days that did count because of 调休.
    """

    due: date
    provisional: bool
    missing_years: tuple[int, ...]
    skipped: list[tuple[date, str]]
    makeup_workdays: list[tuple[date, str]] = field(default_factory=list)


class WorkCalendar:
    """The calendar as read from the database, one year at a time and only once."""

    def __init__(self) -> None:
        self._years: dict[int, YearSchedule] = {}

    def schedule(self, year: int) -> YearSchedule:
        if year not in self._years:
            self._years[year] = _load_year(year)
        return self._years[year]

    def day_off_reason(self, day: date) -> str | None:
        """Why `day` is not a working day, or None when it is one."""
        schedule = self.schedule(day.year)
        if day in schedule.holidays:
            return HOLIDAY_REASON.format(name=schedule.holidays[day])
        if day.weekday() in WEEKEND and day not in schedule.makeup_workdays:
            return WEEKEND_REASON
        return None

    def is_workday(self, day: date) -> bool:
        return self.day_off_reason(_as_date(day)) is None


def _load_year(year: int) -> YearSchedule:
    # From the shared cache while the calendar is unchanged (minyi.workdays.cache).
    return cache.year_schedule(year, lambda: _read_year(year))


def _read_year(year: int) -> YearSchedule:
    calendar_year = CalendarYear.objects.filter(year=year).first()
    if calendar_year is None or not calendar_year.complete:
        # An incomplete year counts by weekends alone: half-entered holidays would make
        # the result depend on how far the administrator has got.
        return YearSchedule(year=year, complete=False)
    holidays: dict[date, str] = {}
    makeup: dict[date, str] = {}
    days = SpecialDay.objects.filter(date__gte=date(year, 1, 1), date__lte=date(year, 12, 31))
    for day, kind, name in days.values_list("date", "kind", "name"):
        (holidays if kind == DayKind.HOLIDAY else makeup)[day] = name
    return YearSchedule(year=year, complete=True, holidays=holidays, makeup_workdays=makeup)


def _as_date(value: date) -> date:
    # A datetime is a date subclass, but which calendar day it is depends on the time
    # zone; the caller must decide (timezone.localdate()).
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(
            f"需要日期（date），收到：{value!r}；时间请先用 timezone.localdate() 换算。"
        )
    return value


def is_workday(day: date, *, calendar: WorkCalendar | None = None) -> bool:
    return (calendar or WorkCalendar()).is_workday(day)


def add_workdays(received: date, n: int, *, calendar: WorkCalendar | None = None) -> Deadline:
    """Deadline N working days after `received`; the day of receipt itself never counts."""
    received = _as_date(received)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"工作日数必须是不小于1的整数，收到：{n!r}。")
    calendar = calendar or WorkCalendar()
    day = received
    counted = 0
    touched: set[int] = set()
    skipped: list[tuple[date, str]] = []
    makeup: list[tuple[date, str]] = []
    while counted < n:
        day += timedelta(days=1)
        touched.add(day.year)
        reason = calendar.day_off_reason(day)
        if reason is not None:
            skipped.append((day, reason))
            continue
        counted += 1
        name = calendar.schedule(day.year).makeup_workdays.get(day)
        if name is not None:
            makeup.append((day, MAKEUP_REASON.format(name=name)))
    missing = tuple(sorted(y for y in touched if not calendar.schedule(y).complete))
    return Deadline(
        due=day,
        provisional=bool(missing),
        missing_years=missing,
        skipped=skipped,
        makeup_workdays=makeup,
    )


def workdays_between(start: date, end: date, *, calendar: WorkCalendar | None = None) -> int:
    """Working days in (start, end]: "days used" since receipt, or days overdue.

    Negative when `end` is before `start`. The count is provisional for years that are
    not complete; check `missing_calendar_years` before showing it as final.
    """
    start, end = _as_date(start), _as_date(end)
    if end < start:
        return -workdays_between(end, start, calendar=calendar)
    calendar = calendar or WorkCalendar()
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if calendar.day_off_reason(day) is None:
            count += 1
    return count


def missing_calendar_years(years: Iterable[int]) -> tuple[int, ...]:
    """Those of `years` whose holiday schedule is not (completely) entered, ascending."""
    wanted = set(years)
    complete = set(
        CalendarYear.objects.filter(year__in=wanted, complete=True).values_list("year", flat=True)
    )
    return tuple(sorted(wanted - complete))


def describe_missing_years(years: Iterable[int]) -> str:
    """A sentence for an administrator; empty when nothing is missing."""
    years = sorted(set(years))
    if not years:
        return ""
    listed = "、".join(f"{y}年" for y in years)
    return (
        f"{listed}的节假日安排尚未完整录入，涉及的期限暂按周末推算，结果为暂定。"
        "请管理员在“工作日历”中录入并勾选“已完整录入”。"
    )
