"""The list pages' own querysets, for documents and exports.

An export or a printed ledger must never show more than the screen: it asks the list
view class itself for its scoped queryset (`base_queryset`, built on `for_user`), runs
the same filter form with the same parameters, and decorates rows with the view's own
`decorate` (masking included). Nothing here builds a queryset of its own."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from minyi.core.views_base import ListPage

CHUNK = 500


class BadFilters(Exception):
    """The filters did not validate; the message is Chinese and names each problem."""

    def __init__(self, form: Any) -> None:
        problems = [
            f"{form.fields[name].label if name in form.fields else '筛选条件'}：{message}"
            for name, messages in form.errors.items()
            for message in messages
        ]
        super().__init__("；".join(problems) or "筛选条件无效。")


def list_view(view_class: type[ListPage], request: HttpRequest) -> ListPage:
    view = view_class()
    view.setup(request)
    return view


def filtered(
    view_class: type[ListPage], request: HttpRequest, params: Mapping[str, Any] | None = None
) -> tuple[ListPage, QuerySet, Any]:
    """(the view, its scoped and filtered queryset, the filter form) for `params`
    (default: the request's query string), exactly as the list page computes it."""
    view = list_view(view_class, request)
    data = request.GET if params is None else params
    form = view.filter_form(data or None, user=request.user)
    qs = view.base_queryset()
    if form.is_bound:
        if not form.is_valid():
            raise BadFilters(form)
        qs = view.filter(qs, form.cleaned_data)
    return view, qs, form


def describe(form: Any) -> str:
    """The filters in force, as the screen's labels and values, for an export's header."""
    if not form.is_bound:
        return ""
    parts = []
    for name, value in form.cleaned_data.items():
        if value in (None, "", False) or name not in form.fields:
            continue
        field = form.fields[name]
        if value is True:
            shown = "是"
        elif hasattr(field, "choices") and not hasattr(value, "pk"):
            shown = str(dict(field.choices).get(value, value))
        else:
            shown = str(value)
        parts.append(f"{field.label}：{shown}")
    return "；".join(parts)


def decorated(view: ListPage, qs: QuerySet) -> Iterator[Any]:
    """Every row, decorated by the list view, read in chunks so a large list never
    sits in memory whole (prefetches run per chunk)."""
    batch: list[Any] = []
    for row in view.row_columns(qs).iterator(chunk_size=CHUNK):
        batch.append(row)
        if len(batch) == CHUNK:
            yield from view.decorate(batch)
            batch = []
    if batch:
        yield from view.decorate(batch)
