"""Pages for appointments (the public booking page and the staff side), household
visits, notifications, the duty record and the bi-monthly reports. Thin: each POST is
one service call; reads go through `for_user`, writes through `for_editor`, so "not
yours" is a 404. Refusals are explained in Chinese with status 400."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from minyi.core import once
from minyi.core.forms import add_errors
from minyi.core.links import pk_url
from minyi.core.phones import display_phone
from minyi.core.requests import AuthenticatedHttpRequest
from minyi.core.views_base import ListPage
from minyi.duties import appointments as appts
from minyi.duties import booker_notices, reports, visits
from minyi.duties.forms_people import (
    AppointmentFilterForm,
    CancelForm,
    HouseholdVisitCreateForm,
    HouseholdVisitEditForm,
    LinkCaseForm,
    PublicBookingForm,
    ReportCreateForm,
    ReportEditForm,
    ReportFilterForm,
    VisitFilterForm,
    VisitWithdrawForm,
)
from minyi.duties.models import (
    Appointment,
    AppointmentState,
    BimonthlyReport,
    Event,
    HouseholdAddressView,
    HouseholdVisit,
    Notification,
    ReportState,
)
from minyi.duties.notify import notification_mark_read
from minyi.duties.public_pages import render_public
from minyi.duties.record import YEAR_ERROR, record_year
from minyi.duties.record import duty_record as build_duty_record
from minyi.duties.record_rows import table_bodies
from minyi.duties.references import as_reference, format_reference, new_reference
from minyi.duties.visits import (
    can_record,
    closed_year_refusal,
    editable_visits,
    household_visit_record,
    household_visit_update,
    household_visit_withdraw,
    mask_address,
    recorded_with,
)
from minyi.online import limits as online_limits
from minyi.online.codes import phone_key
from minyi.people.models import Representative

# --- the public booking page -----------------------------------------------------------

BOOKED_KEY = "minyi_booked"


@login_not_required
def public_booking(request: HttpRequest, event_pk: int) -> HttpResponse:
    event = get_object_or_404(appts.bookable_events().select_related("studio"), pk=event_pk)
    context: dict[str, Any] = {"event": event}
    if request.method == "POST":
        # Limits per client address and per phone (keyed hash), as on the online studio.
        hit = online_limits.limited(request, group="book", rate=online_limits.BOOK_PER_CLIENT)
        if hit:
            return hit
        form = PublicBookingForm(request.POST, event=event)
        if form.is_valid() and not form.is_bot:
            hit = online_limits.limited(
                request,
                group="book-phone",
                rate=online_limits.BOOK_PER_PHONE,
                key=phone_key(form.cleaned_data["phone"]),
            )
            if hit:
                return hit
        if form.is_bot:
            # Bots see the same confirmation as people, a reference too; nothing is saved.
            request.session[BOOKED_KEY] = {
                "event": event.pk,
                "appointment": None,
                "reference": new_reference(),
            }
            return redirect("duties:public_booking_done", event_pk=event.pk)
        if form.is_valid():
            data = form.cleaned_data
            try:
                appointment = appts.appointment_book(
                    event=event,
                    requester_kind=data["requester_kind"],
                    name=data["name"],
                    phone=data["phone"],
                    topic=data["topic"],
                    preferred_representative=data["preferred_representative"],
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                request.session[BOOKED_KEY] = {"event": event.pk, "appointment": appointment.pk}
                return redirect("duties:public_booking_done", event_pk=event.pk)
        context.update(form=form, places_left=appts.places_left(event))
        return render_public(request, "duties/public_booking.html", context, status=400)
    left = appts.places_left(event)
    context.update(form=PublicBookingForm(event=event) if left else None, places_left=left)
    return render_public(request, "duties/public_booking.html", context)


@login_not_required
def public_booking_done(request: HttpRequest, event_pk: int) -> HttpResponse:
    booked = request.session.get(BOOKED_KEY) or {}
    if booked.get("event") != event_pk:
        return redirect("duties:public_booking", event_pk=event_pk)
    event = get_object_or_404(Event.objects.published().select_related("studio"), pk=event_pk)
    appointment = None
    reference = booked.get("reference", "")
    if booked.get("appointment"):
        appointment = Appointment.objects.filter(pk=booked["appointment"], event=event).first()
        reference = appointment.reference if appointment else ""
    return render_public(
        request,
        "duties/public_booking_done.html",
        {
            "event": event,
            "appointment": appointment,
            "reference": format_reference(reference),
            # The same for every booking, the honeypot's included: a bot sees no difference.
            "texts": booker_notices.texts_sent(),
        },
    )


# --- appointments, staff side ----------------------------------------------------------


# What only the recorded full view shows of whoever booked and a list need not read: the
# name is a token decrypted as its row is read, so the list, the page and the API leave
# it in the database and print the masked name kept beside it. The phone is read and
# masked (no plain masked copy: docs/decisions.md).
BOOKER_FULL_VIEW = ("name",)


def _appointments(user: Any) -> QuerySet:
    # The representative is printed by name: their phone, encrypted, stays unread (it
    # was decrypted on every row).
    return (
        Appointment.objects.for_user(user)
        .select_related("event", "event__studio", "preferred_representative")
        .defer("preferred_representative__phone")
    )


class AppointmentList(ListPage):
    model = Appointment
    filter_form = AppointmentFilterForm
    template_name = "duties/appointment_list.html"
    title = "群众预约"

    def base_queryset(self) -> QuerySet:
        # The row prints the masked name from its own column: the name is not read, so
        # a page decrypts no name (minyi.core.crypto), only each row's phone.
        return (
            _appointments(self.request.user)
            .defer(*BOOKER_FULL_VIEW)
            .order_by("-event__starts_at", "pk")
        )

    def filter(self, qs: QuerySet, data: dict[str, Any]) -> QuerySet:
        if data.get("q"):
            # The topic or the booking reference the resident quotes on the phone; never
            # the name, as the case list searches no reporter's name: a search by part
            # of a name would let anyone who lists appointments probe who booked
            # (docs/decisions.md).
            match = Q(topic__icontains=data["q"])
            reference = as_reference(data["q"])
            if reference:
                match |= Q(reference=reference)
            qs = qs.filter(match)
        if data.get("state"):
            qs = qs.filter(state=data["state"])
        if data.get("upcoming"):
            qs = qs.filter(event__starts_at__gte=timezone.now())
        return qs


def _detail(
    request: HttpRequest,
    appointment: Appointment,
    *,
    status: int = 200,
    error: str = "",
    cancel_form: Any = None,
    link_form: Any = None,
    full: bool = False,
) -> HttpResponse:
    user = request.user
    can_edit = Appointment.objects.for_editor(user).filter(pk=appointment.pk).exists()
    state = appointment.state
    open_ = state in {AppointmentState.REQUESTED, AppointmentState.CONFIRMED}
    started = appointment.event.starts_at <= timezone.now()
    linkable = can_edit and state in {AppointmentState.CONFIRMED, AppointmentState.ATTENDED}
    context = {
        "appointment": appointment,
        "event": appointment.event,
        "can_edit": can_edit,
        # The booker masked, as on the list; in full only in the recorded full view.
        "full": full,
        "phone": display_phone(appointment.phone) if full else appointment.phone_masked,
        "can_confirm": can_edit and state == AppointmentState.REQUESTED,
        "can_cancel": can_edit and open_,
        "can_mark": can_edit and started and (open_ or state == AppointmentState.NO_SHOW),
        "cancel_form": cancel_form or (CancelForm() if can_edit and open_ else None),
        "link_form": link_form
        or (
            LinkCaseForm(
                cases=appts.linkable_cases(appointment, user), initial={"case": appointment.case_id}
            )
            if linkable
            else None
        ),
        "register_url": (
            f"{reverse('cases:create')}?studio={appointment.event.studio_id}" if linkable else ""
        ),
        # The text messages to whoever booked and how each went (booker_notices).
        "notices": list(appointment.booker_notices.order_by("pk")) if can_edit else [],
        "error": error,
    }
    response = render(request, "duties/appointment_detail.html", context, status=status)
    if full:
        response["Cache-Control"] = "no-store"
    return response


def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # The page shows the name masked: it is decrypted only for the recorded full view.
    qs = _appointments(request.user).defer(*BOOKER_FULL_VIEW)
    return _detail(request, get_object_or_404(qs, pk=pk))


# The purpose recorded with each full view from the page (the API records its own).
VIEW_PURPOSE = "查看预约人完整信息"


def _editable(request: HttpRequest, pk: int) -> Appointment:
    return get_object_or_404(
        Appointment.objects.for_editor(request.user).select_related(
            "event", "event__studio", "preferred_representative"
        ),
        pk=pk,
    )


@require_POST
def appointment_booker(request: HttpRequest, pk: int) -> HttpResponse:
    """Whoever booked, name and phone in full, for those who act on the appointment (the
    liaison confirms it by telephone); every view is recorded."""
    appointment = _editable(request, pk)
    appts.appointment_view_record(
        appointment=appointment, viewer=request.user, purpose=VIEW_PURPOSE
    )
    return _detail(request, appointment, full=True)


def _step(request: HttpRequest, pk: int, run: Any, done: str, form_name: str = "") -> HttpResponse:
    appointment = _editable(request, pk)
    form = None
    try:
        if form_name == "cancel_form":
            form = CancelForm(request.POST)
            if not form.is_valid():
                return _detail(
                    request,
                    appointment,
                    status=400,
                    error="请修改以下问题后再提交。",
                    cancel_form=form,
                )
            run(appointment, form.cleaned_data)
        elif form_name == "link_form":
            link = LinkCaseForm(request.POST, cases=appts.linkable_cases(appointment, request.user))
            if not link.is_valid():
                return _detail(
                    request,
                    appointment,
                    status=400,
                    error="请修改以下问题后再提交。",
                    link_form=link,
                )
            run(appointment, link.cleaned_data)
        else:
            run(appointment, {})
    except appts.AppointmentNotAllowed as exc:
        return _detail(request, appointment, status=400, error=str(exc))
    except ValidationError as exc:
        if form is None:
            return _detail(request, appointment, status=400, error="；".join(exc.messages))
        add_errors(form, exc)
        return _detail(
            request,
            appointment,
            status=400,
            error="请修改以下问题后再提交。",
            cancel_form=form if form_name == "cancel_form" else None,
            link_form=form if form_name == "link_form" else None,
        )
    messages.success(request, done)
    return redirect("duties:appointment_detail", pk=pk)


@require_POST
def appointment_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        lambda a, d: appts.appointment_confirm(appointment=a, actor=request.user),
        "已确认预约，并已通知党代表；给预约人的短信将随后发出。",
    )


@require_POST
def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        lambda a, d: appts.appointment_cancel(
            appointment=a, actor=request.user, reason=d["reason"]
        ),
        "预约已取消；给预约人的短信将随后发出。",
        "cancel_form",
    )


@require_POST
def appointment_no_show(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        lambda a, d: appts.appointment_mark_no_show(appointment=a, actor=request.user),
        "已登记：预约人未到。",
    )


@require_POST
def appointment_attended(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        lambda a, d: appts.appointment_mark_attended(appointment=a, actor=request.user),
        "已登记：已接待。",
    )


@require_POST
def appointment_link_case(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        lambda a, d: appts.appointment_link_case(appointment=a, actor=request.user, case=d["case"]),
        "已关联社情民意。",
        "link_form",
    )


# --- notifications ---------------------------------------------------------------------

NOTIFICATIONS_SHOWN = 100


def notification_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = list(Notification.objects.filter(recipient=request.user)[:NOTIFICATIONS_SHOWN])
    return render(
        request,
        "duties/notification_list.html",
        {"rows": rows, "unread": sum(1 for n in rows if n.read_at is None)},
    )


@require_POST
def notification_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    raw = request.POST.get("pk", "")
    if raw and not raw.isdigit():
        return HttpResponse("通知编号无效。", status=400)
    pk = int(raw) if raw else None
    notification_mark_read(user=request.user, pk=pk)
    if pk is not None:
        target = Notification.objects.filter(recipient=request.user, pk=pk).first()
        if target is None:
            raise Http404
        if target.url and request.POST.get("open"):
            return redirect(target.url)
    return redirect("duties:notification_list")


# --- household visits ------------------------------------------------------------------


class VisitList(ListPage):
    model = HouseholdVisit
    filter_form = VisitFilterForm
    template_name = "duties/visit_list.html"
    title = "入户走访"

    def visits(self, *, withdrawn: bool = False) -> QuerySet:
        qs = HouseholdVisit.objects.for_user(self.request.user)
        if not withdrawn:
            qs = qs.counted()
        # The representative is printed by name: their phone, encrypted, stays unread (it
        # was decrypted on every row). The address is decrypted to be masked.
        return (
            qs.select_related("representative", "community")
            .defer("representative__phone")
            .distinct()
        )

    def base_queryset(self) -> QuerySet:
        return self.visits()

    def filter(self, qs: QuerySet, data: dict[str, Any]) -> QuerySet:
        if data.get("withdrawn"):
            qs = self.visits(withdrawn=True)
        if data.get("q"):
            qs = qs.filter(Q(household__icontains=data["q"]) | Q(notes__icontains=data["q"]))
        if data.get("representative"):
            qs = qs.filter(representative=data["representative"])
        if data.get("year"):
            qs = qs.filter(visited_on__year=data["year"])
        return qs

    def decorate(self, rows: list[Any]) -> list[Any]:
        # One query for the page: which of its rows this user may correct.
        editable = set(
            editable_visits(self.request.user)
            .filter(pk__in=[row.pk for row in rows], withdrawn_at__isnull=True)
            .values_list("pk", flat=True)
        )
        for row in rows:
            row.address_masked = mask_address(row.address)
            row.editable = row.pk in editable
        return rows

    def extra_context(self) -> dict[str, Any]:
        return {"can_record": can_record(self.request.user)}


def visit_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can_record(user):
        raise Http404
    if request.method == "POST":
        form = HouseholdVisitCreateForm(request.POST, user=user)
        if form.is_valid():
            try:
                visit = household_visit_record(actor=user, **form.cleaned_data)
            except IntegrityError:
                # The form sent twice (its key recorded a visit already): that visit,
                # nothing written; a key another account used is an expired page.
                earlier = recorded_with(form.posted_key)
                if earlier is None:
                    raise
                if earlier.recorded_by_id == user.pk:
                    messages.info(request, "这次入户走访已经登记过了，没有重复登记。")
                    return redirect("duties:visit_detail", pk=earlier.pk)
                form.refresh_key()
                form.add_error(None, once.REUSED)
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, "入户走访已登记。")
                return redirect("duties:visit_detail", pk=visit.pk)
        return render(
            request, "duties/visit_form.html", {"form": form, "title": "登记入户走访"}, status=400
        )
    form = HouseholdVisitCreateForm(user=user)
    return render(request, "duties/visit_form.html", {"form": form, "title": "登记入户走访"})


def _visit_page(
    request: HttpRequest,
    visit: HouseholdVisit,
    *,
    reveal: bool = False,
    withdraw_form: Any = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    editable = visit.withdrawn_at is None and (
        editable_visits(request.user).filter(pk=visit.pk).exists()
    )
    closed = closed_year_refusal(visit.visited_on.year) if editable else ""
    can_edit = editable and not closed
    context = {
        "visit": visit,
        "address_masked": mask_address(visit.address),
        "reveal": reveal,
        "can_edit": can_edit,
        "closed": closed,
        "withdraw_form": withdraw_form
        or (VisitWithdrawForm(initial={"version": visit.version}) if can_edit else None),
        "error": error,
    }
    response = render(request, "duties/visit_detail.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _visit(request: HttpRequest, pk: int) -> HouseholdVisit:
    qs = (
        HouseholdVisit.objects.for_user(request.user)
        .select_related("representative", "community", "recorded_by", "withdrawn_by")
        .distinct()
    )
    return get_object_or_404(qs, pk=pk)


def visit_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    reveal = request.method == "POST"
    if reveal:
        # The full address is shown only on request, and each showing is recorded.
        HouseholdAddressView.objects.create(visit=visit, viewer=request.user)
    return _visit_page(request, visit, reveal=reveal)


def _visit_form_page(
    request: HttpRequest, visit: HouseholdVisit, form: Any, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "title": f"修改入户走访：{visit.household}",
        "visit": visit,
        "cancel_url": pk_url("duties:visit_detail", visit.pk),
        "error": error,
    }
    response = render(request, "duties/visit_form.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def visit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a visit: whoever could record it now, as long as its year is open."""
    user = request.user
    qs = editable_visits(user).select_related("representative", "community")
    visit = get_object_or_404(qs, pk=pk)
    refused = (visits.WITHDRAWN if visit.withdrawn_at else "") or closed_year_refusal(
        visit.visited_on.year
    )
    if refused:
        return _visit_page(request, _visit(request, pk), error=refused, status=400)
    if request.method == "GET":
        return _visit_form_page(request, visit, HouseholdVisitEditForm(user=user, visit=visit))
    form = HouseholdVisitEditForm(request.POST, user=user, visit=visit)
    if not form.is_valid():
        return _visit_form_page(request, visit, form, status=400)
    try:
        household_visit_update(actor=user, visit=visit, **form.cleaned_data)
    except PermissionError as exc:
        raise Http404 from exc
    except visits.NotAllowed as exc:
        return _visit_page(request, _visit(request, pk), error=str(exc), status=400)
    except visits.Changed as exc:
        fresh = _visit(request, pk)
        # What the user typed stays on the page, against the latest version.
        typed = request.POST.copy()
        typed["version"] = str(fresh.version)
        kept = HouseholdVisitEditForm(typed, user=user, visit=fresh)
        kept.is_valid()
        return _visit_form_page(request, fresh, kept, error=str(exc), status=409)
    except ValidationError as exc:
        add_errors(form, exc)
        return _visit_form_page(request, visit, form, status=400)
    messages.success(request, "入户走访已修改。")
    return redirect("duties:visit_detail", pk=pk)


@require_POST
def visit_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw a visit entered by mistake, with a reason; it stays on record."""
    user = request.user
    visit = get_object_or_404(editable_visits(user), pk=pk)
    form = VisitWithdrawForm(request.POST)
    if not form.is_valid():
        return _visit_page(
            request, _visit(request, pk), withdraw_form=form, error="请填写撤回理由。", status=400
        )
    try:
        household_visit_withdraw(actor=user, visit=visit, **form.cleaned_data)
    except PermissionError as exc:
        raise Http404 from exc
    except (visits.Changed, visits.NotAllowed) as exc:
        status = 409 if isinstance(exc, visits.Changed) else 400
        return _visit_page(request, _visit(request, pk), error=str(exc), status=status)
    except ValidationError as exc:
        add_errors(form, exc)
        return _visit_page(request, _visit(request, pk), withdraw_form=form, status=400)
    messages.success(request, "入户走访已撤回，不再计入走访户数。")
    return redirect("duties:visit_detail", pk=pk)


# --- duty record -----------------------------------------------------------------------


def duty_record(request: HttpRequest, pk: int) -> HttpResponse:
    rep = get_object_or_404(Representative.objects.for_user(request.user), pk=pk)
    today = timezone.localdate()
    year = record_year(request.GET.get("year", ""), today)
    if year is None:
        return render(
            request,
            "duties/record_detail.html",
            {"rep": rep, "error": YEAR_ERROR, "year": today.year},
            status=400,
        )
    record = build_duty_record(representative=rep, year=year)
    return render(
        request,
        "duties/record_detail.html",
        {
            "rep": rep,
            "record": record,
            "bodies": table_bodies(record),
            "year": year,
            "years": range(today.year, today.year - 6, -1),
        },
    )


# --- bi-monthly reports ----------------------------------------------------------------


class ReportList(ListPage):
    model = BimonthlyReport
    filter_form = ReportFilterForm
    template_name = "duties/report_list.html"
    title = "双月报告"

    def base_queryset(self) -> QuerySet:
        return (
            BimonthlyReport.objects.for_user(self.request.user)
            .select_related("studio", "submitted_by", "acknowledged_by")
            .order_by("-year", "-period", "studio__name")
        )

    def filter(self, qs: QuerySet, data: dict[str, Any]) -> QuerySet:
        if data.get("q"):
            qs = qs.filter(Q(studio__name__icontains=data["q"]) | Q(body__icontains=data["q"]))
        if data.get("state"):
            qs = qs.filter(state=data["state"])
        if data.get("year"):
            qs = qs.filter(year=data["year"])
        return qs

    def extra_context(self) -> dict[str, Any]:
        studios = reports.writable_studios(self.request.user)
        if not studios.exists():
            return {"create_form": None}
        # Ids of their own: the filters above the list have a 年度 field too, and two
        # id_year on one page leave the second field without its label.
        return {"create_form": ReportCreateForm(user=self.request.user, auto_id="id_new_%s")}


@require_POST
def report_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not reports.writable_studios(user).exists():
        raise Http404
    form = ReportCreateForm(request.POST, user=user)
    if form.is_valid():
        try:
            report = reports.report_create(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已根据记录生成报告草稿，请核对修改后报送。")
            return redirect("duties:report_detail", pk=report.pk)
    return render(
        request, "duties/report_form.html", {"form": form, "title": "撰写双月报告"}, status=400
    )


def report_in_scope(request: HttpRequest, pk: int) -> BimonthlyReport:
    qs = BimonthlyReport.objects.for_user(request.user).select_related(
        "studio", "submitted_by", "acknowledged_by"
    )
    return get_object_or_404(qs, pk=pk)


def _report_page(
    request: HttpRequest,
    report: BimonthlyReport,
    *,
    form: Any = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    editable = _writer(request, report) and report.state == ReportState.DRAFT
    context = {
        "report": report,
        "period_label": dict(reports.PERIODS)[report.period],
        "form": form or (ReportEditForm(initial={"body": report.body}) if editable else None),
        "can_submit": editable,
        # A draft sent before its period ends says its figures are so far (reports.AS_OF).
        "running_until": (reports.period_running(report.year, report.period) if editable else None),
        "can_acknowledge": report.state == ReportState.SUBMITTED and _acknowledger(request, report),
        "error": error,
    }
    return render(request, "duties/report_detail.html", context, status=status)


def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_page(request, report_in_scope(request, pk))


def _writer(request: HttpRequest, report: BimonthlyReport) -> bool:
    return reports.writable_studios(request.user).filter(pk=report.studio_id).exists()


def _acknowledger(request: HttpRequest, report: BimonthlyReport) -> bool:
    user = request.user
    return (
        reports.can_acknowledge(user)
        and BimonthlyReport.objects.for_editor(user).filter(pk=report.pk).exists()
    )


def _report_step(
    request: HttpRequest, pk: int, run: Any, done: str, *, allowed: Any = _writer
) -> HttpResponse:
    """A step on a report the user may read; a step their role never takes is 404,
    a step the report's state does not allow is explained (400)."""
    report = report_in_scope(request, pk)
    if not allowed(request, report):
        raise Http404
    try:
        run(report)
    except reports.ReportNotAllowed as exc:
        return _report_page(request, report, error=str(exc), status=400)
    except ValidationError as exc:
        return _report_page(request, report, error="；".join(exc.messages), status=400)
    messages.success(request, done)
    return redirect("duties:report_detail", pk=pk)


@require_POST
def report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    report = report_in_scope(request, pk)
    if not _writer(request, report):
        raise Http404
    form = ReportEditForm(request.POST)
    if form.is_valid():
        try:
            reports.report_update(report=report, actor=request.user, body=form.cleaned_data["body"])
        except reports.ReportNotAllowed as exc:
            return _report_page(request, report, error=str(exc), status=400)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            if request.POST.get("then") == "submit":
                return _report_step(
                    request,
                    pk,
                    lambda r: reports.report_submit(report=r, actor=request.user),
                    "报告已保存并报送。",
                )
            messages.success(request, "报告已保存。")
            return redirect("duties:report_detail", pk=pk)
    return _report_page(request, report, form=form, error="请修改以下问题后再提交。", status=400)


@require_POST
def report_redraft(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_step(
        request,
        pk,
        lambda r: reports.report_redraft(report=r, actor=request.user),
        "已根据最新记录重新生成报告草稿。",
    )


@require_POST
def report_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_step(
        request,
        pk,
        lambda r: reports.report_submit(report=r, actor=request.user),
        "报告已报送。",
    )


@require_POST
def report_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_step(
        request,
        pk,
        lambda r: reports.report_acknowledge(report=r, actor=request.user),
        "报告已签收。",
        allowed=_acknowledger,
    )
