"""View building blocks. Every view that shows or changes a scoped object fetches it
through `for_user` / `for_editor`, so "not yours" is a 404 like "does not exist"."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from minyi.core import stale
from minyi.core.requests import AuthenticatedHttpRequest

PAGE_SIZE = 50


def scoped_get(model: type[Model], user: Any, pk: Any, *, write: bool = False) -> Any:
    manager = model.objects  # type: ignore[attr-defined]
    qs = manager.for_editor(user) if write else manager.for_user(user)
    return get_object_or_404(qs, pk=pk)


class ListPage(View):
    """A searchable, filterable list. Subclasses give the model, a GET filter form and
    `filter(qs, cleaned)`. htmx requests get only the results partial."""

    model: type[Model]
    filter_form: type
    template_name: str
    title: str

    def base_queryset(self) -> QuerySet:
        return self.model.objects.for_user(self.request.user)  # type: ignore[attr-defined]

    def filter(self, qs: QuerySet, data: dict[str, Any]) -> QuerySet:
        return qs

    def row_columns(self, qs: QuerySet) -> QuerySet:
        """The rows to show, with what they read beyond the filtered set (e.g. names
        joined in as annotations). Applied after counting, to the page's slice and to an
        export's rows, so that the count does not join for them."""
        return qs

    def page_rows(self, qs: QuerySet) -> Iterable[Any]:
        """The rows of the HTML page, which may show fewer columns than an export or the
        API (both read `row_columns`): a page can read just what its row prints, or
        return its rows already read (e.g. with their related rows read as tuples)."""
        return self.row_columns(qs)

    def present(self, rows: list[Any]) -> list[Any]:
        """What only the HTML page adds to its decorated rows (e.g. their markup)."""
        return rows

    def extra_context(self) -> dict[str, Any]:
        return {}

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        form = self.filter_form(request.GET or None, user=request.user)
        qs = self.base_queryset()
        if form.is_bound and form.is_valid():
            qs = self.filter(qs, form.cleaned_data)
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "form": form,
            "page": page,
            # A page of a QuerySet is a sliced QuerySet; the stubs know only a sequence.
            "rows": self.present(
                self.decorate(list(self.page_rows(cast(QuerySet, page.object_list))))
            ),
            "title": self.title,
            "query": query.urlencode(),
            **self.extra_context(),
        }
        template = self.template_name
        if getattr(request, "htmx", False) and request.htmx.target == "results":
            template = f"{template}#results"
        return render(request, template, context)

    def decorate(self, rows: list[Any]) -> list[Any]:
        return rows


class FormPage(View):
    """Create or edit one object through a ModelForm, in one transaction. The object
    to edit is fetched with `for_editor`; forms receive the user to scope their choices."""

    model: type[Model]
    form_class: type
    title_new: str = ""
    title_edit: str = ""
    success_message: str = "已保存。"
    template_name = "core/form.html"
    # What the save may refuse for a reason outside the form (something running
    # meanwhile): said on the form, everything typed kept, 409, nothing saved.
    refusals: tuple[type[ValidationError], ...] = ()

    def get_object(self, pk: Any) -> Any:
        return scoped_get(self.model, self.request.user, pk, write=True) if pk else None

    def can_create(self) -> bool:
        return True

    def cancel_url(self, obj: Any) -> str:
        return obj.get_absolute_url() if obj else self.list_url

    list_url = "/"

    def render_form(self, form: Any, obj: Any, status: int | None = None) -> HttpResponse:
        title = self.title_edit.format(obj=obj) if obj else self.title_new
        context = {"form": form, "title": title, "object": obj, "cancel_url": self.cancel_url(obj)}
        status = status or (400 if form.errors else 200)
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, pk: Any = None) -> HttpResponse:
        obj = self.get_object(pk)
        if obj is None and not self.can_create():
            return HttpResponse(status=404)
        form = self.form_class(instance=obj, user=request.user, initial=self.initial())
        return self.render_form(stale.guard(form, obj), obj)

    def initial(self) -> dict[str, Any]:
        return {}

    def post(self, request: HttpRequest, pk: Any = None) -> HttpResponse:
        obj = self.get_object(pk)
        if obj is None and not self.can_create():
            return HttpResponse(status=404)
        form = self.form_class(request.POST, request.FILES, instance=obj, user=request.user)
        stale.guard(form, obj)
        if not form.is_valid():
            return self.render_form(form, obj)
        try:
            with transaction.atomic():
                if obj is not None:
                    stale.check(form, self.model, obj.pk)
                saved = self.save(form)
        except stale.StaleEdit as exc:
            stale.refuse(form, exc)
            return self.render_form(form, obj, status=409)
        except self.refusals as exc:
            form.add_error(None, exc.messages)
            return self.render_form(form, obj, status=409)
        messages.success(request, self.success_message)
        return redirect(saved.get_absolute_url())

    def save(self, form: Any) -> Any:
        return form.save()
