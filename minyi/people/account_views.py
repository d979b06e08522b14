from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.urls import reverse

from minyi.core.requests import AuthenticatedHttpRequest
from minyi.core.views_base import FormPage, ListPage
from minyi.people.account_forms import AccountFilterForm, AccountForm
from minyi.people.models import User
from minyi.people.scope_labels import SCOPE_RELATED, scope_label, scope_prefetch


def _can_manage(user: Any) -> bool:
    return bool(user.is_superuser or getattr(user, "is_official", False))


class AccountList(ListPage):
    model = User
    filter_form = AccountFilterForm
    template_name = "people/account_list.html"
    title = "账号管理"

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        if not _can_manage(request.user):
            raise Http404
        return super().get(request)

    def base_queryset(self) -> QuerySet:
        qs = (
            User.objects.for_editor(self.request.user)
            .select_related(*SCOPE_RELATED)
            .prefetch_related(scope_prefetch())
        )
        if self.request.GET.get("inactive") not in {"on", "true", "1"}:
            qs = qs.filter(is_active=True)
        return qs.order_by("role", "username")

    def filter(self, qs: QuerySet, data: dict[str, Any]) -> QuerySet:
        if data.get("q"):
            qs = qs.filter(Q(username__icontains=data["q"]) | Q(full_name__icontains=data["q"]))
        if data.get("role"):
            qs = qs.filter(role=data["role"])
        return qs

    def decorate(self, rows: list[Any]) -> list[Any]:
        for account in rows:
            account.scope = scope_label(account)
        return rows

    def extra_context(self) -> dict[str, Any]:
        return {"can_create": _can_manage(self.request.user)}


class AccountFormPage(FormPage):
    model = User
    form_class = AccountForm
    title_new = "新增账号"
    title_edit = "编辑账号：{obj}"
    success_message = "账号已保存。"

    @property
    def list_url(self) -> str:  # type: ignore[override]
        return reverse("people:account_list")

    def cancel_url(self, obj: Any) -> str:
        return self.list_url

    def can_create(self) -> bool:
        return _can_manage(self.request.user)
