"""Which outcome SM 16 suggests for a studio's five scores, and which outcomes need
a written reason. Pure functions; the table tests are in tests/evaluation.

SM 16: studios that are well built, with complete rules, well managed, clearly
effective and satisfying the public are commended; sloppy, formal-only studios with
poor public ratings are corrected, criticised when serious, even closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from minyi.evaluation.models import Level, StudioOutcome, level_of

KEEP_FROM = 60  # total out of 100, with no criterion 差
CORRECT_FROM = 40  # below this the suggestion is 通报批评

# Outcomes that always need a written reason: they are sanctions on a studio.
REASON_ALWAYS = {StudioOutcome.CRITICISE, StudioOutcome.CLOSE}

# A studio set up on or after this day of the evaluation's year has at most three months
# of records (docs/decisions.md): too few to suggest 通报批评 on.
LATE_FROM_MONTH, LATE_FROM_DAY = 10, 1


def set_up_late(judged_from: date | None, year: int) -> bool:
    """Set up (Studio.judged_from) too late in `year` to be judged on it fairly."""
    return judged_from is not None and judged_from >= date(year, LATE_FROM_MONTH, LATE_FROM_DAY)


def late_note(judged_from: date) -> str:
    return (
        f"工作室于 {judged_from:%Y-%m-%d} 设立，距年底不足三个月，记录不足以评判，不建议通报批评。"
    )


def suggested_outcome(scores: Iterable[int], *, late: bool = False) -> str:
    """SM 16's suggestion for the five scores; `late` (set_up_late) stops it at
    限期纠正: scores made of a few weeks' records do not support a sanction."""
    suggestion = _by_scores(list(scores))
    if late and suggestion == StudioOutcome.CRITICISE:
        return StudioOutcome.CORRECT
    return suggestion


def _by_scores(scores: list[int]) -> str:
    levels = [level_of(s) for s in scores]
    total = sum(scores)
    if levels and all(level == Level.GOOD for level in levels):
        return StudioOutcome.COMMEND
    if total >= KEEP_FROM and Level.POOR not in levels:
        return StudioOutcome.KEEP
    if total >= CORRECT_FROM:
        return StudioOutcome.CORRECT
    return StudioOutcome.CRITICISE


def outcome_problem(
    outcome: str, scores: list[int], reason: str, *, late: bool = False
) -> tuple[str, str] | None:
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
    if outcome != suggested_outcome(scores, late=late):
        suggested = StudioOutcome(suggested_outcome(scores, late=late)).label
        return ("outcome_reason", f"按得分建议为“{suggested}”，选择其他结果须写明理由。")
    return None
