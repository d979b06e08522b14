"""履职档案 (SM 12.5): one representative's year — every event they were on or
attended (with the times they were there), household visits, appointments addressed
to them and the cases they received. Read-only; the view decides who may see it
(Representative.objects.for_user).

Each list is plain rows holding what the page and the PDF print, read as values with
the related names joined in: no model instances (whole cases meant three decryptions a
row), and no date filters or get_FOO_display() per cell in the templates (30–60 µs
each). Issue 8: at city scale the page's CPU fell from about 89 to 36 ms, one query
fewer; the same texts serve both templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any, NamedTuple

from django.db.models import FilteredRelation, Q
from django.utils import timezone

from minyi.cases.models import Case
from minyi.cases.states import STATE_LABELS, CaseState
from minyi.duties.models import (
    Appointment,
    AppointmentState,
    Attendance,
    Event,
    EventKind,
    EventState,
    HouseholdVisit,
    RequesterKind,
)
from minyi.duties.visits import mask_address
from minyi.people.models import Representative

KIND_LABELS = dict(EventKind.choices)
EVENT_STATE_LABELS = dict(EventState.choices)
REQUESTER_LABELS = dict(RequesterKind.choices)
APPOINTMENT_STATE_LABELS = dict(AppointmentState.choices)


YEAR_ERROR = "年度应为 2000 到 2100 之间的四位数字。"


def record_year(raw: str, today: date) -> int | None:
    """The year a record is asked for (?year=): the current one when blank, None when
    malformed. The page and the API read it alike."""
    if not raw:
        return today.year
    if raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    return None


def year_bounds(year: int) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def _day(moment: datetime | date) -> str:
    """Y-m-d, of the local day for a moment (as the template's date filter printed)."""
    if isinstance(moment, datetime):
        moment = timezone.localtime(moment).date()
    return moment.isoformat()


def _clock(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def _span(first: datetime, last: datetime) -> str:
    return f"{_clock(first)}—{_clock(last)}"


class EventRow(NamedTuple):
    pk: int
    starts_at: datetime
    theme: str
    arrived_at: datetime | None  # None: no attendance recorded for them
    left_at: datetime | None
    day: str
    studio: str
    activity: str  # the kind, and the theme if any
    scheduled: str  # HH:MM—HH:MM
    present: str  # HH:MM—HH:MM, or "" when not recorded
    state: str  # the label


class VisitRow(NamedTuple):
    day: str
    community: str
    household: str
    address_masked: str
    pk: int = 0  # the visit's page, where it is corrected or withdrawn


class AppointmentRow(NamedTuple):
    day: str
    studio: str
    requester: str
    topic: str
    attended: bool
    state: str  # the label, with the case's number if one was registered


class CaseRow(NamedTuple):
    pk: int
    number: str
    day: str
    summary: str
    closed: bool
    state: str  # the label


@dataclass
class DutyRecord:
    representative: Representative
    year: int
    events: list[EventRow] = field(default_factory=list)
    visits: list[VisitRow] = field(default_factory=list)
    appointments: list[AppointmentRow] = field(default_factory=list)
    cases: list[CaseRow] = field(default_factory=list)

    @property
    def attended_events(self) -> list[EventRow]:
        return [e for e in self.events if e.arrived_at is not None]

    @property
    def hours_attended(self) -> float:
        total = 0.0
        for event in self.attended_events:
            # An attendance row has both times, so a row that arrived also left.
            assert event.arrived_at is not None and event.left_at is not None
            total += (event.left_at - event.arrived_at).total_seconds() / 3600
        return round(total, 1)

    @cached_property
    def totals(self) -> dict[str, Any]:
        # Cached: the templates read it eight times.
        return {
            "events": len(self.events),
            "attended": len(self.attended_events),
            "hours": self.hours_attended,
            "visits": len(self.visits),
            "appointments": len(self.appointments),
            "appointments_met": sum(1 for a in self.appointments if a.attended),
            "cases": len(self.cases),
            "cases_closed": sum(1 for c in self.cases if c.closed),
        }


def duty_record(*, representative: Representative, year: int) -> DutyRecord:
    start, end = year_bounds(year)
    return DutyRecord(
        representative=representative,
        year=year,
        events=_events(representative, start, end),
        visits=_visits(representative, year),
        appointments=_appointments(representative, start, end),
        cases=_cases(representative, year),
    )


def _events(representative: Representative, start: datetime, end: datetime) -> list[EventRow]:
    mine = Attendance.objects.filter(representative=representative)
    # The representative's events (listed at, or attended) as one UNION of two indexed
    # reads, then those events by primary key. An OR across two joins with DISTINCT,
    # and later an OR of two sub-selects, both made the database read every event of
    # the year and test each (issue 8 benchmark: 93 ms against 11 ms at 94,560 events).
    listed = Event.representatives.through.objects.filter(representative=representative)
    ids = listed.values("event_id").union(mine.values("event_id"))
    rows = (
        Event.objects.filter(pk__in=ids, starts_at__gte=start, starts_at__lt=end)
        .exclude(state=EventState.CANCELLED)
        # Their attendance joined in (at most one an event: attendance_once) rather
        # than prefetched: one query fewer.
        .annotate(
            mine=FilteredRelation(
                "attendances", condition=Q(attendances__representative=representative)
            )
        )
        .order_by("starts_at", "pk")
        .values_list(
            "pk",
            "starts_at",
            "ends_at",
            "kind",
            "theme",
            "state",
            "studio__name",
            "mine__arrived_at",
            "mine__left_at",
        )
    )
    events = []
    for pk, starts_at, ends_at, kind, theme, state, studio, arrived_at, left_at in rows:
        label = KIND_LABELS.get(kind, kind)
        events.append(
            EventRow(
                pk=pk,
                starts_at=starts_at,
                theme=theme,
                arrived_at=arrived_at,
                left_at=left_at,
                day=_day(starts_at),
                studio=studio,
                activity=f"{label}：{theme}" if theme else label,
                scheduled=_span(starts_at, ends_at),
                present=_span(arrived_at, left_at) if arrived_at is not None else "",
                state=EVENT_STATE_LABELS.get(state, state),
            )
        )
    return events


def _visits(representative: Representative, year: int) -> list[VisitRow]:
    rows = (
        HouseholdVisit.objects.counted()
        .filter(representative=representative, visited_on__year=year)
        .values_list(
            "pk", "visited_on", "community__short_name", "community__name", "household", "address"
        )
    )
    return [
        VisitRow(
            day=_day(visited_on),
            community=short_name or name,
            household=household,
            address_masked=mask_address(address),
            pk=pk,
        )
        for pk, visited_on, short_name, name, household, address in rows
    ]


def _appointments(
    representative: Representative, start: datetime, end: datetime
) -> list[AppointmentRow]:
    rows = (
        Appointment.objects.filter(
            preferred_representative=representative,
            event__starts_at__gte=start,
            event__starts_at__lt=end,
        )
        .order_by("event__starts_at", "pk")
        .values_list(
            "event__starts_at",
            "event__studio__name",
            "requester_kind",
            "topic",
            "state",
            "case",
            "case__number",
        )
    )
    appointments = []
    for starts_at, studio, requester_kind, topic, state, case, case_number in rows:
        label = APPOINTMENT_STATE_LABELS.get(state, state)
        appointments.append(
            AppointmentRow(
                day=_day(starts_at),
                studio=studio,
                requester=REQUESTER_LABELS.get(requester_kind, requester_kind),
                topic=topic,
                attended=state == AppointmentState.ATTENDED,
                state=f"{label}（{case_number}）" if case is not None else label,
            )
        )
    return appointments


def _cases(representative: Representative, year: int) -> list[CaseRow]:
    rows = (
        Case.objects.filter(representative=representative, received_on__year=year)
        .order_by("received_on", "pk")
        .values_list("pk", "number", "received_on", "summary", "state")
    )
    return [
        CaseRow(
            pk=pk,
            number=number,
            day=_day(received_on),
            summary=summary,
            closed=state == CaseState.CLOSED,
            state=STATE_LABELS.get(state, state),
        )
        for pk, number, received_on, summary, state in rows
    ]
