"""PDF documents (issue 5, item 1): the registration form of a case in its three
copies (annex note 8), the tracking-ledger sheet of a case (annex 2), the ledger of a
studio for a period (CM 12), a representative's duty record and the liaison's
bi-monthly report (SM 12.5).

Scope first (`for_user`, so "not yours" is a 404), then the reporter rule: the two
case documents carry the reporter's full details, so they are served only to those
who may see the reporter (else 404), and every download is recorded as a
PersonalDataView. The duty record shows household addresses masked only."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from minyi import audit
from minyi.audit.models import Action as AuditAction
from minyi.cases import access, services
from minyi.cases.models import Case, Channel, Outcome, Satisfaction
from minyi.cases.states import Action, HolderLevel
from minyi.cases.views import Ledger
from minyi.core.phones import display_phone
from minyi.documents.lists import BadFilters, decorated, filtered
from minyi.documents.pdf import pdf_response, render_pdf
from minyi.duties.models import BimonthlyReport
from minyi.duties.record import duty_record as build_duty_record
from minyi.duties.reports import PERIODS
from minyi.online import qr
from minyi.online.services import sms_follow_possible
from minyi.org.models import Level
from minyi.people.models import Representative
from minyi.studios.models import Studio

# Annex note 8: one copy each for the reporter, the studio and the street department.
COPIES = ["反映人留存", "工作室留存", "街道组织部门留存"]
COPY_ORDINALS = ["第一联", "第二联", "第三联"]

PURPOSE_FORM = "打印登记表"
PURPOSE_LEDGER = "打印跟踪明细帐"

SENT_LEVELS = [
    (HolderLevel.STREET, "送街道组织部门"),
    (HolderLevel.DISTRICT, "送区委组织部门"),
    (HolderLevel.CITY, "送市委组织部"),
]


def _reporter_case(request: HttpRequest, pk: int) -> Case:
    qs = Case.objects.for_user(request.user).select_related(
        "studio",
        "studio__unit",
        "studio__unit__street",
        "handling_unit",
        "representative_confirmed_by",
        "reporter_confirmed_by",
    )
    case = get_object_or_404(qs, pk=pk)
    if not access.can_see_reporter(request.user, case):
        raise Http404
    return case


def _street_name(case: Case) -> str:
    unit = case.studio.unit
    if unit.street is not None:
        return unit.street.name
    return unit.name if unit.level == Level.STREET else ""


def _checks(choices: list[tuple[str, str]], chosen: Any) -> list[tuple[str, bool]]:
    """(label, ticked) for a row of tick boxes on the paper form."""
    return [(label, bool(chosen) and value == chosen) for value, label in choices]


def _common(case: Case) -> dict[str, Any]:
    return {
        "case": case,
        "street_name": _street_name(case),
        "reporter_phone": case.reporter_phone_display,
        "reporter_home_phone": display_phone(case.reporter_home_phone),
        "rep_contact": display_phone(case.representative_contact),
        "printed_at": timezone.localtime(),
    }


@require_GET
def case_form(request: HttpRequest, pk: int) -> HttpResponse:
    case = _reporter_case(request, pk)
    context = _common(case) | {
        "copies": list(zip(COPY_ORDINALS, COPIES, strict=True)),
        "channels": _checks(list(Channel.choices), case.channel),
        "outcomes": _checks(list(Outcome.choices), case.outcome),
        "satisfaction": _checks(list(Satisfaction.choices), case.spot_satisfaction),
        "on_the_spot": case.outcome == Outcome.ON_THE_SPOT,
        # On the reporter's copy: where they follow the case from home.
        "lookup_url": request.build_absolute_uri(reverse("online:lookup")),
        "lookup_qr": qr.qr_data_uri(qr.lookup_address(request, case.number)),
        "qr_alt": qr.QR_ALT,
        "sms_follow": sms_follow_possible(case),
    }
    data = render_pdf("documents/case_form.html", context, request)
    services.record_personal_data_view(case=case, viewer=request.user, purpose=PURPOSE_FORM)
    audit.record(AuditAction.EXPORT, case, detail=f"PDF：{PURPOSE_FORM}")
    return pdf_response(data, f"社情民意登记表-{case.number}.pdf")


@require_GET
def case_ledger(request: HttpRequest, pk: int) -> HttpResponse:
    case = _reporter_case(request, pk)
    reached = set(
        case.steps.filter(action__in=[Action.SEND_TO_STREET, Action.ESCALATE]).values_list(
            "to_level", flat=True
        )
    )
    if HolderLevel.CITY_COMMITTEE in reached:
        reached.add(HolderLevel.CITY)
    answer = case.answers.select_related("handling_unit").order_by("answered_on", "pk").last()
    evaluation = case.evaluations.order_by("rated_at", "pk").last()
    rating = evaluation.rating if evaluation else case.final_rating
    context = _common(case) | {
        "sent": [(label, level in reached) for level, label in SENT_LEVELS],
        "on_the_spot": case.outcome == Outcome.ON_THE_SPOT,
        "answer": answer,
        "unit": answer.handling_unit if answer else case.handling_unit,
        "evaluation": evaluation,
        "ratings": _checks(list(Satisfaction.choices), rating),
    }
    data = render_pdf("documents/case_ledger.html", context, request)
    services.record_personal_data_view(case=case, viewer=request.user, purpose=PURPOSE_LEDGER)
    audit.record(AuditAction.EXPORT, case, detail=f"PDF：{PURPOSE_LEDGER}")
    return pdf_response(data, f"跟踪明细帐-{case.number}.pdf")


@require_GET
def duty_record(request: HttpRequest, pk: int) -> HttpResponse:
    rep = get_object_or_404(Representative.objects.for_user(request.user), pk=pk)
    raw = request.GET.get("year", "")
    if raw and not (raw.isdigit() and 2000 <= int(raw) <= 2100):
        return HttpResponseBadRequest(
            "年度应为 2000 到 2100 之间的四位数字。", content_type="text/plain; charset=utf-8"
        )
    year = int(raw) if raw else timezone.localdate().year
    record = build_duty_record(representative=rep, year=year)
    context = {"rep": rep, "record": record, "year": year, "printed_at": timezone.localtime()}
    data = render_pdf("documents/duty_record.html", context, request)
    audit.record(AuditAction.EXPORT, rep, detail=f"PDF：{year} 年履职档案")
    return pdf_response(data, f"履职档案-{rep.name}-{year}.pdf")


# --- the ledger of a studio for a period, and the bi-monthly report -------------------

PERIOD_HINT = "请用 YYYY-MM-DD 格式填写起止日期，例如 date_from=2026-01-01&date_to=2026-06-30。"


def _bad_request(message: str) -> HttpResponse:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


@require_GET
def studio_ledger(request: HttpRequest, pk: int) -> HttpResponse:
    """意见建议办理情况跟踪明细帐 of one studio for a period (CM 12): the ledger page's
    own rows (its scope, filters and masking), restricted to the studio. Reporters
    are masked as on the screen; a case's full sheet is `case_ledger`."""
    studio = get_object_or_404(
        Studio.objects.for_user(request.user).select_related("unit", "unit__street"), pk=pk
    )
    today = timezone.localdate()
    params = request.GET.copy()
    if not params.get("date_from"):
        params["date_from"] = f"{today.year}-01-01"
    if not params.get("date_to"):
        params["date_to"] = f"{today.year}-12-31"
    params["studio"] = str(studio.pk)
    try:
        view, qs, form = filtered(Ledger, request, params)
    except BadFilters as exc:
        return _bad_request(f"{exc}。{PERIOD_HINT}")
    start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    rows = list(decorated(view, qs))
    context = {
        "studio": studio,
        "street_name": studio.unit.street.name if studio.unit.street is not None else "",
        "start": start,
        "end": end,
        "rows": rows,
        "rated": sum(1 for c in rows if c.final_rating),
        "answered": sum(1 for c in rows if c.last_answer or c.on_the_spot),
        "printed_at": timezone.localtime(),
    }
    data = render_pdf("documents/studio_ledger.html", context, request)
    audit.record(
        AuditAction.EXPORT, studio, detail=f"PDF：跟踪明细帐 {start}—{end}，{len(rows)} 件"
    )
    return pdf_response(data, f"跟踪明细帐-{studio.name}-{start:%Y%m%d}-{end:%Y%m%d}.pdf")


@require_GET
def bimonthly_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The liaison's bi-monthly report (SM 12.5) as it was written or submitted."""
    report = get_object_or_404(
        BimonthlyReport.objects.for_user(request.user).select_related(
            "studio", "studio__unit", "studio__unit__street", "submitted_by", "acknowledged_by"
        ),
        pk=pk,
    )
    unit = report.studio.unit
    context = {
        "report": report,
        "period_label": dict(PERIODS)[report.period],
        "street_name": unit.street.name if unit.street is not None else "",
        "printed_at": timezone.localtime(),
    }
    data = render_pdf("documents/bimonthly_report.html", context, request)
    audit.record(AuditAction.EXPORT, report, detail="PDF：双月报告")
    return pdf_response(
        data, f"双月报告-{report.studio.name}-{report.year}年第{report.period}期.pdf"
    )
