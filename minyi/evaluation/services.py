"""Writes of the year-end evaluation, each in one transaction: opening a round (with
the pre-fill), re-reading the records, saving a studio's assessment, and the round's
steps (finalise, reopen, circular, submit, return, approve).

Who may: organisation departments assess the studios in their scope
(`StudioAssessment.objects.for_editor`); only the city organisation department (or a
superuser) opens, finalises and summarises, and records the city committee's decision
(`EvaluationRound.objects.for_editor`). Views check both and answer 404 otherwise;
the services check again so that no other caller can skip them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from minyi.audit.trail import record_bulk
from minyi.evaluation import prefill as prefilling
from minyi.evaluation.models import (
    MAX_SCORE,
    Circular,
    Criterion,
    CriterionScore,
    EvaluationRound,
    StudioAssessment,
)
from minyi.evaluation.outcomes import outcome_problem, set_up_late
from minyi.evaluation.states import NotAllowed, RoundAction, RoundState, next_state, refusal
from minyi.studios.models import Studio

MIN_YEAR, MAX_YEAR = 2000, 2100


class Changed(Exception):
    """Someone else saved the same thing since this user loaded it."""

    message = "该记录刚刚已被他人更新，您的修改未保存。请查看最新内容后再操作。"


@dataclass(frozen=True)
class CriterionInput:
    adjusted_score: int | None
    reason: str


def _city(actor: Any, round: EvaluationRound) -> None:
    if not EvaluationRound.objects.for_editor(actor).filter(pk=round.pk).exists():
        raise PermissionError("只有市委组织部可以进行此操作。")


def is_city(actor: Any) -> bool:
    from minyi.people.scopes import scope_of

    scope = scope_of(actor)
    return scope.everything or (scope.unit is not None and scope.unit.level == "city")


# --- opening and pre-filling ----------------------------------------------------------


@transaction.atomic
def round_open(*, actor: Any, year: int, today: date | None = None) -> EvaluationRound:
    """Open the year's round: an assessment for every active studio, pre-filled from
    the records as they stand on `today` (default: today)."""
    if not is_city(actor):
        raise PermissionError("只有市委组织部可以开展年度评估。")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError({"year": f"年度应在 {MIN_YEAR} 到 {MAX_YEAR} 之间。"})
    # Judged on the same day the figures are read on, so a round prepared "as of" a
    # date cannot open a year that had not begun on it.
    if year > (today or timezone.localdate()).year:
        raise ValidationError({"year": "年度尚未开始，不能开展年终评估。"})
    if EvaluationRound.objects.filter(year=year).exists():
        raise ValidationError({"year": f"{year}年度评估已经开展，不能重复开展。"})
    round = EvaluationRound.objects.create(year=year, opened_by=actor)
    _prefill(round, today)
    return round


@transaction.atomic
def round_refresh(
    *, actor: Any, round: EvaluationRound, version: int, today: date | None = None
) -> EvaluationRound:
    """Read the records again: new figures and evidence for every criterion (the
    assessors' adjustments and reasons stay), and an assessment for any studio opened
    since."""
    _city(actor, round)
    locked = _lock_round(round, version)
    if locked.state != RoundState.ASSESSING:
        raise NotAllowed(f"{refusal(locked.state)}，不能重新取数。")
    _prefill(locked, today)
    _bump(locked)
    return locked


def _prefill(round: EvaluationRound, today: date | None = None) -> None:
    """Every active studio gets an assessment; every criterion its figures. Three
    bulk statements and the grouped reads of `prefill`, whatever the number of
    studios."""
    active = Studio.objects.active().values_list("pk", flat=True)
    have = set(round.assessments.values_list("studio_id", flat=True))
    made = StudioAssessment.objects.bulk_create(
        StudioAssessment(round=round, studio_id=pk) for pk in active if pk not in have
    )
    cause = f"年度评估取数 evaluation.evaluationround#{round.pk}"
    record_bulk(StudioAssessment, len(made), cause=cause)
    assessments = dict(round.assessments.values_list("studio_id", "pk"))
    studios = prefilling.studios_for_prefill(assessments)
    figures = prefilling.prefill(studios, round.year, today)
    existing = {
        (c.assessment_id, c.criterion): c
        for c in CriterionScore.objects.filter(assessment__round=round)
    }
    new, changed = [], []
    for studio_id, items in figures.items():
        assessment_id = assessments[studio_id]
        for criterion, item in items.items():
            row = existing.get((assessment_id, criterion))
            if row is None:
                new.append(
                    CriterionScore(
                        assessment_id=assessment_id,
                        criterion=criterion,
                        prefilled_score=item.score,
                        evidence=item.evidence,
                    )
                )
            else:
                row.prefilled_score, row.evidence = item.score, item.evidence
                changed.append(row)
    CriterionScore.objects.bulk_create(new)
    CriterionScore.objects.bulk_update(changed, ["prefilled_score", "evidence"], batch_size=500)
    record_bulk(
        CriterionScore, len(new) + len(changed), fields=["prefilled_score", "evidence"], cause=cause
    )
    round.prefilled_at = timezone.now()
    round.save(update_fields=["prefilled_at", "updated_at"])


# --- a studio's assessment ------------------------------------------------------------


@transaction.atomic
def assessment_save(
    *,
    actor: Any,
    assessment: StudioAssessment,
    version: int,
    criteria: dict[str, CriterionInput],
    outcome: str,
    outcome_reason: str,
) -> StudioAssessment:
    """Save the assessors' scores and the outcome, all or nothing. An adjusted score
    needs a reason; the outcome must fit the scores (`outcomes.outcome_problem`)."""
    if not StudioAssessment.objects.for_editor(actor).filter(pk=assessment.pk).exists():
        raise PermissionError("不在您的评估范围内。")
    locked = (
        StudioAssessment.objects.select_for_update(of=("self",))
        .select_related("round", "studio")
        .get(pk=assessment.pk)
    )
    if locked.round.state != RoundState.ASSESSING:
        raise NotAllowed(f"{refusal(locked.round.state)}，评估不能再修改。")
    if locked.version != version:
        raise Changed(Changed.message)
    rows = {c.criterion: c for c in locked.criteria.all()}
    errors: dict[str, list[str]] = {}
    now = timezone.now()
    scores = []
    for criterion in Criterion.values:
        row = rows[criterion]
        given = criteria.get(criterion, CriterionInput(None, ""))
        reason = given.reason.strip()
        adjusted = given.adjusted_score
        if adjusted is not None and not 0 <= adjusted <= MAX_SCORE:
            errors.setdefault(f"score_{criterion}", []).append(f"分数应在 0 到 {MAX_SCORE} 之间。")
            scores.append(row.prefilled_score)
            continue
        if adjusted == row.prefilled_score:
            adjusted = None  # the same as the records: not an adjustment
        if adjusted is not None and not reason:
            errors.setdefault(f"reason_{criterion}", []).append(
                f"调整“{Criterion(criterion).label}”的分数须写明理由。"
            )
        if (adjusted, reason if adjusted is not None else "") != (row.adjusted_score, row.reason):
            row.adjusted_score = adjusted
            row.reason = reason if adjusted is not None else ""
            row.adjusted_by = actor if adjusted is not None else None
            row.adjusted_at = now if adjusted is not None else None
            row._dirty = True  # type: ignore[attr-defined]
        scores.append(row.prefilled_score if adjusted is None else adjusted)
    late = set_up_late(locked.studio.judged_from, locked.round.year)
    problem = outcome_problem(outcome, scores, outcome_reason, late=late)
    if problem:
        errors.setdefault(problem[0], []).append(problem[1])
    if errors:
        raise ValidationError(errors)
    for row in rows.values():
        if getattr(row, "_dirty", False):
            row.full_clean(exclude=["assessment", "evidence"])
            row.save()
    locked.outcome = outcome
    locked.outcome_reason = outcome_reason.strip()
    locked.assessed_by = actor
    locked.assessed_at = now
    locked.version += 1
    locked.save()
    return locked


# --- the round's steps ----------------------------------------------------------------


def _lock_round(round: EvaluationRound, version: int | None) -> EvaluationRound:
    locked = EvaluationRound.objects.select_for_update().get(pk=round.pk)
    if version is not None and locked.version != version:
        raise Changed(Changed.message)
    return locked


def _bump(round: EvaluationRound) -> None:
    round.version += 1
    round.save()


def _step(actor: Any, round: EvaluationRound, version: int, action: str) -> EvaluationRound:
    _city(actor, round)
    locked = _lock_round(round, version)
    locked.state = next_state(action, locked.state)
    return locked


@transaction.atomic
def round_finalise(*, actor: Any, round: EvaluationRound, version: int) -> EvaluationRound:
    """Lock the assessments (every studio must have an outcome) and draft the circular."""
    locked = _step(actor, round, version, RoundAction.FINALISE)
    pending = locked.assessments.filter(outcome="").values_list("studio__name", flat=True)
    _refuse_if_any(
        pending.order_by("studio__unit__code", "studio__name"),
        "还有工作室未评定结果：{}。请全部评定后再定稿。",
    )
    # Every studio is assessed at year-end (SM 16): one opened since the last reading
    # would be left out of the year's evaluation and of the circular's count.
    unread = Studio.objects.active().exclude(pk__in=locked.assessments.values("studio_id"))
    _refuse_if_any(
        unread.order_by("unit__code", "name").values_list("name", flat=True),
        "以下工作室在上次取数后设立，尚无评估表：{}。请先“根据最新记录重新取数”，评定后再定稿。",
    )
    locked.finalised_at = timezone.now()
    locked.finalised_by = actor
    _bump(locked)
    if not Circular.objects.filter(round=locked).exists():
        from minyi.evaluation.summary import draft_circular

        title, body = draft_circular(locked)
        Circular.objects.create(round=locked, title=title, body=body)
    return locked


def _refuse_if_any(names: Any, message: str) -> None:
    """NotAllowed naming the first five studios of `names` (with 等 if there are more)."""
    found = list(names[:6])
    if found:
        listed = "、".join(found[:5]) + ("等" if len(found) > 5 else "")
        raise NotAllowed(message.format(listed))


@transaction.atomic
def round_reopen(*, actor: Any, round: EvaluationRound, version: int) -> EvaluationRound:
    locked = _step(actor, round, version, RoundAction.REOPEN)
    locked.finalised_at = None
    locked.finalised_by = None
    _bump(locked)
    return locked


@transaction.atomic
def circular_update(
    *, actor: Any, round: EvaluationRound, version: int, title: str, body: str
) -> Circular:
    _city(actor, round)
    locked = _lock_round(round, version)
    if locked.state != RoundState.DRAFTING:
        raise NotAllowed(f"{refusal(locked.state)}，通报不能再修改。")
    errors = {}
    if not title.strip():
        errors["title"] = "请填写标题。"
    if not body.strip():
        errors["body"] = "请填写通报正文。"
    if errors:
        raise ValidationError(errors)
    circular = locked.circular
    circular.title = title.strip()[:200]
    circular.body = body.strip()
    circular.save()
    _bump(locked)
    return circular


@transaction.atomic
def round_submit(*, actor: Any, round: EvaluationRound, version: int) -> EvaluationRound:
    """Send the summary and the draft circular to the city committee; the tables are
    frozen as they are now."""
    from minyi.evaluation.summary import build_summary

    locked = _step(actor, round, version, RoundAction.SUBMIT)
    circular = locked.circular
    circular.snapshot = build_summary(locked).as_json()
    circular.submitted_at = timezone.now()
    circular.submitted_by = actor
    circular.decided_at, circular.decided_by, circular.decision_note = None, None, ""
    circular.save()
    _bump(locked)
    return locked


@transaction.atomic
def round_return(*, actor: Any, round: EvaluationRound, version: int, note: str) -> EvaluationRound:
    if not note.strip():
        raise ValidationError({"note": "请写明市委的修改意见。"})
    locked = _step(actor, round, version, RoundAction.RETURN)
    circular = locked.circular
    circular.decided_at, circular.decided_by = timezone.now(), actor
    circular.decision_note = note.strip()
    circular.save()
    _bump(locked)
    return locked


@transaction.atomic
def round_approve(
    *, actor: Any, round: EvaluationRound, version: int, note: str = ""
) -> EvaluationRound:
    """The city committee agreed: the circular goes out citywide and the round is
    closed; nothing in it can change any more."""
    locked = _step(actor, round, version, RoundAction.APPROVE)
    circular = locked.circular
    circular.decided_at, circular.decided_by = timezone.now(), actor
    circular.decision_note = note.strip()
    circular.save()
    _bump(locked)
    return locked
