"""Read resources: studios, handling units, representatives, events, appointments and
the working-day calendar. Lists reuse the screens' list views (their `for_user`
queryset, filter form and `filter()`); details fetch through `for_user` (404 out of
scope) and show what the detail page shows to the same role."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from minyi.api.common import (
    ERRORS,
    ONE,
    PHONE_TEXT,
    STEP,
    ApiError,
    PageParams,
    account,
    choices_text,
    form_error,
    reject_unknown_params,
    screen_list,
)
from minyi.core import stale
from minyi.core.phones import display_phone
from minyi.core.regulations import cite
from minyi.duties import appointments as appts
from minyi.duties.forms_people import CancelForm, LinkCaseForm
from minyi.duties.models import (
    Appointment,
    AppointmentState,
    Event,
    EventKind,
    EventState,
    RequesterKind,
)
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
    kind: str = Field(description=choices_text("类型", StudioKind))
    unit_id: int = Field(description="所在辖区（社区或街道）的 id")
    unit_name: str = Field(description="所在辖区的名称")
    address: str
    opening_hours: str
    phone: str = Field(description=PHONE_TEXT)
    warnings: list[str] = Field(description="未达到配置要求之处，如缺专职联络员")


class AssignmentPeriodOut(Schema):
    """A period in which a representative worked at the studio (the studio page's
    进驻党代表 and 曾进驻的党代表): `until` is null while it lasts, and for a period
    ended before its day was kept (`working` false)."""

    representative_id: int
    since: date | None = Field(description="进驻日期；未记录时为 null")
    until: date | None = Field(description="离开日期；仍在进驻时为 null")
    working: bool = Field(description="现在仍在该工作室进驻")


class StudioDetail(StudioOut):
    host_organisation: str = Field(description="依托单位")
    area_m2: float | None = Field(description="面积（平方米）")
    representative_ids: list[int] = Field(description="现在进驻的党代表 id")  # working here now
    periods: list[AssignmentPeriodOut] = Field(
        description=("历次进驻时段，按开始日期从新到旧")
    )  # every period here, the latest start first


class StudioPage(Schema):
    items: list[StudioOut] = Field(description="本页的记录")
    next_cursor: str | None = Field(
        description=("下一页的游标，作为 cursor 参数传回；null 表示已是最后一页")
    )


class StudioFilters(PageParams):
    """The filters of the studio list page."""

    q: str | None = Field(None, description="关键词：名称、地址或所在辖区")
    kind: StudioKind | None = Field(None, description="工作室类型")
    street: int | None = Field(None, description="街道 id")
    shortfall: bool = Field(False, description="只看有不足项的")


def _studio(studio: Studio, warnings: list[Any]) -> dict[str, Any]:
    return {
        "id": studio.pk,
        "name": studio.name,
        "kind": studio.kind,
        "unit_id": studio.unit_id,
        "unit_name": studio.unit.name,
        "address": studio.address,
        "opening_hours": studio.opening_hours,
        "phone": display_phone(studio.phone),
        "warnings": [f"{cite(w.rule)}：{w.message}" for w in warnings],
    }


@router.get(
    "/studios", response={200: StudioPage, **ERRORS}, tags=["工作室"], summary="查询工作室列表"
)
def list_studios(request: HttpRequest, filters: Query[StudioFilters]) -> dict[str, Any]:
    """令牌范围内的党代表工作室，筛选条件与“工作室”列表页相同，按 id 从新到旧分页。
    `warnings` 是该工作室未达到配置要求之处（如缺专职联络员），与列表页所示相同。

    可调用：所有令牌，只列出该角色在列表页上能看到的。

    错误：422 筛选条件有误或 `cursor` 无效。"""
    rows, cursor = screen_list(request, StudioList, filters)
    return {"items": [_studio(s, s.warnings) for s in rows], "next_cursor": cursor}


@router.get(
    "/studios/{studio_id}",
    response={200: StudioDetail, **ONE},
    tags=["工作室"],
    summary="查看工作室详情",
)
def get_studio(request: HttpRequest, studio_id: int) -> dict[str, Any]:
    """工作室在其页面上所示的内容：地址、开放时间、电话、依托单位、面积，
    现在进驻的党代表（`representative_ids`）和历次进驻的时段（`periods`）。

    可调用：能在页面上查看该工作室的角色——辖区内的组织部门、该工作室的联络员和党代表。

    错误：404 不存在或无权查看。"""
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
    area_id: int = Field(description="所属辖区的 id")
    area_name: str = Field(description="所属辖区的名称")
    phone: str = Field(description=PHONE_TEXT)


class HandlingUnitPage(Schema):
    items: list[HandlingUnitOut] = Field(description="本页的记录")
    next_cursor: str | None = Field(
        description=("下一页的游标，作为 cursor 参数传回；null 表示已是最后一页")
    )


class HandlingUnitFilters(PageParams):
    q: str | None = Field(None, description="关键词：名称或职责")
    level: str | None = Field(None, description="层级：city 市级、district 区级、street 街道级")


@router.get(
    "/handling-units",
    response={200: HandlingUnitPage, **ERRORS},
    tags=["承办单位"],
    summary="查询承办单位列表",
)
def list_handling_units(
    request: HttpRequest, filters: Query[HandlingUnitFilters]
) -> dict[str, Any]:
    """承办单位，筛选条件与“承办单位”列表页相同（`q` 按名称，`level` 按层级），
    按 id 从新到旧分页。转办社情民意时的 `handling_unit_id` 从这里查。

    可调用：所有令牌，只列出该角色在列表页上能看到的。

    错误：422 筛选条件有误或 `cursor` 无效。"""
    rows, cursor = screen_list(request, HandlingUnitList, filters)
    items = [
        {
            "id": u.pk,
            "name": u.name,
            "area_id": u.area_id,
            "area_name": u.area.name,
            "phone": display_phone(u.phone),
        }
        for u in rows
    ]
    return {"items": items, "next_cursor": cursor}


# --- representatives -----------------------------------------------------------------


class RepresentativeOut(Schema):
    id: int
    name: str
    level: str = Field(description=choices_text("代表层级", RepresentativeLevel))
    category: str = Field(description=choices_text("代表类别", RepresentativeCategory))
    unit_id: int = Field(description="所属辖区的 id")
    unit_name: str = Field(description="所属辖区的名称")
    delegation_id: int | None = Field(description="所在代表团的 id")
    group_id: int | None = Field(description="所在代表小组的 id")
    employer: str = Field(description="工作单位")
    position: str = Field(description="职务")
    phone: str
    linked_community_ids: list[int] = Field(description="联系的社区 id")
    active: bool = Field(description="在任")


class RepresentativePage(Schema):
    items: list[RepresentativeOut] = Field(description="本页的记录")
    next_cursor: str | None = Field(
        description=("下一页的游标，作为 cursor 参数传回；null 表示已是最后一页")
    )


class RepresentativeFilters(PageParams):
    """The filters of the representative list page."""

    q: str | None = Field(None, description="关键词：姓名、工作单位或职务")
    level: RepresentativeLevel | None = Field(None, description="代表层级")
    category: RepresentativeCategory | None = Field(None, description="代表类别")
    delegation: int | None = Field(None, description="代表团 id")


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
    "/representatives",
    response={200: RepresentativePage, **ERRORS},
    tags=["党代表"],
    summary="查询党代表列表",
)
def list_representatives(
    request: HttpRequest, filters: Query[RepresentativeFilters]
) -> dict[str, Any]:
    """令牌范围内的党代表，筛选条件与“党代表”列表页相同，按 id 从新到旧分页。
    电话按页面的显示格式返回。

    可调用：所有令牌，只列出该角色在列表页上能看到的。

    错误：422 筛选条件有误或 `cursor` 无效。"""
    rows, cursor = screen_list(request, RepresentativeList, filters)
    return {"items": [_rep(r) for r in rows], "next_cursor": cursor}


@router.get(
    "/representatives/{representative_id}",
    response={200: RepresentativeOut, **ONE},
    tags=["党代表"],
    summary="查看党代表",
)
def get_representative(request: HttpRequest, representative_id: int) -> dict[str, Any]:
    """一位党代表在列表页上所示的信息。其履职情况见
    `GET /api/v1/representatives/{representative_id}/duty-record`。

    可调用：能在页面上看到该党代表的角色——辖区内的组织部门、所在工作室的联络员、
    党代表本人。

    错误：404 不存在或无权查看。"""
    view = RepresentativeList()
    view.request = request
    return _rep(_one(view.base_queryset(), representative_id))


# --- events --------------------------------------------------------------------------


class EventOut(Schema):
    id: int
    studio_id: int
    studio_name: str
    kind: str = Field(description=choices_text("活动类型", EventKind))
    theme: str = Field(description="主题")
    starts_at: datetime = Field(description="开始时间")
    ends_at: datetime = Field(description="结束时间")
    place: str = Field(description="地点")
    state: str = Field(description=choices_text("状态", EventState))
    capacity: int = Field(description="可预约人数")
    activity_month: bool = Field(description="属于“党代表活动月”")
    published_at: datetime | None = Field(description="发布预告的时间；未发布时为 null")
    late: bool = Field(description="预告不足 7 天")
    representative_ids: list[int] = Field(description="参加的党代表 id")
    people_received: int | None = Field(description="接待群众人数；未填报时为 null")
    summary: str = Field(description="活动小结")
    late_reason: str = Field(description="预告不足 7 天的原因")
    cancelled_reason: str = Field(description="取消原因")
    # When the event last changed, exactly (JSON times stop at the millisecond), to
    # send back unchanged with POST /events/{id}/edit: an event changed since is not
    # overwritten.
    version: str = Field(description="活动最后修改的时间戳（不透明字符串），修改活动时原样传回")


class EventPage(Schema):
    items: list[EventOut] = Field(description="本页的记录")
    next_cursor: str | None = Field(
        description=("下一页的游标，作为 cursor 参数传回；null 表示已是最后一页")
    )


class EventFilters(PageParams):
    """The filters of the event list page (活动安排)."""

    q: str | None = Field(None, description="关键词：主题或地点")
    studio: int | None = Field(None, description="工作室 id")
    kind: EventKind | None = Field(None, description="活动类型")
    state: EventState | None = Field(None, description="状态")
    date_from: date | None = Field(None, description="开始日期不早于")
    date_to: date | None = Field(None, description="开始日期不晚于")
    activity_month: bool = Field(False, description="只看党代表活动月的")


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


@router.get("/events", response={200: EventPage, **ERRORS}, tags=["活动"], summary="查询活动列表")
def list_events(request: HttpRequest, filters: Query[EventFilters]) -> dict[str, Any]:
    """令牌范围内的工作室活动（接待、走访等），筛选条件与“活动安排”页面相同，
    按 id 从新到旧分页。`date_from`、`date_to` 按活动开始日期筛选。

    可调用：所有令牌，只列出该角色在页面上能看到的。

    错误：422 筛选条件有误（如结束日期早于开始日期）或 `cursor` 无效。"""
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ApiError(422, "invalid", "结束日期不能早于开始日期。", {"date_to": ["早于开始日期"]})
    rows, cursor = screen_list(request, EventList, filters)
    return {"items": [_event(e) for e in rows], "next_cursor": cursor}


@router.get(
    "/events/{event_id}", response={200: EventOut, **ONE}, tags=["活动"], summary="查看活动详情"
)
def get_event(request: HttpRequest, event_id: int) -> dict[str, Any]:
    """一场活动在其页面上所示的内容。`version` 在修改活动时原样传回。

    可调用：能在页面上查看该活动的角色——辖区内的组织部门、该工作室的联络员和党代表。

    错误：404 不存在或无权查看。"""
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
    reference: str = Field(
        description="预约号（如 K7M-4QP），群众确认页上所示、来电时报出的号码；q 可按它查找"
    )
    event_id: int
    studio_id: int
    event_starts_at: datetime = Field(description="所预约活动的开始时间")
    requester_kind: str = Field(description=choices_text("预约人类型", RequesterKind))
    # Masked (王*, 138****5678), as on the pages: in full only from
    # POST /appointments/{id}/reveal (recorded).
    name: str = Field(description="预约人姓名（脱敏）")
    phone: str = Field(description="预约人电话（脱敏）")
    # Always true (the phone was shown in full to the studio's editors before the
    # name was masked too); kept for the integrations that read it.
    phone_masked: bool = Field(description="恒为 true")
    name_masked: bool = Field(description="恒为 true")
    # Whether that reveal would answer this account (the studio's editors); lists do
    # not say (null).
    revealable: bool | None = Field(description="令牌能否查看预约人完整信息；列表中为 null")
    topic: str = Field(description="预约事项")
    preferred_representative_id: int | None = Field(description="希望见的党代表 id")
    state: str = Field(description=choices_text("状态", AppointmentState))
    case_id: int | None = Field(description="关联的社情民意 id")


class AppointmentBooker(Schema):
    """预约人完整信息: whoever booked, as the appointment page's full view shows them."""

    appointment_id: int
    requester_kind: str
    name: str = Field(description="预约人姓名（完整）")
    phone: str = Field(description="预约人电话（完整）")


class AppointmentPage(Schema):
    items: list[AppointmentOut] = Field(description="本页的记录")
    next_cursor: str | None = Field(
        description=("下一页的游标，作为 cursor 参数传回；null 表示已是最后一页")
    )


class AppointmentFilters(PageParams):
    """The filters of the appointment list page (群众预约)."""

    q: str | None = Field(None, description="关键词：预约事项或预约号（不按预约人姓名搜索）")
    state: AppointmentState | None = Field(None, description="状态")
    upcoming: bool = Field(False, description="只看活动尚未开始的预约")


def _appointment(a: Appointment, revealable: bool | None) -> dict[str, Any]:
    """The appointment as its page shows it: the booker masked. Every action answers
    with this too, so no full view goes unrecorded."""
    return {
        "id": a.pk,
        "reference": a.reference_display,
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


@router.get(
    "/appointments",
    response={200: AppointmentPage, **ERRORS},
    tags=["群众预约"],
    summary="查询群众预约列表",
)
def list_appointments(request: HttpRequest, filters: Query[AppointmentFilters]) -> dict[str, Any]:
    """令牌范围内的群众预约，筛选条件与“群众预约”列表页相同，按 id 从新到旧分页。
    预约人姓名和电话已脱敏；列表中 `revealable` 为 null。

    可调用：所有令牌，只列出该角色在页面上能看到的。

    错误：422 筛选条件有误或 `cursor` 无效。"""
    rows, cursor = screen_list(request, AppointmentList, filters)
    return {"items": [_appointment(a, None) for a in rows], "next_cursor": cursor}


@router.get(
    "/appointments/{appointment_id}",
    response={200: AppointmentOut, **ONE},
    tags=["群众预约"],
    summary="查看群众预约详情",
)
def get_appointment(request: HttpRequest, appointment_id: int) -> dict[str, Any]:
    """一条预约在其页面上所示的内容，预约人姓名和电话已脱敏；`revealable` 表示令牌能否调用
    `POST /api/v1/appointments/{appointment_id}/reveal` 查看完整信息。

    可调用：能在页面上查看该预约的角色——辖区内的组织部门、该工作室的联络员和党代表。

    错误：404 不存在或无权查看。"""
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
    tags=["群众预约"],
    summary="查看预约人完整信息（留痕）",
)
def reveal_booker(
    request: HttpRequest, appointment_id: int, response: HttpResponse
) -> dict[str, Any]:
    """预约人的完整姓名和电话，与预约页面的“查看预约人完整信息”相同。
    每次调用都作为一次个人信息查看记入审计日志，应答不缓存（`Cache-Control: no-store`）。

    可调用：该工作室的编辑者——辖区内的组织部门、该工作室的联络员。

    错误：404 不存在、无权查看，或无权查看预约人完整信息。"""
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
    reason: str = Field(description="取消原因")


class LinkCaseIn(Schema):
    case_id: int = Field(description="当天在该工作室登记的社情民意 id")


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
    tags=["群众预约"],
    summary="确认预约",
)
def confirm_appointment(request: HttpRequest, appointment_id: int) -> dict[str, Any]:
    """确认一条待确认的预约，并通知党代表；给预约人的短信由 `deliver_feedback` 随后发出。
    请求体可省略。

    可调用：该工作室的编辑者——辖区内的组织部门、该工作室的联络员。

    错误：404 不存在或无权办理；409 当前状态不允许（`transition_not_allowed`，附原因）。"""
    return _act(
        request, appointment_id, lambda a, u: appts.appointment_confirm(appointment=a, actor=u)
    )


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, **STEP},
    tags=["群众预约"],
    summary="取消预约",
)
def cancel_appointment(
    request: HttpRequest, appointment_id: int, payload: CancelIn
) -> dict[str, Any]:
    """附原因（`reason`）取消一条预约；给预约人的短信（附原因）由 `deliver_feedback` 随后发出。

    可调用：该工作室的编辑者——辖区内的组织部门、该工作室的联络员。

    错误：404 不存在或无权办理；409 当前状态不允许（附原因）；422 未填原因或过长。"""
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
    tags=["群众预约"],
    summary="登记预约人未到",
)
def appointment_no_show(request: HttpRequest, appointment_id: int) -> dict[str, Any]:
    """活动开始后，登记预约人未到。请求体可省略。

    可调用：该工作室的编辑者——辖区内的组织部门、该工作室的联络员。

    错误：404 不存在或无权办理；409 活动尚未开始或当前状态不允许（附原因）。"""
    return _act(
        request,
        appointment_id,
        lambda a, u: appts.appointment_mark_no_show(appointment=a, actor=u),
    )


@router.post(
    "/appointments/{appointment_id}/attended",
    response={200: AppointmentOut, **STEP},
    tags=["群众预约"],
    summary="登记已接待",
)
def appointment_attended(request: HttpRequest, appointment_id: int) -> dict[str, Any]:
    """活动开始后，登记预约人已到并已接待。请求体可省略。

    可调用：该工作室的编辑者——辖区内的组织部门、该工作室的联络员。

    错误：404 不存在或无权办理；409 活动尚未开始或当前状态不允许（附原因）。"""
    return _act(
        request,
        appointment_id,
        lambda a, u: appts.appointment_mark_attended(appointment=a, actor=u),
    )


@router.post(
    "/appointments/{appointment_id}/link-case",
    response={200: AppointmentOut, **STEP},
    tags=["群众预约"],
    summary="关联社情民意",
)
def appointment_link_case(
    request: HttpRequest, appointment_id: int, payload: LinkCaseIn
) -> dict[str, Any]:
    """把预约关联到当天在该工作室登记的一件社情民意（`case_id`）。

    可调用：该工作室的编辑者——辖区内的组织部门、该工作室的联络员。

    错误：404 不存在或无权办理；409 当前状态不允许（附原因）；
    422 该件不是当天在该工作室登记的。"""

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
    due: date = Field(description="期限的最后一个工作日")
    provisional: bool = Field(description="结果为暂定（所涉年份的节假日尚未录入）")
    missing_years: list[int] = Field(description="缺少节假日安排的年份")


@router.get(
    "/calendar/deadline",
    response={200: DeadlineOut, **ERRORS},
    tags=["工作日历"],
    summary="计算工作日期限",
)
def deadline(
    request: HttpRequest,
    date: Annotated[str, Query(description="起算日期 YYYY-MM-DD（当天不计）")],
    days: Annotated[int, Query(description="工作日数，1—366")],
) -> dict[str, Any]:
    """从 `date`（当天不计）起第 `days` 个工作日（1—366）的日期，按国家法定节假日和调休计算，
    与系统计算答复期限的方法相同。某年的节假日尚未录入时，`provisional` 为 true，
    `missing_years` 列出缺少的年份，结果为暂定。

    可调用：所有令牌。

    错误：422 日期格式不是 `YYYY-MM-DD`、超出 2000—2100 年，或天数超出范围。"""
    from datetime import date as date_type

    reject_unknown_params(request, {"date", "days"})
    try:
        start = date_type.fromisoformat(date)
    except ValueError as exc:
        raise ApiError(
            422, "invalid", "日期请按 YYYY-MM-DD 填写。", {"date": ["日期格式不正确。"]}
        ) from exc
    if not 1 <= days <= 366:
        raise ApiError(422, "invalid", "工作日数应在 1 到 366 之间。", {"days": ["1—366"]})
    if not 2000 <= start.year <= 2100:
        raise ApiError(422, "invalid", "日期超出可计算范围。", {"date": ["2000—2100 年"]})
    result = add_workdays(start, days)
    return {
        "due": result.due,
        "provisional": result.provisional,
        "missing_years": list(result.missing_years),
    }
