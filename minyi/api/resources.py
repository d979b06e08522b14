"""Read resources: studios, handling units, representatives, events, appointments and
the working-day calendar. Lists reuse the screens' list views (their `for_user`
queryset, filter form and `filter()`); details fetch through `for_user` (404 out of
scope) and show what the detail page shows to the same role."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from minyi.api.common import (
    ERRORS,
    ONE,
    STEP,
    ApiError,
    PageParams,
    account,
    form_error,
    reject_unknown_params,
    screen_list,
)
from minyi.core import stale
from minyi.core.phones import display_phone
from minyi.core.regulations import cite
from minyi.duties import appointments as appts
from minyi.duties.forms_people import CancelForm, LinkCaseForm
from minyi.duties.models import Appointment, AppointmentState, Event, EventKind, EventState
from minyi.duties.views_events import EventList, reps_prefetch
from minyi.duties.views_people import BOOKER_FULL_VIEW, AppointmentList
from minyi.org.views import HandlingUnitList
from minyi.people.models import Representative, RepresentativeCategory, RepresentativeLevel
from minyi.people.views import RepresentativeList
from minyi.studios.models import Studio, StudioAssignment, StudioKind
from minyi.studios.views import StudioList, with_people
from minyi.workdays.calendar import add_workdays

router = Router()


def _one(qs: Any, pk: int) -> Any:
    found = qs.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


# --- studios -------------------------------------------------------------------------


class StudioOut(Schema):
    id: int
    name: str
    kind: str
    unit_id: int
    unit_name: str
    address: str
    opening_hours: str
    phone: str
    warnings: list[str]


class AssignmentPeriodOut(Schema):
    """A period in which a representative worked at the studio (the studio page's
    进驻党代表 and 曾进驻的党代表): `until` is null while it lasts, and for a period
    ended before its day was kept (`working` false)."""

    representative_id: int
    since: date | None
    until: date | None
    working: bool


class StudioDetail(StudioOut):
    host_organisation: str
    area_m2: float | None
    representative_ids: list[int]  # working here now
    periods: list[AssignmentPeriodOut]  # every period here, the latest start first


class StudioPage(Schema):
    items: list[StudioOut]
    next_cursor: str | None


class StudioFilters(PageParams):
    """The filters of the studio list page."""

    q: str | None = None
    kind: StudioKind | None = None
    street: int | None = None
    shortfall: bool = False


def _studio(studio: Studio, warnings: list[Any]) -> dict[str, Any]:
    return {
        "id": studio.pk,
        "name": studio.name,
        "kind": studio.kind,
        "unit_id": studio.unit_id,
        "unit_name": studio.unit.name,
        "address": studio.address,
        "opening_hours": studio.opening_hours,
        "phone": studio.phone,
        "warnings": [f"{cite(w.rule)}：{w.message}" for w in warnings],
    }


@router.get("/studios", response={200: StudioPage, **ERRORS}, tags=["studios"])
def list_studios(request: HttpRequest, filters: Query[StudioFilters]) -> dict[str, Any]:
    rows, cursor = screen_list(request, StudioList, filters)
    return {"items": [_studio(s, s.warnings) for s in rows], "next_cursor": cursor}


@router.get("/studios/{studio_id}", response={200: StudioDetail, **ONE}, tags=["studios"])
def get_studio(request: HttpRequest, studio_id: int) -> dict[str, Any]:
    studio = _one(with_people(Studio.objects.for_user(account(request))), studio_id)
    body = _studio(studio, studio.shortfalls(liaisons=studio.active_liaisons))
    body["host_organisation"] = studio.host_organisation
    body["area_m2"] = float(studio.area_m2) if studio.area_m2 is not None else None
    # One read for both: a representative who left and came back has a period each.
    periods = list(
        StudioAssignment.objects.filter(studio=studio)
        .order_by(F("since").desc(nulls_last=True), "-pk")
        .values_list("representative_id", "since", "until", "active")
    )
    body["representative_ids"] = sorted(rep for rep, _, _, active in periods if active)
    body["periods"] = [
        {"representative_id": rep, "since": since, "until": until, "working": active}
        for rep, since, until, active in periods
    ]
    return body


# --- handling units ------------------------------------------------------------------


class HandlingUnitOut(Schema):
    id: int
    name: str
    area_id: int
    area_name: str
    phone: str


class HandlingUnitPage(Schema):
    items: list[HandlingUnitOut]
    next_cursor: str | None


class HandlingUnitFilters(PageParams):
    q: str | None = None
    level: str | None = None


@router.get("/handling-units", response={200: HandlingUnitPage, **ERRORS}, tags=["org"])
def list_handling_units(
    request: HttpRequest, filters: Query[HandlingUnitFilters]
) -> dict[str, Any]:
    rows, cursor = screen_list(request, HandlingUnitList, filters)
    items = [
        {
            "id": u.pk,
            "name": u.name,
            "area_id": u.area_id,
            "area_name": u.area.name,
            "phone": u.phone,
        }
        for u in rows
    ]
    return {"items": items, "next_cursor": cursor}


# --- representatives -----------------------------------------------------------------


class RepresentativeOut(Schema):
    id: int
    name: str
    level: str
    category: str
    unit_id: int
    unit_name: str
    delegation_id: int | None
    group_id: int | None
    employer: str
    position: str
    phone: str
    linked_community_ids: list[int]
    active: bool


class RepresentativePage(Schema):
    items: list[RepresentativeOut]
    next_cursor: str | None


class RepresentativeFilters(PageParams):
    """The filters of the representative list page."""

    q: str | None = None
    level: RepresentativeLevel | None = None
    category: RepresentativeCategory | None = None
    delegation: int | None = None


def _rep(rep: Representative) -> dict[str, Any]:
    return {
        "id": rep.pk,
        "name": rep.name,
        "level": rep.level,
        "category": rep.category,
        "unit_id": rep.unit_id,
        "unit_name": rep.unit.name,
        "delegation_id": rep.delegation_id,
        "group_id": rep.group_id,
        "employer": rep.employer,
        "position": rep.position,
        "phone": display_phone(rep.phone),
        "linked_community_ids": sorted(u.pk for u in rep.linked_communities.all()),
        "active": rep.active,
    }


@router.get(
    "/representatives", response={200: RepresentativePage, **ERRORS}, tags=["representatives"]
)
def list_representatives(
    request: HttpRequest, filters: Query[RepresentativeFilters]
) -> dict[str, Any]:
    rows, cursor = screen_list(request, RepresentativeList, filters)
    return {"items": [_rep(r) for r in rows], "next_cursor": cursor}


@router.get(
    "/representatives/{representative_id}",
    response={200: RepresentativeOut, **ONE},
    tags=["representatives"],
)
def get_representative(request: HttpRequest, representative_id: int) -> dict[str, Any]:
    view = RepresentativeList()
    view.request = request
    return _rep(_one(view.base_queryset(), representative_id))


# --- events --------------------------------------------------------------------------


class EventOut(Schema):
    id: int
    studio_id: int
    studio_name: str
    kind: str
    theme: str
    starts_at: datetime
    ends_at: datetime
    place: str
    state: str
    capacity: int
    activity_month: bool
    published_at: datetime | None
    late: bool
    representative_ids: list[int]
    people_received: int | None
    summary: str
    late_reason: str
    cancelled_reason: str
    # When the event last changed, exactly (JSON times stop at the millisecond), to
    # send back unchanged with POST /events/{id}/edit: an event changed since is not
    # overwritten.
    version: str


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


class EventFilters(PageParams):
    """The filters of the event list page (活动安排)."""

    q: str | None = None
    studio: int | None = None
    kind: EventKind | None = None
    state: EventState | None = None
    date_from: date | None = None
    date_to: date | None = None
    activity_month: bool = False


def _event(event: Event) -> dict[str, Any]:
    return {
        "id": event.pk,
        "studio_id": event.studio_id,
        "studio_name": event.studio.name,
        "kind": event.kind,
        "theme": event.theme,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "place": event.place,
        "state": event.state,
        "capacity": event.capacity,
        "activity_month": event.activity_month,
        "published_at": event.published_at,
        "late": bool(getattr(event, "late", False)),
        "representative_ids": [r.pk for r in event.representatives.all()],
        "people_received": event.people_received,
        "summary": event.summary,
        "late_reason": event.late_reason,
        "cancelled_reason": event.cancelled_reason,
        "version": stale.token(event.updated_at),
    }


@router.get("/events", response={200: EventPage, **ERRORS}, tags=["events"])
def list_events(request: HttpRequest, filters: Query[EventFilters]) -> dict[str, Any]:
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ApiError(422, "invalid", "结束日期不能早于开始日期。", {"date_to": ["早于开始日期"]})
    rows, cursor = screen_list(request, EventList, filters)
    return {"items": [_event(e) for e in rows], "next_cursor": cursor}


@router.get("/events/{event_id}", response={200: EventOut, **ONE}, tags=["events"])
def get_event(request: HttpRequest, event_id: int) -> dict[str, Any]:
    from minyi.duties.views_events import mark_events

    qs = (
        Event.objects.for_user(account(request))
        .distinct()
        .select_related("studio")
        .prefetch_related(reps_prefetch())
    )
    return _event(mark_events([_one(qs, event_id)])[0])


# --- appointments --------------------------------------------------------------------


class AppointmentOut(Schema):
    id: int
    event_id: int
    studio_id: int
    event_starts_at: datetime
    requester_kind: str
    # Masked (王*, 138****5678), as on the pages: in full only from
    # POST /appointments/{id}/reveal (recorded).
    name: str
    phone: str
    # Always true (the phone was shown in full to the studio's editors before the
    # name was masked too); kept for the integrations that read it.
    phone_masked: bool
    name_masked: bool
    # Whether that reveal would answer this account (the studio's editors); lists do
    # not say (null).
    revealable: bool | None
    topic: str
    preferred_representative_id: int | None
    state: str
    case_id: int | None


class AppointmentBooker(Schema):
    """预约人完整信息: whoever booked, as the appointment page's full view shows them."""

    appointment_id: int
    requester_kind: str
    name: str
    phone: str


class AppointmentPage(Schema):
    items: list[AppointmentOut]
    next_cursor: str | None


class AppointmentFilters(PageParams):
    """The filters of the appointment list page (群众预约)."""

    q: str | None = None
    state: AppointmentState | None = None
    upcoming: bool = False


def _appointment(a: Appointment, revealable: bool | None) -> dict[str, Any]:
    """The appointment as its page shows it: the booker masked. Every action answers
    with this too, so no full view goes unrecorded."""
    return {
        "id": a.pk,
        "event_id": a.event_id,
        "studio_id": a.event.studio_id,
        "event_starts_at": a.event.starts_at,
        "requester_kind": a.requester_kind,
        "name": a.name_masked,
        "phone": a.phone_masked,
        "phone_masked": True,
        "name_masked": True,
        "revealable": revealable,
        "topic": a.topic,
        "preferred_representative_id": a.preferred_representative_id,
        "state": a.state,
        "case_id": a.case_id,
    }


@router.get("/appointments", response={200: AppointmentPage, **ERRORS}, tags=["appointments"])
def list_appointments(request: HttpRequest, filters: Query[AppointmentFilters]) -> dict[str, Any]:
    rows, cursor = screen_list(request, AppointmentList, filters)
    return {"items": [_appointment(a, None) for a in rows], "next_cursor": cursor}


@router.get(
    "/appointments/{appointment_id}",
    response={200: AppointmentOut, **ONE},
    tags=["appointments"],
)
def get_appointment(request: HttpRequest, appointment_id: int) -> dict[str, Any]:
    user = account(request)
    # Masked, as the page shows it: the name is not read (only the reveal decrypts it).
    qs = Appointment.objects.for_user(user).select_related("event").defer(*BOOKER_FULL_VIEW)
    appointment = _one(qs, appointment_id)
    editor = Appointment.objects.for_editor(user).filter(pk=appointment.pk).exists()
    return _appointment(appointment, editor)


# The purpose recorded with each full view, as the page records "查看预约人完整信息".
APPOINTMENT_REVEAL_PURPOSE = "开放接口查看预约人完整信息"


@router.post(
    "/appointments/{appointment_id}/reveal",
    response={200: AppointmentBooker, **ONE},
    tags=["appointments"],
)
def reveal_booker(
    request: HttpRequest, appointment_id: int, response: HttpResponse
) -> dict[str, Any]:
    """预约人完整信息: whoever booked, name and phone in full, to exactly those the
    appointment page shows them to (the studio's editors, who confirm the booking; anyone
    else 404). Each call is recorded as a view of personal data and never cached."""
    user = account(request)
    appointment = _one(Appointment.objects.for_editor(user), appointment_id)
    appts.appointment_view_record(
        appointment=appointment, viewer=user, purpose=APPOINTMENT_REVEAL_PURPOSE
    )
    response["Cache-Control"] = "no-store"
    return {
        "appointment_id": appointment.pk,
        "requester_kind": appointment.requester_kind,
        "name": appointment.name,
        "phone": display_phone(appointment.phone),
    }


class CancelIn(Schema):
    reason: str


class LinkCaseIn(Schema):
    case_id: int


def _act(request: HttpRequest, appointment_id: int, run: Any) -> dict[str, Any]:
    """An appointment action as the appointment page takes it: fetched through
    `for_editor` (the studio's editors; others 404), then the duties service. A state
    that does not allow it is 409 with the reason."""
    user = account(request)
    appointment = _one(Appointment.objects.for_editor(user).select_related("event"), appointment_id)
    try:
        run(appointment, user)
    except appts.AppointmentNotAllowed as exc:
        raise ApiError(409, "transition_not_allowed", str(exc)) from exc
    return _appointment(_one(Appointment.objects.select_related("event"), appointment.pk), True)


@router.post(
    "/appointments/{appointment_id}/confirm",
    response={200: AppointmentOut, **STEP},
    tags=["appointments"],
)
def confirm_appointment(request: HttpRequest, appointment_id: int) -> dict[str, Any]:
    """确认预约 (the representative is notified)."""
    return _act(
        request, appointment_id, lambda a, u: appts.appointment_confirm(appointment=a, actor=u)
    )


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, **STEP},
    tags=["appointments"],
)
def cancel_appointment(
    request: HttpRequest, appointment_id: int, payload: CancelIn
) -> dict[str, Any]:
    """取消预约, with the reason."""
    form = CancelForm({"reason": payload.reason})
    if not form.is_valid():
        raise form_error(form)
    reason = form.cleaned_data["reason"]
    return _act(
        request,
        appointment_id,
        lambda a, u: appts.appointment_cancel(appointment=a, actor=u, reason=reason),
    )


@router.post(
    "/appointments/{appointment_id}/no-show",
    response={200: AppointmentOut, **STEP},
    tags=["appointments"],
)
def appointment_no_show(request: HttpRequest, appointment_id: int) -> dict[str, Any]:
    """登记预约人未到 (after the event has started)."""
    return _act(
        request,
        appointment_id,
        lambda a, u: appts.appointment_mark_no_show(appointment=a, actor=u),
    )


@router.post(
    "/appointments/{appointment_id}/attended",
    response={200: AppointmentOut, **STEP},
    tags=["appointments"],
)
def appointment_attended(request: HttpRequest, appointment_id: int) -> dict[str, Any]:
    """登记已接待 (after the event has started)."""
    return _act(
        request,
        appointment_id,
        lambda a, u: appts.appointment_mark_attended(appointment=a, actor=u),
    )


@router.post(
    "/appointments/{appointment_id}/link-case",
    response={200: AppointmentOut, **STEP},
    tags=["appointments"],
)
def appointment_link_case(
    request: HttpRequest, appointment_id: int, payload: LinkCaseIn
) -> dict[str, Any]:
    """关联当天在该工作室登记的社情民意."""

    def run(appointment: Appointment, user: Any) -> None:
        form = LinkCaseForm(
            {"case": payload.case_id}, cases=appts.linkable_cases(appointment, user)
        )
        if not form.is_valid():
            raise form_error(form)
        appts.appointment_link_case(
            appointment=appointment, actor=user, case=form.cleaned_data["case"]
        )

    return _act(request, appointment_id, run)


# --- calendar ------------------------------------------------------------------------


class DeadlineOut(Schema):
    due: date
    provisional: bool
    missing_years: list[int]


@router.get("/calendar/deadline", response={200: DeadlineOut, **ERRORS}, tags=["calendar"])
def deadline(request: HttpRequest, date: str, days: int) -> dict[str, Any]:
    """The end of the Nth working day after `date` (the day itself never counts)."""
    from datetime import date as date_type

    reject_unknown_params(request, {"date", "days"})
    try:
        start = date_type.fromisoformat(date)
    except ValueError as exc:
        raise ApiError(
            422, "invalid", "日期请按 YYYY-MM-DD 填写。", {"date": ["日期格式不正确。"]}
        ) from exc
    if not 1 <= days <= 366:
        raise ApiError(422, "invalid", "工作日数应在 1 到 366 之间。", {"days": ["1–366"]})
    if not 2000 <= start.year <= 2100:
        raise ApiError(422, "invalid", "日期超出可计算范围。", {"date": ["2000–2100 年"]})
    result = add_workdays(start, days)
    return {
        "due": result.due,
        "provisional": result.provisional,
        "missing_years": list(result.missing_years),
    }
