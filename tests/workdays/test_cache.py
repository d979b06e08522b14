"""The calendar's years in the shared cache (minyi.workdays.cache): read once, then from
the cache until a write to the calendar commits; a transaction that writes the calendar
reads its own write and keeps nothing for others; a referral after a holiday is entered
gets the deadline that counts it.

Transactional tests: the cache is bumped when a write commits, which a test wrapped in a
transaction never does. The flush between such tests empties the calendar tables, so
each test enters the year it counts in."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction

from minyi.cases import services
from minyi.cases.models import Case
from minyi.cases.services import case_refer, case_send_to_street
from minyi.org.models import HandlingUnit
from minyi.people.models import User
from minyi.workdays.calendar import WorkCalendar, add_workdays
from minyi.workdays.models import CalendarYear, DayKind, SpecialDay
from minyi.workdays.services import mark_year_complete
from tests.cases.helpers import register

pytestmark = pytest.mark.django_db(transaction=True)

YEAR = 2031
RECEIVED = date(2031, 3, 3)  # a Monday: ten working days end on Monday 17 March
DUE = date(2031, 3, 17)
HOLIDAY = date(2031, 3, 5)  # a Wednesday inside those ten days


def _complete_year() -> None:
    CalendarYear.objects.update_or_create(year=YEAR, defaults={"complete": True})


def _holiday() -> SpecialDay:
    return SpecialDay.objects.create(date=HOLIDAY, kind=DayKind.HOLIDAY, name="测试假日")


def test_a_year_once_read_is_read_again_without_a_query(django_assert_num_queries: Any) -> None:
    _complete_year()
    assert add_workdays(RECEIVED, 10).due == DUE
    with django_assert_num_queries(0):
        assert add_workdays(RECEIVED, 10).due == DUE
        assert WorkCalendar().schedule(YEAR).complete


def test_a_holiday_entered_or_removed_moves_the_next_deadline() -> None:
    _complete_year()
    assert add_workdays(RECEIVED, 10).due == DUE  # kept
    holiday = _holiday()
    assert add_workdays(RECEIVED, 10).due == DUE + timedelta(days=1)
    holiday.delete()
    assert add_workdays(RECEIVED, 10).due == DUE


def test_a_year_marked_complete_is_no_longer_provisional() -> None:
    CalendarYear.objects.create(year=YEAR, complete=False)
    assert add_workdays(RECEIVED, 10).provisional  # kept as incomplete
    mark_year_complete(YEAR)
    assert not add_workdays(RECEIVED, 10).provisional


def test_an_edit_reads_itself_and_a_rolled_back_edit_is_never_kept(
    django_assert_num_queries: Any,
) -> None:
    """The recomputation after an edit runs in the edit's transaction: it must count the
    edit, and what it read must not outlive a rollback."""
    _complete_year()
    assert add_workdays(RECEIVED, 10).due == DUE
    with pytest.raises(RuntimeError), transaction.atomic():
        _holiday()
        assert add_workdays(RECEIVED, 10).due == DUE + timedelta(days=1)
        raise RuntimeError
    with django_assert_num_queries(0):
        assert add_workdays(RECEIVED, 10).due == DUE


def test_a_referral_after_a_holiday_is_entered_counts_the_holiday(
    world: Any, liaison: User, street_official: User, monkeypatch: Any
) -> None:
    monkeypatch.setattr(services, "today", lambda: RECEIVED)
    _complete_year()
    unit = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")

    def referred() -> Case:
        case = case_send_to_street(case=register(), actor=liaison)
        return case_refer(case=case, actor=street_official, handling_unit=unit)

    assert referred().due_on == DUE
    _holiday()
    assert referred().due_on == DUE + timedelta(days=1)
