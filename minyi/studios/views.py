from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from minyi.cases.areas import cases_follow_studio
from minyi.core.views_base import FormPage, ListPage, scoped_get
from minyi.people.models import Liaison
from minyi.studios.forms import AssignmentForm, StudioFilterForm, StudioForm
from minyi.studios.models import FACILITIES, Studio, StudioQuerySet, open_period


def with_people(qs: StudioQuerySet) -> StudioQuerySet:
    return qs.select_related("unit", "unit__street", "unit__district").prefetch_related(
        # The full-time liaison first, then the part-time ones, then a stand-in: the
        # kinds' values sort in that order (full_time < part_time < stand_in).
        Prefetch(
            "liaisons",
            queryset=Liaison.objects.filter(active=True).order_by("kind", "name", "pk"),
            to_attr="active_liaisons",
        )
    )


class StudioList(ListPage):
    model = Studio
    filter_form = StudioFilterForm
    template_name = "studios/studio_list.html"
    title = "党代表工作室"

    def base_queryset(self) -> QuerySet:
        qs = Studio.objects.for_user(self.request.user).active()
        return (
            with_people(qs)
            .annotate(
                rep_count=Count("assignments", filter=Q(assignments__active=True), distinct=True)
            )
            .order_by("unit__code", "name")
        )

    def filter(self, qs: QuerySet, data: dict[str, Any]) -> QuerySet:
        if data.get("q"):
            qs = qs.filter(
                Q(name__icontains=data["q"])
                | Q(address__icontains=data["q"])
                | Q(unit__name__icontains=data["q"])
                | Q(unit__short_name__icontains=data["q"])
            )
        if data.get("kind"):
            qs = qs.filter(kind=data["kind"])
        if data.get("street"):
            qs = qs.filter(data["street"].subtree_q("unit__"))
        if data.get("shortfall"):
            assert isinstance(qs, StudioQuerySet)  # base_queryset's, filtered
            # In SQL, before paging: filtering the page's rows afterwards left short
            # pages and a total that counted every studio.
            qs = qs.with_shortfalls()
        return qs

    def decorate(self, rows: list[Any]) -> list[Any]:
        for studio in rows:
            studio.warnings = studio.shortfalls(liaisons=studio.active_liaisons)
        return rows

    def extra_context(self) -> dict[str, Any]:
        return {"can_create": _can_manage(self.request.user)}


def _can_manage(user: Any) -> bool:
    return bool(user.is_superuser or getattr(user, "is_official", False))


def studio_detail(request: HttpRequest, pk: int) -> HttpResponse:
    studio = get_object_or_404(with_people(Studio.objects.for_user(request.user)), pk=pk)
    return render(request, "studios/studio_detail.html", _detail_context(request, studio))


def _detail_context(request: HttpRequest, studio: Studio, form: Any = None) -> dict[str, Any]:
    # One read for those working here and those who have left (shown with their dates).
    everyone = list(
        studio.assignments.select_related("representative", "representative__unit").order_by(
            "representative__level", "representative__name", "pk"
        )
    )
    assignments = [a for a in everyone if a.active]
    # The latest to leave first; those whose day was not kept last.
    ended = sorted(
        (a for a in everyone if not a.active), key=lambda a: a.until or date.min, reverse=True
    )
    # An ended period of someone working here again: the studio page says when they
    # came back (their open period's day; "" when it was not kept).
    back = {a.representative_id: a.since for a in assignments}
    for a in ended:
        # For the template only.
        a.came_back = back.get(a.representative_id, False)  # type: ignore[attr-defined]
    can_edit = Studio.objects.for_editor(request.user).filter(pk=studio.pk).exists()
    can_assign = can_edit and _can_manage(request.user)
    from minyi.duties.models import Event

    upcoming = list(
        Event.objects.published()
        .filter(studio=studio, starts_at__gte=timezone.now())
        .prefetch_related("representatives")
        .order_by("starts_at")[:10]
    )
    return {
        "studio": studio,
        "upcoming_events": upcoming,
        "assignments": assignments,
        "ended_assignments": ended,
        # with_people's prefetch (to_attr) sets active_liaisons.
        "liaisons": studio.active_liaisons,  # type: ignore[attr-defined]
        "warnings": studio.shortfalls(liaisons=studio.active_liaisons),  # type: ignore[attr-defined]
        "facilities": [(label, getattr(studio, name)) for name, label in FACILITIES],
        "can_edit": can_edit,
        "can_assign": can_assign,
        "assign_form": form
        or (AssignmentForm(user=request.user, studio=studio) if can_assign else None),
    }


def studio_plaque(request: HttpRequest, pk: int) -> HttpResponse:
    studio = get_object_or_404(with_people(Studio.objects.for_user(request.user)), pk=pk)
    return render(request, "studios/studio_plaque.html", _detail_context(request, studio))


class StudioFormPage(FormPage):
    model = Studio
    form_class = StudioForm
    title_new = "新建党代表工作室"
    title_edit = "编辑：{obj}"
    success_message = "工作室信息已保存。"

    @property
    def list_url(self) -> str:  # type: ignore[override]
        return reverse("studios:list")

    def can_create(self) -> bool:
        return _can_manage(self.request.user)

    def save(self, form: Any) -> Any:
        moved = form.instance.pk is not None and "unit" in form.changed_data
        studio = form.save()
        if moved:
            # Its cases are scoped by their own area columns: they move with it.
            cases_follow_studio(studio)
        return studio


@require_POST
def assignment_add(request: HttpRequest, pk: int) -> HttpResponse:
    studio = scoped_get(Studio, request.user, pk, write=True)
    if not _can_manage(request.user):
        raise Http404
    form = AssignmentForm(request.POST, user=request.user, studio=studio)
    refused: AssignmentForm | None = form  # shown again with its errors
    if form.is_valid():
        # Coming back is a new period: the earlier one keeps its dates (decisions.md).
        open_period(studio, form.cleaned_data["representative"], form.cleaned_data["since"])
        messages.success(request, f"已安排 {form.cleaned_data['representative']} 进驻。")
        refused = None
    studio = with_people(Studio.objects.filter(pk=studio.pk)).get()
    if getattr(request, "htmx", False):
        return render(
            request,
            "studios/studio_detail.html#assignments",
            _detail_context(request, studio, refused),
            status=400 if refused else 200,
        )
    if refused is not None:
        return render(
            request,
            "studios/studio_detail.html",
            _detail_context(request, studio, refused),
            status=400,
        )
    return redirect(studio.get_absolute_url())


@require_POST
def assignment_remove(request: HttpRequest, pk: int, assignment_pk: int) -> HttpResponse:
    studio = scoped_get(Studio, request.user, pk, write=True)
    if not _can_manage(request.user):
        raise Http404
    assignment = get_object_or_404(studio.assignments, pk=assignment_pk, active=True)
    assignment.end()
    assignment.save(update_fields=["active", "until", "updated_at"])
    messages.success(request, f"{assignment.representative} 已不再进驻本工作室。")
    studio = with_people(Studio.objects.filter(pk=studio.pk)).get()
    if getattr(request, "htmx", False):
        return render(
            request, "studios/studio_detail.html#assignments", _detail_context(request, studio)
        )
    return redirect(studio.get_absolute_url())
