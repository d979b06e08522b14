"""The dashboard page: charts of the opinions and the duty minimums for the user's
unit (officials), or their studios (liaisons). An official may narrow it to a unit
or a studio within their scope (?unit= / ?studio=); anything outside it is a 404.
Representatives and handling units have no dashboard (their lists serve them)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from minyi.dashboards.stats import Target, build
from minyi.org.models import Level, OrgUnit
from minyi.people.models import Role
from minyi.people.scopes import Scope, scope_of
from minyi.studios.models import Studio

YEARS_SHOWN = 5


def may_see(user: Any) -> bool:
    scope = scope_of(user)
    return bool(
        scope.everything
        or scope.unit is not None
        or (user.role == Role.LIAISON and scope.studio_ids)
    )


def _top_unit(scope: Scope) -> OrgUnit | None:
    if scope.unit is not None:
        return scope.unit
    return OrgUnit.objects.active().filter(level=Level.CITY).order_by("code").first()


def _target(request: HttpRequest, scope: Scope) -> Target:
    user = request.user
    studio_pk, unit_pk = request.GET.get("studio", ""), request.GET.get("unit", "")
    if studio_pk:
        if not studio_pk.isdigit():
            raise Http404
        studio = get_object_or_404(Studio.objects.for_user(user), pk=studio_pk)
        return Target(studio.name, studio=studio)
    officials = scope.everything or scope.unit is not None
    if unit_pk:
        if not unit_pk.isdigit() or not officials:
            raise Http404
        unit = get_object_or_404(OrgUnit.objects.for_user(user), pk=unit_pk)
        return Target(unit.name, unit=unit)
    if officials:
        top = _top_unit(scope)
        if top is None:
            raise Http404
        return Target(top.name, unit=top)
    return Target("我的工作室")


def _year(request: HttpRequest, this_year: int) -> tuple[int, str]:
    raw = request.GET.get("year", "")
    if not raw:
        return this_year, ""
    if not raw.isdigit() or not 2000 <= int(raw) <= this_year + 1:
        return this_year, "年度无效，已改为显示本年度。"
    return int(raw), ""


def _trail(target: Target, scope: Scope) -> list[OrgUnit]:
    """From the top of the user's scope down to the target, for going back up."""
    unit = target.unit or (target.studio.unit if target.studio is not None else None)
    if unit is None or not (scope.everything or scope.unit is not None):
        return []
    chain = [*unit.ancestors(), unit]
    if target.studio is not None and unit.level == Level.COMMUNITY:
        chain = chain[:-1]  # a studio's community adds nothing to the way back
    if scope.unit is not None:
        return chain[chain.index(scope.unit) :] if scope.unit in chain else [scope.unit]
    return [u for u in chain if u.level != Level.PROVINCE]


def overview(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not may_see(user):
        raise Http404
    scope = scope_of(user)
    target = _target(request, scope)
    today = timezone.localdate()
    year, year_error = _year(request, today.year)
    dashboard = build(user, target, year, today)
    charts = [*dashboard.charts, dashboard.compliance]
    return render(
        request,
        "dashboards/overview.html",
        {
            "title": f"{target.label} 统计图表（{year}年）",
            "dashboard": dashboard,
            "charts": charts,
            "chart_data": [chart.as_json() for chart in charts],
            "trail": _trail(target, scope),
            "year_links": [
                (y, "?" + urlencode({**target.list_params(), "year": y}))
                for y in range(today.year, today.year - YEARS_SHOWN, -1)
            ],
            "year_error": year_error,
        },
    )
