"""CM 11 deadlines: 10 working days from receipt, 30 with the representative's consent."""

from __future__ import annotations

from datetime import date

from minyi.audit.trail import record_bulk
from minyi.workdays.calendar import WorkCalendar, add_workdays

STANDARD_DAYS = 10
EXTENDED_DAYS = 30


def set_deadline(case, *, received: date, days: int, calendar: WorkCalendar | None = None) -> None:
    deadline = add_workdays(received, days, calendar=calendar)
    case.unit_received_on = received
    case.due_days = days
    case.due_on = deadline.due
    case.due_provisional = deadline.provisional


def recompute_case_deadlines(year: int) -> None:
    """Registered with minyi.workdays: when a year's schedule is entered or corrected,
    recompute every open case whose deadline period touches that year."""
    from minyi.cases.models import Case
    from minyi.cases.states import CaseState

    calendar = WorkCalendar()
    cases = list(
        Case.objects.filter(state=CaseState.WITH_UNIT, unit_received_on__isnull=False)
        .filter(unit_received_on__year__lte=year)
        .filter(due_on__year__gte=year)
        .only("pk", "unit_received_on", "due_days", "due_on", "due_provisional")
    )
    changed = []
    for case in cases:
        received = case.unit_received_on
        assert received is not None  # the filter above keeps only cases that have one
        before = (case.due_on, case.due_provisional)
        set_deadline(
            case,
            received=received,
            days=case.due_days or STANDARD_DAYS,
            calendar=calendar,
        )
        if (case.due_on, case.due_provisional) != before:
            changed.append(case)
    Case.objects.bulk_update(changed, ["due_on", "due_provisional"], batch_size=500)
    record_bulk(
        Case, len(changed), fields=["due_on", "due_provisional"], cause="工作日历变更重算期限"
    )
