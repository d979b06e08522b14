"""Cases over the API: the list with the screen's filters, the detail with the screen's
masking, registration with `Idempotency-Key`, and every workflow step as its own POST
action through the screen's step form, `permitted_actions` and the case service."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import date
from typing import Annotated, Any, Literal

from django import forms
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Header, Query, Router, Schema
from ninja.responses import Status

from minyi.api.common import (
    ONE,
    STEP,
    AccountText,
    ApiError,
    DocumentText,
    ErrorOut,
    NoteText,
    PageParams,
    account,
    form_error,
    screen_list,
)
from minyi.api.models import ApiToken, IdempotencyKey
from minyi.cases import views as case_views
from minyi.cases.access import can_see_reporter, permitted_actions
from minyi.cases.forms import RegistrationForm, registrable_studios
from minyi.cases.models import Case, Satisfaction
from minyi.cases.services import case_register, record_personal_data_view, today
from minyi.cases.states import TRANSITIONS, CaseState, next_state
from minyi.core.integrity import ReferenceGone, is_foreign_key_violation, references_checked

router = Router(tags=["cases"])


# --- schemas -------------------------------------------------------------------------


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
    final_rating: str
    reopen_count: int
    extension_requested: bool
    # Always true: the reporter in full only from POST /cases/{id}/reveal (recorded).
    reporter_masked: bool
    # Whether that reveal would answer this account (false: the reporter hides from it).
    reporter_revealable: bool
    reporter_gender: str | None
    reporter_age: int | None
    reporter_employer: str | None
    reporter_employer_address: str | None
    reporter_home_address: str | None
    reporter_home_phone: str | None
    permitted_actions: list[str]


class CaseReporter(Schema):
    """反映人完整信息: the fields of the case page's full view, unmasked. An empty
    string is a field the registration form left blank."""

    case_id: int
    number: str
    reporter_name: str
    reporter_gender: str
    reporter_age: int | None
    reporter_phone: str
    reporter_employer: str
    reporter_employer_address: str
    reporter_home_address: str
    reporter_home_phone: str


class CasePage(Schema):
    items: list[CaseItem]
    next_cursor: str | None


class CaseFilters(PageParams):
    """The filters of the case list page (社情民意列表)."""

    q: str | None = None
    state: CaseState | None = None
    studio: int | None = None
    handling_unit: int | None = None
    year: int | None = None
    rating: Satisfaction | None = None
    overdue: bool = False
    due_soon: bool = False
    held_by_me: bool = False


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
    content: DocumentText = ""
    target_level: str = ""
    outcome: str = "sent_on"
    spot_answer: AccountText = ""
    spot_satisfaction: str = ""


class StepIn(Schema):
    """`version` is the case's version as last read; a stale one is refused (409).
    Left out, the step applies to the case as it is now."""

    version: int | None = None


class ConfirmIn(StepIn):
    who: Literal["representative", "reporter"]


class ReferIn(StepIn):
    handling_unit_id: int
    note: NoteText = ""


class ReasonIn(StepIn):
    reason: NoteText


class ExtensionDecideIn(StepIn):
    consent: bool
    note: NoteText = ""


class PlanIn(StepIn):
    plan: AccountText


class AnswerIn(StepIn):
    text: DocumentText
    result: str = ""


class UrgeIn(StepIn):
    note: NoteText = ""


class ConsultIn(StepIn):
    held_on: date
    attendees: NoteText
    minutes: DocumentText
    outcome: AccountText = ""


class EvaluateIn(StepIn):
    rating: Satisfaction
    reporter_confirmed: bool = False
    representative_confirmed: bool = False
    street_head_confirmed: bool = False
    comment: NoteText = ""
    reopen: bool = False


class CarryForwardIn(StepIn):
    form: Literal["代表提案", "建议", "询问", "质询"]
    note: NoteText = ""


class NoteIn(StepIn):
    text: NoteText


# --- reading -------------------------------------------------------------------------


def _case(request: HttpRequest, pk: int, *, masked: bool = False) -> Case:
    """The case in the token's scope; `masked`: without the reporter's details that only
    the full view shows, neither read nor decrypted (as the case page)."""
    qs = case_views.case_related(Case.objects.for_user(account(request)))
    if masked:
        qs = qs.defer(*case_views.REPORTER_FULL_VIEW)
    case = qs.filter(pk=pk).first()
    if case is None:
        raise Http404
    return case


def _is_overdue(case: Case, now: date) -> bool:
    return bool(case.state == CaseState.WITH_UNIT and case.due_on and case.due_on < now)


def _item(case: Case, now: date, hidden: bool) -> dict[str, Any]:
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
        # Lists never carry the reporter's identity in full (as on screen); a unit the
        # reporter hides from sees not even the masked name.
        "reporter_name": None if hidden else case.reporter_name_masked,
        "reporter_phone": None if hidden else case.reporter_phone_masked,
    }


def _detail(case: Case, user: Any) -> dict[str, Any]:
    """The case as its page shows it: the reporter masked (name and phone masked, gender
    and age, employer and addresses held back) to those who may see them, who get the
    rest from POST …/reveal, recorded; nothing at all to a unit the reporter hides from.
    Every step answers with this too, so no full view is recorded without being asked."""
    may_see = can_see_reporter(user, case)
    body = _item(case, today(), hidden=not may_see)
    body.update(
        reporter_gender=case.reporter_gender if may_see else None,
        reporter_age=case.reporter_age if may_see else None,
        reporter_employer=None,
        reporter_employer_address=None,
        reporter_home_address=None,
        reporter_home_phone=None,
        reporter_revealable=may_see,
    )
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
        final_rating=case.final_rating,
        reopen_count=case.reopen_count,
        extension_requested=case.extension_requested,
        reporter_masked=True,
        permitted_actions=sorted(permitted_actions(user, case)),
    )
    return body


def _year_as_number(form: forms.Form) -> None:
    # The page offers only years that have cases; an integration may ask for any year.
    form.fields["year"] = forms.IntegerField(required=False, min_value=1, max_value=9999)


@router.get("/cases", response={200: CasePage, **ONE})
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> dict[str, Any]:
    """Cases in the token's scope with the list page's filters, newest first; the cursor
    is stable under concurrent inserts."""
    rows, cursor = screen_list(request, case_views.CaseList, filters, adjust=_year_as_number)
    now = today()
    return {
        "items": [_item(c, now, hidden=getattr(c, "reporter_hidden", False)) for c in rows],
        "next_cursor": cursor,
    }


@router.get("/cases/{case_id}", response={200: CaseDetail, **ONE})
def get_case(request: HttpRequest, case_id: int) -> dict[str, Any]:
    """The case, its reporter masked as on the case page; the full details come from
    POST /cases/{case_id}/reveal, to those the page shows them to, each call recorded."""
    return _detail(_case(request, case_id, masked=True), account(request))


# The purpose recorded with each full view, as the case page records "查看案件详情".
REVEAL_PURPOSE = "开放接口查看反映人完整信息"


@router.post("/cases/{case_id}/reveal", response={200: CaseReporter, **ONE})
def reveal_reporter(request: HttpRequest, case_id: int, response: HttpResponse) -> dict[str, Any]:
    """反映人完整信息: the reporter's full details, to exactly those the case page shows
    them to (`can_see_reporter`; anyone else 404, as on the page). Each call is recorded
    as a view of personal data (audit trail) and the answer is never cached."""
    user = account(request)
    case = _case(request, case_id, masked=True)
    if not can_see_reporter(user, case):
        raise Http404
    case.refresh_from_db(fields=case_views.REPORTER_FULL_VIEW)
    record_personal_data_view(case=case, viewer=user, purpose=REVEAL_PURPOSE)
    response["Cache-Control"] = "no-store"
    return {
        "case_id": case.pk,
        "number": case.number,
        "reporter_name": case.reporter_name,
        "reporter_gender": case.reporter_gender,
        "reporter_age": case.reporter_age,
        "reporter_phone": case.reporter_phone,
        "reporter_employer": case.reporter_employer,
        "reporter_employer_address": case.reporter_employer_address,
        "reporter_home_address": case.reporter_home_address,
        "reporter_home_phone": case.reporter_home_phone,
    }


# --- registration --------------------------------------------------------------------


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


@router.post("/cases", response={201: CaseDetail, 400: ErrorOut, 409: ErrorOut, **ONE})
def create_case(
    request: HttpRequest,
    payload: CaseIn,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="由调用方生成的唯一键（如工单号）；同一令牌用同一键重试不会重复登记。",
        ),
    ] = None,
) -> Any:
    """Register an opinion with the registration form's fields and validation.
    Send `Idempotency-Key` so that a retried request never registers it twice."""
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    user = token.user
    if not registrable_studios(user).exists():
        raise Http404  # as the registration page: a role that registers nowhere
    key = (idempotency_key or "").strip()
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
        raise form_error(form)
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
    except IntegrityError as exc:
        # A concurrent retry with the same key won: answer as it did.
        stored = IdempotencyKey.objects.filter(token=token, key=key).first() if key else None
        if stored is not None:
            return _replay(stored, request_hash)
        if is_foreign_key_violation(exc):
            # The studio, representative or unit the form read was deleted before the
            # commit: nothing was saved (nor the key), and the serial was given back.
            raise ReferenceGone(case_views.REGISTRATION_GONE) from exc
        raise
    return Status(201, body)


# --- workflow steps ------------------------------------------------------------------


def _role_may(user: Any, case: Case, action: str) -> bool:
    """Whether the role could take `action` on this case in some state (as the page
    decides between a 404 and an explanation)."""
    for act, state in TRANSITIONS:
        if act == action:
            probe = copy.copy(case)
            probe.state = state
            if action in permitted_actions(user, probe):
                return True
    return False


def _step(request: HttpRequest, case_id: int, step: str, data: dict[str, Any]) -> dict[str, Any]:
    """One workflow step exactly as the case page takes it: the page's step form, the
    same permission rule, the same service. A step the role can never take is 404
    (as on screen); one the state does not allow now is 409 with the reason."""
    user = account(request)
    case = _case(request, case_id)
    spec = case_views.STEPS[step]
    action = spec.action(data)
    if action not in permitted_actions(user, case):
        if not _role_may(user, case, action):
            raise Http404
        next_state(action, case.state)  # raises TransitionNotAllowed with the reason
        raise Http404  # pragma: no cover - the state table and permitted_actions disagree
    if data.get("version") is None:
        data["version"] = case.version
    form = spec.form(data={k: v for k, v in data.items() if v is not None}, case=case)
    if not form.is_valid():
        raise form_error(form)
    with references_checked(spec.gone):
        spec.run(case, user, form.cleaned_data)
    return _detail(_case(request, case_id), user)


def _flag(value: bool) -> str:
    return "on" if value else ""


@router.post("/cases/{case_id}/confirm", response={200: CaseDetail, **STEP})
def confirm_case(request: HttpRequest, case_id: int, payload: ConfirmIn) -> Any:
    """党代表或反映人确认登记表 (annex notes 4 and 7)."""
    return _step(request, case_id, "confirm", payload.dict())


@router.post("/cases/{case_id}/send", response={200: CaseDetail, **STEP})
def send_case(request: HttpRequest, case_id: int, payload: StepIn | None = None) -> Any:
    """报送街道组织部门 (send to the street organisation department)."""
    return _step(request, case_id, "send", payload.dict() if payload else {})


@router.post("/cases/{case_id}/refer", response={200: CaseDetail, **STEP})
def refer_case(request: HttpRequest, case_id: int, payload: ReferIn) -> Any:
    """转办承办单位 (refer to a handling unit of the department's level and area)."""
    data = payload.dict()
    data["handling_unit"] = data.pop("handling_unit_id")
    return _step(request, case_id, "refer", data)


@router.post("/cases/{case_id}/escalate", response={200: CaseDetail, **STEP})
def escalate_case(request: HttpRequest, case_id: int, payload: ReasonIn) -> Any:
    """上报上级组织部门 (street → district → city → city committee, CM 10)."""
    return _step(request, case_id, "escalate", payload.dict())


@router.post("/cases/{case_id}/return", response={200: CaseDetail, **STEP})
def return_case(request: HttpRequest, case_id: int, payload: ReasonIn) -> Any:
    """承办单位退回（不属职责范围）: back to the department that referred it."""
    return _step(request, case_id, "return", payload.dict())


@router.post("/cases/{case_id}/extension", response={200: CaseDetail, **STEP})
def request_extension(request: HttpRequest, case_id: int, payload: ReasonIn) -> Any:
    """承办单位申请延期至 30 个工作日 (needs the representative's consent, CM 11)."""
    return _step(request, case_id, "extension", payload.dict())


@router.post("/cases/{case_id}/extension/decide", response={200: CaseDetail, **STEP})
def decide_extension(request: HttpRequest, case_id: int, payload: ExtensionDecideIn) -> Any:
    """党代表同意或不同意延期."""
    data = payload.dict()
    data["consent"] = "yes" if data["consent"] else "no"
    return _step(request, case_id, "extension_decide", data)


@router.post("/cases/{case_id}/plan", response={200: CaseDetail, **STEP})
def plan_case(request: HttpRequest, case_id: int, payload: PlanIn) -> Any:
    """办理计划 (measures, who, by when)."""
    return _step(request, case_id, "plan", payload.dict())


@router.post("/cases/{case_id}/answer", response={200: CaseDetail, **STEP})
def answer_case(request: HttpRequest, case_id: int, payload: AnswerIn) -> Any:
    """书面答复, copied to the department, reporter, representative and studio."""
    return _step(request, case_id, "answer", payload.dict())


@router.post("/cases/{case_id}/urge", response={200: CaseDetail, **STEP})
def urge_case(request: HttpRequest, case_id: int, payload: UrgeIn) -> Any:
    """催办 the handling unit."""
    return _step(request, case_id, "urge", payload.dict())


@router.post("/cases/{case_id}/consult", response={200: CaseDetail, **STEP})
def consult_case(request: HttpRequest, case_id: int, payload: ConsultIn) -> Any:
    """三方协商 (reporter, representative, handling unit) recorded."""
    data = payload.dict()
    data["held_on"] = data["held_on"].isoformat()
    return _step(request, case_id, "consult", data)


@router.post("/cases/{case_id}/evaluate", response={200: CaseDetail, **STEP})
def evaluate_case(request: HttpRequest, case_id: int, payload: EvaluateIn) -> Any:
    """满意度评议 (CM 12); 不满意 with `reopen` sends it back to the same unit."""
    data = payload.dict()
    for name in ("reporter_confirmed", "representative_confirmed", "street_head_confirmed"):
        data[name] = _flag(data[name])
    data["reopen"] = _flag(data["reopen"])
    return _step(request, case_id, "evaluate", data)


@router.post("/cases/{case_id}/carry-forward", response={200: CaseDetail, **STEP})
def carry_forward_case(request: HttpRequest, case_id: int, payload: CarryForwardIn) -> Any:
    """转为代表提案或建议 (CM 9)."""
    return _step(request, case_id, "carry_forward", payload.dict())


@router.post("/cases/{case_id}/note", response={200: CaseDetail, **STEP})
def note_case(request: HttpRequest, case_id: int, payload: NoteIn) -> Any:
    """备注 on the case's timeline."""
    return _step(request, case_id, "note", payload.dict())
