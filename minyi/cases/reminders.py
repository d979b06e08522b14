"""The periodic deadline job: remind handling units before the deadline, and flag
overdue cases to the department that referred them, each as a notification to their
accounts (minyi.cases.notices). Safe to run twice: a reminder is
one row per case, kind and deadline (see Reminder), and only new rows count as sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction

from minyi.audit.trail import record_bulk
from minyi.cases.models import Case, Reminder, ReminderKind
from minyi.cases.notices import reminders_sent
from minyi.cases.states import CaseState
from minyi.workdays.calendar import WorkCalendar, workdays_between

# The reminder's window, shorter than the pages' 即将到期 (summary.DUE_SOON_WORKDAYS, 3):
# the pages show what is coming; the reminder is sent once, when it is pressing.
DUE_SOON_WORKDAYS = 2


@dataclass(frozen=True)
class ReminderRun:
    due_soon: list[Reminder]
    overdue: list[Reminder]


def _with_unit():
    return Case.objects.filter(state=CaseState.WITH_UNIT, due_on__isnull=False).select_related(
        "handling_unit", "holder_department"
    )


def due_soon_cases(today: date, calendar: WorkCalendar | None = None) -> list[Case]:
    """Cases due within DUE_SOON_WORKDAYS working days (today included)."""
    calendar = calendar or WorkCalendar()
    window = _with_unit().filter(due_on__gte=today, due_on__lte=today + timedelta(days=10))
    return [
        c
        for c in window
        if workdays_between(today, c.due_on, calendar=calendar) < DUE_SOON_WORKDAYS
    ]


def overdue_cases(today: date):
    return _with_unit().filter(due_on__lt=today)


def _deadline(case: Case) -> date:
    # Both lists come from _with_unit(), which keeps only cases that have a deadline.
    assert case.due_on is not None
    return case.due_on


def _new_reminders(cases: list[Case], kind: str) -> list[Reminder]:
    if not cases:
        return []
    existing = set(
        Reminder.objects.filter(case__in=cases, kind=kind).values_list("case_id", "due_on")
    )
    return [
        Reminder(
            case=c,
            kind=kind,
            due_on=_deadline(c),
            handling_unit=c.handling_unit,
            department=c.holder_department,
        )
        for c in cases
        if (c.pk, c.due_on) not in existing
    ]


@transaction.atomic
def send_reminders(today: date) -> ReminderRun:
    calendar = WorkCalendar()
    soon = _new_reminders(due_soon_cases(today, calendar), ReminderKind.DUE_SOON)
    overdue = _new_reminders(list(overdue_cases(today)), ReminderKind.OVERDUE)
    Reminder.objects.bulk_create(soon + overdue, ignore_conflicts=True)
    record_bulk(Reminder, len(soon) + len(overdue), cause="期限提醒")
    # The reminders reach people as notifications (they were rows no one was shown).
    reminders_sent(soon + overdue)
    return ReminderRun(due_soon=soon, overdue=overdue)
