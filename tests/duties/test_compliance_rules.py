"""The duty minimums on hand-built calendars: no database, facts in, results out."""

from __future__ import annotations

from datetime import date

import pytest

from minyi.duties.compliance_rules import (
    EventFacts,
    EventStatus,
    ReportFacts,
    RepresentativeFacts,
    Result,
    Rules,
    Session,
    Status,
    StudioFacts,
    bimonthly_reports,
    household_visits,
    publication,
    representative_sessions,
    rollup,
    studio_openings,
    windows,
)

D = date


def rules(today: date, start: date | None = None, end: date | None = None) -> Rules:
    return Rules(
        today=today,
        start=start or D(today.year, 1, 1),
        end=end or D(today.year, 12, 31),
    )


def rep(*sessions: Session, since: date | None = None, **kw) -> RepresentativeFacts:
    return RepresentativeFacts(id=7, name="陈明", sessions=sessions, since=since, **kw)


def held(day: date, hours: float = 3, studio: str = "沙头角") -> Session:
    return Session(day=day, hours=hours, held=True, studio=studio)


def planned(day: date, hours: float = 3) -> Session:
    return Session(day=day, hours=hours, held=False)


def by_period(results: list[Result]) -> dict[str, Status]:
    return {r.period: r.status for r in results}


# --- SM 9: every two months, half a day -----------------------------------------------


def test_windows_follow_the_calendar_and_february_has_29_days_in_2028() -> None:
    found = windows(D(2028, 1, 1), D(2028, 12, 31))
    assert [(w.first, w.last) for w in found][:2] == [
        (D(2028, 1, 1), D(2028, 2, 29)),
        (D(2028, 3, 1), D(2028, 4, 30)),
    ]
    assert found[-1].label == "2028年十一、十二月"
    assert windows(D(2026, 2, 1), D(2026, 2, 1))[0].last == D(2026, 2, 28)


@pytest.mark.parametrize(
    ("session_day", "today", "jan_feb", "mar_apr"),
    [
        # Leap year: 29 February still belongs to January–February.
        (D(2028, 2, 29), D(2028, 3, 2), Status.GREEN, Status.AMBER),
        # 1 March is too late for January–February, and counts for March–April.
        (D(2028, 3, 1), D(2028, 3, 2), Status.RED, Status.GREEN),
        # Ordinary year: 28 February is the last day.
        (D(2026, 2, 28), D(2026, 3, 2), Status.GREEN, Status.AMBER),
        (D(2026, 3, 1), D(2026, 3, 2), Status.RED, Status.GREEN),
    ],
)
def test_a_session_at_the_edge_of_the_two_month_window(
    session_day: date, today: date, jan_feb: Status, mar_apr: Status
) -> None:
    results = representative_sessions(rep(held(session_day)), rules(today))
    year = today.year
    got = by_period(results)
    assert got[f"{year}年一二月"] is jan_feb
    assert got[f"{year}年三四月"] is mar_apr
    assert got[f"{year}年五六月"] is Status.NOT_DUE


@pytest.mark.parametrize(
    ("sessions", "today", "status", "label", "warn"),
    [
        ((held(D(2026, 5, 6), hours=3),), D(2026, 6, 1), Status.GREEN, "达标", False),
        # Two and a half hours is not half a day.
        ((held(D(2026, 5, 6), hours=2.5),), D(2026, 5, 20), Status.AMBER, "预警", False),
        # Nothing yet, window closes in more than three weeks: amber, no warning yet.
        ((), D(2026, 6, 1), Status.AMBER, "预警", False),
        # Three weeks before it closes with nothing held or scheduled: warn.
        ((), D(2026, 6, 10), Status.AMBER, "预警", True),
        # Something scheduled keeps it green, pending.
        ((planned(D(2026, 6, 20)),), D(2026, 6, 10), Status.GREEN, "已安排", False),
        # A scheduled event that was never held does not count once its day is past.
        ((planned(D(2026, 6, 5)),), D(2026, 6, 10), Status.AMBER, "预警", True),
        ((), D(2026, 7, 1), Status.RED, "未达标", False),
    ],
)
def test_may_june_window(
    sessions: tuple[Session, ...], today: date, status: Status, label: str, warn: bool
) -> None:
    result = next(
        r for r in representative_sessions(rep(*sessions), rules(today)) if "五六月" in r.period
    )
    assert (result.status, result.label, result.warn) == (status, label, warn)
    assert result.rule == "SM 9"
    if status is Status.AMBER:
        assert "窗口将于 6 月 30 日关闭" in result.reason


def test_half_day_is_configurable() -> None:
    r = Rules(today=D(2026, 7, 1), start=D(2026, 5, 1), end=D(2026, 6, 30), half_day_hours=4)
    assert representative_sessions(rep(held(D(2026, 5, 6), hours=3.5)), r)[0].status is Status.RED


def test_a_representative_who_changes_studio_mid_year_keeps_sessions_at_both() -> None:
    facts = rep(
        held(D(2026, 2, 3), studio="沙头角社区党代表工作室"),
        held(D(2026, 4, 8), studio="大梅沙社区党代表工作室"),
        since=D(2025, 6, 1),
    )
    got = by_period(representative_sessions(facts, rules(D(2026, 5, 2))))
    assert got["2026年一二月"] is Status.GREEN
    assert got["2026年三四月"] is Status.GREEN


@pytest.mark.parametrize(
    ("since", "judged"),
    [
        (D(2026, 3, 1), ["三四月", "五六月"]),  # from the first day of a window
        (D(2026, 4, 9), ["三四月", "五六月"]),  # 22 days of March–April left: judged
        (D(2026, 4, 15), ["五六月"]),  # 16 days left: not judged on March–April
        (D(2026, 5, 1), ["五六月"]),
    ],
)
def test_a_representative_assigned_mid_year_is_judged_from_the_assignment(
    since: date, judged: list[str]
) -> None:
    results = representative_sessions(
        rep(since=since), rules(D(2026, 7, 1), D(2026, 1, 1), D(2026, 6, 30))
    )
    assert [r.period.removeprefix("2026年") for r in results] == judged
    assert all(r.status is Status.RED for r in results)


# --- CM 4: ten household visits a year ------------------------------------------------


@pytest.mark.parametrize(
    ("visits", "today", "status"),
    [
        (10, D(2026, 3, 1), Status.GREEN),
        # 1 July: about half the year past, 5 expected.
        (5, D(2026, 7, 1), Status.GREEN),
        (4, D(2026, 7, 1), Status.AMBER),
        (9, D(2027, 1, 1), Status.RED),
        (10, D(2027, 1, 1), Status.GREEN),
    ],
)
def test_city_representative_household_visits(visits: int, today: date, status: Status) -> None:
    days = tuple(D(2026, 1, 2 + i) for i in range(visits))
    facts = rep(city_level=True, visits=days)
    result = household_visits(facts, rules(today, D(2026, 1, 1), D(2026, 12, 31)))[0]
    assert result.status is status
    assert result.rule == "CM 4"


def test_district_representatives_have_no_household_visit_minimum() -> None:
    assert household_visits(rep(city_level=False), rules(D(2026, 7, 1))) == []


# --- SM 10: weekly opening and publication a week ahead -------------------------------


def event(day: date, status: EventStatus = EventStatus.HELD, hours: float = 3, **kw) -> EventFacts:
    return EventFacts(
        id=kw.pop("id", day.toordinal()), title="开放日", day=day, hours=hours, status=status, **kw
    )


def test_a_studio_that_skips_one_week() -> None:
    # Wednesdays of March 2026, except 18 March (week 12).
    days = [D(2026, 3, 4), D(2026, 3, 11), D(2026, 3, 25)]
    studio = StudioFacts(id=1, name="沙头角", events=tuple(event(d) for d in days))
    results = studio_openings(studio, rules(D(2026, 3, 26), D(2026, 3, 2), D(2026, 3, 29)))
    assert [(r.period, r.status) for r in results] == [
        ("2026年第 10 周（3 月 2 日起）", Status.GREEN),
        ("2026年第 11 周（3 月 9 日起）", Status.GREEN),
        ("2026年第 12 周（3 月 16 日起）", Status.RED),
        ("2026年第 13 周（3 月 23 日起）", Status.GREEN),
    ]


@pytest.mark.parametrize(
    ("events", "status", "label"),
    [
        ((), Status.AMBER, "预警"),
        ((event(D(2026, 3, 20), EventStatus.SCHEDULED),), Status.GREEN, "已安排"),
        ((event(D(2026, 3, 20), EventStatus.CANCELLED),), Status.AMBER, "预警"),
        ((event(D(2026, 3, 16), hours=2),), Status.AMBER, "预警"),
        ((event(D(2026, 3, 16)),), Status.GREEN, "达标"),
    ],
)
def test_the_current_week(events: tuple[EventFacts, ...], status: Status, label: str) -> None:
    studio = StudioFacts(id=1, name="沙头角", events=events)
    today = D(2026, 3, 18)
    [result] = studio_openings(studio, rules(today, D(2026, 3, 16), D(2026, 3, 22)))
    assert (result.status, result.label) == (status, label)


def test_weeks_before_the_studio_was_established_are_not_judged() -> None:
    studio = StudioFacts(id=1, name="新工作室", established_on=D(2026, 3, 18))
    results = studio_openings(studio, rules(D(2026, 3, 30), D(2026, 3, 2), D(2026, 3, 29)))
    assert [r.period for r in results] == [
        "2026年第 12 周（3 月 16 日起）",
        "2026年第 13 周（3 月 23 日起）",
    ]


def test_a_late_publication_is_red_and_names_the_event() -> None:
    on_time = event(D(2026, 3, 11), published_on=D(2026, 3, 4), id=1)
    late = EventFacts(
        id=2,
        title="听民声座谈会",
        day=D(2026, 3, 18),
        hours=3,
        status=EventStatus.HELD,
        published_on=D(2026, 3, 13),
        late_reason="区里临时调整",
    )
    studio = StudioFacts(id=1, name="沙头角", events=(on_time, late))
    [result] = publication(studio, rules(D(2026, 3, 30)))
    assert result.status is Status.RED
    assert "听民声座谈会" in result.reason
    assert "提前 5 天" in result.reason
    assert "区里临时调整" in result.reason


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (D(2026, 3, 1), []),  # deadline 11 March is far off
        (D(2026, 3, 9), [Status.AMBER]),  # publish by 11 March
        (D(2026, 3, 14), [Status.AMBER]),  # already less than a week
    ],
)
def test_an_unpublished_event_is_flagged_as_its_deadline_nears(
    today: date, expected: list[Status]
) -> None:
    studio = StudioFacts(
        id=1, name="沙头角", events=(event(D(2026, 3, 18), EventStatus.SCHEDULED),)
    )
    assert [r.status for r in publication(studio, rules(today))] == expected


# --- SM 12.5: the bi-monthly report ---------------------------------------------------


@pytest.mark.parametrize(
    ("reports", "today", "status", "warn"),
    [
        ((), D(2026, 2, 20), Status.NOT_DUE, False),
        ((), D(2026, 3, 5), Status.AMBER, True),  # just ended, due 10 March
        ((), D(2026, 3, 11), Status.RED, False),
        ((ReportFacts(2026, 1, D(2026, 3, 6)),), D(2026, 3, 11), Status.GREEN, False),
        ((ReportFacts(2026, 1, D(2026, 3, 20)),), D(2026, 4, 1), Status.GREEN, False),
        ((ReportFacts(2026, 1, None),), D(2026, 3, 11), Status.RED, False),  # draft only
    ],
)
def test_bimonthly_report(
    reports: tuple[ReportFacts, ...], today: date, status: Status, warn: bool
) -> None:
    studio = StudioFacts(id=1, name="沙头角", reports=reports)
    result = bimonthly_reports(studio, rules(today, D(2026, 1, 1), D(2026, 2, 28)))[0]
    assert (result.status, result.warn) == (status, warn)
    assert result.rule == "SM 12.5"


def test_the_leap_year_report_for_january_february_is_due_ten_days_after_29_february() -> None:
    studio = StudioFacts(id=1, name="沙头角")
    result = bimonthly_reports(studio, rules(D(2028, 3, 10), D(2028, 1, 1), D(2028, 2, 1)))[0]
    assert result.due == D(2028, 3, 10)
    assert result.status is Status.AMBER


# --- Roll-up --------------------------------------------------------------------------


def _r(key: str, status: Status) -> Result:
    return Result("SM 9", "t", "s", "p", status, "r", key)


def test_roll_up_the_worst_status_wins_and_each_result_counts_once() -> None:
    studio_a = [_r("a1", Status.GREEN), _r("rep", Status.AMBER)]
    studio_b = [_r("b1", Status.RED), _r("rep", Status.AMBER)]  # same representative
    studio_c = [_r("c1", Status.NOT_DUE), _r("c2", Status.GREEN)]
    summaries = rollup(
        [
            (["city", "district", "street1"], studio_a),
            (["city", "district", "street1"], studio_b),
            (["city", "district", "street2"], studio_c),
        ]
    )
    assert summaries["street2"].worst is Status.GREEN
    assert summaries["street1"].worst is Status.RED
    assert (summaries["city"].red, summaries["city"].amber, summaries["city"].green) == (1, 1, 2)
    assert summaries["city"].worst is Status.RED


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2026, 3, 18), "2026年第 12 周（3 月 16 日起）"),
        # Week 1 of 2026 starts on Monday 29 December 2025.
        (date(2026, 1, 1), "2026年第 1 周（2025 年 12 月 29 日起）"),
        # The last week of 2026 (week 53) ends in January 2027.
        (date(2027, 1, 2), "2026年第 53 周（12 月 28 日起）"),
    ],
)
def test_a_weeks_label_names_the_year_of_a_monday_in_another_year(day: date, label: str) -> None:
    from minyi.duties.compliance_rules import _weeks

    [week] = _weeks(day, day)
    assert week.period == label
