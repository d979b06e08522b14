"""Case counts for a user's start page: open, overdue, due soon, all within scope; a
handling unit's are its own work (unit_counts)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Q

from minyi.cases.models import Answer, Case
from minyi.cases.services import today
from minyi.cases.states import OPEN_STATES, CaseState

# "即将到期": due today or within this many working days (minyi.workdays), so that
# the unit can still answer within the CM 11 limit; weekends and holidays do not count.
# One rule for every start page, the case list's marks and filters and the API.
DUE_SOON_WORKDAYS = 3


def case_counts(user: Any) -> dict[str, int]:
    from minyi.cases.access import rated_by_q

    now = today()
    with_unit = Q(state=CaseState.WITH_UNIT)
    # Answers waiting for this department's rating (CM 12), for a department that rates:
    # in the same query, so the start page asks nothing more.
    rates = rated_by_q(user)
    to_rate = (
        {"to_rate_cases": Count("pk", filter=Q(state=CaseState.ANSWERED) & rates)}
        if rates is not None
        else {}
    )
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
                filter=with_unit & Q(due_on__gte=now, due_on__lte=due_soon_until(now)),
            ),
            **to_rate,
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


# A handling unit's own work (CM 11), for its start page, its menu and the case list's
# 本单位 filter: one definition, so that every count is exactly the list it links to.
# Its scope (Case.objects.for_user) is every case ever referred to it; these narrow it
# to what it holds now (the case is with it, state WITH_UNIT) and what it has answered.
# A case it answered that waits for rating, or that it returned as outside its remit,
# or that went on to another unit, is not waiting for it.
UNIT_PENDING, UNIT_DUE_SOON, UNIT_OVERDUE, UNIT_ANSWERED = (
    "pending",
    "due_soon",
    "overdue",
    "answered",
)
UNIT_WORK = {
    UNIT_PENDING: "待办理",
    UNIT_DUE_SOON: "即将到期",
    UNIT_OVERDUE: "已超期",
    UNIT_ANSWERED: "已答复",
}


def unit_of(user: Any) -> int | None:
    """The handling unit whose own work the account does, if it is a unit's account."""
    from minyi.people.scopes import scope_of

    return scope_of(user).handling_unit_id


def due_soon_until(now: date) -> date:
    """The last due date that counts as 即将到期 today."""
    from minyi.workdays.calendar import add_workdays

    return add_workdays(now, DUE_SOON_WORKDAYS).due


def unit_work_q(kind: str, handling_unit_id: int, now: date) -> Q:
    """The cases of one of UNIT_WORK for the unit (within its scope, which the caller's
    for_user gives). Each reads the (handling_unit, state, due_on) index, or for the
    answers, their handling_unit index."""
    if kind == UNIT_ANSWERED:
        answered = Answer.objects.filter(handling_unit_id=handling_unit_id).values("case_id")
        return Q(pk__in=answered)
    pending = Q(handling_unit_id=handling_unit_id, state=CaseState.WITH_UNIT)
    if kind == UNIT_OVERDUE:
        return pending & Q(due_on__lt=now)
    if kind == UNIT_DUE_SOON:
        return pending & Q(due_on__gte=now, due_on__lte=due_soon_until(now))
    return pending


def unit_counts(user: Any, handling_unit_id: int) -> dict[str, int]:
    """The unit's start page: UNIT_WORK's counts and all the cases referred to it, in
    one query."""
    now = today()
    return Case.objects.for_user(user).aggregate(
        referred_cases=Count("pk"),
        **{
            f"{kind}_cases": Count("pk", filter=unit_work_q(kind, handling_unit_id, now))
            for kind in UNIT_WORK
        },
    )
