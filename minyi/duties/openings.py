"""The days of a plan's weekly openings (SM 10), read against the working-day calendar
(minyi.workdays): an opening whose day is a statutory holiday (法定节假日) is not
generated, since the studio is closed and nobody would come. A make-up working day
(调休上班) changes nothing here: openings fall only on the plan's weekday, so a weekend
make-up day is an opening day only when it is that weekday anyway.

A year whose calendar is not complete is read by weekends alone (docs/workdays.md), so
its holidays are unknown: the openings are generated every week as before, and the note
says so, rather than guessing which days will be holidays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from minyi.workdays.calendar import WorkCalendar


@dataclass(frozen=True)
class OpeningSchedule:
    year: int
    days: list[date]  # the openings to generate
    skipped: list[tuple[date, str]]  # (day, holiday name): on the weekday, not generated
    calendar_known: bool  # the year's holidays are completely entered

    @property
    def note(self) -> str:
        """A sentence for the plan page and the approval; empty when nothing to say."""
        if not self.calendar_known:
            return (
                f"{self.year}年的法定节假日安排尚未录入，每周开放日已逐周生成、未避开节假日；"
                "节假日公布并录入后，请核对适逢节假日的开放日并取消。"
            )
        if not self.skipped:
            return ""
        listed = "、".join(f"{name} {d.month}月{d.day}日" for d, name in self.skipped)
        return f"{len(self.skipped)} 次每周开放日适逢法定节假日，未生成（{listed}）。"


def weekdays_of_year(year: int, weekday: int) -> list[date]:
    day = date(year, 1, 1)
    day += timedelta((weekday - day.weekday()) % 7)
    found = []
    while day.year == year:
        found.append(day)
        day += timedelta(7)
    return found


def opening_schedule(
    year: int, weekday: int, *, calendar: WorkCalendar | None = None
) -> OpeningSchedule:
    """The year's openings on `weekday`, less the statutory holidays. One calendar for
    the whole year: its schedule is read once (or from the shared cache), then every
    week is looked up in memory."""
    schedule = (calendar or WorkCalendar()).schedule(year)
    days: list[date] = []
    skipped: list[tuple[date, str]] = []
    for day in weekdays_of_year(year, weekday):
        name = schedule.holidays.get(day)
        if name is None:
            days.append(day)
        else:
            skipped.append((day, name))
    return OpeningSchedule(year, days, skipped, calendar_known=schedule.complete)
