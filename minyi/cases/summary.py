"""Case counts for a user's start page: open, overdue, due soon, all within scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q

from minyi.cases.models import Case
from minyi.cases.services import today
from minyi.cases.states import OPEN_STATES, CaseState

DUE_SOON_DAYS = 3


def case_counts(user: Any) -> dict[str, int]:
    now = today()
    with_unit = Q(state=CaseState.WITH_UNIT)
    # Every count is of open cases (WITH_UNIT is one of OPEN_STATES): filtering on the
    # state first lets the (area, state, received_on) indexes hand over the open cases
    # alone, instead of every case of the scope over the years being read and tested.
    return (
        Case.objects.for_user(user)
        .filter(state__in=OPEN_STATES)
        .aggregate(
            open_cases=Count("pk", filter=Q(state__in=OPEN_STATES)),
            overdue_cases=Count("pk", filter=with_unit & Q(due_on__lt=now)),
            due_soon_cases=Count(
                "pk",
                filter=with_unit & Q(due_on__gte=now, due_on__lte=now + timedelta(DUE_SOON_DAYS)),
            ),
        )
    )


def provisional_notice(user: Any) -> str:
    """Tells whoever can act on it which calendar year is missing: the deadlines of
    open cases in scope that were computed on weekends alone name their years."""
    from minyi.workdays.calendar import describe_missing_years, missing_calendar_years

    received = (
        Case.objects.for_user(user)
        .filter(state=CaseState.WITH_UNIT, due_provisional=True)
        .values_list("unit_received_on__year", "due_on__year")
        .distinct()
    )
    years = {y for pair in received for y in range(pair[0], pair[1] + 1)}
    return describe_missing_years(missing_calendar_years(years)) if years else ""
