"""The duty minimums of DOMAIN.md as pure functions: plain facts in, results out.

No database here. `minyi.duties.compliance` loads the facts for a scope and calls
these; the tests feed hand-built calendars.

Choices where the measures leave room (documented so they can be argued with):

- **Two-month windows** are the calendar's: January–February, …, November–December
  (the same six periods as the bi-monthly report). A window that overlaps the period
  asked for is judged whole.
- **A session** (SM 9) is a representative's time at any studio: from the attendance
  record (arrived/left) when there is one, else from a held event's times when the
  representative is on it. It counts when it lasts at least half a day
  (`MINYI_HALF_DAY_HOURS`, default 3 hours). Sessions at any studio count, so a
  representative who changes studio keeps what they did at the old one.
- **Periods at studios**: a representative is judged only for the days they worked at
  a studio (any studio: the union of their periods, one row each). A window is judged
  only when at least three weeks of it fall within their periods (so a window they
  came into with under three weeks left, or left within its first three weeks, is not
  owed), and only sessions within the periods count in it. A window whose period ended
  before the window did is missed once that period is over. A period that ended before
  its last day was kept covers nothing (no day is guessed).
- **Where a result is shown** (`owed_at`): a representative's results are theirs, judged
  on all their periods, but a studio shows only those within their periods at that
  studio: a two-month window where at least three weeks of it fall within their periods
  there (if no studio has three weeks of a window owed, the studio or studios with most
  of its days), a year's household visits where a period there touches the year. So the
  studio one left does not show the windows owed at the new one.
- **Weekly opening** (SM 10): the studio counts as open in an ISO week (Monday to
  Sunday) when any held event at the studio (an opening or a representative's
  session) lasted at least half a day: the studio was open and staffed for it.
- **Publication a week ahead** (SM 10, CM 8): compared by calendar date: an event on
  the 8th must be published on the 1st or earlier. Late publication stays red even
  with a reason; the reason is shown.
- **Bi-monthly report** (SM 12.5): due ten days after its two-month period ends.
  Submitted late counts as submitted, with the delay noted.
- **Household visits** (CM 4): a city representative's visits in the calendar year.
  Owed: 10 for a year their periods cover whole; for part of a year,
  floor(10 × whole months covered / 12) (`visits_owed`): only a month covered from its
  first to its last day counts, and the fraction is dropped, both in the
  representative's favour (assigned on 1 November: 1; on 15 November: 0, and nothing
  is shown). By day d at least ceil(owed × share of the covered days already past) are
  expected; fewer is amber.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from functools import lru_cache

WARN_DAYS = 21  # "three weeks before a two-month window closes"
REPORT_DUE_DAYS = 10
PUBLISH_AHEAD_DAYS = 7
VISITS_PER_YEAR = 10
DEFAULT_HALF_DAY_HOURS = 3.0

WINDOW_NAMES = ["一二月", "三四月", "五六月", "七八月", "九十月", "十一、十二月"]


class Status(Enum):
    NOT_DUE = "not_due"
    GREEN = "green"
    AMBER = "amber"
    RED = "red"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @property
    def label(self) -> str:
        return _LABELS[self]


_SEVERITY = {Status.NOT_DUE: 0, Status.GREEN: 1, Status.AMBER: 2, Status.RED: 3}
_LABELS = {
    Status.NOT_DUE: "未到期",
    Status.GREEN: "达标",
    Status.AMBER: "预警",
    Status.RED: "未达标",
}


@dataclass(frozen=True)
class Result:
    rule: str  # "SM 9"
    topic: str  # what is measured, e.g. "到工作室活动"
    subject: str  # the representative or studio
    period: str  # "2026年五六月"
    status: Status
    reason: str
    key: str  # stable identity, e.g. "sm9:r12:2026-3"
    scheduled: bool = False  # green only because something is scheduled
    warn: bool = False  # a warning should go out now
    due: date | None = None
    # A representative's result: the days it is about (a window, a year), for `owed_at`.
    span: tuple[date, date] | None = None

    @property
    def label(self) -> str:
        if self.status is Status.GREEN and self.scheduled:
            return "已安排"
        return self.status.label


# --- Facts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """A representative's time at a studio: held (attended) or scheduled."""

    day: date
    hours: float
    held: bool
    studio: str = ""


# A period at a studio: its first and last day, None where open (always / still there).
Period = tuple[date | None, date | None]


@dataclass(frozen=True)
class RepresentativeFacts:
    id: int
    name: str
    city_level: bool = False
    since: date | None = None  # with no `periods`: one period from this day; None: always
    sessions: tuple[Session, ...] = ()
    visits: tuple[date, ...] = ()
    periods: tuple[Period, ...] | None = None  # at any studio; None: from `since` on
    # The same periods by studio (studio id, period), for `owed_at`; empty where unknown.
    studio_periods: tuple[tuple[int, Period], ...] = ()

    def spans(self, first: date, last: date) -> list[tuple[date, date]]:
        """The days from `first` to `last` within the periods, as ascending runs that
        neither overlap nor touch (two studios at once count each day once)."""
        periods = self.periods if self.periods is not None else ((self.since, None),)
        return _runs(periods, first, last)


def _runs(periods: Iterable[Period], first: date, last: date) -> list[tuple[date, date]]:
    cut = sorted((max(first, start or first), min(last, end or last)) for start, end in periods)
    found: list[tuple[date, date]] = []
    for lo, hi in cut:
        if lo > hi:
            continue
        if found and lo <= found[-1][1] + timedelta(days=1):
            found[-1] = (found[-1][0], max(found[-1][1], hi))
        else:
            found.append((lo, hi))
    return found


def _days(runs: list[tuple[date, date]]) -> int:
    return sum((hi - lo).days + 1 for lo, hi in runs)


def owed_at(rep: RepresentativeFacts, result: Result) -> frozenset[int]:
    """The studios whose compliance shows this result of the representative's: those
    where their periods hold at least three weeks of the window (SM 9), else those
    holding most of it; those where a period touches the year (CM 4)."""
    if result.span is None or not rep.studio_periods:
        return frozenset()
    first, last = result.span
    by_studio: dict[int, list[Period]] = {}
    for studio_id, period in rep.studio_periods:
        by_studio.setdefault(studio_id, []).append(period)
    days = {s: _days(_runs(periods, first, last)) for s, periods in by_studio.items()}
    if result.rule == "CM 4":
        return frozenset(s for s, n in days.items() if n)
    enough = frozenset(s for s, n in days.items() if n >= WARN_DAYS)
    if enough:
        return enough
    most = max(days.values(), default=0)
    return frozenset(s for s, n in days.items() if n and n == most)


def visits_owed(rep: RepresentativeFacts, year: int) -> tuple[int, int]:
    """CM 4 for a year: (visits owed, whole months the periods cover), pro-rated in the
    representative's favour: floor(10 × whole months / 12). A month counts only when
    the periods cover it from its first day to its last."""
    runs = rep.spans(date(year, 1, 1), date(year, 12, 31))
    months = 0
    for month in range(1, 13):
        first = date(year, month, 1)
        last = date(year, month, calendar.monthrange(year, month)[1])
        months += any(lo <= first and last <= hi for lo, hi in runs)
    return VISITS_PER_YEAR * months // 12, months


class EventStatus(Enum):
    HELD = "held"
    SCHEDULED = "scheduled"  # planned or published, not cancelled
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class EventFacts:
    id: int
    title: str
    day: date
    hours: float
    status: EventStatus
    published_on: date | None = None
    late_reason: str = ""


@dataclass(frozen=True)
class ReportFacts:
    year: int
    period: int
    submitted_on: date | None  # None: drafted, not submitted


@dataclass(frozen=True)
class StudioFacts:
    id: int
    name: str
    established_on: date | None = None
    events: tuple[EventFacts, ...] = ()
    reports: tuple[ReportFacts, ...] = ()


@dataclass(frozen=True)
class Rules:
    today: date
    start: date
    end: date
    half_day_hours: float = DEFAULT_HALF_DAY_HOURS


# --- Calendars -----------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    year: int
    index: int  # 1..6
    first: date
    last: date

    @property
    def label(self) -> str:
        return f"{self.year}年{WINDOW_NAMES[self.index - 1]}"


def window_of(day: date) -> Window:
    index = (day.month - 1) // 2 + 1
    return make_window(day.year, index)


def make_window(year: int, index: int) -> Window:
    first_month = 2 * index - 1
    last_month = first_month + 1
    last_day = calendar.monthrange(year, last_month)[1]
    return Window(year, index, date(year, first_month, 1), date(year, last_month, last_day))


def windows(start: date, end: date) -> list[Window]:
    return list(_windows(start, end))


# The calendars depend only on the period, not on whose facts are judged: a city's
# evaluation asks for the same ones once per studio and per representative (thousands
# of times), so they are built once. Windows are frozen; callers get tuples or copies.
@lru_cache(maxsize=64)
def _windows(start: date, end: date) -> tuple[Window, ...]:
    found: list[Window] = []
    current = window_of(start)
    while current.first <= end:
        found.append(current)
        current = window_of(current.last + timedelta(days=1))
    return tuple(found)


def iso_weeks(start: date, end: date) -> list[tuple[date, date]]:
    return [(week.monday, week.sunday) for week in _weeks(start, end)]


@dataclass(frozen=True)
class _Week:
    monday: date
    sunday: date
    period: str  # "2026年第 3 周（1 月 12 日起）"
    key: str  # the end of a result's key: "2026-W03"


@lru_cache(maxsize=64)
def _weeks(start: date, end: date) -> tuple[_Week, ...]:
    monday = start - timedelta(days=start.weekday())
    found = []
    while monday <= end:
        year, week, _ = monday.isocalendar()
        # Week 1 may start in December: then the day says its year, lest it read as
        # December of the week's year.
        since = md(monday) if monday.year == year else f"{monday.year} 年 {md(monday)}"
        found.append(
            _Week(
                monday,
                monday + timedelta(days=6),
                f"{year}年第 {week} 周（{since}起）",
                f"{year}-W{week:02d}",
            )
        )
        monday += timedelta(days=7)
    return tuple(found)


def md(day: date) -> str:
    return f"{day.month} 月 {day.day} 日"


def covering_range(start: date, end: date) -> tuple[date, date]:
    """The dates whose facts the rules may look at for a period."""
    first = min(window_of(start).first, start - timedelta(days=start.weekday()))
    last = max(window_of(end).last, end + timedelta(days=6 - end.weekday()))
    return first, last


# --- Rules ---------------------------------------------------------------------------


def representative_sessions(rep: RepresentativeFacts, rules: Rules) -> list[Result]:
    """SM 9 / CM 4: a session of at least half a day in every two-month window."""
    results = []
    # Each long session under its window, in the representative's order: a window
    # looks only at its own sessions.
    by_window: dict[tuple[int, int], list[Session]] = {}
    for s in rep.sessions:
        if s.hours >= rules.half_day_hours:
            by_window.setdefault((s.day.year, (s.day.month - 1) // 2 + 1), []).append(s)
    for window in _windows(rules.start, rules.end):
        spans = rep.spans(window.first, window.last)
        if sum((hi - lo).days + 1 for lo, hi in spans) < WARN_DAYS:
            continue  # at a studio too little of this window to be judged on it
        sessions = by_window.get((window.year, window.index), [])
        results.append(_session_window(rep, window, spans, rules, sessions))
    return results


def _session_window(
    rep: RepresentativeFacts,
    window: Window,
    spans: list[tuple[date, date]],
    r: Rules,
    sessions: list[Session],
) -> Result:
    def base(status: Status, reason: str, **kw: object) -> Result:
        return Result(
            rule="SM 9",
            topic="到工作室活动",
            subject=rep.name,
            period=window.label,
            status=status,
            reason=reason,
            key=f"sm9:r{rep.id}:{window.year}-{window.index}",
            due=window.last,
            span=(window.first, window.last),
            **kw,  # type: ignore[arg-type]
        )

    first, last = spans[0][0], spans[-1][1]
    long_enough = [
        s
        for s in sessions
        if s.hours >= r.half_day_hours and any(lo <= s.day <= hi for lo, hi in spans)
    ]
    held = sorted((s for s in long_enough if s.held and s.day <= r.today), key=lambda s: s.day)
    if held:
        s = held[0]
        where = f"在{s.studio}" if s.studio else "到工作室"
        return base(Status.GREEN, f"{md(s.day)}{where}活动 {s.hours:g} 小时。")
    scheduled = sorted(
        (s for s in long_enough if not s.held and s.day >= r.today), key=lambda s: s.day
    )
    if scheduled:
        s = scheduled[0]
        return base(
            Status.GREEN, f"已安排 {md(s.day)}到工作室活动（{s.hours:g} 小时）。", scheduled=True
        )
    name = WINDOW_NAMES[window.index - 1]
    if r.today > last:
        if last < window.last:  # left the studios before the window closed: missed too
            return base(Status.RED, f"{name}进驻期间（至 {md(last)}）没有半天以上的工作室活动。")
        return base(Status.RED, f"{name}没有半天以上的工作室活动。")
    if r.today < first:
        return base(Status.NOT_DUE, f"{name}尚未开始，也未安排活动。")
    left = (window.last - r.today).days
    return base(
        Status.AMBER,
        f"{name}尚无半天以上的工作室活动，也未安排，窗口将于 {md(window.last)}关闭。",
        warn=left < WARN_DAYS,
    )


def household_visits(rep: RepresentativeFacts, rules: Rules) -> list[Result]:
    """CM 4: a city representative visits at least 10 households a year; for a year
    their periods cover in part, what `visits_owed` gives."""
    if not rep.city_level:
        return []
    results = []
    for year in range(rules.start.year, rules.end.year + 1):
        first, last = date(year, 1, 1), date(year, 12, 31)
        runs = rep.spans(first, last)
        if not runs:
            continue  # at no studio that year
        owed, months = visits_owed(rep, year)
        if owed == 0:
            continue  # too few whole months at a studio to owe a visit
        count = sum(1 for d in rep.visits if d.year == year and d <= rules.today)
        whole = (
            f"全年不少于 {owed} 户" if months == 12 else f"进驻 {months} 个月，应不少于 {owed} 户"
        )

        def result(status: Status, reason: str, year: int = year, last: date = last) -> Result:
            return Result(
                rule="CM 4",
                topic="入户走访",
                subject=rep.name,
                period=f"{year}年",
                status=status,
                reason=reason,
                key=f"cm4:r{rep.id}:{year}",
                due=last,
                span=(date(year, 1, 1), last),
            )

        if count >= owed:
            results.append(result(Status.GREEN, f"{year}年已入户走访 {count} 户。"))
        elif rules.today > last:
            short = f"不足 {owed} 户" if months == 12 else f"不足 {owed} 户（{whole}）"
            results.append(result(Status.RED, f"{year}年入户走访 {count} 户，{short}。"))
        elif rules.today < runs[0][0]:
            begins = (
                f"{year}年尚未开始" if runs[0][0] == first else f"{md(runs[0][0])}进驻后开始考核"
            )
            results.append(result(Status.NOT_DUE, f"{begins}（{whole}）。"))
        else:
            # The share of the covered days already past (whole days before today).
            past = _days(
                _runs(((lo, hi) for lo, hi in runs), first, rules.today - timedelta(days=1))
            )
            expected = math.ceil(owed * past / _days(runs))
            text = f"{year}年已入户走访 {count} 户，按进度此时应不少于 {expected} 户（{whole}）。"
            results.append(result(Status.AMBER if count < expected else Status.GREEN, text))
    return results


def studio_openings(studio: StudioFacts, rules: Rules) -> list[Result]:
    """SM 10: open at least once a week, at least half a day."""
    prefix = f"sm10:s{studio.id}:"
    return [
        Result(
            rule="SM 10",
            topic="每周开放",
            subject=studio.name,
            period=week.period,
            status=status,
            reason=_week_reason(status, event),
            key=prefix + week.key,
            due=week.sunday,
            scheduled=event is not None and event.status is EventStatus.SCHEDULED,
        )
        for week, status, event in _opening_weeks(studio, rules)
    ]


def _opening_weeks(
    studio: StudioFacts, rules: Rules
) -> Iterator[tuple[_Week, Status, EventFacts | None]]:
    """SM 10's verdict on each week judged, and the event it rests on. The results
    and the counts (`studio_counts`) both come from here."""
    # Each long event under the Monday of its week, in the studio's order, so that a
    # week looks only at its own events (a year is 53 weeks: scanning every event for
    # every week made this quadratic in the events of a studio).
    by_week: dict[date, list[EventFacts]] = {}
    for e in studio.events:
        if e.hours >= rules.half_day_hours:
            by_week.setdefault(e.day - timedelta(days=e.day.weekday()), []).append(e)
    established = studio.established_on
    for week in _weeks(rules.start, rules.end):
        if established and week.sunday < established:
            continue
        status, event = _week_status(
            by_week.get(week.monday, []), week.monday, week.sunday, rules.today
        )
        yield week, status, event


def _week_status(
    events: list[EventFacts], monday: date, sunday: date, today: date
) -> tuple[Status, EventFacts | None]:
    """The week's status, and the held (else the scheduled) event that makes it green."""
    in_week = [e for e in events if monday <= e.day <= sunday]
    held = [e for e in in_week if e.status is EventStatus.HELD and e.day <= today]
    if held:
        return Status.GREEN, held[0]
    planned = [e for e in in_week if e.status is EventStatus.SCHEDULED and e.day >= today]
    if planned:
        return Status.GREEN, planned[0]
    if sunday < today:
        return Status.RED, None
    if monday <= today:
        return Status.AMBER, None
    return Status.NOT_DUE, None


def _week_reason(status: Status, event: EventFacts | None) -> str:
    if event is not None and event.status is EventStatus.HELD:
        return f"{md(event.day)}开放（{event.title}）。"
    if event is not None:
        return f"已安排 {md(event.day)}开放。"
    if status is Status.RED:
        return "本周没有半天以上的开放活动。"
    if status is Status.AMBER:
        return "本周尚未开放，也未安排半天以上的开放活动。"
    return "尚未安排开放活动。"


def publication(studio: StudioFacts, rules: Rules) -> list[Result]:
    """SM 10, CM 8: time, place and participants published at least a week ahead.
    Only problems are listed: each late publication (red), and each unpublished event
    whose deadline is near or past (amber)."""
    results = []
    for event in sorted(studio.events, key=lambda e: (e.day, e.id)):
        if not rules.start <= event.day <= rules.end or event.status is EventStatus.CANCELLED:
            continue
        deadline = event.day - timedelta(days=PUBLISH_AHEAD_DAYS)
        name = f"{md(event.day)}的活动“{event.title}”"
        key = f"pub:e{event.id}"
        if event.published_on is not None:
            if event.published_on > deadline:
                ahead = (event.day - event.published_on).days
                reason = f"{name}于 {md(event.published_on)}才预告，提前 {ahead} 天，不足 7 天。"
                if event.late_reason:
                    reason += f"说明理由：{event.late_reason}"
                results.append(_pub(studio, event, Status.RED, reason, key))
        elif event.status is EventStatus.SCHEDULED and event.day >= rules.today:
            if deadline < rules.today:
                text = f"{name}尚未预告，已不足 7 天。"
                results.append(_pub(studio, event, Status.AMBER, text, key))
            elif (deadline - rules.today).days <= 3:
                text = f"{name}尚未预告，须于 {md(deadline)}前预告。"
                results.append(_pub(studio, event, Status.AMBER, text, key))
    return results


def _pub(studio: StudioFacts, event: EventFacts, status: Status, reason: str, key: str) -> Result:
    return Result(
        rule="SM 10",
        topic="提前一周预告",
        subject=studio.name,
        period=md(event.day),
        status=status,
        reason=reason,
        key=key,
        due=event.day,
    )


def bimonthly_reports(studio: StudioFacts, rules: Rules) -> list[Result]:
    """SM 12.5: a report for every finished two-month period, ten days after it ends."""
    submitted = {(r.year, r.period): r.submitted_on for r in studio.reports if r.submitted_on}
    results = []
    for window in _windows(rules.start, rules.end):
        if studio.established_on and window.last < studio.established_on:
            continue
        due = window.last + timedelta(days=REPORT_DUE_DAYS)
        name = f"{window.label}（第 {window.index} 期）报告"

        def result(status: Status, reason: str, window: Window = window, due: date = due, **kw):
            return Result(
                rule="SM 12.5",
                topic="双月报告",
                subject=studio.name,
                period=window.label,
                status=status,
                reason=reason,
                key=f"sm12.5:s{studio.id}:{window.year}-{window.index}",
                due=due,
                **kw,
            )

        on = submitted.get((window.year, window.index))
        if on is not None:
            late = (on - due).days
            note = f"，逾期 {late} 天" if late > 0 else ""
            results.append(result(Status.GREEN, f"{name}已于 {md(on)}报送{note}。"))
        elif rules.today <= window.last:
            results.append(result(Status.NOT_DUE, f"{name}待本期结束后报送。"))
        elif rules.today <= due:
            results.append(
                result(Status.AMBER, f"{name}尚未报送，应于 {md(due)}前报送。", warn=True)
            )
        else:
            results.append(result(Status.RED, f"{name}未报送（应于 {md(due)}前报送）。"))
    return results


def studio_results(studio: StudioFacts, rules: Rules) -> list[Result]:
    return (
        studio_openings(studio, rules)
        + publication(studio, rules)
        + bimonthly_reports(studio, rules)
    )


def representative_results(rep: RepresentativeFacts, rules: Rules) -> list[Result]:
    return representative_sessions(rep, rules) + household_visits(rep, rules)


def studio_counts(studio: StudioFacts, rules: Rules, counts: dict[Status, int]) -> None:
    """Add the statuses of `studio_results(studio, rules)` to `counts`, without building
    the week-by-week results (a year is 53 per studio) that only the compliance page
    shows: the same verdicts, from the same code."""
    for _, status, _ in _opening_weeks(studio, rules):
        counts[status] += 1
    for result in publication(studio, rules) + bimonthly_reports(studio, rules):
        counts[result.status] += 1


# --- Roll-up -------------------------------------------------------------------------


@dataclass
class Summary:
    """Results under one node (studio, street, district, city): the worst wins."""

    counts: dict[Status, int] = field(default_factory=lambda: dict.fromkeys(Status, 0))
    keys: set[str] = field(default_factory=set)

    def add(self, results: Iterable[Result]) -> Summary:
        for result in results:
            if result.key in self.keys:
                continue  # e.g. a representative at two studios of the same street
            self.keys.add(result.key)
            self.counts[result.status] += 1
        return self

    @property
    def worst(self) -> Status:
        present = [s for s, n in self.counts.items() if n]
        return max(present, key=lambda s: s.severity) if present else Status.NOT_DUE

    @property
    def red(self) -> int:
        return self.counts[Status.RED]

    @property
    def amber(self) -> int:
        return self.counts[Status.AMBER]

    @property
    def green(self) -> int:
        return self.counts[Status.GREEN]


def rollup(items: Iterable[tuple[Iterable[object], Iterable[Result]]]) -> dict[object, Summary]:
    """Each item is (the nodes it lies under, its results); every node gets the results
    of everything under it, each result counted once per node."""
    summaries: dict[object, Summary] = {}
    for nodes, results in items:
        results = list(results)
        for node in nodes:
            summaries.setdefault(node, Summary()).add(results)
    return summaries
