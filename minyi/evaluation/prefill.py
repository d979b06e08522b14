"""Pre-filling the five goods from the records (SM 16), for many studios at once.

Each criterion gets a score out of 20 and the evidence it rests on, in plain words,
kept as a snapshot so the assessors (and later readers) see what the score was based
on even after the records move on. Every source is read in one grouped query for all
the studios; nothing is queried per studio.

- 建设规范好: premises and facilities (SM 5) and the full-time liaison (SM 11), from
  `Studio.shortfalls()`.
- 制度完善好: the year's annual plan (SM 10, 12.5) and the bi-monthly reports
  (SM 12.5) due so far.
- 日常管理好: the duty minimums of the year (weekly openings, publication a week
  ahead, representatives' sessions, reports), from `minyi.duties.compliance`.
- 作用发挥好: opinions registered in the year and how far they got (CM 9–11).
- 群众评价好: the satisfaction of the year's cases (CM 12 ratings, on-the-spot answers).

The weights are ours (the measures name the goods, not how to score them); see
docs/decisions.md. The assessors may change any score, with a reason.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from minyi.cases.models import Answer, Case, Outcome, Satisfaction
from minyi.cases.states import CaseState
from minyi.core.regulations import cite
from minyi.duties.compliance import evaluate, make_rules
from minyi.duties.compliance_rules import REPORT_DUE_DAYS, Status, make_window
from minyi.duties.models import AnnualPlan, BimonthlyReport, PlanState, ReportState
from minyi.evaluation.models import MAX_SCORE, Criterion
from minyi.evaluation.outcomes import late_note, set_up_late
from minyi.people.models import Liaison, LiaisonKind
from minyi.studios.models import Studio, square_metres

# 建设规范好: points off per shortfall.
AREA_PENALTY = 4
FACILITY_PENALTY = 2
NO_FULL_TIME_LIAISON_PENALTY = 6

# 制度完善好: the plan is worth 8, the reports 12.
PLAN_POINTS: dict[str, int] = {PlanState.APPROVED: 8, PlanState.SUBMITTED: 5, PlanState.RETURNED: 2}
PLAN_POINTS_DRAFT = 2
REPORT_POINTS = 12

# When there is nothing to judge a criterion on, it starts in the middle.
NO_RECORD_SCORE = 10

# 群众评价好: how much each rating counts towards full marks.
RATING_WEIGHT = {
    Satisfaction.VERY_SATISFIED: 1.0,
    Satisfaction.SATISFIED: 0.9,
    Satisfaction.BASICALLY_SATISFIED: 0.6,
    Satisfaction.DISSATISFIED: 0.0,
}


@dataclass(frozen=True)
class Prefill:
    score: int
    evidence: list[str]


def _clamp(value: float) -> int:
    return max(0, min(MAX_SCORE, round(value)))


def studios_for_prefill(ids: Iterable[int]) -> list[Studio]:
    """The studios with their active liaisons loaded (for `shortfalls`)."""
    return list(
        Studio.objects.filter(pk__in=list(ids))
        .select_related("unit")
        .prefetch_related(
            Prefetch(
                "liaisons", queryset=Liaison.objects.filter(active=True), to_attr="active_liaisons"
            )
        )
    )


def prefill(
    studios: list[Studio], year: int, today: date | None = None
) -> dict[int, dict[str, Prefill]]:
    """{studio id: {criterion: Prefill}} for the studios (loaded by
    `studios_for_prefill`) and the year, as the records stand on `today`."""
    today = today or timezone.localdate()
    ids = [s.pk for s in studios]
    result: dict[int, dict[str, Prefill]] = {s.pk: {} for s in studios}
    for studio in studios:
        result[studio.pk][Criterion.BUILDING] = building(studio)
    since = {s.pk: s.judged_from for s in studios}
    for pk, item in rules(ids, year, today, since).items():
        result[pk][Criterion.RULES] = item
    for pk, item in management(studios, year, today).items():
        result[pk][Criterion.MANAGEMENT] = item
    role_items, public_items = cases(ids, year)
    for pk in ids:
        result[pk][Criterion.ROLE] = role_items[pk]
        result[pk][Criterion.PUBLIC] = public_items[pk]
    return result


# --- 建设规范好 ---------------------------------------------------------------------


def building(studio: Studio) -> Prefill:
    liaisons = getattr(studio, "active_liaisons", None)
    shortfalls = studio.shortfalls(liaisons)
    score = MAX_SCORE
    for item in shortfalls:
        if item.rule == "SM 11":
            score -= NO_FULL_TIME_LIAISON_PENALTY
        elif "面积" in item.message:
            score -= AREA_PENALTY
        else:
            score -= FACILITY_PENALTY
    evidence = [f"{cite(item.rule)}：{item.message}" for item in shortfalls]
    if studio.has_premises:
        if studio.area_m2 is not None and studio.area_m2 >= 20:
            evidence.insert(0, f"{cite('SM 5')}：面积 {square_metres(studio.area_m2)} 平方米。")
        if not any(item.rule == "SM 5" and "缺少" in item.message for item in shortfalls):
            evidence.append(f"{cite('SM 5')}：规定的七项设施和标识齐全。")
    else:
        evidence.insert(0, f"{studio.get_kind_display()}，不要求固定场所（{cite('SM 4')}）。")
    kinds = Counter(item.kind for item in (liaisons or []))
    evidence.append(
        f"{cite('SM 11')}：专职联络员 {kinds[LiaisonKind.FULL_TIME]} 名，"
        f"兼职联络员 {kinds[LiaisonKind.PART_TIME]} 名。"
    )
    return Prefill(_clamp(score), evidence)


# --- 制度完善好 ---------------------------------------------------------------------


def reports_due(year: int, today: date) -> list[int]:
    """The bi-monthly periods of the year whose report is due by `today`."""
    return [
        period
        for period in range(1, 7)
        if make_window(year, period).last.toordinal() + REPORT_DUE_DAYS <= today.toordinal()
    ]


def set_up_in(since: date | None, year: int) -> str:
    """A note for a studio set up during `year`: what came before owes nothing."""
    if since is None or since <= date(year, 1, 1):
        return ""
    if set_up_late(since, year):
        return late_note(since)
    return f"工作室于 {since:%Y-%m-%d} 设立，此前的周和双月不作要求。"


def rules(
    ids: list[int], year: int, today: date, since: Mapping[int, date | None] | None = None
) -> dict[int, Prefill]:
    """The plan and the reports due; `since` (Studio.judged_from) drops the reports of
    two-month windows that ended before a studio was set up."""
    plans = dict(
        AnnualPlan.objects.filter(studio_id__in=ids, year=year).values_list("studio_id", "state")
    )
    sent: dict[int, set[int]] = defaultdict(set)
    for studio_id, period in (
        BimonthlyReport.objects.filter(studio_id__in=ids, year=year)
        .exclude(state=ReportState.DRAFT)
        .values_list("studio_id", "period")
    ):
        sent[studio_id].add(period)
    due = reports_due(year, today)
    found = {}
    for pk in ids:
        state = plans.get(pk)
        if state is None:
            plan_points, plan_text = 0, f"{year}年度计划：未制定（{cite('SM 10', 'SM 12.5')}）。"
        else:
            plan_points = PLAN_POINTS.get(state, PLAN_POINTS_DRAFT)
            plan_text = f"{year}年度计划：{PlanState(state).label}。"
        set_up = (since or {}).get(pk)
        owed = [p for p in due if set_up is None or make_window(year, p).last >= set_up]
        missing = [p for p in owed if p not in sent[pk]]
        if owed:
            report_points = REPORT_POINTS * (len(owed) - len(missing)) / len(owed)
            report_text = (
                f"双月报告（{cite('SM 12.5')}）：应报 {len(owed)} 期，"
                f"已报送 {len(owed) - len(missing)} 期"
            )
            if missing:
                report_text += "，缺第 " + "、".join(str(p) for p in missing) + " 期"
            report_text += "。"
        else:
            report_points, report_text = (
                REPORT_POINTS,
                f"双月报告（{cite('SM 12.5')}）：本年度尚无到期的报告。",
            )
        note = set_up_in(set_up, year)
        texts = [plan_text, report_text, *([note] if note else [])]
        found[pk] = Prefill(_clamp(plan_points + report_points), texts)
    return found


# --- 日常管理好 ---------------------------------------------------------------------


def management(studios: list[Studio], year: int, today: date) -> dict[int, Prefill]:
    end = min(date(year, 12, 31), today)
    start = date(year, 1, 1)
    if end < start:
        return {
            s.pk: Prefill(NO_RECORD_SCORE, [f"{year}年度尚未开始，无考核记录。"]) for s in studios
        }
    evaluation = evaluate(studios, make_rules(start, end, today))
    found = {}
    for row in evaluation.studios:
        # Compliance judges it from Studio.judged_from; the note says why weeks are few.
        note = set_up_in(row.studio.judged_from, year)
        by_topic: dict[str, Counter] = defaultdict(Counter)
        reds = []
        for r in row.all_results:
            if r.status is Status.NOT_DUE:
                continue
            by_topic[f"{r.topic}（{cite(r.rule)}）"][r.status] += 1
            if r.status is Status.RED:
                reds.append(r)
        judged = sum(sum(c.values()) for c in by_topic.values())
        if not judged:
            evidence = ["本年度尚无到期的履职考核项。", *([note] if note else [])]
            found[row.studio.pk] = Prefill(NO_RECORD_SCORE, evidence)
            continue
        green = sum(c[Status.GREEN] for c in by_topic.values())
        evidence = [
            f"{topic}：达标 {c[Status.GREEN]} 项，预警 {c[Status.AMBER]} 项，"
            f"未达标 {c[Status.RED]} 项。"
            for topic, c in sorted(by_topic.items())
        ]
        evidence.extend(f"未达标：{r.subject} {r.period}，{r.reason}" for r in reds[:3])
        if len(reds) > 3:
            evidence.append(f"……另有 {len(reds) - 3} 项未达标，详见履职达标情况。")
        if note:
            evidence.insert(0, note)
        found[row.studio.pk] = Prefill(_clamp(MAX_SCORE * green / judged), evidence)
    return found


# --- 作用发挥好 and 群众评价好 --------------------------------------------------------


def cases(ids: list[int], year: int) -> tuple[dict[int, Prefill], dict[int, Prefill]]:
    year_cases = Case.objects.filter(studio_id__in=ids, received_on__year=year).order_by()
    counts = {
        row["studio_id"]: row
        for row in year_cases.values("studio_id").annotate(
            total=Count("pk"),
            on_spot=Count("pk", filter=Q(outcome=Outcome.ON_THE_SPOT)),
            closed=Count("pk", filter=Q(state=CaseState.CLOSED)),
            carried=Count("pk", filter=Q(state=CaseState.CARRIED_FORWARD)),
            answered=Count("pk", filter=Q(state=CaseState.ANSWERED)),
            withdrawn=Count("pk", filter=Q(state=CaseState.WITHDRAWN)),
        )
    }
    answers = {
        row["case__studio_id"]: row
        for row in Answer.objects.filter(case__in=year_cases)
        .order_by()
        .values("case__studio_id")
        .annotate(total=Count("pk"), on_time=Count("pk", filter=Q(on_time=True)))
    }
    ratings: dict[int, Counter] = defaultdict(Counter)
    for studio_id, rating, n in (
        year_cases.exclude(final_rating="")
        .values_list("studio_id", "final_rating")
        .annotate(n=Count("pk"))
    ):
        ratings[studio_id][rating] += n
    for studio_id, rating, n in (
        # An on-the-spot answer may carry its satisfaction as the final rating too:
        # counted once.
        year_cases.filter(outcome=Outcome.ON_THE_SPOT, final_rating="")
        .exclude(spot_satisfaction="")
        .values_list("studio_id", "spot_satisfaction")
        .annotate(n=Count("pk"))
    ):
        ratings[studio_id][rating] += n

    role, public = {}, {}
    for pk in ids:
        role[pk] = _role(counts.get(pk), answers.get(pk), year)
        public[pk] = _public(ratings[pk], year)
    return role, public


def _role(row: Mapping[str, Any] | None, answers: Mapping[str, Any] | None, year: int) -> Prefill:
    if not row or not row["total"]:
        return Prefill(NO_RECORD_SCORE, [f"{year}年度本工作室未登记社情民意（{cite('CM 9')}）。"])
    total = row["total"]
    # A case the reporter withdrew before it was sent on was neither handled nor left
    # waiting: it counts on neither side of the share settled.
    withdrawn = row["withdrawn"]
    handled = total - withdrawn
    settled = row["closed"] + row["carried"] + row["answered"]
    open_count = handled - settled
    evidence = [
        # 当场答复 is a part of the total, not a state beside 已办结 (an on-the-spot
        # answer closes its case): said as the bi-monthly report says it, so the parts
        # after the semicolon add up to the total.
        f"登记社情民意 {total} 件（{cite('CM 9')}），其中当场答复 {row['on_spot']} 件；"
        f"目前已办结 {row['closed']} 件，"
        f"已答复待评议 {row['answered']} 件，转为代表提案或建议 {row['carried']} 件，"
        f"办理中 {open_count} 件"
        + (f"，反映人撤回 {withdrawn} 件（不计入办理）。" if withdrawn else "。")
    ]
    if not handled:
        return Prefill(NO_RECORD_SCORE, evidence)
    on_time_share = 1.0
    if answers and answers["total"]:
        on_time_share = answers["on_time"] / answers["total"]
        evidence.append(
            f"承办单位书面答复 {answers['total']} 件，"
            f"按期答复 {answers['on_time']} 件（{cite('CM 11')}）。"
        )
    score = 12 * settled / handled + 8 * on_time_share
    return Prefill(_clamp(score), evidence)


def _public(counts: Counter, year: int) -> Prefill:
    rated = sum(counts.values())
    if not rated:
        return Prefill(NO_RECORD_SCORE, [f"{year}年度无满意度评议记录（{cite('CM 12')}）。"])
    parts = "，".join(f"{label} {counts[value]} 件" for value, label in Satisfaction.choices)
    content = rated - counts[Satisfaction.DISSATISFIED]
    weighted = sum(RATING_WEIGHT[Satisfaction(k)] * n for k, n in counts.items())
    evidence = [
        f"评议和当场答复满意度共 {rated} 件：{parts}（{cite('CM 12')}）。",
        f"满意率（非常满意、满意、基本满意）{round(100 * content / rated)}%。",
    ]
    return Prefill(_clamp(MAX_SCORE * weighted / rated), evidence)
