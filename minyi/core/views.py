from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from minyi.cases import choice_cache
from minyi.cases.services import today
from minyi.cases.summary import (
    DUE_SOON_WORKDAYS,
    case_counts,
    provisional_notice,
    unit_counts,
)
from minyi.duties.models import (
    AnnualPlan,
    Appointment,
    AppointmentState,
    BimonthlyReport,
    PlanState,
    ReportState,
)
from minyi.duties.plans import can_approve
from minyi.duties.reports import can_acknowledge
from minyi.org.models import HandlingUnit, OrgUnit
from minyi.people.models import Liaison, Representative
from minyi.people.scopes import scope_of
from minyi.studios.models import FACILITIES, Studio
from minyi.workdays.cache import keys_around


def home(request: HttpRequest) -> HttpResponse:
    """Each role's start page: what it answers for, and where to go from here."""
    user = request.user
    scope = scope_of(user)
    if scope.handling_unit_id is not None:
        return _unit_home(request, scope.handling_unit_id)
    # The counts kept for the scope and the working-day calendar 即将到期 counts with
    # (summary.due_soon_until): one round trip to the cache.
    choice_cache.prefetch(scope, ["home-counts"], also=keys_around(today()))
    # Only what the page and the SM 5 / SM 11 checks read: the studios' and liaisons'
    # phones are encrypted (a decryption each, some forty a street), and nothing here
    # shows a unit.
    liaisons = Liaison.objects.only("studio_id", "kind", "active")
    studios = list(
        Studio.objects.for_user(user)
        .active()
        .only("name", "kind", "area_m2", *[name for name, _label in FACILITIES])
        .prefetch_related(Prefetch("liaisons", queryset=liaisons))
        .order_by("name")[:200]
    )
    for studio in studios:
        studio.warnings = studio.shortfalls(
            liaisons=[item for item in studio.liaisons.all() if item.active]
        )
    context = {
        "scope_unit": scope.unit,
        "studios": studios[:20],
        "studios_with_warnings": [s for s in studios if s.warnings],
        **choice_cache.cached(scope, "home-counts", lambda: _organisation_counts(user)),
        "own_representative": Representative.objects.filter(
            pk__in=scope.representative_ids
        ).first(),
        "nothing": scope.is_empty,
        **case_counts(user),
        "due_soon_workdays": DUE_SOON_WORKDAYS,
        "calendar_notice": provisional_notice(user),
        "requested_appointments": _requested_appointments(user, scope),
        "submitted_plans": _submitted_plans(user),
        "submitted_reports": _submitted_reports(user),
    }
    return render(request, "core/home.html", context)


def _unit_home(request: HttpRequest, handling_unit_id: int) -> HttpResponse:
    """A handling unit's start page: its own work (CM 11), each count a link to the
    case list filtered to exactly those cases (minyi.cases.summary.UNIT_WORK), instead
    of the organisation's studios, representatives and liaisons, none of them its own."""
    user = request.user
    context = {
        "handling_unit": HandlingUnit.objects.only("name")
        .filter(pk=handling_unit_id)
        .order_by("pk")
        .first(),
        "due_soon_workdays": DUE_SOON_WORKDAYS,
        **unit_counts(user, handling_unit_id),
        "calendar_notice": provisional_notice(user),
    }
    return render(request, "core/home_unit.html", context)


def _requested_appointments(user: Any, scope: Any) -> int:
    """Residents' bookings waiting for a liaison to confirm them (journey 3): a liaison
    starts the day from here, not from 履职 → 群众预约. One count, only for the accounts
    that confirm bookings (their scope is their studios)."""
    if not scope.studio_ids:
        return 0
    return Appointment.objects.for_user(user).filter(state=AppointmentState.REQUESTED).count()


def _submitted_plans(user: Any) -> int:
    """Annual plans a liaison has submitted, waiting for this department to approve or
    return them (journey 2): nothing else tells the district a plan is waiting, and
    the liaison cannot publish the year's openings until it is decided. One count, only
    for the accounts that approve."""
    if not can_approve(user):
        return 0
    return AnnualPlan.objects.for_user(user).filter(state=PlanState.SUBMITTED).count()


def _submitted_reports(user: Any) -> int:
    """Bi-monthly reports submitted and not yet acknowledged (签收) by a department in
    scope (journey 8): as with plans, nothing else tells the department one came in."""
    if not can_acknowledge(user):
        return 0
    return BimonthlyReport.objects.for_user(user).filter(state=ReportState.SUBMITTED).count()


def _organisation_counts(user: Any) -> dict[str, int]:
    """What the scope holds, for the start page: five counts that change only when the
    organisation does, kept per scope in the shared cache with the filters' choices
    (minyi.cases.choice_cache, bumped by every save of what they count)."""
    return {
        "studio_count": Studio.objects.for_user(user).active().count(),
        "representative_count": Representative.objects.for_user(user).active().count(),
        "liaison_count": Liaison.objects.for_user(user).active().count(),
        "unit_count": OrgUnit.objects.for_user(user).active().count(),
        "handling_unit_count": HandlingUnit.objects.for_user(user).active().count(),
    }


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """What django-ratelimit shows when a limit is hit (RATELIMIT_VIEW): 429, in Chinese,
    as JSON for the API so that integrations can back off by the code."""
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse(
            {"code": "rate_limited", "message": "请求过于频繁，请稍后再试。", "fields": {}},
            status=429,
            headers={"Retry-After": "60"},
            json_dumps_params={"ensure_ascii": False},
        )
    response = render(request, "429.html", status=429)
    response["Retry-After"] = "60"
    return response
