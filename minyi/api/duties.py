"""The duty side over the API, read-only: annual plans (年度计划), bi-monthly reports
(双月报告) and a representative's duty record with their compliance for a year — for
the city's party-building platform and the districts' dashboards.

Each endpoint is its page's data: the list views (their `for_user` queryset, filter
form and `filter()`, the plan list's shortfalls), the detail pages' own fetches and
context, `minyi.duties.record.duty_record` and the compliance page's `evaluate`. So
out of scope is a 404 (or an empty list) exactly as on the pages, and nothing is
shown that the page does not show the same account. Writing plans and reports stays
on the pages."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from minyi.api.common import (
    ERRORS,
    ONE,
    ApiError,
    PageParams,
    account,
    reject_unknown_params,
    screen_list,
)
from minyi.core.regulations import cite
from minyi.duties import compliance, reports
from minyi.duties.compliance_rules import Summary
from minyi.duties.models import AnnualPlan, BimonthlyReport
from minyi.duties.record import YEAR_ERROR, duty_record, record_year
from minyi.duties.views_people import ReportList, report_in_scope
from minyi.duties.views_plans import PlanList, plan_context, plan_in_scope
from minyi.people.models import Representative

router = Router(tags=["履职"])


def _user_name(user: Any) -> str | None:
    return str(user) if user is not None else None


# --- annual plans ----------------------------------------------------------------------


class ShortfallOut(Schema):
    rule: str = Field(description="所依据规定条款的代码，如 SM 9")  # the code
    rule_text: str = Field(description="所依据的规定条款，如《工作室管理办法》第九条")
    message: str = Field(description="不足之处的中文说明")
    representative_id: int | None = Field(description="涉及的党代表 id")
    window: int | None = Field(
        description=("涉及的双月：0 = 1—2 月 … 5 = 11—12 月")
    )  # 0 = January–February … 5 = November–December


class PlanItem(Schema):
    id: int
    studio_id: int
    studio_name: str
    year: int
    state: str = Field(description="状态代码")
    state_label: str = Field(description="状态的中文名称")
    expanded: bool = Field(
        description=("已按批准的计划生成全年活动")
    )  # the year's events have been generated from the approved plan
    shortfalls: list[ShortfallOut] = Field(description="与最低要求相比的不足之处")


class SessionOut(Schema):
    id: int
    representative_id: int
    representative_name: str
    date: date
    start: time
    end: time
    kind: str = Field(description="场次类型代码")
    kind_label: str = Field(description="场次类型的中文名称")
    theme: str


class AssignedOut(Schema):
    representative_id: int
    representative_name: str


class PlanDetail(PlanItem):
    opening_weekday: int = Field(description="固定开放日：0 = 星期一 … 6 = 星期日")  # 0 = Monday
    opening_weekday_label: str = Field(description="固定开放日的中文名称")
    opening_start: time
    opening_end: time
    opening_hours: float = Field(description="每次开放的小时数")
    half_day_hours: float = Field(description="“半天”的最少小时数")
    place: str
    notes: str
    shortfall_reason: str = Field(description="未达到最低要求的说明")
    submitted_at: datetime | None
    submitted_by: str | None
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str = Field(description="审批意见")
    event_count: int = Field(description="已生成的活动数")
    representatives: list[AssignedOut]
    sessions: list[SessionOut]


class PlanPage(Schema):
    items: list[PlanItem] = Field(description="本页的记录")
    next_cursor: str | None = Field(
        description=("下一页的游标，作为 cursor 参数传回；null 表示已是最后一页")
    )


class PlanFilters(PageParams):
    """The filters of the plan list page (年度计划)."""

    studio: int | None = Field(None, description="工作室 id")
    year: int | None = Field(None, description="年度")
    state: str | None = Field(None, description="状态代码")


def _shortfalls(found: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "rule": s.rule,
            "rule_text": cite(s.rule),
            "message": s.message,
            "representative_id": s.representative.pk if s.representative is not None else None,
            "window": s.window,
        }
        for s in found
    ]


def _plan_item(plan: AnnualPlan, shortfalls: list[Any]) -> dict[str, Any]:
    return {
        "id": plan.pk,
        "studio_id": plan.studio_id,
        "studio_name": plan.studio.name,
        "year": plan.year,
        "state": plan.state,
        "state_label": plan.get_state_display(),
        "expanded": plan.expanded_at is not None,
        "shortfalls": _shortfalls(shortfalls),
    }


@router.get(
    "/annual-plans",
    response={200: PlanPage, **ERRORS},
    summary="查询年度计划列表",
    tags=["年度计划"],
)
def list_plans(request: HttpRequest, filters: Query[PlanFilters]) -> dict[str, Any]:
    """令牌范围内工作室的年度计划，筛选条件与“年度计划”列表页相同，按 id 从新到旧分页。
    `shortfalls` 是该计划与最低要求（每两个月至少半天进驻接待等）相比的不足之处，
    与列表页所示相同。

    可调用：所有令牌，只列出该角色在页面上能看到的。

    错误：422 筛选条件有误或 `cursor` 无效。"""
    rows, cursor = screen_list(request, PlanList, filters)
    return {"items": [_plan_item(p, p.shortfalls) for p in rows], "next_cursor": cursor}


@router.get(
    "/annual-plans/{plan_id}",
    response={200: PlanDetail, **ONE},
    summary="查看年度计划详情",
    tags=["年度计划"],
)
def get_plan(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    """年度计划在其页面上所示的内容：固定开放时间、进驻该工作室的党代表、计划的接待场次
    和不足之处。只读；编制、提交和审批在页面上办理。

    可调用：能在页面上查看该计划的角色——辖区内的组织部门、该工作室的联络员和党代表。

    错误：404 不存在或无权查看。"""
    plan = plan_in_scope(request, plan_id)
    page = plan_context(request, plan)
    body = _plan_item(plan, page["shortfalls"])
    body.update(
        opening_weekday=plan.opening_weekday,
        opening_weekday_label=page["weekday"],
        opening_start=plan.opening_start,
        opening_end=plan.opening_end,
        opening_hours=page["opening_hours"],
        half_day_hours=page["half_day"],
        place=plan.place,
        notes=plan.notes,
        shortfall_reason=plan.shortfall_reason,
        submitted_at=plan.submitted_at,
        submitted_by=_user_name(plan.submitted_by) if plan.submitted_at else None,
        decided_at=plan.decided_at,
        decided_by=_user_name(plan.decided_by) if plan.decided_at else None,
        decision_note=plan.decision_note,
        event_count=page["event_count"],
        representatives=[
            {"representative_id": a.representative_id, "representative_name": a.representative.name}
            for a in page["assignments"]
        ],
        sessions=[
            {
                "id": s.pk,
                "representative_id": s.representative_id,
                "representative_name": s.representative.name,
                "date": s.date,
                "start": s.start,
                "end": s.end,
                "kind": s.kind,
                "kind_label": s.kind_label,
                "theme": s.theme,
            }
            for s in page["sessions"]
        ],
    )
    return body


# --- bi-monthly reports ----------------------------------------------------------------


class ReportItem(Schema):
    id: int
    studio_id: int
    studio_name: str
    year: int
    period: int = Field(
        description=("双月：1 = 1—2 月 … 6 = 11—12 月")
    )  # 1 = January–February … 6 = November–December
    period_label: str = Field(description="双月的中文名称")
    state: str = Field(description="状态代码")
    state_label: str = Field(description="状态的中文名称")
    submitted_at: datetime | None
    submitted_by: str | None
    acknowledged_at: datetime | None = Field(description="签收时间")
    acknowledged_by: str | None = Field(description="签收人")


class ReportDetail(ReportItem):
    body: str = Field(description="报告正文")


class ReportPage(Schema):
    items: list[ReportItem] = Field(description="本页的记录")
    next_cursor: str | None = Field(
        description=("下一页的游标，作为 cursor 参数传回；null 表示已是最后一页")
    )


class ReportFilters(PageParams):
    """The filters of the report list page (双月报告)."""

    q: str | None = Field(None, description="关键词：工作室名称或正文")
    state: str | None = Field(None, description="状态代码")
    year: int | None = Field(None, description="年度")


PERIOD_LABELS = dict(reports.PERIODS)


def _report_item(report: BimonthlyReport) -> dict[str, Any]:
    return {
        "id": report.pk,
        "studio_id": report.studio_id,
        "studio_name": report.studio.name,
        "year": report.year,
        "period": report.period,
        "period_label": PERIOD_LABELS[report.period],
        "state": report.state,
        "state_label": report.get_state_display(),
        "submitted_at": report.submitted_at,
        "submitted_by": _user_name(report.submitted_by) if report.submitted_at else None,
        "acknowledged_at": report.acknowledged_at,
        "acknowledged_by": _user_name(report.acknowledged_by) if report.acknowledged_at else None,
    }


@router.get(
    "/bimonthly-reports",
    response={200: ReportPage, **ERRORS},
    summary="查询双月报告列表",
    tags=["双月报告"],
)
def list_reports(request: HttpRequest, filters: Query[ReportFilters]) -> dict[str, Any]:
    """令牌范围内工作室的双月报告，筛选条件与“双月报告”列表页相同（`q` 搜索工作室名称和
    正文），按 id 从新到旧分页，不含正文。

    可调用：所有令牌，只列出该角色在页面上能看到的。

    错误：422 筛选条件有误或 `cursor` 无效。"""
    rows, cursor = screen_list(request, ReportList, filters)
    return {"items": [_report_item(r) for r in rows], "next_cursor": cursor}


@router.get(
    "/bimonthly-reports/{report_id}",
    response={200: ReportDetail, **ONE},
    summary="查看双月报告",
    tags=["双月报告"],
)
def get_report(request: HttpRequest, report_id: int) -> dict[str, Any]:
    """一份双月报告及其正文，与报告页面所示相同。只读；撰写、提交和签收在页面上办理。

    可调用：能在页面上查看该报告的角色——辖区内的组织部门、该工作室的联络员和党代表。

    错误：404 不存在或无权查看。"""
    report = report_in_scope(request, report_id)
    return {**_report_item(report), "body": report.body}


# --- the duty record -------------------------------------------------------------------


class TotalsOut(Schema):
    events: int = Field(
        description="列为参加人的活动数（不含已取消的）"
    )  # listed at, not cancelled
    attended: int = Field(description="实际参加的活动数")
    hours: float = Field(description="实际参加活动的小时数")
    visits: int = Field(
        description=("入户走访次数（不含已撤回）")
    )  # household visits, withdrawn ones not counted
    appointments: int = Field(description="群众预约数")
    appointments_met: int = Field(description="已接待的预约数")
    cases: int = Field(description="听取的社情民意件数")
    cases_closed: int = Field(description="其中已办结的")


class ResultOut(Schema):
    rule: str = Field(description="规定条款的代码，如 SM 9、CM 4")  # "SM 9", "CM 4"
    rule_text: str = Field(description="规定条款，如《工作室管理办法》第九条")
    topic: str = Field(description="考核事项")
    period: str = Field(description="考核期间")
    status: str = Field(
        description=("not_due 未到期、green 达标、amber 预警、red 未达标")
    )  # not_due, green, amber, red
    label: str = Field(description="结果的中文名称")
    reason: str = Field(description="中文说明")
    due: date | None = Field(description="期限")
    warn: bool = Field(
        description=("现在正发出提醒（期限前三周）")
    )  # a warning goes out now (three weeks before a window closes)


class ComplianceOut(Schema):
    worst: str = Field(description="各项中最差的结果")
    red: int = Field(description="未达标项数")
    amber: int = Field(description="预警项数")
    green: int = Field(description="达标项数")
    results: list[ResultOut]


class MinimumsOut(Schema):
    half_day_hours: float = Field(
        description=("每两个月至少进驻接待一次，每次不少于此小时数")
    )  # SM 9: a session of at least this long every two months
    # CM 4 for the year, for a city representative only: 10, pro-rated as the
    # compliance page does for a year they served in part (floor(10 × whole months / 12)).
    visits_per_year: int | None = Field(description="当年入户走访的最低次数；非市级党代表为 null")


class DutyRecordOut(Schema):
    representative_id: int
    representative_name: str
    year: int
    totals: TotalsOut = Field(description="履职档案的年度合计")
    minimums: MinimumsOut = Field(description="最低要求")
    compliance: ComplianceOut | None = Field(
        description=("履职考核结果；考核页面不显示该党代表时为 null")
    )  # None where the compliance page shows them not


class RecordParams(Schema):
    year: int | None = Field(None, description="年度；不填为今年")


def _compliance(user: Any, rep: Representative, year: int) -> dict[str, Any] | None:
    rules = compliance.make_rules(date(year, 1, 1), date(year, 12, 31))
    row = compliance.representative_row(user, rep, rules)
    if row is None:
        return None
    summary: Summary = row.summary
    return {
        "worst": summary.worst.value,
        "red": summary.red,
        "amber": summary.amber,
        "green": summary.green,
        "results": [
            {
                "rule": r.rule,
                "rule_text": cite(r.rule),
                "topic": r.topic,
                "period": r.period,
                "status": r.status.value,
                "label": r.label,
                "reason": r.reason,
                "due": r.due,
                "warn": r.warn,
            }
            for r in row.results
        ],
    }


@router.get(
    "/representatives/{representative_id}/duty-record",
    response={200: DutyRecordOut, **ONE},
    summary="查看党代表履职档案",
    tags=["履职档案"],
)
def get_duty_record(
    request: HttpRequest, representative_id: int, params: Query[RecordParams]
) -> dict[str, Any]:
    """履职档案页面上的年度合计（`year`，默认今年），以及该党代表在“履职考核”页面上
    当年的各项结果，每项对照其最低要求（每两个月进驻接待至少半天；市级党代表每年入户
    走访）；`warn` 为 true 的，现在正发出提醒。`minimums.visits_per_year` 是当年入户走访的
    最低次数：全年在任为 10，部分年份在任按整月折算（10 × 在任整月数 / 12，向下取整）；
    非市级党代表为 null。考核页面不显示该党代表时，`compliance` 为 null。

    可调用：能在页面上看到该党代表的角色。

    错误：404 不存在或无权查看；422 年份无效。"""
    reject_unknown_params(request, {"year"})
    user = account(request)
    rep = get_object_or_404(Representative.objects.for_user(user), pk=representative_id)
    raw = "" if params.year is None else str(params.year)
    year = record_year(raw, timezone.localdate())
    if year is None:
        raise ApiError(422, "invalid", YEAR_ERROR, {"year": [YEAR_ERROR]})
    record = duty_record(representative=rep, year=year)
    return {
        "representative_id": rep.pk,
        "representative_name": rep.name,
        "year": year,
        "totals": record.totals,
        "minimums": {
            "half_day_hours": compliance.half_day_hours(),
            "visits_per_year": compliance.visits_minimum(rep, year),
        },
        "compliance": _compliance(user, rep, year),
    }
