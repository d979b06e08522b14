"""履职档案 (SM 12.5): one representative's year — every event they were on or
attended (with the times they were there), household visits, appointments addressed
to them and the cases they received. Read-only; the view decides who may see it
(Representative.objects.for_user)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from minyi.cases.models import Case
from minyi.duties.models import (
    Appointment,
    AppointmentState,
    Attendance,
    Event,
    EventState,
    HouseholdVisit,
)
from minyi.duties.visits import mask_address
from minyi.people.models import Representative


def year_bounds(year: int) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


@dataclass
class DutyRecord:
    representative: Representative
    year: int
    events: list[Event] = field(default_factory=list)
    visits: list[HouseholdVisit] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)

    @property
    def attended_events(self) -> list[Event]:
        return [e for e in self.events if e.my_attendance is not None]

    @property
    def hours_attended(self) -> float:
        total = 0.0
        for event in self.attended_events:
            a = event.my_attendance
            total += (a.left_at - a.arrived_at).total_seconds() / 3600
        return round(total, 1)

    @property
    def totals(self) -> dict[str, Any]:
        return {
            "events": len(self.events),
            "attended": len(self.attended_events),
            "hours": self.hours_attended,
            "visits": len(self.visits),
            "appointments": len(self.appointments),
            "appointments_met": sum(
                1 for a in self.appointments if a.state == AppointmentState.ATTENDED
            ),
            "cases": len(self.cases),
            "cases_closed": sum(1 for c in self.cases if c.state == "closed"),
        }


def duty_record(*, representative: Representative, year: int) -> DutyRecord:
    start, end = year_bounds(year)
    mine = Attendance.objects.filter(representative=representative)
    # The representative's events (listed at, or attended) as one UNION of two indexed
    # reads, then those events by primary key. An OR across two joins with DISTINCT,
    # and later an OR of two sub-selects, both made the database read every event of
    # the year and test each (issue 8 benchmark: 93 ms against 11 ms at 94,560 events).
    listed = Event.representatives.through.objects.filter(representative=representative)
    ids = listed.values("event_id").union(mine.values("event_id"))
    events = list(
        Event.objects.filter(
            pk__in=ids,
            starts_at__gte=start,
            starts_at__lt=end,
        )
        .exclude(state=EventState.CANCELLED)
        .select_related("studio")
        .prefetch_related(Prefetch("attendances", queryset=mine, to_attr="mine"))
        .order_by("starts_at", "pk")
    )
    for event in events:
        event.my_attendance = event.mine[0] if event.mine else None
    visits = list(
        HouseholdVisit.objects.filter(
            representative=representative, visited_on__year=year
        ).select_related("community")
    )
    for visit in visits:
        visit.address_masked = mask_address(visit.address)
    appointments = list(
        Appointment.objects.filter(
            preferred_representative=representative,
            event__starts_at__gte=start,
            event__starts_at__lt=end,
        )
        .select_related("event", "event__studio", "case")
        .order_by("event__starts_at", "pk")
    )
    cases = list(
        Case.objects.filter(representative=representative, received_on__year=year)
        .select_related("studio")
        .order_by("received_on", "pk")
    )
    return DutyRecord(
        representative=representative,
        year=year,
        events=events,
        visits=visits,
        appointments=appointments,
        cases=cases,
    )
