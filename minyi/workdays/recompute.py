"""Extension point: recompute deadlines when a year's calendar changes.

Deadlines that touch a year without a complete schedule are provisional. When an
administrator completes or corrects that year, those deadlines must be computed again.
This app does not know which other apps store deadlines, so they register here:

    # in e.g. minyi/cases/apps.py, CasesConfig.ready():
    from minyi.workdays.recompute import register_deadline_recomputer

    def recompute_case_deadlines(year: int) -> None:
        # recompute every open case whose deadline touches `year` (or whose
        # Deadline.missing_years contains it) with workdays.calendar.add_workdays
        ...

    register_deadline_recomputer(recompute_case_deadlines)

A recomputer takes the year (int), must be idempotent (it runs again on every later
correction) and runs synchronously inside the caller's transaction, so a failure rolls
the calendar change back instead of leaving stale deadlines behind.
"""

from __future__ import annotations

from collections.abc import Callable

DeadlineRecomputer = Callable[[int], object]

_recomputers: list[DeadlineRecomputer] = []


def register_deadline_recomputer(recomputer: DeadlineRecomputer) -> DeadlineRecomputer:
    """Register once (repeat registrations are ignored); usable as a decorator."""
    if recomputer not in _recomputers:
        _recomputers.append(recomputer)
    return recomputer


def unregister_deadline_recomputer(recomputer: DeadlineRecomputer) -> None:
    if recomputer in _recomputers:
        _recomputers.remove(recomputer)


def recompute_provisional_deadlines(year: int) -> None:
    """Run every registered recomputer for `year`, in registration order."""
    for recomputer in list(_recomputers):
        recomputer(year)


def calendar_year_completed(year: int) -> None:
    """Announce that `year`'s schedule was completed or corrected.

    Called by the admin when a special day is saved or deleted and when a year's
    `complete` flag changes, and by `seed_workdays` for each year it creates.
    """
    recompute_provisional_deadlines(year)
