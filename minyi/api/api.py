"""The open API (issue 6): REST over JSON under /api/v1/, scoped exactly like the screens.

Every read goes through `X.objects.for_user(token.user)`; every change through the
case services and `permitted_actions`. Errors are `{"code", "message", "fields"}`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.html import escape
from ninja import NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.responses import Status
from ninja.security import HttpBearer

from minyi.api.models import ApiToken, IdempotencyKey, hash_secret
from minyi.cases.access import can_see_reporter, permitted_actions
from minyi.cases.forms import RegistrationForm
from minyi.cases.models import Case
from minyi.cases.services import (
    CaseChanged,
    case_refer,
    case_register,
    case_send_to_street,
    record_personal_data_view,
    today,
)
from minyi.cases.states import Action, CaseState, TransitionNotAllowed, allowed_actions
from minyi.org.models import HandlingUnit
from minyi.studios.models import Studio
from minyi.workdays.calendar import add_workdays

logger = logging.getLogger(__name__)

PAGE_SIZE = 50


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def error(status: int, code: str, message: str, fields: dict | None = None) -> JsonResponse:
    return JsonResponse(
        {"code": code, "message": message, "fields": fields or {}},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = (
            ApiToken.objects.select_related("user")
            .filter(secret_hash=hash_secret(token), revoked_at__isnull=True)
            .first()
        )
        if found is None or not found.user.is_active:
            return None
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        request.api_token = found  # type: ignore[attr-defined]
        return found


api = NinjaAPI(
    title="民意直通 开放接口",
    version="1.0.0",
    description="党代表工作室社情民意的开放接口。认证：`Authorization: Bearer <令牌>`。",
    urls_namespace="api",
    auth=BearerToken(),
    docs_url=None,
)


# --- errors --------------------------------------------------------------------------


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error(401, "unauthorized", "未提供有效的接口令牌，或令牌已被吊销。")


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error(exc.status, exc.code, exc.message, exc.fields)


@api.exception_handler(NinjaValidationError)
def _schema_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for item in exc.errors:
        loc = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path")]
        name = ".".join(loc[1:] if loc and loc[0] in ("payload", "filters") else loc) or "请求"
        fields.setdefault(name, []).append("格式不正确或缺少必填项。")
    return error(422, "invalid", "请求内容格式不正确，请按接口文档填写。", fields)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    status = exc.status_code
    if status == 400:
        return error(400, "bad_request", "请求无法解析，请发送有效的 JSON。")
    return error(status, "error", str(exc.message))


@api.exception_handler(DjangoValidationError)
def _validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        fields = {k: [m for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        message = next(iter(fields.values()))[0] if fields else "输入有误。"
        return error(422, "invalid", message, fields)
    return error(422, "invalid", "；".join(exc.messages) or "输入有误。")


@api.exception_handler(TransitionNotAllowed)
def _transition(request: HttpRequest, exc: TransitionNotAllowed) -> HttpResponse:
    return error(409, "transition_not_allowed", str(exc))


@api.exception_handler(CaseChanged)
def _changed(request: HttpRequest, exc: CaseChanged) -> HttpResponse:
    return error(409, "case_changed", CaseChanged.message)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error(404, "not_found", "没有找到该记录，或您无权查看。")


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path)
    return error(500, "server_error", "服务器内部错误，已记录，请稍后再试或联系管理员。")


# --- schemas -------------------------------------------------------------------------


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, Any] = {}


class CaseItem(Schema):
    id: int
    number: str
    state: str
    state_label: str
    studio_id: int
    studio_name: str
    received_on: date
    summary: str
    channel: str
    handling_unit_id: int | None
    due_on: date | None
    overdue: bool
    reporter_name: str | None
    reporter_phone: str | None


class CaseDetail(CaseItem):
    version: int
    channel_note: str
    occasion: str
    category: str
    content: str
    representative_id: int
    representative_name: str
    outcome: str
    holder_level: str
    reporter_masked: bool
    reporter_gender: str | None
    reporter_age: int | None
    reporter_employer: str | None
    reporter_employer_address: str | None
    reporter_home_address: str | None
    reporter_home_phone: str | None
    permitted_actions: list[str]


class CasePage(Schema):
    items: list[CaseItem]
    next_cursor: str | None


class CaseFilters(Schema):
    state: CaseState | None = None
    studio: int | None = None
    year: int | None = None
    overdue: bool = False
    cursor: str | None = None
    limit: int = 20


class CaseIn(Schema):
    """The fields of the registration form (社情民意登记表); validated by that form."""

    studio_id: int | None = None
    representative_id: int | None = None
    channel: str = "in_person"
    channel_note: str = ""
    occasion: str = "reception"
    received_on: str | None = None
    category: str = ""
    reporter_name: str = ""
    reporter_gender: str = ""
    reporter_age: int | None = None
    reporter_phone: str = ""
    reporter_employer: str = ""
    reporter_employer_address: str = ""
    reporter_home_address: str = ""
    reporter_home_phone: str = ""
    hide_identity_from_unit: bool = False
    about_unit_id: int | None = None
    summary: str = ""
    content: str = ""
    target_level: str = ""
    outcome: str = "sent_on"
    spot_answer: str = ""
    spot_satisfaction: str = ""


class StepIn(Schema):
    version: int | None = None


class ReferIn(StepIn):
    handling_unit_id: int
    note: str = ""


class StudioOut(Schema):
    id: int
    name: str
    kind: str
    unit_id: int
    unit_name: str
    address: str
    opening_hours: str
    phone: str


class HandlingUnitOut(Schema):
    id: int
    name: str
    area_id: int
    area_name: str
    phone: str


class DeadlineOut(Schema):
    due: date
    provisional: bool
    missing_years: list[int]


# --- helpers -------------------------------------------------------------------------


def _user(request: HttpRequest) -> Any:
    return request.auth.user  # type: ignore[attr-defined]


def _case(request: HttpRequest, pk: int) -> Case:
    case = (
        Case.objects.for_user(_user(request))
        .select_related("studio", "studio__unit", "holder_department", "handling_unit")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404
    return case


def _is_overdue(case: Case, now: date) -> bool:
    return bool(case.state == CaseState.WITH_UNIT and case.due_on and case.due_on < now)


def _item(case: Case, now: date) -> dict[str, Any]:
    return {
        "id": case.pk,
        "number": case.number,
        "state": case.state,
        "state_label": case.get_state_display(),
        "studio_id": case.studio_id,
        "studio_name": case.studio.name,
        "received_on": case.received_on,
        "summary": case.summary,
        "channel": case.channel,
        "handling_unit_id": case.handling_unit_id,
        "due_on": case.due_on,
        "overdue": _is_overdue(case, now),
        # Lists never carry the reporter's identity in full (as on screen).
        "reporter_name": case.reporter_name_masked,
        "reporter_phone": case.reporter_phone_masked,
    }


def _detail(case: Case, user: Any) -> dict[str, Any]:
    body = _item(case, today())
    full = can_see_reporter(user, case)
    reporter = {
        "reporter_gender": case.reporter_gender,
        "reporter_age": case.reporter_age,
        "reporter_employer": case.reporter_employer,
        "reporter_employer_address": case.reporter_employer_address,
        "reporter_home_address": case.reporter_home_address,
        "reporter_home_phone": case.reporter_home_phone,
    }
    if full:
        body.update(reporter, reporter_name=case.reporter_name, reporter_phone=case.reporter_phone)
        record_personal_data_view(case=case, viewer=user, purpose="开放接口查看案件详情")
    else:
        # Hidden from this unit: no reporter data at all, not even masked.
        body.update(dict.fromkeys(reporter), reporter_name=None, reporter_phone=None)
    body.update(
        version=case.version,
        channel_note=case.channel_note,
        occasion=case.occasion,
        category=case.category,
        content=case.content,
        representative_id=case.representative_id,
        representative_name=case.representative_name,
        outcome=case.outcome,
        holder_level=case.holder_level,
        reporter_masked=not full,
        permitted_actions=sorted(permitted_actions(user, case)),
    )
    return body


def _encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"id:{pk}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        pk = int(value)
        if prefix != "id" or pk < 1:
            raise ValueError
        return pk
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ApiError(
            422, "invalid", "分页游标无效，请使用上一页返回的 next_cursor。", {"cursor": ["无效"]}
        ) from exc


def _take_step(request: HttpRequest, pk: int, action: str) -> Case:
    user = _user(request)
    case = _case(request, pk)
    if action not in permitted_actions(user, case):
        if action not in allowed_actions(case.state):
            raise TransitionNotAllowed(
                f"案件当前状态为“{case.get_state_display()}”，不能进行“{Action(action).label}”。"
            )
        raise ApiError(403, "forbidden", f"您无权对该案件进行“{Action(action).label}”。")
    return case


# --- endpoints -----------------------------------------------------------------------

ERRORS = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@api.get("/cases", response={200: CasePage, 401: ErrorOut, 422: ErrorOut}, tags=["cases"])
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> dict[str, Any]:
    """Cases in the token's scope, newest first, with a cursor stable under inserts."""
    if not 1 <= filters.limit <= 100:
        raise ApiError(422, "invalid", "每页条数应在 1 到 100 之间。", {"limit": ["1–100"]})
    now = today()
    qs = Case.objects.for_user(_user(request)).select_related("studio")
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.studio:
        qs = qs.filter(studio_id=filters.studio)
    if filters.year:
        qs = qs.filter(year=filters.year)
    if filters.overdue:
        qs = qs.filter(state=CaseState.WITH_UNIT, due_on__lt=now)
    if filters.cursor:
        qs = qs.filter(pk__lt=_decode_cursor(filters.cursor))
    rows = list(qs.order_by("-pk")[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {
        "items": [_item(c, now) for c in rows],
        "next_cursor": _encode_cursor(rows[-1].pk) if more else None,
    }


@api.get("/cases/{case_id}", response={200: CaseDetail, **ERRORS}, tags=["cases"])
def get_case(request: HttpRequest, case_id: int) -> dict[str, Any]:
    return _detail(_case(request, case_id), _user(request))


def _request_hash(payload: CaseIn) -> str:
    canonical = json.dumps(payload.dict(), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(stored: IdempotencyKey, request_hash: str) -> Status:
    if stored.request_hash != request_hash:
        raise ApiError(
            409,
            "idempotency_conflict",
            "该 Idempotency-Key 已用于另一份不同的请求，请为新的请求使用新的键。",
        )
    return Status(stored.response_status, stored.response_body)


@api.post(
    "/cases",
    response={201: CaseDetail, 400: ErrorOut, 409: ErrorOut, **ERRORS},
    tags=["cases"],
)
def create_case(request: HttpRequest, payload: CaseIn) -> Any:
    """Register an opinion with the registration form's fields and validation.
    Send `Idempotency-Key` so that a retried request never registers it twice."""
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    user = token.user
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 200:
        raise ApiError(422, "invalid", "Idempotency-Key 过长（最多 200 个字符）。")
    request_hash = _request_hash(payload)
    if key:
        stored = IdempotencyKey.objects.filter(token=token, key=key).first()
        if stored is not None:
            return _replay(stored, request_hash)

    data = payload.dict()
    data["studio"] = data.pop("studio_id")
    data["representative"] = data.pop("representative_id")
    data["about_unit"] = data.pop("about_unit_id")
    data = {k: ("" if v is None else v) for k, v in data.items()}
    form = RegistrationForm(data=data, files={}, user=user)
    if not form.is_valid():
        fields = {name: list(errs) for name, errs in form.errors.items()}
        first = next(iter(fields.values()))[0]
        raise ApiError(422, "invalid", first, fields)
    try:
        with transaction.atomic():
            case = case_register(
                actor=user,
                studio=form.cleaned_data["studio"],
                representative=form.cleaned_data["representative"],
                data=form.case_data(),
            )
            body = json.loads(json.dumps(_detail(case, user), default=str))
            if key:
                IdempotencyKey.objects.create(
                    token=token,
                    key=key,
                    request_hash=request_hash,
                    response_status=201,
                    response_body=body,
                    case=case,
                )
    except IntegrityError:
        # A concurrent retry with the same key won: answer as it did.
        stored = IdempotencyKey.objects.filter(token=token, key=key).first() if key else None
        if stored is None:
            raise
        return _replay(stored, request_hash)
    return Status(201, body)


@api.post(
    "/cases/{case_id}/send",
    response={200: CaseDetail, 403: ErrorOut, 409: ErrorOut, **ERRORS},
    tags=["cases"],
)
def send_case(request: HttpRequest, case_id: int, payload: StepIn | None = None) -> Any:
    """报送街道组织部门 (send to the street organisation department)."""
    case = _take_step(request, case_id, Action.SEND_TO_STREET)
    version = payload.version if payload else None
    case = case_send_to_street(case=case, actor=_user(request), version=version)
    return _detail(case, _user(request))


@api.post(
    "/cases/{case_id}/refer",
    response={200: CaseDetail, 403: ErrorOut, 409: ErrorOut, **ERRORS},
    tags=["cases"],
)
def refer_case(request: HttpRequest, case_id: int, payload: ReferIn) -> Any:
    """转办承办单位 (refer to a handling unit of the department's level and area)."""
    case = _take_step(request, case_id, Action.REFER)
    unit = HandlingUnit.objects.active().filter(pk=payload.handling_unit_id).first()
    if unit is None:
        raise ApiError(
            422, "invalid", "没有该承办单位。", {"handling_unit_id": ["没有该承办单位。"]}
        )
    case = case_refer(
        case=case,
        actor=_user(request),
        handling_unit=unit,
        note=payload.note,
        version=payload.version,
    )
    return _detail(case, _user(request))


@api.get("/studios", response={200: list[StudioOut], 401: ErrorOut}, tags=["studios"])
def list_studios(request: HttpRequest) -> list[dict[str, Any]]:
    studios = Studio.objects.for_user(_user(request)).select_related("unit").order_by("name", "pk")
    return [
        {
            "id": s.pk,
            "name": s.name,
            "kind": s.kind,
            "unit_id": s.unit_id,
            "unit_name": s.unit.name,
            "address": s.address,
            "opening_hours": s.opening_hours,
            "phone": s.phone,
        }
        for s in studios
    ]


@api.get("/handling-units", response={200: list[HandlingUnitOut], 401: ErrorOut}, tags=["org"])
def list_handling_units(request: HttpRequest) -> list[dict[str, Any]]:
    units = (
        HandlingUnit.objects.for_user(_user(request))
        .active()
        .select_related("area")
        .order_by("name", "pk")
    )
    return [
        {
            "id": u.pk,
            "name": u.name,
            "area_id": u.area_id,
            "area_name": u.area.name,
            "phone": u.phone,
        }
        for u in units
    ]


@api.get(
    "/calendar/deadline",
    response={200: DeadlineOut, 401: ErrorOut, 422: ErrorOut},
    tags=["calendar"],
)
def deadline(request: HttpRequest, date: str, days: int) -> dict[str, Any]:
    """The end of the Nth working day after `date` (the day itself never counts)."""
    from datetime import date as date_type

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


@api.get("/docs", auth=None, include_in_schema=False)
def docs(request: HttpRequest) -> HttpResponse:
    """A plain page listing the endpoints (no third-party assets)."""
    schema = api.get_openapi_schema()
    rows = []
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            summary = op.get("summary", "")
            description = op.get("description", "")
            rows.append(
                f"<tr><td><code>{escape(method.upper())}</code></td>"
                f"<td><code>/api/v1{escape(path)}</code></td>"
                f"<td>{escape(summary)}<br><small>{escape(description)}</small></td></tr>"
            )
    html = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(schema['info']['title'])}</title></head><body>"
        f"<h1>{escape(schema['info']['title'])}</h1>"
        f"<p>{escape(schema['info'].get('description', ''))}</p>"
        '<p>机器可读的说明：<a href="/api/v1/openapi.json">OpenAPI 3 文档</a>。</p>'
        "<table><thead><tr><th>方法</th><th>路径</th><th>说明</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></body></html>"
    )
    return HttpResponse(html)
