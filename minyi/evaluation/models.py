"""The year-end evaluation (SM 16, CM 12): a round per year, each studio's assessment
on the "five goods" with the evidence pre-filled from the records, its outcome, and
the circular the city organisation department sends to the city committee.

The round's workflow lives in `minyi.evaluation.states`; writes go through
`minyi.evaluation.services`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from minyi.core.links import pk_url
from minyi.core.models import ScopedQuerySet, TimeStamped
from minyi.core.text_limits import ACCOUNT_MAX, NOTE_MAX, REPORT_MAX
from minyi.evaluation.states import RoundState

if TYPE_CHECKING:
    from minyi.people.scopes import Scope

MAX_SCORE = 20  # per criterion; five criteria make 100


class Criterion(models.TextChoices):
    """SM 16's five goods, in the order of the measures."""

    BUILDING = "building", "建设规范好"
    RULES = "rules", "制度完善好"
    MANAGEMENT = "management", "日常管理好"
    ROLE = "role", "作用发挥好"
    PUBLIC = "public", "群众评价好"


class Level(models.TextChoices):
    GOOD = "good", "好"
    FAIR = "fair", "较好"
    WEAK = "weak", "一般"
    POOR = "poor", "差"


def level_of(score: int) -> str:
    """A criterion's level from its score out of 20."""
    if score >= 18:
        return Level.GOOD
    if score >= 14:
        return Level.FAIR
    if score >= 10:
        return Level.WEAK
    return Level.POOR


class StudioOutcome(models.TextChoices):
    """What SM 16 allows at year-end, from the best to the worst."""

    COMMEND = "commend", "通报表扬"
    KEEP = "keep", "保持（继续巩固）"
    CORRECT = "correct", "限期纠正"
    CRITICISE = "criticise", "通报批评"
    CLOSE = "close", "责令撤销"


def _official_scope(scope: Scope) -> Q | None:
    # Only organisation departments take part; liaisons, representatives and handling
    # units see nothing of the evaluation (see docs/decisions.md).
    return scope.unit.subtree_q("studio__unit__") if scope.unit is not None else None


class RoundQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope, *, write: bool) -> Q | None:
        if scope.unit is None:
            return None
        if write and scope.unit.level != "city":
            return None  # finalising, the summary and the circular are the city's (CM 12)
        return Q()


class EvaluationRound(TimeStamped):
    """The year-end evaluation of one year: every active studio is assessed, then the
    city finalises, summarises, submits to the city committee and circulates."""

    year = models.PositiveIntegerField("年度", unique=True)
    state = models.CharField(
        "状态", max_length=16, choices=RoundState.choices, default=RoundState.ASSESSING
    )
    version = models.PositiveIntegerField("版本", default=1)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    prefilled_at = models.DateTimeField("取数时间", null=True, blank=True)
    finalised_at = models.DateTimeField("定稿时间", null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = RoundQuerySet.as_manager()

    class Meta:
        verbose_name = "年度评估"
        verbose_name_plural = "年度评估"
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}年度“五好”党代表工作室评估"

    def get_absolute_url(self) -> str:
        return pk_url("evaluation:round", self.pk)

    @property
    def is_assessing(self) -> bool:
        return self.state == RoundState.ASSESSING


class AssessmentQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope, *, write: bool) -> Q | None:
        return _official_scope(scope)


class StudioAssessment(TimeStamped):
    """One studio's year-end assessment: five criteria and an outcome."""

    round = models.ForeignKey(EvaluationRound, on_delete=models.PROTECT, related_name="assessments")
    studio = models.ForeignKey(
        "studios.Studio", on_delete=models.PROTECT, related_name="assessments"
    )
    outcome = models.CharField("评估结果", max_length=16, choices=StudioOutcome.choices, blank=True)
    outcome_reason = models.TextField("结果说明", blank=True, max_length=ACCOUNT_MAX)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="评估人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assessed_at = models.DateTimeField("评估时间", null=True, blank=True)
    version = models.PositiveIntegerField(
        "版本", default=1, help_text="每次保存加一；据此发现两人同时评估同一工作室。"
    )

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        verbose_name = "工作室评估"
        verbose_name_plural = "工作室评估"
        ordering = ["studio__unit__code", "studio__name"]
        constraints = [
            models.UniqueConstraint(fields=["round", "studio"], name="assessment_one_per_studio"),
        ]
        indexes = [models.Index(fields=["round", "outcome"], name="assessment_round_outcome")]

    def __str__(self) -> str:
        return f"{self.studio} {self.round.year}年度评估"

    def get_absolute_url(self) -> str:
        return pk_url("evaluation:assessment", self.pk)


class CriterionScore(models.Model):
    """One of the five goods for one studio: what the records say (score and the
    evidence, as they were when pre-filled) and, if the assessors differ, their score
    with the reason."""

    assessment = models.ForeignKey(
        StudioAssessment, on_delete=models.CASCADE, related_name="criteria"
    )
    criterion = models.CharField("评估项", max_length=16, choices=Criterion.choices)
    prefilled_score = models.PositiveSmallIntegerField(
        "系统预填分", validators=[MaxValueValidator(MAX_SCORE)]
    )
    evidence = models.JSONField("依据（取数时的记录）", default=list)
    adjusted_score = models.PositiveSmallIntegerField(
        "调整后分数",
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_SCORE)],
    )
    reason = models.TextField("调整理由", blank=True, max_length=NOTE_MAX)
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    adjusted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "评估项得分"
        verbose_name_plural = "评估项得分"
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "criterion"], name="criterion_once_per_assessment"
            ),
            models.CheckConstraint(
                condition=Q(adjusted_score__isnull=True) | ~Q(reason=""),
                name="criterion_adjustment_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment} {self.get_criterion_display()}"

    @property
    def score(self) -> int:
        return self.prefilled_score if self.adjusted_score is None else self.adjusted_score

    @property
    def level(self) -> str:
        return level_of(self.score)

    @property
    def level_label(self) -> str:
        return Level(self.level).label

    @property
    def prefilled_level_label(self) -> str:
        return Level(level_of(self.prefilled_score)).label


class Circular(TimeStamped):
    """The year's summary for the city committee and, once approved, the citywide
    circular (CM 12). The tables are frozen when the round is submitted, so what the
    committee approved is what is circulated."""

    round = models.OneToOneField(EvaluationRound, on_delete=models.PROTECT, related_name="circular")
    title = models.CharField("标题", max_length=200)
    body = models.TextField("正文", max_length=REPORT_MAX)
    snapshot = models.JSONField("报送时的汇总表", default=dict, blank=True)
    submitted_at = models.DateTimeField("报市委时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("市委意见时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="记录市委意见的市委组织部工作人员。",
    )
    decision_note = models.TextField("市委意见", blank=True, max_length=ACCOUNT_MAX)

    class Meta:
        verbose_name = "年度通报"
        verbose_name_plural = "年度通报"

    def __str__(self) -> str:
        return self.title
