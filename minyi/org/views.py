from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from minyi.core.views_base import FormPage, ListPage, scoped_get
from minyi.org.forms import (
    HandlingUnitFilterForm,
    HandlingUnitForm,
    MergeForm,
    OrgUnitFilterForm,
    OrgUnitForm,
)
from minyi.org.models import HandlingUnit, OrgUnit
from minyi.org.prefixes import ImportRunning
from minyi.org.services import unit_merge, unit_retire
from minyi.studios.models import Studio


def _can_manage(user: Any) -> bool:
    return bool(user.is_superuser or getattr(user, "is_official", False))


class OrgUnitList(ListPage):
    model = OrgUnit
    filter_form = OrgUnitFilterForm
    template_name = "org/unit_list.html"
    title = "组织架构"

    def base_queryset(self) -> QuerySet:
        qs = OrgUnit.objects.for_user(self.request.user).select_related("parent")
        if self.request.GET.get("include_retired") not in {"on", "true", "1"}:
            qs = qs.active()
        return qs.order_by("level", "code", "name")

    def filter(self, qs: QuerySet, data: dict[str, Any]) -> QuerySet:
        if data.get("q"):
            q = data["q"]
            qs = qs.filter(
                Q(name__icontains=q) | Q(short_name__icontains=q) | Q(code__startswith=q)
            )
        if data.get("level"):
            qs = qs.filter(level=data["level"])
        if data.get("parent"):
            qs = qs.filter(parent=data["parent"])
        return qs

    def page_rows(self, qs: QuerySet) -> QuerySet:
        # The row shows no secretary's phone, of the unit or of its parent: leaving them
        # unread spares two decryptions a row (minyi.core.crypto).
        return self.row_columns(qs).defer("party_secretary_phone", "parent__party_secretary_phone")

    def extra_context(self) -> dict[str, Any]:
        return {"can_create": _can_manage(self.request.user)}


def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    unit = get_object_or_404(
        OrgUnit.objects.for_user(request.user).select_related("parent", "merged_into"), pk=pk
    )
    children = (
        OrgUnit.objects.for_user(request.user)
        .filter(parent=unit)
        .annotate(studio_count=Count("studios", filter=Q(studios__closed_at__isnull=True)))
        .order_by("retired_at", "code", "name")
    )
    studios = Studio.objects.for_user(request.user).filter(unit=unit).order_by("name")
    can_edit = OrgUnit.objects.for_editor(request.user).filter(pk=pk).exists()
    # The path above is shown whole, linked only where the viewer may open the unit.
    ancestors = unit.ancestors()
    openable = set(
        OrgUnit.objects.for_user(request.user)
        .filter(pk__in=[a.pk for a in ancestors])
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "org/unit_detail.html",
        {
            "unit": unit,
            "ancestors": [(a, a.pk in openable) for a in ancestors],
            "children": children,
            "studios": studios,
            "department": getattr(unit, "department", None)
            if hasattr(unit, "department")
            else None,
            "handling_units": HandlingUnit.objects.for_user(request.user).filter(area=unit),
            "stand_ins": unit.stand_in_liaisons.filter(active=True),
            "can_edit": can_edit,
            "merge_form": MergeForm(user=request.user, unit=unit)
            if can_edit and not unit.is_retired
            else None,
        },
    )


class OrgUnitFormPage(FormPage):
    model = OrgUnit
    form_class = OrgUnitForm
    title_new = "新增组织单元"
    title_edit = "编辑：{obj}"
    success_message = "组织单元已保存。"
    refusals = (ImportRunning,)  # a community saved while the division files import

    @property
    def list_url(self) -> str:  # type: ignore[override]
        return reverse("org:unit_list")

    def can_create(self) -> bool:
        return _can_manage(self.request.user)

    def initial(self) -> dict[str, Any]:
        return {"parent": self.request.GET.get("parent")} if self.request.GET.get("parent") else {}


def _editable_unit(request: HttpRequest, pk: int) -> OrgUnit:
    unit = scoped_get(OrgUnit, request.user, pk, write=True)
    # An official may reshape what lies beneath them, not the unit they answer for.
    if getattr(request.user, "unit_id", None) == unit.pk and not request.user.is_superuser:
        raise Http404
    return unit


@require_POST
def unit_retire_view(request: HttpRequest, pk: int) -> HttpResponse:
    unit = _editable_unit(request, pk)
    try:
        unit_retire(unit=unit)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"“{unit.name}”已撤销，历史记录保留。")
    return redirect(unit.get_absolute_url())


@require_POST
def unit_merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    unit = _editable_unit(request, pk)
    form = MergeForm(request.POST, user=request.user, unit=unit)
    if not form.is_valid():
        problems = [str(e) for errors in form.errors.values() for e in errors]
        messages.error(request, "；".join(problems))
        return redirect(unit.get_absolute_url())
    target = form.cleaned_data["target"]
    try:
        unit_merge(source=unit, target=target)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect(unit.get_absolute_url())
    messages.success(request, f"“{unit.name}”已并入“{target.name}”。")
    return redirect(target.get_absolute_url())


class HandlingUnitList(ListPage):
    model = HandlingUnit
    filter_form = HandlingUnitFilterForm
    template_name = "org/handlingunit_list.html"
    title = "承办单位"

    def base_queryset(self) -> QuerySet:
        return HandlingUnit.objects.for_user(self.request.user).active().select_related("area")

    def filter(self, qs: QuerySet, data: dict[str, Any]) -> QuerySet:
        if data.get("q"):
            qs = qs.filter(Q(name__icontains=data["q"]) | Q(remit__icontains=data["q"]))
        if data.get("level"):
            qs = qs.filter(area__level=data["level"])
        return qs

    def page_rows(self, qs: QuerySet) -> QuerySet:
        # The row shows no phone (the unit's page does), nor its area's secretary's:
        # decryptions spared.
        return self.row_columns(qs).defer("phone", "area__party_secretary_phone")

    def extra_context(self) -> dict[str, Any]:
        return {"can_create": _can_manage(self.request.user)}


class HandlingUnitFormPage(FormPage):
    model = HandlingUnit
    form_class = HandlingUnitForm
    title_new = "新增承办单位"
    title_edit = "编辑承办单位：{obj}"
    success_message = "承办单位已保存。"

    @property
    def list_url(self) -> str:  # type: ignore[override]
        return reverse("org:handlingunit_list")

    def cancel_url(self, obj: Any) -> str:
        return self.list_url

    def can_create(self) -> bool:
        return _can_manage(self.request.user)
