"""The year's summary (CM 12, SM 16): the studios' outcomes and the handling units'
ratings, for the city committee and the citywide circular.

Built from grouped queries (a fixed number whatever the size of the city). Once the
round is submitted the summary is frozen into the circular (`Circular.snapshot`) and
every later output reads the frozen copy, so what the committee approved is what is
circulated."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from minyi.cases.models import Answer, Evaluation, Satisfaction
from minyi.core.text_limits import REPORT_MAX, clipped, fitted
from minyi.evaluation.models import (
    Criterion,
    CriterionScore,
    EvaluationRound,
    Level,
    StudioAssessment,
    StudioOutcome,
    level_of,
)
from minyi.evaluation.outcomes import late_note, set_up_late, suggested_outcome
from minyi.evaluation.states import RoundState


@dataclass
class StudioLine:
    district: str
    street: str
    studio: str
    scores: list[int]  # in Criterion order
    total: int
    outcome: str  # label, "" when not yet set
    reason: str

    @property
    def levels(self) -> list[str]:
        return [Level(level_of(s)).label for s in self.scores]

    @property
    def labelled_scores(self) -> list[tuple[str, int]]:
        """(criterion, score) pairs: the page's cards name each score."""
        return list(zip(Criterion.labels, self.scores, strict=True))


@dataclass
class UnitLine:
    unit: str
    area: str
    answered: int
    on_time: int
    ratings: dict[str, int]  # Satisfaction value -> count
    rated: int
    satisfied_rate: int | None  # percent of ratings other than 不满意

    @property
    def counts(self) -> list[int]:
        return [self.ratings.get(v, 0) for v in Satisfaction.values]

    @property
    def labelled_counts(self) -> list[tuple[str, int]]:
        return list(zip(Satisfaction.labels, self.counts, strict=True))


@dataclass
class Summary:
    year: int
    generated_at: str
    studios: list[StudioLine] = field(default_factory=list)
    units: list[UnitLine] = field(default_factory=list)
    outcome_counts: dict[str, int] = field(default_factory=dict)  # label -> count

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        return cls(
            year=data["year"],
            generated_at=data["generated_at"],
            studios=[StudioLine(**row) for row in data["studios"]],
            units=[UnitLine(**row) for row in data["units"]],
            outcome_counts=data["outcome_counts"],
        )

    def by_outcome(self, label: str) -> list[StudioLine]:
        return [line for line in self.studios if line.outcome == label]


CRITERIA_LABELS = Criterion.labels
RATING_LABELS = Satisfaction.labels


def assessments_with_scores[AnyQuerySet: QuerySet](qs: AnyQuerySet) -> AnyQuerySet:
    """Assessments with what a list shows: the studio and its units, the five scores
    (one prefetch), the assessor."""
    return qs.select_related(
        "studio", "studio__unit", "studio__unit__district", "studio__unit__street", "assessed_by"
    ).prefetch_related(
        Prefetch("criteria", queryset=CriterionScore.objects.order_by("pk"), to_attr="scores")
    )


def decorate(assessment: StudioAssessment, year: int | None = None) -> StudioAssessment:
    """Put the scores in criterion order, the total and the suggested outcome on a
    prefetched assessment. `year` is the round's (else its round must be loaded): a
    studio set up late in it gets no 通报批评 suggestion, and a note why."""
    by_criterion = {c.criterion: c for c in assessment.scores}  # type: ignore[attr-defined]
    ordered = [by_criterion[c] for c in Criterion.values if c in by_criterion]
    assessment.ordered_scores = ordered  # type: ignore[attr-defined]
    values = [c.score for c in ordered]
    assessment.total = sum(values)  # type: ignore[attr-defined]
    judged_from = assessment.studio.judged_from
    late = set_up_late(judged_from, assessment.round.year if year is None else year)
    assessment.late_note = late_note(judged_from) if late and judged_from else ""  # type: ignore[attr-defined]
    assessment.suggested = StudioOutcome(suggested_outcome(values, late=late))  # type: ignore[attr-defined]
    return assessment


def _unit_names(unit: Any) -> tuple[str, str]:
    district = (
        unit.district.name if unit.district_id else (unit.name if unit.level == "district" else "")
    )
    street = unit.street.name if unit.street_id else (unit.name if unit.level == "street" else "")
    return district, street


def studio_lines(round: EvaluationRound) -> list[StudioLine]:
    qs = assessments_with_scores(round.assessments.all()).order_by(
        "studio__unit__code", "studio__name", "pk"
    )
    lines = []
    for a in qs:
        decorate(a, round.year)
        district, street = _unit_names(a.studio.unit)
        lines.append(
            StudioLine(
                district=district,
                street=street,
                studio=a.studio.name,
                # Set by decorate() above.
                scores=[c.score for c in a.ordered_scores],  # type: ignore[attr-defined]
                total=a.total,  # type: ignore[attr-defined]
                outcome=a.get_outcome_display() if a.outcome else "",
                reason=a.outcome_reason,
            )
        )
    return lines


def unit_lines(year: int) -> list[UnitLine]:
    """Each handling unit's year: written answers (and how many on time, CM 11) and
    every rating of its handling given in the year (CM 12), a 不满意 that sent a case
    back included."""
    per_rating = {
        f"r_{value}": Count("pk", filter=Q(rating=value)) for value in Satisfaction.values
    }
    # Keys built from the rating values: a plain dict, not the TypedDict `values` infers.
    rated: dict[int, dict[str, Any]] = {
        row["handling_unit_id"]: cast(dict[str, Any], row)
        for row in Evaluation.objects.filter(rated_at__year=year)
        .order_by()
        .values("handling_unit_id")
        .annotate(n=Count("pk"), **per_rating)
    }
    answered = {
        row["handling_unit_id"]: row
        for row in Answer.objects.filter(answered_on__year=year)
        .order_by()
        .values("handling_unit_id", "handling_unit__name", "handling_unit__area__name")
        .annotate(n=Count("pk"), on_time=Count("pk", filter=Q(on_time=True)))
    }
    ids = set(rated) | set(answered)
    missing = ids - set(answered)
    names = {}
    if missing:
        from minyi.org.models import HandlingUnit

        names = {
            pk: (name, area)
            for pk, name, area in HandlingUnit.objects.filter(pk__in=missing).values_list(
                "pk", "name", "area__name"
            )
        }
    lines = []
    for pk in ids:
        a = answered.get(pk)
        r = rated.get(pk)
        name, area = (a["handling_unit__name"], a["handling_unit__area__name"]) if a else names[pk]
        ratings = {v: r[f"r_{v}"] for v in Satisfaction.values} if r else {}
        n = r["n"] if r else 0
        content = n - ratings.get(Satisfaction.DISSATISFIED, 0)
        lines.append(
            UnitLine(
                unit=name,
                area=area,
                answered=a["n"] if a else 0,
                on_time=a["on_time"] if a else 0,
                ratings=ratings,
                rated=n,
                satisfied_rate=round(100 * content / n) if n else None,
            )
        )
    lines.sort(key=lambda u: (u.satisfied_rate is None, -(u.satisfied_rate or 0), u.area, u.unit))
    return lines


def build_summary(round: EvaluationRound) -> Summary:
    studios = studio_lines(round)
    counts = Counter(line.outcome for line in studios if line.outcome)
    return Summary(
        year=round.year,
        generated_at=timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        studios=studios,
        units=unit_lines(round.year),
        outcome_counts={label: counts[label] for label in StudioOutcome.labels},
    )


def summary_of(round: EvaluationRound) -> Summary:
    """The frozen summary once submitted, else the live one."""
    circular = getattr(round, "circular", None)  # the reverse one-to-one may be absent
    if (
        round.state in (RoundState.SUBMITTED, RoundState.APPROVED)
        and circular is not None
        and circular.snapshot
    ):
        return Summary.from_json(circular.snapshot)
    return build_summary(round)


def draft_circular(round: EvaluationRound) -> tuple[str, str]:
    """A first draft for the city to edit: the counts and the studios by outcome. Within
    REPORT_MAX so that it can be saved unedited: when every name does not fit, each
    outcome lists as many as fit and counts the rest, named in the summary's table."""
    summary = build_summary(round)
    title = f"关于{round.year}年度“五好”党代表工作室评估和社情民意办理评议情况的通报"
    counts = "，".join(f"{label} {n} 个" for label, n in summary.outcome_counts.items() if n)
    named = [
        (label, [line.studio for line in summary.by_outcome(label)])
        for value, label in StudioOutcome.choices
        if value != StudioOutcome.KEEP
    ]
    rated = [u for u in summary.units if u.rated]

    def draft(listed: int) -> str:
        paragraphs = [
            "各区（新区）党委（工委）组织部门，市委各工委、市国资委党委：",
            f"按照《深圳市党代表工作室管理暂行办法》第十六条和《中国共产党深圳市代表大会代表"
            f"进社区联系群众暂行办法》第十二条，{round.year}年底，对全市 {len(summary.studios)} 个"
            f"党代表工作室按照“建设规范好、制度完善好、日常管理好、作用发挥好、群众评价好”的标准"
            f"进行了总结和检查，并汇总了各承办单位办理群众意见建议的评议情况。现通报如下。",
            f"一、工作室评估结果：{counts or '无'}。",
        ]
        for label, names in named:
            if not names:
                continue
            shown = "、".join(names[:listed])
            if len(names) > listed:
                shown += f"{'等' if shown else '共'} {len(names)} 个工作室（名单见附表）"
            paragraphs.append(f"{label}：{shown}。")
        paragraphs.append(
            f"二、社情民意办理评议：{len(summary.units)} 个承办单位书面答复或接受评议，"
            f"其中 {len(rated)} 个单位有满意度评议，详见附表。"
        )
        paragraphs.append(
            "三、受表扬的工作室要继续巩固提高；限期纠正的工作室要对照标准认真整改，"
            "整改情况报所在区组织部门；受通报批评或责令撤销的，由所在区组织部门督促落实。"
        )
        return "\n\n".join(paragraphs)

    most = max((len(names) for _, names in named), default=0)
    body = fitted(draft, limit=REPORT_MAX, most=most)
    return title, body or clipped(draft(0), REPORT_MAX, "（名单见附表。）")
