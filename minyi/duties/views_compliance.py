"""The compliance page: the duty minimums for a unit's studios, a studio, or one's own
(issue 4, item 7). Officials see their subtree rolled up per child unit and drill
down; a liaison sees their studio; a representative their own sessions and visits."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from minyi.duties.compliance import (
    Evaluation,
    RepresentativeRow,
    StudioRow,
    evaluate,
    make_rules,
    rollup_rows,
    sees_own_only,
    studio_queryset,
)
from minyi.duties.compliance_rules import Result, Status, Summary, windows
from minyi.org.models import Level, OrgUnit
from minyi.people.scopes import scope_of

MAX_SPAN_DAYS = 3 * 366
# How many of each, red and amber, the list of what needs attention shows.
PROBLEMS_SHOWN = 100


def parse_period(params: Any, today: date) -> tuple[date, date, str]:
    """?year=YYYY, or ?from=YYYY-MM-DD&to=YYYY-MM-DD; otherwise the current year."""
    start, end = date(today.year, 1, 1), date(today.year, 12, 31)
    raw_from, raw_to = params.get("from", ""), params.get("to", "")
    if raw_from or raw_to:
        try:
            first, last = date.fromisoformat(raw_from), date.fromisoformat(raw_to)
        except ValueError:
            return start, end, "起止日期格式应为 YYYY-MM-DD，已改为显示本年度。"
        if last < first:
            return start, end, "结束日期早于开始日期，已改为显示本年度。"
        if (last - first).days > MAX_SPAN_DAYS:
            return start, end, "查询期间不能超过三年，已改为显示本年度。"
        return first, last, ""
    raw_year = params.get("year", "")
    if raw_year:
        if not raw_year.isdigit() or not 2000 <= int(raw_year) <= 2100:
            return start, end, "年度无效，已改为显示本年度。"
        year = int(raw_year)
        return date(year, 1, 1), date(year, 12, 31), ""
    return start, end, ""


def _default_unit(user: Any) -> OrgUnit | None:
    scope = scope_of(user)
    if scope.unit is not None:
        return scope.unit
    return (
        OrgUnit.objects.active().filter(level=Level.CITY).order_by("code").first()
        or OrgUnit.objects.active().filter(parent__isnull=True).order_by("code").first()
    )


def sees_compliance(scope: Any) -> bool:
    """Whether the compliance page has anything for this scope (the duties hub links to
    it only then): a handling unit's staff or a stand-in have no studio to judge."""
    return bool(scope.everything or scope.unit or scope.studio_ids or scope.representative_ids)


def compliance(request: HttpRequest) -> HttpResponse:
    user = request.user
    scope = scope_of(user)
    if not sees_compliance(scope):
        raise Http404
    today = timezone.localdate()
    start, end, period_error = parse_period(request.GET, today)
    rules = make_rules(start, end, today)
    period_query = {"from": start.isoformat(), "to": end.isoformat()}
    if request.GET.get("year") and not period_error:
        period_query = {"year": request.GET["year"]}
    own_only = sees_own_only(scope)
    context: dict[str, Any] = {
        "rules": rules,
        "period_error": period_error,
        "period_query": urlencode(period_query),
        "windows": windows(start, end),
        "own_only": own_only,
        "today": today,
        "hidden": {},
        "unit_mode": False,
    }

    evaluation = select(request, rules, context)
    context["summary"] = evaluation.summary
    context["blocks"] = (
        [] if context.get("rollup") is not None else _blocks(evaluation, rules, own_only)
    )
    context["hidden_query"] = urlencode(context["hidden"])
    return render(request, "duties/compliance.html", context)


def select(request: HttpRequest, rules: Any, context: dict[str, Any]) -> Evaluation:
    """The studios the page shows (?studio=, ?unit=, or the user's own), evaluated;
    fills the page's context. The Excel export calls this too, so it shows exactly
    what the page shows."""
    user = request.user
    scope = scope_of(user)
    own_only = sees_own_only(scope)
    studio_pk = request.GET.get("studio", "")
    if studio_pk:
        if not studio_pk.isdigit():
            raise Http404
        studio = get_object_or_404(studio_queryset(user), pk=studio_pk)
        evaluation = _evaluate([studio], rules, scope, own_only)
        context["hidden"] = {"studio": studio.pk}
        context["trail"] = (
            _trail(user, studio.unit, scope) if scope.unit or scope.everything else []
        )
        context["title"] = f"{studio.name} 履职达标情况"
    elif scope.everything or scope.unit:
        unit_pk = request.GET.get("unit", "")
        unit: OrgUnit | None
        if unit_pk:
            if not unit_pk.isdigit():
                raise Http404
            unit = get_object_or_404(OrgUnit.objects.for_user(user), pk=unit_pk)
        else:
            unit = _default_unit(user)
            if unit is None:
                raise Http404
        studios = studio_queryset(user).filter(unit.subtree_q("unit__"))
        evaluation = evaluate(studios, rules)
        context["hidden"] = {"unit": unit.pk}
        context["unit"] = unit
        context["trail"] = _trail(user, unit, scope)
        context["unit_mode"] = True
        context["rollup"] = rollup_rows(evaluation, unit)
        context["problems"] = evaluation.problems(limit=PROBLEMS_SHOWN)
        summary = evaluation.summary
        context["problems_cut"] = max(summary.red, summary.amber) > PROBLEMS_SHOWN
        context["title"] = f"{unit.name} 履职达标情况"
    else:
        evaluation = _evaluate(list(studio_queryset(user)), rules, scope, own_only)
        context["title"] = "我的履职达标情况" if own_only else "工作室履职达标情况"
    return evaluation


def _evaluate(studios: list, rules: Any, scope: Any, own_only: bool) -> Evaluation:
    if own_only:
        return evaluate(studios, rules, representative_ids=scope.representative_ids)
    return evaluate(studios, rules)


def _trail(user: Any, unit: OrgUnit, scope: Any) -> list[OrgUnit]:
    """The units from the top of the user's scope down to `unit`, for drilling back up."""
    chain = [*unit.ancestors(), unit]
    if scope.everything:
        return [u for u in chain if u.level != Level.PROVINCE]
    if scope.unit is not None and scope.unit in chain:
        return chain[chain.index(scope.unit) :]
    return [unit]


def _blocks(evaluation: Evaluation, rules: Any, own_only: bool) -> list[dict[str, Any]]:
    """What each studio's section shows: the representatives' matrix and the studio's
    own results grouped by rule."""
    all_windows = windows(rules.start, rules.end)
    blocks = []
    seen_reps: set[int] = set()
    for row in evaluation.studios:
        reps = []
        for rep_row in row.representatives:
            if own_only and rep_row.representative.pk in seen_reps:
                continue  # a representative's own view lists them once
            seen_reps.add(rep_row.representative.pk)
            line = _rep_line(rep_row, all_windows)
            line["left"] = rep_row.representative.pk not in row.working
            reps.append(line)
        blocks.append(
            {
                "studio": row.studio,
                "summary": row.summary,
                "reps": reps,
                "sections": _sections(row),
            }
        )
    return [b for b in blocks if b["reps"] or b["sections"]]


def _rep_line(rep_row: RepresentativeRow, all_windows: list) -> dict[str, Any]:
    by_key = rep_row.by_key()
    rep_id = rep_row.representative.pk
    # (the window, its result or None): on a phone each cell is named by its window.
    cells = [(w.label, by_key.get(f"sm9:r{rep_id}:{w.year}-{w.index}")) for w in all_windows]
    visits = [r for r in rep_row.results if r.rule == "CM 4"]
    return {"representative": rep_row.representative, "cells": cells, "visits": visits}


SECTIONS = [
    ("每周开放", "SM 10", "工作室每周开放不少于一次，每次不少于半天"),
    ("提前一周预告", "SM 10", "活动时间、地点、参加人员提前一周公布"),
    ("双月报告", "SM 12.5", "联络员每两个月向上级报告代表活动情况"),
]


def _sections(row: StudioRow) -> list[dict[str, Any]]:
    if not row.results:
        return []
    sections = []
    for topic, rule, text in SECTIONS:
        results = [r for r in row.results if r.topic == topic]
        summary = Summary().add(results)
        shown = [r for r in results if _worth_listing(r)]
        sections.append(
            {
                "topic": topic,
                "rule": rule,
                "text": text,
                "summary": summary,
                "shown": shown,
                "hidden_green": summary.green - sum(1 for r in shown if r.status is Status.GREEN),
            }
        )
    return sections


def _worth_listing(result: Result) -> bool:
    if result.topic == "双月报告":
        return True
    return result.status in (Status.RED, Status.AMBER) or result.scheduled
