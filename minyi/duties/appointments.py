"""约访 (CM 8): residents, companies and organisations book a place at a published
event; the liaison confirms (the representative is notified), cancels, records a
no-show or the meeting, and links the meeting to the opinion case it produced.

Every function is one transaction. Booking locks the event row, so the places
counted and the place taken cannot interleave with another booking: `SELECT … FOR
UPDATE` on PostgreSQL; on SQLite the settings begin every transaction IMMEDIATE, so
the database write lock serialises bookings the same way.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from minyi.cases.models import Case
from minyi.core.crypto import phone_digest
from minyi.core.phones import normalize_phone
from minyi.duties import booker_notices
from minyi.duties.models import (
    Appointment,
    AppointmentState,
    AppointmentView,
    Event,
    EventState,
    RequesterKind,
)
from minyi.duties.notify import month_day, notification_send
from minyi.duties.references import new_reference

FULL = "本场活动的预约名额已满，请选择其他场次，或直接到工作室反映。"
NOT_BOOKABLE = "本场活动不接受预约。"


class AppointmentNotAllowed(Exception):
    """A step the appointment's state does not allow, explained in Chinese."""


def bookable_events():
    """Published, in the future, with places: the only events the public may book."""
    return Event.objects.filter(
        state=EventState.PUBLISHED, starts_at__gt=timezone.now(), capacity__gt=0
    )


def places_left(event: Event) -> int:
    taken = Appointment.objects.filter(event=event).holding_a_place().count()
    return max(event.capacity - taken, 0)


def appointment_book(
    *,
    event: Event,
    requester_kind: str,
    name: str,
    phone: str,
    topic: str,
    preferred_representative: Any = None,
) -> Appointment:
    """Take a place at `event`, or raise ValidationError (full, not bookable, bad
    field). Nothing is saved unless every check passes."""
    errors: dict[str, list[str]] = {}
    name, topic = (name or "").strip(), (topic or "").strip()
    if requester_kind not in RequesterKind.values:
        errors["requester_kind"] = ["请选择预约方：个人、企业或组织。"]
    if not name:
        errors["name"] = ["请填写姓名或单位名称。"]
    if not topic:
        errors["topic"] = ["请简要写明想反映的事情。"]
    try:
        phone = normalize_phone(phone)
    except ValidationError as exc:
        errors["phone"] = list(exc.messages)
    else:
        if not phone:
            errors["phone"] = ["请填写联系电话，联络员将通过电话与您确认。"]
    with transaction.atomic():
        locked = (
            Event.objects.select_for_update()
            .filter(pk=event.pk, state=EventState.PUBLISHED, starts_at__gt=timezone.now())
            .first()
        )
        if locked is None or locked.capacity == 0:
            raise ValidationError(NOT_BOOKABLE, code="not_bookable")
        if (
            preferred_representative is not None
            and not locked.representatives.filter(pk=preferred_representative.pk).exists()
        ):
            errors["preferred_representative"] = ["请在本场活动的党代表中选择。"]
        if errors:
            raise ValidationError(errors)
        again = _same_booking(locked, name, phone, topic)
        if again is not None:
            return again
        taken = Appointment.objects.filter(event=locked).holding_a_place().count()
        if taken >= locked.capacity:
            raise ValidationError(FULL, code="full")
        return Appointment.objects.create(
            event=locked,
            reference=unused_reference(),
            requester_kind=requester_kind,
            name=name,
            phone=phone,
            topic=topic,
            preferred_representative=preferred_representative,
        )


def unused_reference() -> str:
    """A reference no booking has: drawn again on the rare clash, which the unique
    column would otherwise turn into an error page for the resident."""
    while True:
        reference = new_reference()
        if not Appointment.objects.filter(reference=reference).exists():
            return reference


def _same_booking(event: Event, name: str, phone: str, topic: str) -> Appointment | None:
    """The place this very booking already holds: a double click or a resent form
    takes one place, not two. Same phone, name and topic; another person booking with
    the same phone (a family's) is a booking of its own. Called under the event's lock."""
    held = Appointment.objects.filter(
        event=event, phone_digest=phone_digest(phone), topic=topic
    ).holding_a_place()
    # The name is encrypted: compared once decrypted, on the few rows of this phone.
    return next((a for a in held.order_by("pk") if a.name == name), None)


def appointment_view_record(*, appointment: Appointment, viewer: Any, purpose: str) -> None:
    """A full view of whoever booked (name and phone), recorded like a reporter's."""
    AppointmentView.objects.create(appointment=appointment, viewer=viewer, purpose=purpose)


def _locked(appointment: Appointment, actor: Any) -> Appointment:
    """The appointment again, locked, through the actor's write scope."""
    return (
        Appointment.objects.for_editor(actor)
        .select_for_update(of=("self",))
        .select_related("event", "event__studio", "preferred_representative")
        .get(pk=appointment.pk)
    )


def _require(appointment: Appointment, allowed: set[str], verb: str) -> None:
    if appointment.state not in allowed:
        raise AppointmentNotAllowed(
            f"该预约当前状态为“{appointment.get_state_display()}”，不能{verb}。"
        )


def _recipients(appointment: Appointment) -> list[Any]:
    rep = appointment.preferred_representative
    if rep is not None and rep.user_id:
        return [rep.user]
    event = appointment.event
    return [r.user for r in event.representatives.select_related("user") if r.user_id]


def appointment_confirm(*, appointment: Appointment, actor: Any) -> Appointment:
    with transaction.atomic():
        appt = _locked(appointment, actor)
        _require(appt, {AppointmentState.REQUESTED}, "确认")
        appt.state = AppointmentState.CONFIRMED
        appt.confirmed_at = timezone.now()
        appt.confirmed_by = actor
        appt.save(update_fields=["state", "confirmed_at", "confirmed_by", "updated_at"])
        booker_notices.notice_confirmed(appt)
        event = appt.event
        when = timezone.localtime(event.starts_at)
        notification_send(
            recipients=_recipients(appt),
            text=(
                f"预约已确认：{month_day(when)} {when:%H:%M} {event.studio.name}，"
                f"{appt.get_requester_kind_display()}预约（预约号 {appt.reference_display}），"
                f"反映事项：{appt.topic}"
            ),
            url=reverse("duties:appointment_detail", args=[appt.pk]),
        )
        return appt


def appointment_cancel(*, appointment: Appointment, actor: Any, reason: str) -> Appointment:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["请填写取消理由。"]})
    with transaction.atomic():
        appt = _locked(appointment, actor)
        _require(appt, {AppointmentState.REQUESTED, AppointmentState.CONFIRMED}, "取消")
        was_confirmed = appt.state == AppointmentState.CONFIRMED
        appt.state = AppointmentState.CANCELLED
        appt.cancel_reason = reason
        _handled(appt, actor, "cancel_reason")
        booker_notices.notice_cancelled(appt, reason)
        if was_confirmed:
            # The representatives who were told of the meeting are told why it is off.
            when = timezone.localtime(appt.event.starts_at)
            notification_send(
                recipients=_recipients(appt),
                text=(
                    f"预约已取消：{month_day(when)} {when:%H:%M} {appt.event.studio.name}"
                    f"（预约号 {appt.reference_display}），反映事项：{appt.topic}。理由：{reason}"
                ),
                url=reverse("duties:appointment_detail", args=[appt.pk]),
            )
        return appt


def _handled(appt: Appointment, actor: Any, *fields: str) -> None:
    """Save a state change with who recorded it and when."""
    appt.handled_by, appt.handled_at = actor, timezone.now()
    appt.save(update_fields=["state", "handled_by", "handled_at", "updated_at", *fields])


def _after_start(appt: Appointment) -> None:
    if appt.event.starts_at > timezone.now():
        raise AppointmentNotAllowed("活动尚未开始，不能登记到场情况。")


def appointment_mark_no_show(*, appointment: Appointment, actor: Any) -> Appointment:
    with transaction.atomic():
        appt = _locked(appointment, actor)
        _require(appt, {AppointmentState.REQUESTED, AppointmentState.CONFIRMED}, "登记未到")
        _after_start(appt)
        appt.state = AppointmentState.NO_SHOW
        _handled(appt, actor)
        return appt


def appointment_mark_attended(*, appointment: Appointment, actor: Any) -> Appointment:
    with transaction.atomic():
        appt = _locked(appointment, actor)
        _require(
            appt,
            {AppointmentState.REQUESTED, AppointmentState.CONFIRMED, AppointmentState.NO_SHOW},
            "登记已接待",
        )
        _after_start(appt)
        appt.state = AppointmentState.ATTENDED
        _handled(appt, actor)
        return appt


def linkable_cases(appointment: Appointment, user: Any):
    """The cases the user may see, registered at the event's studio on its date."""
    day = timezone.localtime(appointment.event.starts_at).date()
    return Case.objects.for_user(user).filter(
        studio_id=appointment.event.studio_id, received_on=day
    )


def appointment_link_case(*, appointment: Appointment, actor: Any, case: Case) -> Appointment:
    with transaction.atomic():
        appt = _locked(appointment, actor)
        _require(appt, {AppointmentState.CONFIRMED, AppointmentState.ATTENDED}, "关联案件")
        if not linkable_cases(appt, actor).filter(pk=case.pk).exists():
            raise ValidationError({"case": ["只能关联本工作室在活动当天登记的社情民意。"]})
        appt.case = case
        appt.save(update_fields=["case", "updated_at"])
        return appt
