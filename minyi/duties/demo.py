"""Demo of the studio's coming reception for `make run` (journey 3): a resident who finds
沙头角社区党代表工作室 sees next week's reception with a representative and can book it.
Idempotent: nothing is added while the studio has a published event still to come, so
running the demo again later adds a new one only once the last has passed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from minyi.duties.events import NOTICE_DAYS, EventData, event_create, event_publish
from minyi.duties.models import Event, EventKind, EventState
from minyi.people.models import Representative, User
from minyi.studios.models import Studio

# The demo studio opens 每周三 (minyi.core.demo): its reception falls on an opening day,
# not on whichever weekday the demo happens to be loaded a week before.
OPENING_WEEKDAY = 2  # Wednesday


def reception_day(today: date) -> date:
    """The first opening day past the notice period (SM 10), so the reception is
    published on time, not late."""
    day = today + timedelta(days=NOTICE_DAYS + 1)
    return day + timedelta(days=(OPENING_WEEKDAY - day.weekday()) % 7)


@transaction.atomic
def build_demo_events() -> Event | None:
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    coming = Event.objects.filter(
        studio=studio, state=EventState.PUBLISHED, starts_at__gt=timezone.now()
    )
    if coming.exists():
        return None
    day = reception_day(timezone.localdate())
    starts_at = timezone.make_aware(datetime.combine(day, time(9)))
    liaison = User.objects.get(username="liaison")
    event = event_create(
        actor=liaison,
        data=EventData(
            studio=studio,
            kind=EventKind.RECEPTION,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=3),
            theme="党代表接待日：听取居民意见建议（演示）",
            place="工作室接待室",
            capacity=5,
        ),
        representatives=[Representative.objects.get(name="演示代表·陈明")],
    )
    return event_publish(actor=liaison, event=event)
