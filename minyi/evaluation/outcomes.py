"""Which outcome SM 16 suggests for a studio's five scores, and which outcomes need
a written reason. Pure functions; the table tests are in tests/evaluation.

SM 16: studios that are well built, with complete rules, well managed, clearly
effective and satisfying the public are commended; sloppy, formal-only studios with
poor public ratings are corrected, criticised when serious, even closed.
"""

from __future__ import annotations

from collections.abc import Iterable

from minyi.evaluation.models import Level, StudioOutcome, level_of

KEEP_FROM = 60  # total out of 100, with no criterion 差
CORRECT_FROM = 40  # below this the suggestion is 通报批评

# Outcomes that always need a written reason: they are sanctions on a studio.
REASON_ALWAYS = {StudioOutcome.CRITICISE, StudioOutcome.CLOSE}


def suggested_outcome(scores: Iterable[int]) -> str:
    scores = list(scores)
    levels = [level_of(s) for s in scores]
    total = sum(scores)
    if levels and all(level == Level.GOOD for level in levels):
        return StudioOutcome.COMMEND
    if total >= KEEP_FROM and Level.POOR not in levels:
        return StudioOutcome.KEEP
    if total >= CORRECT_FROM:
        return StudioOutcome.CORRECT
    return StudioOutcome.CRITICISE


def outcome_problem(outcome: str, scores: list[int], reason: str) -> tuple[str, str] | None:
    """(field, message) when the outcome cannot stand, else None."""
    if not outcome:
        return None
    if outcome not in StudioOutcome.values:
        return ("outcome", "请选择有效的评估结果。")
    if outcome == StudioOutcome.COMMEND and any(level_of(s) != Level.GOOD for s in scores):
        return ("outcome", "通报表扬要求五项均为“好”（每项 18 分及以上）。")
    if reason.strip():
        return None
    if outcome in REASON_ALWAYS:
        return ("outcome_reason", f"“{StudioOutcome(outcome).label}”须写明事实和理由。")
    if outcome != suggested_outcome(scores):
        suggested = StudioOutcome(suggested_outcome(scores)).label
        return ("outcome_reason", f"按得分建议为“{suggested}”，选择其他结果须写明理由。")
    return None
