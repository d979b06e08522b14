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

router = Router(tags=["duties"])


def _user_name(user: Any) -> str | None:
    return str(user) if user is not None else None


# --- annual plans ----------------------------------------------------------------------


class ShortfallOut(Schema):
    rule: str  # the code, "SM 9"
    rule_text: str  # as a page cites it: 《工作室管理办法》第九条
    message: str
    representative_id: int | None
    window: int | None  # 0 = January–February … 5 = November–December


class PlanItem(Schema):
    id: int
    studio_id: int
    studio_name: str
    year: int
    state: str
    state_label: str
    expanded: bool  # the year's events have been generated from the approved plan
    shortfalls: list[ShortfallOut]


class SessionOut(Schema):
    id: int
    representative_id: int
    representative_name: str
    date: date
    start: time
    end: time
    kind: str
    kind_label: str
    theme: str


class AssignedOut(Schema):
    representative_id: int
    representative_name: str


class PlanDetail(PlanItem):
    opening_weekday: int  # 0 = Monday
    opening_weekday_label: str
    opening_start: time
    opening_end: time
    opening_hours: float
    half_day_hours: float
    place: str
    notes: str
    shortfall_reason: str
    submitted_at: datetime | None
    submitted_by: str | None
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str
    event_count: int
    representatives: list[AssignedOut]
    sessions: list[SessionOut]


class PlanPage(Schema):
    items: list[PlanItem]
    next_cursor: str | None


class PlanFilters(PageParams):
    """The filters of the plan list page (年度计划)."""

    studio: int | None = None
    year: int | None = None
    state: str | None = None


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


@router.get("/annual-plans", response={200: PlanPage, **ERRORS})
def list_plans(request: HttpRequest, filters: Query[PlanFilters]) -> dict[str, Any]:
    """Annual plans in the token's scope with the plan list page's filters, newest
    first, each with what it lacks against the minimums (SM 9, SM 10) as the page
    counts it."""
    rows, cursor = screen_list(request, PlanList, filters)
    return {"items": [_plan_item(p, p.shortfalls) for p in rows], "next_cursor": cursor}


@router.get("/annual-plans/{plan_id}", response={200: PlanDetail, **ONE})
def get_plan(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    """The plan as its page shows it: opening hours, the representatives assigned to
    the studio, the planned sessions and the shortfalls."""
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
    period: int  # 1 = January–February … 6 = November–December
    period_label: str
    state: str
    state_label: str
    submitted_at: datetime | None
    submitted_by: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None


class ReportDetail(ReportItem):
    body: str


class ReportPage(Schema):
    items: list[ReportItem]
    next_cursor: str | None


class ReportFilters(PageParams):
    """The filters of the report list page (双月报告)."""

    q: str | None = None
    state: str | None = None
    year: int | None = None


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


@router.get("/bimonthly-reports", response={200: ReportPage, **ERRORS})
def list_reports(request: HttpRequest, filters: Query[ReportFilters]) -> dict[str, Any]:
    """Bi-monthly reports in the token's scope with the report list page's filters
    (`q` searches the studio's name and the text), newest first, without their text."""
    rows, cursor = screen_list(request, ReportList, filters)
    return {"items": [_report_item(r) for r in rows], "next_cursor": cursor}


@router.get("/bimonthly-reports/{report_id}", response={200: ReportDetail, **ONE})
def get_report(request: HttpRequest, report_id: int) -> dict[str, Any]:
    """The report with its text, as its page shows it."""
    report = report_in_scope(request, report_id)
    return {**_report_item(report), "body": report.body}


# --- the duty record -------------------------------------------------------------------


class TotalsOut(Schema):
    events: int  # listed at, not cancelled
    attended: int
    hours: float
    visits: int  # household visits, withdrawn ones not counted
    appointments: int
    appointments_met: int
    cases: int
    cases_closed: int


class ResultOut(Schema):
    rule: str  # "SM 9", "CM 4"
    rule_text: str  # as the compliance page cites it: 《工作室管理办法》第九条
    topic: str
    period: str
    status: str  # not_due, green, amber, red
    label: str
    reason: str
    due: date | None
    warn: bool  # a warning goes out now (three weeks before a window closes)


class ComplianceOut(Schema):
    worst: str
    red: int
    amber: int
    green: int
    results: list[ResultOut]


class MinimumsOut(Schema):
    half_day_hours: float  # SM 9: a session of at least this long every two months
    # CM 4 for the year, for a city representative only: 10, pro-rated as the
    # compliance page does for a year they served in part (floor(10 × whole months / 12)).
    visits_per_year: int | None


class DutyRecordOut(Schema):
    representative_id: int
    representative_name: str
    year: int
    totals: TotalsOut
    minimums: MinimumsOut
    compliance: ComplianceOut | None  # None where the compliance page shows them not


class RecordParams(Schema):
    year: int | None = None


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
)
def get_duty_record(
    request: HttpRequest, representative_id: int, params: Query[RecordParams]
) -> dict[str, Any]:
    """履职档案: the totals of the duty record page (`?year=`, this year by default) and
    the representative's results on the compliance page for that year, each against
    its minimum (SM 9 every two months, CM 4 for the year), with `warn` where a warning
    goes out now. `minimums.visits_per_year` is the CM 4 minimum the compliance page
    judges them against that year: 10 for a year served whole, floor(10 × whole months
    served / 12) for part of one; null for a representative not at city level."""
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
