"""The audit trail search (issue 7 item 1): city administrators only; everyone else gets 404."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from minyi.audit.forms import AuditFilterForm
from minyi.audit.models import AuditEvent
from minyi.core.requests import AuthenticatedHttpRequest
from minyi.core.views_base import ListPage
from minyi.people.models import Role


def can_read_trail(user: Any) -> bool:
    """Only the city organisation department's officials read the trail: not the system
    administrator (whose own actions are in it), not the districts."""
    return bool(user.is_authenticated and user.is_active and user.role == Role.CITY_OFFICIAL)


def _start_of(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class AuditList(ListPage):
    model = AuditEvent
    filter_form = AuditFilterForm
    template_name = "audit/event_list.html"
    title = "审计日志"

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        if not can_read_trail(request.user):
            raise Http404
        return super().get(request)

    def base_queryset(self) -> Any:
        return AuditEvent.objects.select_related("actor_unit").order_by("-id")

    def filter(self, qs: Any, data: dict[str, Any]) -> Any:
        exact = {
            "actor": "actor_name",
            "action": "action",
            "object_type": "object_type",
            "object_id": "object_id",
            "result": "result",
            "ip": "ip",
        }
        for key, column in exact.items():
            if data.get(key):
                qs = qs.filter(**{column: data[key].strip()})
        if data.get("since"):
            qs = qs.filter(at__gte=_start_of(data["since"]))
        if data.get("until"):
            qs = qs.filter(at__lt=_start_of(data["until"] + timedelta(days=1)))
        return qs


event_list = require_GET(AuditList.as_view())
