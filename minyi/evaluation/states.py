"""The year-end round as states and allowed transitions, in one table.

Studios are assessed while the round is `assessing`. The city organisation department
finalises the assessments (they lock) and drafts the circular; submits the summary and
the draft to the city committee; records the committee's decision: approved (the
circular goes out citywide and the round is closed for good) or returned for changes.
"""

from __future__ import annotations

from django.db import models


class RoundState(models.TextChoices):
    ASSESSING = "assessing", "评估中"
    DRAFTING = "drafting", "已定稿，起草通报"
    SUBMITTED = "submitted", "已报市委"
    APPROVED = "approved", "市委已同意，已通报"


class RoundAction(models.TextChoices):
    FINALISE = "finalise", "评估定稿"
    REOPEN = "reopen", "重新开放评估"
    SUBMIT = "submit", "报送市委"
    RETURN = "return", "市委退回修改"
    APPROVE = "approve", "市委同意通报"


TRANSITIONS: dict[tuple[str, str], str] = {
    (RoundAction.FINALISE, RoundState.ASSESSING): RoundState.DRAFTING,
    (RoundAction.REOPEN, RoundState.DRAFTING): RoundState.ASSESSING,
    (RoundAction.SUBMIT, RoundState.DRAFTING): RoundState.SUBMITTED,
    (RoundAction.RETURN, RoundState.SUBMITTED): RoundState.DRAFTING,
    (RoundAction.APPROVE, RoundState.SUBMITTED): RoundState.APPROVED,
}

_REFUSALS = {
    RoundState.ASSESSING: "评估尚未定稿",
    RoundState.DRAFTING: "评估已定稿",
    RoundState.SUBMITTED: "已报市委审定",
    RoundState.APPROVED: "市委已同意并通报，本年度评估已关闭",
}


class NotAllowed(Exception):
    """A step the round's state does not allow; the message is for the user."""


def next_state(action: str, state: str) -> str:
    try:
        return TRANSITIONS[(action, state)]
    except KeyError:
        label = RoundAction(action).label
        raise NotAllowed(f"{_REFUSALS[RoundState(state)]}，不能“{label}”。") from None


def refusal(state: str) -> str:
    return _REFUSALS[RoundState(state)]
