"""Events at studios (SM 8, 10; CM 6, 8): create and edit, publish (a week ahead, or
with a reason), cancel, and record what happened. One function and one transaction
each; bad input raises ValidationError with Chinese messages keyed by field, and
nothing is saved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from minyi.audit.trail import record_bulk
from minyi.core.once import made_with
from minyi.core.regulations import cite
from minyi.duties import tallies
from minyi.duties.models import ActivityMonth, Attendance, Event, EventKind, EventState
from minyi.people.models import Representative, Role
from minyi.people.scopes import scope_of
from minyi.studios.models import Studio, StudioAssignment

NOTICE_DAYS = 7  # SM 10, CM 8: published at least a week ahead
LATE_LABEL = "预告不足7天"
EDITABLE = {EventState.PLANNED, EventState.PUBLISHED}


def is_late(event: Event) -> bool:
    """Published less than a week before it starts (SM 10)."""
    return event.published_at is not None and event.starts_at - event.published_at < timedelta(
        NOTICE_DAYS
    )


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def describe(event: Event) -> str:
    theme = f"“{event.theme}”" if event.theme else ""
    return f"{event.studio.name}{event.get_kind_display()}{theme}（{_local(event.starts_at)}）"


@dataclass(frozen=True)
class EventData:
    studio: Studio
    kind: str
    starts_at: datetime
    ends_at: datetime
    theme: str = ""
    place: str = ""
    capacity: int = 0
    activity_month: bool = False


def _check(
    data: EventData, representatives: Sequence[Representative], exclude_pk: int | None
) -> None:
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if data.kind not in EventKind.values:
        add("kind", "请选择有效的活动方式。")
    if data.ends_at <= data.starts_at:
        add("ends_at", "结束时间须晚于开始时间。")
    if data.activity_month and timezone.localtime(data.starts_at).month != 7:
        add("activity_month", f"活动月活动须安排在7月（{cite('CM 6')}）。")
    if data.capacity is not None and data.capacity < 0:
        add("capacity", "可预约人数不能为负数。")
    rep_ids = sorted({r.pk for r in representatives})
    if rep_ids:
        assigned = set(
            StudioAssignment.objects.filter(
                studio=data.studio, representative_id__in=rep_ids, active=True
            ).values_list("representative_id", flat=True)
        )
        for rep in representatives:
            if rep.pk not in assigned:
                add(
                    "representatives",
                    f"{rep.name}未进驻{data.studio.name}，不能参加该工作室的活动。",
                )
    if rep_ids and data.ends_at > data.starts_at:
        # Lock the representatives so two overlapping events cannot be saved at once.
        list(Representative.objects.select_for_update().filter(pk__in=rep_ids).order_by("pk"))
        clashes = (
            Event.objects.filter(
                representatives__in=rep_ids,
                starts_at__lt=data.ends_at,
                ends_at__gt=data.starts_at,
            )
            .exclude(state=EventState.CANCELLED)
            .select_related("studio")
            .distinct()
        )
        if exclude_pk:
            clashes = clashes.exclude(pk=exclude_pk)
        names = {r.pk: r.name for r in representatives}
        for other in clashes.prefetch_related("representatives")[:5]:
            who = "、".join(names[r.pk] for r in other.representatives.all() if r.pk in names)
            add("starts_at", f"{who}在该时段已有活动：{describe(other)}，时间重叠。")
    if errors:
        raise ValidationError(errors)


def _apply(event: Event, data: EventData) -> None:
    for name in (
        "studio",
        "kind",
        "starts_at",
        "ends_at",
        "theme",
        "place",
        "capacity",
        "activity_month",
    ):
        setattr(event, name, getattr(data, name))


@transaction.atomic
def event_create(
    *,
    actor: Any,
    data: EventData,
    representatives: Sequence[Representative] = (),
    submission_key: UUID | None = None,
) -> Event:
    """A planned event. A second one with the page's `submission_key` (the form sent
    twice) is refused by the unique constraint, an IntegrityError: `created_with`."""
    if not Studio.objects.for_editor(actor).filter(pk=data.studio.pk).exists():
        raise PermissionError
    _check(data, representatives, None)
    event = Event(submission_key=submission_key)
    _apply(event, data)
    event.save()
    event.representatives.set(representatives)
    return event


def created_with(submission_key: UUID | None) -> Event | None:
    """The event a page's one-time key created, if any. Not scoped: the caller shows it
    only to whoever may edit it."""
    return made_with(Event, submission_key, "pk", "studio_id")


@transaction.atomic
def event_update(
    *, actor: Any, event: Event, data: EventData, representatives: Sequence[Representative] = ()
) -> Event:
    event = _locked(actor, event)
    if event.state not in EDITABLE:
        raise ValidationError(f"活动当前状态为“{event.get_state_display()}”，不能修改。")
    if not Studio.objects.for_editor(actor).filter(pk=data.studio.pk).exists():
        raise PermissionError
    _check(data, representatives, event.pk)
    _apply(event, data)
    event.save()
    event.representatives.set(representatives)
    return event


def _locked(actor: Any, event: Event) -> Event:
    if not Event.objects.for_editor(actor).filter(pk=event.pk).exists():
        raise PermissionError
    return Event.objects.select_for_update().get(pk=event.pk)


@transaction.atomic
def event_publish(
    *, actor: Any, event: Event, late_reason: str = "", now: datetime | None = None
) -> Event:
    """Publish the time, place and participants (SM 10). Less than 7 days ahead needs a
    reason and is flagged "预告不足7天"."""
    event = _locked(actor, event)
    now = now or timezone.now()
    if event.state != EventState.PLANNED:
        raise ValidationError(f"活动当前状态为“{event.get_state_display()}”，不能发布预告。")
    if event.starts_at <= now:
        raise ValidationError("活动已经开始，不能再发布预告。")
    reason = late_reason.strip()
    late = event.starts_at - now < timedelta(NOTICE_DAYS)
    if late and not reason:
        days = (event.starts_at - now).days
        raise ValidationError(
            {
                "late_reason": f"距活动开始只有 {days} 天，不足7天（{cite('SM 10')}），"
                "发布预告须填写不足7天预告的理由。"
            }
        )
    event.state = EventState.PUBLISHED
    event.published_at = now
    event.late_reason = reason if late else ""
    event.save()
    return event


@transaction.atomic
def event_cancel(*, actor: Any, event: Event, reason: str) -> Event:
    event = _locked(actor, event)
    if event.state not in EDITABLE:
        raise ValidationError(f"活动当前状态为“{event.get_state_display()}”，不能取消。")
    if not reason.strip():
        raise ValidationError({"reason": "取消活动须写明理由。"})
    event.state = EventState.CANCELLED
    event.cancelled_reason = reason.strip()
    event.save()
    _cancel_bookings(actor, event)
    return event


def _cancel_bookings(actor: Any, event: Event) -> None:
    """The bookings still open for a cancelled event end with it, with the event's
    reason, and whoever booked is sent a text message (minyi.duties.booker_notices):
    left open, they stayed 待确认 or 已确认 for a meeting that would not take place,
    and the resident came to a closed door unless someone phoned."""
    from minyi.duties import booker_notices
    from minyi.duties.models import Appointment, AppointmentState, BookerNotice

    open_bookings = list(
        Appointment.objects.select_for_update(of=("self",)).filter(
            event=event, state__in=[AppointmentState.REQUESTED, AppointmentState.CONFIRMED]
        )
    )
    if not open_bookings:
        return
    reason = f"活动取消：{event.cancelled_reason}"
    now = timezone.now()
    Appointment.objects.filter(pk__in=[a.pk for a in open_bookings]).update(
        state=AppointmentState.CANCELLED,
        cancel_reason=reason,
        handled_by=actor,
        handled_at=now,
        updated_at=now,
    )
    for booking in open_bookings:
        booking.event = event  # the texts name the event's studio: read once, with it
    BookerNotice.objects.bulk_create(
        [
            BookerNotice(
                appointment=b, text=booker_notices.cancelled_text(b, event.cancelled_reason)
            )
            for b in open_bookings
        ]
    )
    record_bulk(Appointment, len(open_bookings), cause=f"取消活动 duties.event#{event.pk}")


@dataclass(frozen=True)
class Presence:
    representative: Representative
    arrived_at: datetime
    left_at: datetime


@transaction.atomic
def event_record(
    *,
    actor: Any,
    event: Event,
    attendance: Sequence[Presence],
    people_received: int | None,
    summary: str,
    now: datetime | None = None,
) -> Event:
    """What happened: who attended from when to when, how many people were received,
    what was discussed. The event becomes 已举行; recording again replaces the record."""
    event = _locked(actor, event)
    now = now or timezone.now()
    if event.state not in {EventState.PLANNED, EventState.PUBLISHED, EventState.HELD}:
        raise ValidationError(f"活动当前状态为“{event.get_state_display()}”，不能记录活动情况。")
    errors: dict[str, list[str]] = {}
    if event.starts_at > now:
        errors.setdefault("__all__", []).append("活动尚未开始，不能记录活动情况。")
    assigned = set(
        StudioAssignment.objects.filter(studio=event.studio).values_list(
            "representative_id", flat=True
        )
    ) | set(event.representatives.values_list("pk", flat=True))
    for p in attendance:
        if p.representative.pk not in assigned:
            errors.setdefault("attendance", []).append(
                f"{p.representative.name}未进驻本工作室，不能记为出席。"
            )
        if p.left_at <= p.arrived_at:
            errors.setdefault("attendance", []).append(
                f"{p.representative.name}的离开时间须晚于到达时间。"
            )
    if people_received is not None and people_received < 0:
        errors.setdefault("people_received", []).append("接待人数不能为负数。")
    if errors:
        raise ValidationError(errors)
    event.attendances.all().delete()
    present = Attendance.objects.bulk_create(
        [
            Attendance(
                event=event,
                representative=p.representative,
                arrived_at=p.arrived_at,
                left_at=p.left_at,
            )
            for p in attendance
        ]
    )
    record_bulk(Attendance, len(present), cause=f"活动签到 duties.event#{event.pk}")
    # bulk_create() sends no signals: the attendees' compliance tallies are marked here
    # (the event's save below marks its studio and its linked representatives too).
    tallies.mark_representatives([p.representative.pk for p in attendance])
    event.representatives.add(*[p.representative for p in attendance])
    event.people_received = people_received
    event.summary = summary.strip()
    event.state = EventState.HELD
    event.save()
    return event


# --- the activity month (CM 6) -------------------------------------------------------


def can_set_activity_month(actor: Any) -> bool:
    if actor.is_superuser:
        return True
    scope = scope_of(actor)
    return (
        actor.role == Role.CITY_OFFICIAL and scope.unit is not None and scope.unit.level == "city"
    )


@transaction.atomic
def activity_month_set(*, actor: Any, year: int, theme: str, content: str) -> ActivityMonth:
    if not can_set_activity_month(actor):
        raise PermissionError
    errors = {}
    if not theme.strip():
        errors["theme"] = "请填写活动月主题。"
    if not content.strip():
        errors["content"] = "请填写活动内容。"
    if errors:
        raise ValidationError(errors)
    month, _ = ActivityMonth.objects.update_or_create(
        year=year, defaults={"theme": theme.strip(), "content": content.strip()}
    )
    return month


def _july(year: int) -> tuple[datetime, datetime]:
    from minyi.duties.plans import SHANGHAI

    return datetime(year, 7, 1, tzinfo=SHANGHAI), datetime(year, 8, 1, tzinfo=SHANGHAI)


@dataclass
class ParticipationRow:
    district: str
    street: str
    events: int = 0
    held: int = 0
    representatives: int = 0
    people_received: int = 0


def activity_month_report(*, user: Any, year: int) -> tuple[list[ParticipationRow], dict]:
    """Participation in the year's activity month by district and street, in scope:
    activity-month events in July (not cancelled), representatives taking part
    (listed on the events or attending), people received. A fixed number of queries."""
    from django.db.models import Sum

    from minyi.org.models import OrgUnit

    start, end = _july(year)
    events = (
        Event.objects.for_user(user)
        .filter(activity_month=True, starts_at__gte=start, starts_at__lt=end)
        .exclude(state=EventState.CANCELLED)
    )
    ids = events.values("pk")
    base = Event.objects.filter(pk__in=ids)
    keys: tuple[str, ...] = ("studio__unit_id", "studio__unit__level", "studio__unit__district_id")
    keys += ("studio__unit__street_id",)
    per_unit = base.values(*keys).annotate(
        n=Count("pk"),
        held=Count("pk", filter=Q(state=EventState.HELD)),
        people=Sum("people_received"),
    )
    rep_keys = base.values(*keys, "representatives").exclude(representatives=None).distinct()

    def place(unit_id: int, level: str, district: int | None, street: int | None) -> tuple:
        district = district or (unit_id if level == "district" else None)
        street = street or (unit_id if level == "street" else None)
        return district, street

    groups: dict[tuple, dict[str, Any]] = {}
    for row in per_unit:
        key = place(*(row[k] for k in keys))
        g = groups.setdefault(key, {"n": 0, "held": 0, "people": 0, "reps": set()})
        g["n"] += row["n"]
        g["held"] += row["held"]
        g["people"] += row["people"] or 0
    all_reps: set[int] = set()
    for row in rep_keys:
        key = place(*(row[k] for k in keys))
        groups.setdefault(key, {"n": 0, "held": 0, "people": 0, "reps": set()})
        groups[key]["reps"].add(row["representatives"])
        all_reps.add(row["representatives"])
    unit_ids = {i for key in groups for i in key if i}
    names = {u.pk: u.short_name or u.name for u in OrgUnit.objects.filter(pk__in=unit_ids)}
    rows = [
        ParticipationRow(
            district=names.get(d, "（市直）"),
            street=names.get(s, "（区直、工委）"),
            events=g["n"],
            held=g["held"],
            representatives=len(g["reps"]),
            people_received=g["people"],
        )
        for (d, s), g in groups.items()
    ]
    rows.sort(key=lambda r: (r.district, r.street))
    totals = {
        "events": sum(r.events for r in rows),
        "held": sum(r.held for r in rows),
        "representatives": len(all_reps),
        "people_received": sum(r.people_received for r in rows),
    }
    return rows, totals
