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
from pydantic import Field

from minyi.api.common import (
    ONE,
    PHONE_TEXT,
    STEP,
    AccountText,
    ApiError,
    DocumentText,
    ErrorOut,
    NoteText,
    PageParams,
    account,
    choices_text,
    form_error,
    screen_list,
)
from minyi.api.models import ApiToken, IdempotencyKey
from minyi.cases import views as case_views
from minyi.cases.access import can_see_reporter, permitted_actions
from minyi.cases.forms import RegistrationForm, registrable_studios
from minyi.cases.models import Case, Channel, Gender, Occasion, Outcome, Satisfaction, TargetLevel
from minyi.cases.services import case_register, record_personal_data_view, today
from minyi.cases.states import TRANSITIONS, Action, CaseState, HolderLevel, next_state
from minyi.core.integrity import ReferenceGone, is_foreign_key_violation, references_checked
from minyi.core.phones import display_phone

router = Router(tags=["社情民意"])


# --- schemas -------------------------------------------------------------------------


class CaseItem(Schema):
    id: int
    number: str = Field(description="社情民意编号")
    state: str = Field(description=choices_text("状态代码", CaseState))
    state_label: str = Field(description="状态的中文名称")
    studio_id: int
    studio_name: str
    received_on: date = Field(description="受理日期")
    summary: str = Field(description="内容摘要")
    channel: str = Field(description=choices_text("反映渠道", Channel))
    handling_unit_id: int | None = Field(description="当前承办单位的 id；未转办时为 null")
    due_on: date | None = Field(description="承办单位的答复期限；未转办时为 null")
    overdue: bool = Field(description="承办单位办理中且已超过答复期限")
    reporter_name: str | None = Field(
        description="反映人姓名（脱敏）；反映人要求对本单位保密时为 null"
    )
    reporter_phone: str | None = Field(
        description="反映人电话（脱敏）；反映人要求对本单位保密时为 null"
    )


class CaseDetail(CaseItem):
    version: int = Field(description="版本号，办理环节时传回，用于发现他人的并发修改")
    channel_note: str
    occasion: str = Field(description=choices_text("听取意见的场合", Occasion))
    category: str = Field(description="类别")
    content: str = Field(description="反映内容全文")
    representative_id: int
    representative_name: str
    outcome: str = Field(description=choices_text("登记时的处理方式", Outcome))
    holder_level: str = Field(
        description=choices_text("当前持有该件的组织部门层级", HolderLevel, "不在组织部门")
    )
    final_rating: str = Field(description=choices_text("评议结果", Satisfaction, "未评议"))
    reopen_count: int = Field(description="因不满意退回重办的次数")
    extension_requested: bool = Field(description="承办单位已申请延期，待决定")
    # Always true: the reporter in full only from POST /cases/{id}/reveal (recorded).
    reporter_masked: bool = Field(
        description="恒为 true：反映人信息已脱敏，完整信息见 POST /api/v1/cases/{case_id}/reveal"
    )
    # Whether that reveal would answer this account (false: the reporter hides from it).
    reporter_revealable: bool = Field(description="令牌能否调用 reveal 查看反映人完整信息")
    reporter_gender: str | None = Field(
        description=choices_text("反映人性别", Gender, "未填") + "；无权查看时为 null"
    )
    reporter_age: int | None = Field(description="反映人年龄；未填或无权查看时为 null")
    reporter_employer: str | None = Field(description="详情中恒为 null，见 reveal")
    reporter_employer_address: str | None = Field(description="详情中恒为 null，见 reveal")
    reporter_home_address: str | None = Field(description="详情中恒为 null，见 reveal")
    reporter_home_phone: str | None = Field(description="详情中恒为 null，见 reveal")
    permitted_actions: list[str] = Field(
        description=choices_text("令牌现在能办理的动作（如 send_to_street 即 …/send）", Action)
    )


class CaseReporter(Schema):
    """反映人完整信息: the fields of the case page's full view, unmasked. An empty
    string is a field the registration form left blank."""

    case_id: int
    number: str
    reporter_name: str
    reporter_gender: str = Field(description=choices_text("性别", Gender, "未填"))
    reporter_age: int | None
    reporter_phone: str = Field(description=PHONE_TEXT)
    reporter_employer: str
    reporter_employer_address: str
    reporter_home_address: str
    reporter_home_phone: str = Field(description=PHONE_TEXT)


class CasePage(Schema):
    items: list[CaseItem] = Field(description="本页的记录")
    next_cursor: str | None = Field(
        description="下一页的游标，作为 cursor 参数传回；null 表示已是最后一页"
    )


class CaseFilters(PageParams):
    """The filters of the case list page (社情民意列表)."""

    q: str | None = Field(None, description="关键词：编号或摘要")
    state: CaseState | None = Field(None, description="状态代码")
    studio: int | None = Field(None, description="工作室 id")
    handling_unit: int | None = Field(None, description="承办单位 id")
    year: int | None = Field(None, description="受理年份")
    rating: Satisfaction | None = Field(None, description="评议结果")
    overdue: bool = Field(False, description="只看已超期的")
    due_soon: bool = Field(False, description="只看 3 个工作日内到期的")
    held_by_me: bool = Field(False, description="只看本部门正在办理的（仅组织部门）")
    to_rate: bool = Field(False, description="只看已答复、待本部门评议的（仅组织部门）")


class CaseIn(Schema):
    """The fields of the registration form (社情民意登记表); validated by that form."""

    studio_id: int | None = Field(None, description="受理的工作室 id（必填）")
    representative_id: int | None = Field(
        None, description="听取意见的党代表 id（必填，须进驻该工作室）"
    )
    channel: str = Field("in_person", description=choices_text("反映渠道", Channel))
    channel_note: str = Field("", description="渠道补充说明（其他渠道时填写）")
    occasion: str = Field("reception", description=choices_text("场合", Occasion))
    received_on: str | None = Field(None, description="受理日期 YYYY-MM-DD；不填为今天")
    category: str = Field("", description="类别")
    reporter_name: str = Field("", description="反映人姓名（必填）")
    reporter_gender: str = Field("", description=choices_text("性别", Gender, "未填"))
    reporter_age: int | None = None
    reporter_phone: str = ""
    reporter_employer: str = ""
    reporter_employer_address: str = ""
    reporter_home_address: str = ""
    reporter_home_phone: str = ""
    hide_identity_from_unit: bool = Field(False, description="反映人要求对承办单位保密身份")
    about_unit_id: int | None = Field(None, description="所反映的单位 id（如有）")
    summary: str = Field("", description="内容摘要（必填）")
    content: DocumentText = Field("", description="反映内容全文（必填）")
    target_level: str = Field(
        "", description=choices_text("党代表标注的报送层级", TargetLevel, "未标注")
    )
    outcome: str = Field("sent_on", description=choices_text("处理方式", Outcome))
    spot_answer: AccountText = Field(
        "", description="当场答复的内容（outcome 为 on_the_spot 时填写）"
    )
    spot_satisfaction: str = Field(
        "", description="反映人对当场答复的满意度（outcome 为 on_the_spot 时填写）"
    )


class StepIn(Schema):
    """`version` is the case's version as last read; a stale one is refused (409).
    Left out, the step applies to the case as it is now."""

    version: int | None = Field(
        None,
        description="读取时的版本号；省略则按当前版本办理。该件已被他人修改的答 409 case_changed",
    )


class ConfirmIn(StepIn):
    who: Literal["representative", "reporter"] = Field(
        description="确认人：representative 党代表，reporter 反映人"
    )


class ReferIn(StepIn):
    handling_unit_id: int = Field(description="承办单位 id")
    note: NoteText = Field("", description="转办附言")


class ReasonIn(StepIn):
    reason: NoteText = Field(description="理由")


class ExtensionDecideIn(StepIn):
    consent: bool = Field(description="true 同意延期，false 不同意")
    note: NoteText = Field(
        "",
        description="说明；组织部门代党代表记录时必填，写明党代表如何表示（电话、书面或当面）",
    )


class PlanIn(StepIn):
    plan: AccountText = Field(description="办理计划：措施、责任人、完成时限")


class AnswerIn(StepIn):
    text: DocumentText = Field(description="书面答复内容")
    result: str = Field("", description="办理结果，一句话概括（最多 200 字）")


class UrgeIn(StepIn):
    note: NoteText = Field("", description="督办意见")


class ConsultIn(StepIn):
    held_on: date = Field(description="协商日期")
    attendees: NoteText = Field(description="参加人员")
    minutes: DocumentText = Field(description="协商纪要")
    outcome: AccountText = Field("", description="协商结果")


class EvaluateIn(StepIn):
    rating: Satisfaction = Field(description=choices_text("满意度", Satisfaction))
    reporter_confirmed: bool = Field(False, description="反映人已确认评议")
    representative_confirmed: bool = Field(False, description="党代表已确认评议")
    street_head_confirmed: bool = Field(False, description="街道负责人已确认评议")
    comment: NoteText = Field("", description="评议意见")
    reopen: bool = Field(False, description="不满意时退回原承办单位重办")


class CarryForwardIn(StepIn):
    form: Literal["代表提案", "建议", "询问", "质询"] = Field(
        description="转为：代表提案、建议、询问或质询"
    )
    note: NoteText = Field("", description="说明")


class NoteIn(StepIn):
    text: NoteText = Field(description="备注内容")


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
        permitted_actions=sorted(case_views.open_steps(case, permitted_actions(user, case))),
    )
    return body


def _year_as_number(form: forms.Form) -> None:
    # The page offers only years that have cases; an integration may ask for any year.
    form.fields["year"] = forms.IntegerField(required=False, min_value=1, max_value=9999)


@router.get("/cases", response={200: CasePage, **ONE}, summary="查询社情民意列表")
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> dict[str, Any]:
    """令牌范围内的社情民意，筛选条件与“社情民意列表”页面相同，按 id 从新到旧分页。
    列表中反映人的姓名和电话已脱敏；反映人要求对承办单位保密的，承办单位看到的是 null。

    可调用：所有令牌，只列出该角色在列表页上能看到的。

    错误：422 筛选条件有误、不适用于该角色，或 `cursor` 无效。"""
    rows, cursor = screen_list(request, case_views.CaseList, filters, adjust=_year_as_number)
    now = today()
    return {
        "items": [_item(c, now, hidden=getattr(c, "reporter_hidden", False)) for c in rows],
        "next_cursor": cursor,
    }


@router.get("/cases/{case_id}", response={200: CaseDetail, **ONE}, summary="查看社情民意详情")
def get_case(request: HttpRequest, case_id: int) -> dict[str, Any]:
    """该件在详情页上所示的内容：反映人的姓名和电话已脱敏，其他个人信息不返回，
    完整信息须另行调用 `POST /api/v1/cases/{case_id}/reveal`（每次留痕）。
    `permitted_actions` 是令牌现在能办理的环节，`version` 在办理时传回。

    可调用：能在页面上查看该件的角色——辖区内的组织部门、所在工作室的联络员和党代表、
    承办该件的承办单位。

    错误：404 不存在或无权查看。"""
    return _detail(_case(request, case_id, masked=True), account(request))


# The purpose recorded with each full view, as the case page records "查看案件详情".
REVEAL_PURPOSE = "开放接口查看反映人完整信息"


@router.post(
    "/cases/{case_id}/reveal",
    response={200: CaseReporter, **ONE},
    summary="查看反映人完整信息（留痕）",
)
def reveal_reporter(request: HttpRequest, case_id: int, response: HttpResponse) -> dict[str, Any]:
    """反映人的完整信息（姓名、性别、年龄、电话、工作单位及地址、家庭住址和电话），
    与详情页的“查看反映人完整信息”相同。每次调用都作为一次个人信息查看记入审计日志，
    应答不缓存（`Cache-Control: no-store`）。请只在确需联系反映人时调用。
    登记时未填的项为空字符串。

    可调用：页面上能查看反映人完整信息的角色；反映人要求对承办单位保密的，
    承办单位答 404。

    错误：404 不存在、无权查看，或无权查看反映人完整信息。"""
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
        "reporter_phone": display_phone(case.reporter_phone),
        "reporter_employer": case.reporter_employer,
        "reporter_employer_address": case.reporter_employer_address,
        "reporter_home_address": case.reporter_home_address,
        "reporter_home_phone": display_phone(case.reporter_home_phone),
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


@router.post(
    "/cases",
    response={201: CaseDetail, 400: ErrorOut, 409: ErrorOut, **ONE},
    summary="登记社情民意",
)
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
    """按“社情民意登记表”的字段和校验规则登记一件社情民意，成功答 201 并返回登记后的
    详情（含编号）。

    幂等：请带请求头 `Idempotency-Key`（调用方生成的唯一值，如本系统的工单号，
    最长 200 个字符）。同一令牌用同一个键重试，返回第一次的结果，不会重复登记；
    同一个键用于内容不同的请求，答 409 `idempotency_conflict`。

    可调用：组织部门（只能登记到本辖区的工作室）、工作室联络员、党代表。
    承办单位不登记社情民意，答 404。

    错误：422 字段有误（`fields` 逐项说明，如所选工作室不在可选范围内）；
    409 `idempotency_conflict`，或 `reference_gone`（所选工作室、党代表或单位刚被删除或
    停用，未保存）；400 请求体不是有效的 JSON。"""
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
    if not data["received_on"]:
        data["received_on"] = today().isoformat()  # as documented: left out, today
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


@router.post("/cases/{case_id}/confirm", response={200: CaseDetail, **STEP}, summary="确认登记表")
def confirm_case(request: HttpRequest, case_id: int, payload: ConfirmIn) -> Any:
    """党代表或反映人确认登记表的内容（`who`：`representative` 党代表，`reporter` 反映人）。

    可调用：所在工作室的联络员和党代表。"""
    return _step(request, case_id, "confirm", payload.dict())


@router.post(
    "/cases/{case_id}/send", response={200: CaseDetail, **STEP}, summary="报送街道组织部门"
)
def send_case(request: HttpRequest, case_id: int, payload: StepIn | None = None) -> Any:
    """把已登记的社情民意报送街道组织部门处理。请求体可省略。

    可调用：所在工作室的联络员和党代表、所在街道的组织部门。"""
    return _step(request, case_id, "send", payload.dict() if payload else {})


@router.post("/cases/{case_id}/refer", response={200: CaseDetail, **STEP}, summary="转办承办单位")
def refer_case(request: HttpRequest, case_id: int, payload: ReferIn) -> Any:
    """组织部门把该件转交承办单位办理（`handling_unit_id`：本级本辖区的承办单位，
    见 `GET /api/v1/handling-units`），附言可选。

    可调用：当前持有该件的组织部门。错误：422 承办单位不在可选范围内。"""
    data = payload.dict()
    data["handling_unit"] = data.pop("handling_unit_id")
    return _step(request, case_id, "refer", data)


@router.post(
    "/cases/{case_id}/escalate", response={200: CaseDetail, **STEP}, summary="上报上级组织部门"
)
def escalate_case(request: HttpRequest, case_id: int, payload: ReasonIn) -> Any:
    """超出本级权限的，附理由（`reason`）上报上一级组织部门（街道→区→市→市委）。

    可调用：当前持有该件的组织部门。"""
    return _step(request, case_id, "escalate", payload.dict())


@router.post("/cases/{case_id}/return", response={200: CaseDetail, **STEP}, summary="承办单位退回")
def return_case(request: HttpRequest, case_id: int, payload: ReasonIn) -> Any:
    """不属本单位职责范围的，附理由（`reason`）退回转办的组织部门。

    可调用：承办该件的承办单位。"""
    return _step(request, case_id, "return", payload.dict())


@router.post("/cases/{case_id}/extension", response={200: CaseDetail, **STEP}, summary="申请延期")
def request_extension(request: HttpRequest, case_id: int, payload: ReasonIn) -> Any:
    """承办单位附理由（`reason`）申请把办理期限延长至 30 个工作日，
    须经同意（见 `POST /api/v1/cases/{case_id}/extension/decide`）。

    可调用：承办该件的承办单位。"""
    return _step(request, case_id, "extension", payload.dict())


@router.post(
    "/cases/{case_id}/extension/decide",
    response={200: CaseDetail, **STEP},
    summary="同意或不同意延期",
)
def decide_extension(request: HttpRequest, case_id: int, payload: ExtensionDecideIn) -> Any:
    """对承办单位的延期申请作出决定（`consent`：true 同意，false 不同意），可附说明。
    决定是党代表的：组织部门代为记录时须在 `note` 写明党代表是如何表示的
    （电话、书面或当面），办理记录注明“由某某代为记录”。

    可调用：该件的党代表、当前持有该件的组织部门。错误：422 代为记录而未写明方式。"""
    data = payload.dict()
    data["consent"] = "yes" if data["consent"] else "no"
    return _step(request, case_id, "extension_decide", data)


@router.post("/cases/{case_id}/plan", response={200: CaseDetail, **STEP}, summary="填报办理计划")
def plan_case(request: HttpRequest, case_id: int, payload: PlanIn) -> Any:
    """承办单位填报办理计划（`plan`：措施、责任人、完成时限）。

    可调用：承办该件的承办单位。"""
    return _step(request, case_id, "plan", payload.dict())


@router.post("/cases/{case_id}/answer", response={200: CaseDetail, **STEP}, summary="提交书面答复")
def answer_case(request: HttpRequest, case_id: int, payload: AnswerIn) -> Any:
    """承办单位提交书面答复（`text`；`result` 为办理结果），抄送组织部门、反映人、
    党代表和工作室，该件随即待评议。

    可调用：承办该件的承办单位。"""
    return _step(request, case_id, "answer", payload.dict())


@router.post("/cases/{case_id}/urge", response={200: CaseDetail, **STEP}, summary="督办")
def urge_case(request: HttpRequest, case_id: int, payload: UrgeIn) -> Any:
    """组织部门催促承办单位办理，可附说明（`note`）。

    可调用：当前持有该件的组织部门。"""
    return _step(request, case_id, "urge", payload.dict())


@router.post("/cases/{case_id}/consult", response={200: CaseDetail, **STEP}, summary="记录三方协商")
def consult_case(request: HttpRequest, case_id: int, payload: ConsultIn) -> Any:
    """记录反映人、党代表和承办单位的三方协商：日期（`held_on`）、参加人员（`attendees`）、
    纪要（`minutes`）和结果（`outcome`，可选）。

    可调用：该件的党代表、当前持有该件的组织部门、该件所在工作室的街道组织部门。"""
    data = payload.dict()
    data["held_on"] = data["held_on"].isoformat()
    return _step(request, case_id, "consult", data)


@router.post("/cases/{case_id}/evaluate", response={200: CaseDetail, **STEP}, summary="满意度评议")
def evaluate_case(request: HttpRequest, case_id: int, payload: EvaluateIn) -> Any:
    """对答复作出满意度评议（`rating`），并记录反映人、党代表、街道负责人是否确认。
    评为不满意（`dissatisfied`）并选 `reopen` 的，退回原承办单位重办；否则办结。

    可调用：该件所在工作室的街道组织部门，不论该件由哪一级组织部门持有
    （《进社区联系群众办法》第十二条）；工作室不在街道之下的（区、工委的工作室），
    由当前持有该件的组织部门。"""
    data = payload.dict()
    for name in ("reporter_confirmed", "representative_confirmed", "street_head_confirmed"):
        data[name] = _flag(data[name])
    data["reopen"] = _flag(data["reopen"])
    return _step(request, case_id, "evaluate", data)


@router.post(
    "/cases/{case_id}/carry-forward",
    response={200: CaseDetail, **STEP},
    summary="转为代表提案或建议",
)
def carry_forward_case(request: HttpRequest, case_id: int, payload: CarryForwardIn) -> Any:
    """把该件转为代表提案、建议、询问或质询（`form`），可附说明；该件随之结束。

    可调用：所在工作室的联络员和党代表。"""
    return _step(request, case_id, "carry_forward", payload.dict())


@router.post("/cases/{case_id}/note", response={200: CaseDetail, **STEP}, summary="添加备注")
def note_case(request: HttpRequest, case_id: int, payload: NoteIn) -> Any:
    """在该件的办理记录中添加一条备注（`text`），不改变状态。

    可调用：所在工作室的联络员和党代表、所在街道的组织部门。"""
    return _step(request, case_id, "note", payload.dict())
