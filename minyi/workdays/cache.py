"""The calendar's years, kept in the shared cache (issue 8).

Every referral and every extension computes a deadline, and each read the year's
calendar afresh: two queries (the year, its special days) for a table that changes a
few times a year. A year's schedule is now kept under one generation number that every
save or delete of a `CalendarYear` or a `SpecialDay` bumps once its transaction
commits (`connect`); the writes the signals do not see call `bump` themselves (the
seeding's bulk_create). A write that goes round both (raw SQL) is seen within SECONDS.

A transaction that has written the calendar reads it from the database until it
commits: the recomputation of deadlines that follows an edit runs in the edit's own
transaction and must see the edit, and what it read must not be kept for others
before the edit commits (or if it is rolled back). The commit hook that bumps is the
sign of such a write: Django drops it with a rolled-back savepoint, as it drops the
write itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.db.models.signals import post_delete, post_save

from minyi.core import generations

SECONDS = 3600
GENERATION_KEY = "workdays:calendar-generation"


def year_schedule[T](year: int, read: Callable[[], T]) -> T:
    """`read()` (the schedule of `year`), from the cache while no write to the calendar
    has committed since it was kept."""
    return generations.kept(_key(year), [GENERATION_KEY], read, SECONDS)


def keys_around(day: date) -> list[str]:
    """The cache keys of the years a few working days from `day` reach (its own and,
    late in December, the next): for a page's one prefetch (generations.prefetch) that
    also fetches what else it keeps, instead of a round trip of their own."""
    years = dict.fromkeys((day.year, (day + timedelta(days=30)).year))
    return [GENERATION_KEY, *(_key(year) for year in years)]


def _key(year: int) -> str:
    return f"workdays:year:{year}"


def bump() -> None:
    """The calendar changed: every year is read afresh once the transaction commits
    (at once outside one); until then the transaction reads the database
    (generations.bump_after_commit)."""
    generations.bump_after_commit([GENERATION_KEY])


def _on_write(**kwargs: Any) -> None:
    bump()


def connect() -> None:
    from minyi.workdays.models import CalendarYear, SpecialDay

    for model in (CalendarYear, SpecialDay):
        uid = f"workdays-cache-{model._meta.label_lower}"
        post_save.connect(_on_write, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(_on_write, sender=model, dispatch_uid=f"{uid}-delete")
