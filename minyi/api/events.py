"""Writing events over the API: a draft for a studio, its edit, its publication (a week
ahead, or with a reason: SM 10, CM 8) and its cancellation. Each goes through the event page's
own form and `minyi.duties.events`, so the rules are the pages' and nobody may do by
API what they may not do on the pages: a studio the token cannot edit is not a choice,
an event it cannot edit (`Event.objects.for_editor`) is a 404.

Events carry no version number: the pages' publish and cancel lock the event and check
its state, and so do these; a step the state no longer allows (already published,
cancelled, started) is a 409 with the service's reason. An edit replaces the whole
event, so, as the edit page does with its hidden field (minyi.core.stale), it sends back
the event's `version` as read and is refused (409 `event_changed`) if the event changed
since."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest
from ninja import Schema
from ninja.responses import Status
from pydantic import Field

from minyi.api.common import STEP, ApiError, NoteText, account, form_error, refusal_fields

# The resources' router: Django resolves a path to the first router's view, which would
# answer 405 to a method that only a second router's view of that path has.
from minyi.api.resources import EventOut, get_event, router
from minyi.core import stale
from minyi.core.integrity import references_checked
from minyi.duties import events as services
from minyi.duties.forms_events import CancelForm, EventForm, PublishForm
from minyi.duties.forms_plans import editable_studios
from minyi.duties.models import Event, EventKind
from minyi.duties.views_events import EVENT_GONE

# The calendar the rules compute in (working days, the activity month's July); a
# year beyond it would only overflow the conversions to local time.
YEARS = range(2000, 2101)


class EventIn(Schema):
    """The fields of the event form (新建活动); validated by that form."""

    studio_id: int = Field(description="工作室 id（令牌能编辑的）")
    kind: EventKind = Field(description="活动类型")
    starts_at: datetime = Field(description="开始时间（带时区）")
    ends_at: datetime = Field(description="结束时间（带时区）")
    theme: str = ""
    place: str = ""
    representative_ids: list[int] = Field([], description="参加的党代表 id（须进驻该工作室）")
    capacity: int = Field(0, description="可预约人数")
    activity_month: bool = Field(False, description="属于“党代表活动月”")


class EventEditIn(EventIn):
    """The whole event as it should be, and the event's `version` as last read
    (GET /events/{id}), sent back unchanged."""

    version: str = Field(description="读取活动时得到的 version，原样传回")


class PublishIn(Schema):
    """`late_reason` is required when the event starts in less than 7 days (SM 10)."""

    late_reason: NoteText = Field("", description="距开始不足 7 天时必填：预告不足 7 天的原因")


class CancelIn(Schema):
    reason: NoteText = Field(description="取消原因")


def _form_data(payload: EventIn) -> dict[str, Any]:
    for name in ("starts_at", "ends_at"):
        if getattr(payload, name).year not in YEARS:
            raise ApiError(422, "invalid", "活动时间超出可安排的范围。", {name: ["2000—2100 年"]})
    return {
        "studio": payload.studio_id,
        "kind": payload.kind,
        "theme": payload.theme,
        "starts_at": payload.starts_at,
        "ends_at": payload.ends_at,
        "place": payload.place,
        "representatives": payload.representative_ids,
        "capacity": payload.capacity,
        "activity_month": "on" if payload.activity_month else "",
    }


def _refused(exc: ValidationError) -> ApiError:
    """A refusal of a field (a missing reason) is bad input, 422; one of the event's
    state (already published, started, cancelled) is a conflict, 409."""
    if hasattr(exc, "error_dict"):
        fields = refusal_fields(exc)
        return ApiError(422, "invalid", next(iter(fields.values()))[0], fields)
    return ApiError(409, "transition_not_allowed", "；".join(exc.messages))


def _step(request: HttpRequest, event_id: int, run: Callable[[Event, Any], Any]) -> dict:
    user = account(request)
    event = Event.objects.for_editor(user).filter(pk=event_id).first()
    if event is None:
        raise Http404
    try:
        run(event, user)
    except PermissionError as exc:
        raise Http404 from exc
    except ValidationError as exc:
        raise _refused(exc) from exc
    return get_event(request, event.pk)


@router.post("/events", response={201: EventOut, **STEP}, tags=["活动"], summary="新建活动")
def create_event(request: HttpRequest, payload: EventIn) -> Any:
    """按“新建活动”表单的字段和校验规则，在令牌能编辑的工作室新建一场活动（计划状态，
    尚未发布预告），成功答 201。参加的党代表须进驻该工作室；同一党代表时间重叠的活动
    不予新建。

    可调用：该工作室的编辑者——辖区内的组织部门、该工作室的联络员。不编辑任何工作室的角色答 404。

    错误：422 字段有误（`fields` 逐项说明，如工作室不在可选范围内、时间重叠）；
    409 `reference_gone`（所选工作室或党代表刚被删除或停用，未保存）。"""
    user = account(request)
    if not editable_studios(user).exists():
        raise Http404  # as the event page: a role that edits no studio
    form = EventForm(_form_data(payload), user=user)
    if not form.is_valid():
        raise form_error(form)
    try:
        with references_checked(EVENT_GONE):
            event = services.event_create(
                actor=user,
                data=form.event_data(),
                representatives=list(form.cleaned_data["representatives"]),
            )
    except PermissionError as exc:
        raise Http404 from exc
    return Status(201, get_event(request, event.pk))


@router.post(
    "/events/{event_id}/edit", response={200: EventOut, **STEP}, tags=["活动"], summary="修改活动"
)
def edit_event(request: HttpRequest, event_id: int, payload: EventEditIn) -> Any:
    """把尚未开始的活动（计划或已发布）整体改为请求体所给的内容，规则与新建相同。
    `version` 为读取活动时（`GET /api/v1/events/{event_id}`）得到的值，原样传回；
    活动在此之后被他人修改的，答 409 `event_changed`，不覆盖他人的修改。

    可调用：该工作室的编辑者——辖区内的组织部门、该工作室的联络员。

    错误：404 不存在或无权编辑；409 `event_changed`、`transition_not_allowed`
    （已开始或已取消，附原因）；422 字段有误。"""
    user = account(request)
    event = Event.objects.for_editor(user).filter(pk=event_id).first()
    if event is None:
        raise Http404
    form = EventForm(_form_data(payload), user=user, event=event)
    if not form.is_valid():
        raise form_error(form)
    try:
        with references_checked(EVENT_GONE), transaction.atomic():
            current = stale.locked_version(Event, event.pk)
            if current is not None and stale.token(current) != payload.version:
                raise ApiError(409, "event_changed", stale.changed_since(current))
            services.event_update(
                actor=user,
                event=event,
                data=form.event_data(),
                representatives=list(form.cleaned_data["representatives"]),
            )
    except PermissionError as exc:
        raise Http404 from exc
    except ValidationError as exc:
        raise _refused(exc) from exc
    return get_event(request, event.pk)


@router.post(
    "/events/{event_id}/publish",
    response={200: EventOut, **STEP},
    tags=["活动"],
    summary="发布活动预告",
)
def publish_event(request: HttpRequest, event_id: int, payload: PublishIn | None = None) -> Any:
    """发布活动预告。应至少提前 7 天发布；不足 7 天的须填写原因（`late_reason`），
    该活动随即标为“预告不足7天”（`late`）。

    可调用：该工作室的编辑者——辖区内的组织部门、该工作室的联络员。

    错误：404 不存在或无权编辑；409 当前状态不允许（已发布、已开始或已取消，附原因）；
    422 不足 7 天而未填原因。"""
    form = PublishForm({"late_reason": payload.late_reason if payload else ""})
    if not form.is_valid():
        raise form_error(form)
    reason = form.cleaned_data["late_reason"]
    return _step(
        request,
        event_id,
        lambda event, user: services.event_publish(actor=user, event=event, late_reason=reason),
    )


@router.post(
    "/events/{event_id}/cancel", response={200: EventOut, **STEP}, tags=["活动"], summary="取消活动"
)
def cancel_event(request: HttpRequest, event_id: int, payload: CancelIn) -> Any:
    """附原因（`reason`）取消一场计划中或已发布的活动。该活动待确认、已确认的预约随之取消
    （取消理由“活动取消：…”），并短信告知预约人（由 `deliver_feedback` 发出）。

    可调用：该工作室的编辑者——辖区内的组织部门、该工作室的联络员。

    错误：404 不存在或无权编辑；409 当前状态不允许（附原因）；422 未填原因。"""
    form = CancelForm({"reason": payload.reason})
    if not form.is_valid():
        raise form_error(form)
    reason = form.cleaned_data["reason"]
    return _step(
        request,
        event_id,
        lambda event, user: services.event_cancel(actor=user, event=event, reason=reason),
    )
