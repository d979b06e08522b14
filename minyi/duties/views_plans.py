"""Annual-plan pages: the list, drafting, the plan with its sessions (htmx add/remove)
and its shortfalls, submission, approval and return. Thin views over
minyi.duties.plans; a plan outside the user's scope is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from minyi.core import once, stale
from minyi.core.forms import add_errors
from minyi.core.views_base import ListPage
from minyi.duties import openings, plans
from minyi.duties.forms_plans import (
    ApproveForm,
    PlanFilterForm,
    PlanForm,
    ReturnForm,
    SessionForm,
    editable_studios,
)
from minyi.duties.models import ActivityMonth, AnnualPlan, PlannedSession, PlanState
from minyi.studios.models import StudioAssignment


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def plan_in_scope(request: HttpRequest, pk: int, *, write: bool = False) -> AnnualPlan:
    manager = AnnualPlan.objects
    qs = manager.for_editor(request.user) if write else manager.for_user(request.user)
    return get_object_or_404(qs.select_related("studio", "studio__unit"), pk=pk)


class PlanList(ListPage):
    model = AnnualPlan
    filter_form = PlanFilterForm
    template_name = "duties/plan_list.html"
    title = "年度计划"

    def base_queryset(self) -> QuerySet:
        return (
            AnnualPlan.objects.for_user(self.request.user)
            .select_related("studio", "studio__unit", "studio__unit__street")
            .prefetch_related(
                Prefetch("sessions", queryset=PlannedSession.objects.all()),
                # Every period of the studio: each plan considers those in its year.
                Prefetch(
                    "studio__assignments",
                    queryset=StudioAssignment.objects.exclude(active=False, until__isnull=True)
                    .select_related("representative")
                    .order_by("representative__name", "representative_id", "since"),
                    to_attr="plan_periods",
                ),
            )
            .order_by("-year", "studio__name")
        )

    def filter(self, qs: QuerySet, data: dict[str, Any]) -> QuerySet:
        for name in ("studio", "year", "state"):
            if data.get(name):
                qs = qs.filter(**{name: data[name]})
        return qs

    def decorate(self, rows: list[Any]) -> list[Any]:
        hours = plans.half_day_hours()
        for plan in rows:
            plan.shortfalls = plans.plan_shortfalls(
                plan,
                plans.in_year(plan.studio.plan_periods, plan.year),
                hours,
                sessions=list(plan.sessions.all()),
            )
        return rows

    def extra_context(self) -> dict[str, Any]:
        return {"can_create": editable_studios(self.request.user).exists()}


def plan_create(request: HttpRequest) -> HttpResponse:
    if not editable_studios(request.user).exists():
        raise Http404
    form = PlanForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            plan = plans.plan_create(
                actor=request.user,
                studio=d["studio"],
                year=d["year"],
                opening_weekday=d["opening_weekday"],
                opening_start=d["opening_start"],
                opening_end=d["opening_end"],
                place=d["place"],
                notes=d["notes"],
            )
        except PermissionError as exc:
            raise Http404 from exc
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "年度计划草稿已建立，请逐一安排党代表的活动。")
            return redirect("duties:plan_detail", pk=plan.pk)
    return _form_page(request, form, "新建年度计划", reverse("duties:plan_list"))


def _form_page(
    request: HttpRequest, form: Any, title: str, cancel: str, status: int | None = None
) -> HttpResponse:
    return render(
        request,
        "duties/plan_form.html",
        {"form": form, "title": title, "cancel_url": cancel},
        status=status or (400 if form.errors else 200),
    )


def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_in_scope(request, pk, write=True)
    if request.method != "POST" and plan.state not in plans.EDITABLE:
        # A form that could only be refused (the address kept from before the plan was
        # sent or approved): the plan's page, told what to do instead.
        messages.info(request, plans.not_editable_message(plan))
        return redirect("duties:plan_detail", pk=plan.pk)
    form = stale.guard(PlanForm(request.POST or None, user=request.user, plan=plan), plan)
    title, cancel = f"编辑：{plan}", reverse("duties:plan_detail", args=[pk])
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with transaction.atomic():
                stale.check(form, AnnualPlan, plan.pk)
                plans.plan_update(
                    actor=request.user,
                    plan=plan,
                    opening_weekday=d["opening_weekday"],
                    opening_start=d["opening_start"],
                    opening_end=d["opening_end"],
                    place=d["place"],
                    notes=d["notes"],
                )
        except stale.StaleEdit as exc:
            stale.refuse(form, exc)
            return _form_page(request, form, title, cancel, status=409)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "年度计划已保存。")
            return redirect("duties:plan_detail", pk=plan.pk)
    return _form_page(request, form, title, cancel)


def plan_context(request: HttpRequest, plan: AnnualPlan, **forms: Any) -> dict[str, Any]:
    assignments = plans.assigned_for(plan.studio, plan.year)
    sessions = list(plan.sessions.select_related("representative"))
    labels = dict(plans.SESSION_KINDS)
    for s in sessions:
        s.kind_label = labels.get(s.kind, s.kind)  # type: ignore[attr-defined]
        s.activity_month = s.date.month == 7  # type: ignore[attr-defined]
    shortfalls = plans.plan_shortfalls(plan, assignments, plans.half_day_hours(), sessions)
    editable = plan.state in plans.EDITABLE and plans.can_edit(request.user, plan)
    approver = plan.state == PlanState.SUBMITTED and plans.can_approve(request.user, plan)
    # Until the plan is approved, what its submission or approval would meet: the liaison
    # and the department see the same list. Once approved, its events are the schedule.
    clashes = [] if plan.state == PlanState.APPROVED else plans.plan_clashes(plan, sessions)
    return {
        "plan": plan,
        "weekday": plans.WEEKDAYS[plan.opening_weekday],
        "opening_hours": plans.hours_between(plan.opening_start, plan.opening_end),
        "half_day": plans.half_day_hours(),
        "sessions": sessions,
        "assignments": assignments,
        "shortfalls": shortfalls,
        "clashes": [c for c in clashes if c.blocking],
        "clash_warnings": [c for c in clashes if not c.blocking],
        "editable": editable,
        "session_form": forms.get("session_form") or (SessionForm(plan=plan) if editable else None),
        "approver": approver,
        "approve_form": forms.get("approve_form") or ApproveForm(),
        "return_form": forms.get("return_form") or ReturnForm(),
        "errors": forms.get("errors", []),
        "event_count": plan.events.count() if plan.expanded_at else 0,
        # July's theme, once the city has set it (CM 6): what the July sessions serve.
        "activity_month": ActivityMonth.objects.filter(year=plan.year).only("theme").first(),
        # Why some weeks have no opening (holidays), or that the year's holidays are unknown.
        "opening_note": (
            openings.opening_schedule(plan.year, plan.opening_weekday).note
            if plan.expanded_at
            else ""
        ),
    }


def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_in_scope(request, pk)
    return render(request, "duties/plan_detail.html", plan_context(request, plan))


def _sessions_response(
    request: HttpRequest, plan: AnnualPlan, status: int = 200, **forms: Any
) -> HttpResponse:
    if _is_htmx(request):
        return render(
            request,
            "duties/plan_detail.html#sessions",
            plan_context(request, plan, **forms),
            status=status,
        )
    if status != 200:
        return render(
            request, "duties/plan_detail.html", plan_context(request, plan, **forms), status=status
        )
    return redirect("duties:plan_detail", pk=plan.pk)


@require_POST
def plan_session_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_in_scope(request, pk, write=True)
    form = SessionForm(request.POST, plan=plan)
    if form.is_valid():
        try:
            plans.plan_session_add(actor=request.user, plan=plan, **form.cleaned_data)
        except IntegrityError:
            # The form sent twice: the session its key added, nothing written.
            earlier = plans.added_with(form.posted_key)
            if earlier is None:
                raise
            if earlier.plan_id == plan.pk:
                messages.info(request, "这项安排已经加入计划，没有重复加入。")
                return _sessions_response(request, plan)
            # A key spent on another plan's session: an expired page, nothing of it shown.
            form.refresh_key()
            form.add_error(None, once.REUSED)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已加入计划。")
            return _sessions_response(request, plan)
    return _sessions_response(request, plan, status=400, session_form=form)


@require_POST
def plan_session_remove(request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    plan = plan_in_scope(request, pk, write=True)
    try:
        plans.plan_session_remove(actor=request.user, plan=plan, session_pk=session_pk)
    except ValidationError as exc:
        return _sessions_response(request, plan, status=400, errors=exc.messages)
    messages.success(request, "已从计划中删除。")
    return _sessions_response(request, plan)


def _step(request: HttpRequest, plan: AnnualPlan, run: Any, done: str, **forms: Any):
    try:
        run()
    except PermissionError as exc:
        raise Http404 from exc
    except ValidationError as exc:
        for form in forms.values():
            add_errors(form, exc)
        if not forms:
            forms = {"errors": exc.messages}
        plan.refresh_from_db()
        return render(
            request, "duties/plan_detail.html", plan_context(request, plan, **forms), status=400
        )
    messages.success(request, done)
    return redirect("duties:plan_detail", pk=plan.pk)


def _warner(request: HttpRequest) -> Any:
    """Where a step's warnings go: the messages the plan page shows after the step."""
    return lambda message: messages.warning(request, f"提醒：{message}")


@require_POST
def plan_submit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_in_scope(request, pk, write=True)
    return _step(
        request,
        plan,
        lambda: plans.plan_submit(actor=request.user, plan=plan, warn=_warner(request)),
        "年度计划已报审。",
    )


@require_POST
def plan_approve(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_in_scope(request, pk, write=True)
    if not plans.can_approve(request.user, plan):
        raise Http404
    form = ApproveForm(request.POST)
    form.is_valid()
    d = form.cleaned_data
    return _step(
        request,
        plan,
        lambda: plans.plan_approve(
            actor=request.user,
            plan=plan,
            shortfall_reason=d.get("shortfall_reason", ""),
            note=d.get("decision_note", ""),
            warn=_warner(request),
        ),
        "年度计划已批准，并已生成全年活动安排。",
        approve_form=form,
    )


@require_POST
def plan_return(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_in_scope(request, pk, write=True)
    if not plans.can_approve(request.user, plan):
        raise Http404
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "duties/plan_detail.html",
            plan_context(request, plan, return_form=form),
            status=400,
        )
    return _step(
        request,
        plan,
        lambda: plans.plan_return(
            actor=request.user, plan=plan, note=form.cleaned_data["decision_note"]
        ),
        "年度计划已退回修改。",
        return_form=form,
    )
