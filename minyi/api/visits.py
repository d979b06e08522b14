"""Household visits (入户走访, CM 4) over the API: the list page's rows and filters, a
visit, and recording, correcting and withdrawing one through the visit pages' forms
and `minyi.duties.visits`. So the same people may do it as on the pages (the
representative; their studio's liaison within the studio's area; the party secretary
standing in where a community has no studio, CM 7; the department), a year whose
evaluation is finalised stays closed, and every write leaves the pages' audit rows.

The household's address is personal data: it is written here but always answered
masked (the first six characters and ****). Seeing it in full is the visit page's
recorded reveal, which the API does not offer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from minyi.api.common import (
    ERRORS,
    ONE,
    STEP,
    AccountText,
    ApiError,
    PageParams,
    account,
    form_error,
    screen_list,
)
from minyi.duties import visits as services
from minyi.duties.forms_people import HouseholdVisitEditForm, HouseholdVisitForm, VisitWithdrawForm
from minyi.duties.models import HouseholdVisit
from minyi.duties.views_people import VisitList

router = Router(tags=["入户走访"])


class VisitItem(Schema):
    id: int
    representative_id: int
    representative_name: str
    community_id: int
    community_name: str
    visited_on: date
    household: str = Field(description="走访对象（户主或住户）")
    address_masked: str = Field(description="住址（脱敏：前六个字和 ****）")
    version: int = Field(description="版本号，修改或撤回时传回")
    withdrawn: bool = Field(description="已撤回")
    editable: bool = Field(description="令牌能否修改或撤回该条")


class VisitDetail(VisitItem):
    notes: str
    recorded_by: str = Field(description="登记人")
    withdrawn_at: datetime | None = Field(description="撤回时间")
    withdrawn_by: str | None = Field(description="撤回人")
    withdrawn_reason: str = Field(description="撤回原因")


class VisitPage(Schema):
    items: list[VisitItem] = Field(description="本页的记录")
    next_cursor: str | None = Field(
        description=("下一页的游标，作为 cursor 参数传回；null 表示已是最后一页")
    )


class VisitFilters(PageParams):
    """The filters of the visit list page (入户走访)."""

    q: str | None = Field(None, description="关键词：走访对象或走访情况")
    representative: int | None = Field(None, description="党代表 id")
    year: int | None = Field(None, description="走访年份")
    withdrawn: bool = Field(False, description="只看已撤回的")


class VisitIn(Schema):
    """The fields of the record form (登记入户走访); validated by that form."""

    representative_id: int = Field(description="党代表 id")
    community_id: int = Field(description="社区 id")
    visited_on: date = Field(description="走访日期（不能晚于今天）")
    household: str = Field(description="走访对象（户主或住户）")
    address: str = Field(description="住址（应答中只返回脱敏值）")
    notes: AccountText = Field("", description="走访情况")


class CorrectIn(Schema):
    """`version` is the visit's version as last read; a stale one is refused (409).
    A field left out keeps its value; a blank `address` keeps the address on record."""

    version: int = Field(description="读取时的版本号；该条已被他人修改的答 409 visit_changed")
    representative_id: int | None = None
    community_id: int | None = None
    visited_on: date | None = None
    household: str | None = None
    address: str = Field("", description="新住址；留空保留原住址")
    notes: AccountText | None = None


class WithdrawIn(Schema):
    version: int = Field(description="读取时的版本号")
    reason: str = Field(description="撤回原因")


def _item(visit: HouseholdVisit, editable: bool) -> dict[str, Any]:
    community = visit.community
    return {
        "id": visit.pk,
        "representative_id": visit.representative_id,
        "representative_name": visit.representative.name,
        "community_id": visit.community_id,
        "community_name": community.short_name or community.name,
        "visited_on": visit.visited_on,
        "household": visit.household,
        "address_masked": services.mask_address(visit.address),
        "version": visit.version,
        "withdrawn": visit.withdrawn_at is not None,
        "editable": editable,
    }


def _detail(user: Any, pk: int) -> dict[str, Any]:
    visit = (
        HouseholdVisit.objects.for_user(user)
        .select_related("representative", "community", "recorded_by", "withdrawn_by")
        .distinct()
        .filter(pk=pk)
        .first()
    )
    if visit is None:
        raise Http404
    editable = visit.withdrawn_at is None and (
        services.editable_visits(user).filter(pk=visit.pk).exists()
    )
    body = _item(visit, editable)
    body.update(
        notes=visit.notes,
        recorded_by=str(visit.recorded_by),
        withdrawn_at=visit.withdrawn_at,
        withdrawn_by=str(visit.withdrawn_by) if visit.withdrawn_by_id else None,
        withdrawn_reason=visit.withdrawn_reason,
    )
    return body


@router.get("/household-visits", response={200: VisitPage, **ERRORS}, summary="查询入户走访列表")
def list_visits(request: HttpRequest, filters: Query[VisitFilters]) -> dict[str, Any]:
    """令牌范围内的入户走访记录，筛选条件与“入户走访”列表页相同，按 id 从新到旧分页；
    已撤回的只在 `withdrawn=true` 时列出。住址已脱敏。`editable` 表示令牌能否修改或撤回
    该条（考核已定稿年度的仍答 409）。

    可调用：所有令牌，只列出该角色在页面上能看到的。

    错误：422 筛选条件有误或 `cursor` 无效。"""
    rows, cursor = screen_list(request, VisitList, filters)
    return {"items": [_item(v, v.editable) for v in rows], "next_cursor": cursor}


@router.get(
    "/household-visits/{visit_id}", response={200: VisitDetail, **ONE}, summary="查看入户走访详情"
)
def get_visit(request: HttpRequest, visit_id: int) -> dict[str, Any]:
    """一条入户走访在其页面上所示的内容，住址已脱敏（本接口不提供完整住址）。

    可调用：能在页面上查看该条的角色——辖区内的组织部门、所在工作室的联络员、
    党代表本人。

    错误：404 不存在或无权查看。"""
    return _detail(account(request), visit_id)


def _closed(visit: HouseholdVisit) -> ApiError | None:
    refusal = (services.WITHDRAWN if visit.withdrawn_at else "") or (
        services.closed_year_refusal(visit.visited_on.year)
    )
    return ApiError(409, "transition_not_allowed", refusal) if refusal else None


def _editable(user: Any, visit_id: int) -> HouseholdVisit:
    """As the visit's edit and withdraw pages: whoever could record it now; others 404."""
    qs = services.editable_visits(user).select_related("representative", "community")
    visit = qs.filter(pk=visit_id).first()
    if visit is None:
        raise Http404
    if refused := _closed(visit):
        raise refused
    return visit


def _write(run: Any) -> Any:
    """The service's refusals in the API's terms; its ValidationError (fields) is the
    API's 422 handler's."""
    try:
        return run()
    except PermissionError as exc:
        raise Http404 from exc
    except services.Changed as exc:
        raise ApiError(409, "visit_changed", services.Changed.message) from exc
    except services.NotAllowed as exc:
        raise ApiError(409, "transition_not_allowed", str(exc)) from exc


@router.post("/household-visits", response={201: VisitDetail, **STEP}, summary="登记入户走访")
def record_visit(request: HttpRequest, payload: VisitIn) -> Any:
    """按“登记入户走访”表单的字段和校验规则，为令牌能登记的党代表和社区登记一次入户走访，
    成功答 201。走访日期不能晚于今天，也不能在考核已定稿的年度。

    可调用：党代表本人；所在工作室的联络员（工作室覆盖的社区）；没有工作室的社区，
    由社区党组织书记代登；辖区内的组织部门。承办单位不登记，答 404。

    错误：422 字段有误（如党代表或社区不在可选范围内、日期在未来）；
    409 该年度考核已定稿。"""
    user = account(request)
    if not services.can_record(user):
        raise Http404  # as the record page: a role that records no visits
    data = payload.dict()
    data["representative"] = data.pop("representative_id")
    data["community"] = data.pop("community_id")
    data["visited_on"] = data["visited_on"].isoformat()
    form = HouseholdVisitForm(data, user=user)
    if not form.is_valid():
        raise form_error(form)
    visit = _write(lambda: services.household_visit_record(actor=user, **form.cleaned_data))
    return Status(201, _detail(user, visit.pk))


@router.post(
    "/household-visits/{visit_id}/correct",
    response={200: VisitDetail, **STEP},
    summary="修改入户走访",
)
def correct_visit(request: HttpRequest, visit_id: int, payload: CorrectIn) -> Any:
    """修改一条入户走访，全部字段一并校验，要么全部保存，要么都不保存。
    `version` 为读取时的值；该条在此之后被他人修改的，答 409 `visit_changed`。
    未提供的字段保持原值；`address` 留空即保留原住址。

    可调用：现在能登记该条的角色（同登记）。

    错误：404 不存在或无权修改；409 `visit_changed`、已撤回或该年度考核已定稿；
    422 字段有误。"""
    user = account(request)
    visit = _editable(user, visit_id)
    sent = payload.dict()
    data = {"version": sent["version"], "address": sent["address"]}
    for field, key, current in (
        ("representative", "representative_id", visit.representative_id),
        ("community", "community_id", visit.community_id),
        ("visited_on", "visited_on", visit.visited_on),
        ("household", "household", visit.household),
        ("notes", "notes", visit.notes),
    ):
        data[field] = current if sent[key] is None else sent[key]
    data["visited_on"] = data["visited_on"].isoformat()
    form = HouseholdVisitEditForm(data, user=user, visit=visit)
    if not form.is_valid():
        raise form_error(form)
    _write(lambda: services.household_visit_update(actor=user, visit=visit, **form.cleaned_data))
    return _detail(user, visit.pk)


@router.post(
    "/household-visits/{visit_id}/withdraw",
    response={200: VisitDetail, **STEP},
    summary="撤回入户走访",
)
def withdraw_visit(request: HttpRequest, visit_id: int, payload: WithdrawIn) -> Any:
    """撤回误登的入户走访，附原因（`reason`）。撤回后记录保留，但不再计入履职档案、
    报告和考核。`version` 为读取时的值；该条在此之后被他人修改的，答 409 `visit_changed`。

    可调用：现在能登记该条的角色（同登记）。

    错误：404 不存在或无权撤回；409 `visit_changed`、已撤回或该年度考核已定稿；
    422 未填原因。"""
    user = account(request)
    visit = _editable(user, visit_id)
    form = VisitWithdrawForm(payload.dict())
    if not form.is_valid():
        raise form_error(form)
    _write(lambda: services.household_visit_withdraw(actor=user, visit=visit, **form.cleaned_data))
    return _detail(user, visit.pk)
