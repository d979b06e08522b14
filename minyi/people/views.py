from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from minyi.core.views_base import FormPage, ListPage
from minyi.org.models import OrgUnit
from minyi.people.forms import (
    LiaisonFilterForm,
    LiaisonForm,
    RepresentativeFilterForm,
    RepresentativeForm,
)
from minyi.people.models import Liaison, Representative
from minyi.studios.models import Studio, StudioAssignment


def _can_manage(user: Any) -> bool:
    return bool(user.is_superuser or getattr(user, "is_official", False))


class RepresentativeList(ListPage):
    model = Representative
    filter_form = RepresentativeFilterForm
    template_name = "people/representative_list.html"
    title = "党代表"

    def base_queryset(self) -> QuerySet:
        return (
            Representative.objects.for_user(self.request.user)
            .select_related("unit", "delegation", "group")
            .prefetch_related(
                Prefetch("linked_communities", queryset=OrgUnit.objects.only("short_name"))
            )
        )

    def filter(self, qs: QuerySet, data: dict[str, Any]) -> QuerySet:
        if data.get("q"):
            qs = qs.filter(
                Q(name__icontains=data["q"])
                | Q(employer__icontains=data["q"])
                | Q(position__icontains=data["q"])
            )
        for field in ("level", "category", "delegation"):
            if data.get(field):
                qs = qs.filter(**{field: data[field]})
        return qs

    def page_rows(self, qs: QuerySet) -> QuerySet:
        # The page's row shows no phone: leaving it unread spares a decryption a row
        # (minyi.core.crypto). The export and the API (row_columns) list it.
        return self.row_columns(qs).defer("phone")

    def extra_context(self) -> dict[str, Any]:
        return {"can_create": _can_manage(self.request.user)}


def representative_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rep = get_object_or_404(
        Representative.objects.for_user(request.user).select_related("unit", "delegation", "group"),
        pk=pk,
    )
    # Where they work now, then where they have worked: each period with its dates, the
    # latest first, so a representative who left and came back shows both.
    # A studio outside the viewer's scope is named but not linked (its page is 404).
    visible = Studio.objects.for_user(request.user).filter(pk=OuterRef("studio"))
    assignments = (
        StudioAssignment.objects.filter(representative=rep)
        .select_related("studio", "studio__unit")
        .annotate(studio_visible=Exists(visible))
        .order_by("-active", "studio__name", "-since", "-pk")
    )
    can_edit = Representative.objects.for_editor(request.user).filter(pk=pk).exists()
    return render(
        request,
        "people/representative_detail.html",
        {
            "rep": rep,
            "communities": rep.linked_communities.select_related("street"),
            "assignments": assignments,
            "can_edit": can_edit,
        },
    )


def representative_photo(request: HttpRequest, pk: int) -> FileResponse:
    rep = get_object_or_404(Representative.objects.for_user(request.user), pk=pk)
    if not rep.photo:
        raise Http404
    try:
        handle = rep.photo.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle)
    response["Cache-Control"] = "private, max-age=3600"
    return response


class RepresentativeFormPage(FormPage):
    model = Representative
    form_class = RepresentativeForm
    title_new = "新增党代表"
    title_edit = "编辑党代表：{obj}"
    success_message = "党代表信息已保存。"

    @property
    def list_url(self) -> str:  # type: ignore[override]
        return reverse("people:representative_list")

    def can_create(self) -> bool:
        return _can_manage(self.request.user)


class LiaisonList(ListPage):
    model = Liaison
    filter_form = LiaisonFilterForm
    template_name = "people/liaison_list.html"
    title = "联络员"

    def base_queryset(self) -> QuerySet:
        # A secretary stands in only while the community has no studio (CM 7): one
        # opened there since is shown, so the list does not say （未设工作室） wrongly.
        opened = Studio.objects.for_user(self.request.user).active()
        return (
            Liaison.objects.for_user(self.request.user)
            .select_related("studio", "community", "community__street")
            .annotate(community_has_studio=Exists(opened.filter(unit=OuterRef("community"))))
        )

    def filter(self, qs: QuerySet, data: dict[str, Any]) -> QuerySet:
        if data.get("q"):
            qs = qs.filter(Q(name__icontains=data["q"]) | Q(position__icontains=data["q"]))
        if data.get("kind"):
            qs = qs.filter(kind=data["kind"])
        if data.get("studio"):
            qs = qs.filter(studio=data["studio"])
        return qs

    def extra_context(self) -> dict[str, Any]:
        return {"can_create": _can_manage(self.request.user)}


class LiaisonFormPage(FormPage):
    model = Liaison
    form_class = LiaisonForm
    title_new = "新增联络员"
    title_edit = "编辑联络员：{obj}"
    success_message = "联络员信息已保存。"

    @property
    def list_url(self) -> str:  # type: ignore[override]
        return reverse("people:liaison_list")

    def cancel_url(self, obj: Any) -> str:
        return self.list_url

    def can_create(self) -> bool:
        return _can_manage(self.request.user)

    def get_object(self, pk: Any) -> Any:
        if pk and not _can_manage(self.request.user):
            raise Http404
        return super().get_object(pk)

    def initial(self) -> dict[str, Any]:
        return {"studio": self.request.GET.get("studio")} if self.request.GET.get("studio") else {}
