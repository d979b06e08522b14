"""Changes to the calendar that other code (admin actions, tests, scripts) can call."""

from __future__ import annotations

from django.db import transaction

from minyi.workdays.models import CalendarYear
from minyi.workdays.recompute import calendar_year_completed


@transaction.atomic
def mark_year_complete(year: int, *, source: str | None = None) -> CalendarYear:
    """Declare `year`'s schedule fully entered and let deadline owners recompute."""
    calendar_year, _ = CalendarYear.objects.get_or_create(year=year)
    calendar_year.complete = True
    if source is not None:
        calendar_year.source = source
    calendar_year.save()
    calendar_year_completed(year)
    return calendar_year
