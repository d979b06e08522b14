"""The numbers of a dashboard: opinions by month, channel, category, status, level
reached and rating; answers on time and late; overdue cases; the duty minimums.

Each chart is one GROUP BY query over `Case.objects.for_user`, narrowed to the
dashboard's target (a unit's subtree, a studio, or a liaison's studios) and year of
reception. Each number carries the address of the list behind it; the list's filters
(minyi.cases.views.dashboard_filters) select exactly the rows counted here, and
tests/dashboards checks that the two agree.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.db.models import Case as DbCase
from django.db.models import Count, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, NullIf
from django.urls import get_script_prefix, reverse

from minyi.cases import forms as case_forms
from minyi.cases.models import AnswerTimeliness, Case, Channel, Satisfaction
from minyi.cases.states import CaseState, HolderLevel
from minyi.duties import tallies
from minyi.duties.compliance import studio_queryset
from minyi.duties.compliance_rules import Status
from minyi.org.models import OrgUnit
from minyi.studios.models import Studio


@dataclass(frozen=True)
class Target:
    """What a dashboard covers: a unit's subtree, one studio, or (unit and studio both
    None) everything the user's scope holds, as for a liaison."""

    label: str
    unit: OrgUnit | None = None
    studio: Studio | None = None

    def case_q(self) -> Q:
        if self.studio is not None:
            return Q(studio=self.studio)
        if self.unit is not None:
            return self.unit.area_q()
        return Q()

    def list_params(self) -> dict[str, Any]:
        if self.studio is not None:
            return {"studio": self.studio.pk}
        if self.unit is not None:
            return {"unit": self.unit.pk}
        return {}


@dataclass
class Series:
    name: str
    values: list[int]
    urls: list[str]


@dataclass
class Chart:
    """One chart and its table: `categories` along one axis, one or more series."""

    key: str
    title: str
    kind: str  # "line", "bar", "pie" or "stack"
    categories: list[str]
    series: list[Series]
    note: str = ""

    @property
    def total(self) -> int:
        return sum(sum(s.values) for s in self.series)

    @property
    def rows(self) -> list[tuple[str, list[tuple[int, str]]]]:
        """For the table: each category with its (number, link) per series."""
        return [
            (label, [(s.values[i], s.urls[i]) for s in self.series])
            for i, label in enumerate(self.categories)
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "kind": self.kind,
            "categories": self.categories,
            "series": [{"name": s.name, "values": s.values, "urls": s.urls} for s in self.series],
        }


@dataclass
class BreakdownRow:
    """One line of the table by child unit (or studio): counts and their lists."""

    label: str
    drill_url: str  # this dashboard for the child unit or studio
    numbers: dict[str, tuple[int, str]] = field(default_factory=dict)


@dataclass
class Dashboard:
    target: Target
    year: int
    headline: dict[str, tuple[int, str]]
    on_time_rate: str
    charts: list[Chart]
    breakdown: list[BreakdownRow]
    compliance: Chart


def cases_url(**params: Any) -> str:
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{_case_list()}?{urlencode(query)}"


_case_lists: dict[str, str] = {}


def _case_list() -> str:
    # Some ninety links a dashboard, each a reverse() of the same address (about 60 µs):
    # kept per script prefix, the only thing that can change it while the process runs.
    prefix = get_script_prefix()
    if prefix not in _case_lists:
        _case_lists[prefix] = reverse("cases:list")
    return _case_lists[prefix]


def overdue_q(today: date) -> Q:
    """As the list's "只看已超期": with the unit, past its limit."""
    return Q(state=CaseState.WITH_UNIT, due_on__lt=today)


def build(user: Any, target: Target, year: int, today: date) -> Dashboard:
    start, end = date(year, 1, 1), date(year, 12, 31)
    cases = (
        Case.objects.for_user(user)
        .filter(target.case_q(), received_on__gte=start, received_on__lte=end)
        .order_by()
    )
    base = {**target.list_params(), "date_from": start.isoformat(), "date_to": end.isoformat()}

    def url(**params: Any) -> str:
        return cases_url(**{**base, **params})

    counts = _counts(cases, year)
    per_studio = _per_studio(cases, today, target)
    charts = [
        _by_month(counts["month"], target, year),
        _by_field(
            counts["channel"],
            "channel",
            "反映方式",
            "bar",
            Channel.choices,
            lambda v: url(channel=v),
        ),
        _by_category(per_studio, url),
        _by_field(
            counts["state"], "state", "办理状态", "bar", CaseState.choices, lambda v: url(state=v)
        ),
        _by_field(
            counts["holder_level"],
            "holder_level",
            "报送到的最高层级",
            "bar",
            [("", "未报送（当场答复、待报送或已撤回）"), *HolderLevel.choices],
            lambda v: url(level=v or case_forms.LEVEL_NONE),
        ),
        _by_field(
            counts["final_rating"],
            "final_rating",
            "满意度评议结果",
            "pie",
            Satisfaction.choices,
            lambda v: url(rating=v),
        ),
    ]
    answers = _answers(counts["answer_timeliness"], url)
    charts.append(answers)
    on_time, late = answers.series[0].values[0], answers.series[0].values[1]
    rate = f"{on_time * 100 / (on_time + late):.1f}%" if on_time + late else "—"
    breakdown, totals = _breakdown(per_studio, target, url)
    headline = {
        "total": (totals["total"], url()),
        "overdue": (totals["overdue"], url(overdue="on")),
        "on_time": (on_time, url(answer=case_forms.ANSWER_ON_TIME)),
        "late": (late, url(answer=case_forms.ANSWER_LATE)),
    }
    return Dashboard(
        target=target,
        year=year,
        headline=headline,
        on_time_rate=rate,
        charts=charts,
        breakdown=breakdown,
        compliance=_compliance(user, target, year, today),
    )


# The charts with fixed categories, and the choices each counts.
CHOICE_FIELDS = {
    "channel": Channel.values,
    "state": CaseState.values,
    "holder_level": ["", *HolderLevel.values],
    "final_rating": Satisfaction.values,
    "answer_timeliness": AnswerTimeliness.values,
}


def _counts(cases: QuerySet, year: int) -> dict[str, dict[Any, int]]:
    """Every chart with fixed categories (month, channel, status, level, rating,
    answers) from one pass over the year's cases: one filtered COUNT per category,
    instead of a GROUP BY per chart that read the year's cases six times (a city's
    year is some 100,000 cases)."""
    aggregates: dict[str, Any] = {}
    for month in range(1, 13):
        last = calendar.monthrange(year, month)[1]
        aggregates[f"month_{month}"] = Count(
            "pk",
            filter=Q(
                received_on__gte=date(year, month, 1), received_on__lte=date(year, month, last)
            ),
        )
    for name, values in CHOICE_FIELDS.items():
        for i, value in enumerate(values):
            aggregates[f"{name}_{i}"] = Count("pk", filter=Q(**{name: value}))
    row = cases.aggregate(**aggregates)
    counts: dict[str, dict[Any, int]] = {
        "month": {month: row[f"month_{month}"] for month in range(1, 13)}
    }
    for name, values in CHOICE_FIELDS.items():
        counts[name] = {value: row[f"{name}_{i}"] for i, value in enumerate(values)}
    return counts


def _by_month(counts: dict[Any, int], target: Target, year: int) -> Chart:
    values, urls = [], []
    for month in range(1, 13):
        last = calendar.monthrange(year, month)[1]
        values.append(counts.get(month, 0))
        urls.append(
            cases_url(
                **target.list_params(),
                date_from=date(year, month, 1).isoformat(),
                date_to=date(year, month, last).isoformat(),
            )
        )
    return Chart(
        "month",
        "各月反映的社情民意",
        "line",
        [f"{m}月" for m in range(1, 13)],
        [Series("件数", values, urls)],
    )


def _by_field(
    counts: dict[Any, int],
    name: str,
    title: str,
    kind: str,
    choices: list[tuple[str, str]],
    link: Any,
) -> Chart:
    values = [counts.get(value, 0) for value, _ in choices]
    return Chart(
        name,
        title,
        kind,
        [label for _, label in choices],
        [Series("件数", values, [link(value) for value, _ in choices])],
    )


def _by_category(per_studio: list[dict[str, Any]], url: Any) -> Chart:
    found: dict[str, int] = {}
    for row in per_studio:
        found[row["category"]] = found.get(row["category"], 0) + row["total"]
    rows = sorted(found.items(), key=lambda row: (-row[1], row[0]))
    labels = [category or "未分类" for category, _ in rows]
    values = [n for _, n in rows]
    urls = [url(category=category or case_forms.NO_CATEGORY) for category, _ in rows]
    return Chart("category", "反映类别", "bar", labels, [Series("件数", values, urls)])


def _answers(counts: dict[Any, int], url: Any) -> Chart:
    on_time = counts.get(AnswerTimeliness.ON_TIME, 0)
    late_n = counts.get(AnswerTimeliness.LATE, 0)
    none = counts.get(AnswerTimeliness.NONE, 0)
    return Chart(
        "answers",
        "承办单位答复是否按期",
        "pie",
        ["均按期答复", "有超期答复", "尚未答复"],
        [
            Series(
                "件数",
                [on_time, late_n, none],
                [
                    url(answer=case_forms.ANSWER_ON_TIME),
                    url(answer=case_forms.ANSWER_LATE),
                    url(answer=case_forms.ANSWER_NONE),
                ],
            )
        ],
    )


# The case's own area columns from the top down; `area` is its studio's own unit.
_AREA_COLUMNS = ("province", "city", "district", "street")


def _child_of(target: Target) -> Any:
    """The SQL for "the unit directly below the target that holds the case's studio":
    the first of the case's area columns below the target's level that is set, the
    studio's own unit last unless it is the target itself. None (NULL) for a studio at
    the target's own unit, and for every case below a street, where the breakdown goes
    studio by studio."""
    unit = target.unit
    if unit is None or unit.level in ("street", "community"):
        return None
    below = _AREA_COLUMNS[_AREA_COLUMNS.index(unit.level) + 1 :]
    return Coalesce(*[F(f"{level}_id") for level in below], NullIf(F("area_id"), Value(unit.pk)))


def _per_studio(cases: QuerySet, today: date, target: Target) -> list[dict[str, Any]]:
    """The counts of the breakdown and of the category chart, from one query grouped by
    the breakdown's line (the child unit, or the studio) and category: the rows follow
    the lines shown (a city: its ten districts times the categories), not the studios
    of the scope (7,060 in 潍坊市, times their categories, each added up in Python),
    nor the cases. The names are read afterwards, not joined to every case."""
    child = _child_of(target)
    if child is None:
        grouped = cases.annotate(child=Value(None, output_field=IntegerField())).values(
            "child", "studio_id", "category"
        )
    else:
        grouped = cases.annotate(
            child=child,
            own_studio=DbCase(When(child__isnull=True, then=F("studio_id"))),
        ).values("child", "own_studio", "category")
    return [
        {"studio_id": row.get("studio_id", row.get("own_studio")), **row}
        for row in grouped.annotate(
            total=Count("pk"),
            overdue=Count("pk", filter=overdue_q(today)),
            on_time=Count("pk", filter=Q(answer_timeliness=AnswerTimeliness.ON_TIME)),
            late=Count("pk", filter=Q(answer_timeliness=AnswerTimeliness.LATE)),
        )
    ]


def _breakdown(
    rows: list[dict[str, Any]], target: Target, url: Any
) -> tuple[list[BreakdownRow], dict[str, int]]:
    """Counts per child unit of the target (per studio below a street)."""
    keys = ("total", "overdue", "on_time", "late")
    totals = dict.fromkeys(keys, 0)
    groups: dict[tuple[str, int], dict[str, Any]] = {}
    for row in rows:
        child = row["child"]
        group_key = ("unit", child) if child is not None else ("studio", row["studio_id"])
        group = groups.setdefault(group_key, dict.fromkeys(keys, 0))
        for key in keys:
            totals[key] += row[key]
            group[key] += row[key]
    units = OrgUnit.objects.in_bulk([pk for kind, pk in groups if kind == "unit"])
    names = dict(
        Studio.objects.filter(pk__in=[pk for kind, pk in groups if kind == "studio"]).values_list(
            "pk", "name"
        )
    )
    lines = []
    dashboard = reverse("dashboards:overview")
    for (kind, pk), group in groups.items():
        if kind == "unit":
            label, scope = str(units[pk]), {"unit": pk}
        else:
            label, scope = names[pk], {"studio": pk}
        line = BreakdownRow(label, f"{dashboard}?{urlencode(scope)}")
        base = {"unit": None, "studio": None, **scope}
        line.numbers = {
            "total": (group["total"], url(**base)),
            "overdue": (group["overdue"], url(**base, overdue="on")),
            "on_time": (group["on_time"], url(**base, answer=case_forms.ANSWER_ON_TIME)),
            "late": (group["late"], url(**base, answer=case_forms.ANSWER_LATE)),
        }
        lines.append(line)
    lines.sort(key=lambda line: (-line.numbers["total"][0], line.label))
    return lines, totals


STATUS_ORDER = [Status.RED, Status.AMBER, Status.GREEN, Status.NOT_DUE]


def _compliance(user: Any, target: Target, year: int, today: date) -> Chart:
    """The duty minimums of the target's studios and their representatives for the
    year, as the compliance page counts them (each result once)."""
    studios = studio_queryset(user)
    params: dict[str, Any] = {"year": year}
    if target.studio is not None:
        studios = studios.filter(pk=target.studio.pk)
        params["studio"] = target.studio.pk
    elif target.unit is not None:
        studios = studios.filter(target.unit.subtree_q("unit__"))
        params["unit"] = target.unit.pk
    # Only the counts, as compliance.count() gives them, added up from each studio's
    # and each representative's tally for the year (recomputed where stale).
    counts = tallies.count(studios, year, today)
    reps, own = counts.representatives, counts.studios
    link = f"{reverse('duties:compliance')}?{urlencode(params)}"
    return Chart(
        "compliance",
        "履职达标情况（代表与工作室）",
        "stack",
        [status.label for status in STATUS_ORDER],
        [
            Series("党代表进站、走访", [reps[s] for s in STATUS_ORDER], [link] * 4),
            Series("工作室开放、预告、报告", [own[s] for s in STATUS_ORDER], [link] * 4),
        ],
    )
