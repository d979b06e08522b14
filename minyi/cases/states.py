"""The life of an opinion (CM 8–12) as states and allowed transitions, in one table.

A case is registered at a studio; answered on the spot, or sent to the street
organisation department; each department refers it to a handling unit of its level
or escalates it (street → district → city → city committee); the unit answers, or
returns it as outside its remit; the answer is rated; 不满意 sends it back for handling.
A representative may instead carry the matter forward through the congress (CM 9).
A resident who reported online may withdraw it while it is still at the studio; the
case keeps its number and its life ends there.
"""

from __future__ import annotations

from django.db import models


class CaseState(models.TextChoices):
    REGISTERED = "registered", "已登记（待报送街道）"
    AT_DEPARTMENT = "at_department", "组织部门处理中"
    WITH_UNIT = "with_unit", "承办单位办理中"
    ANSWERED = "answered", "已答复（待评议）"
    CLOSED = "closed", "已办结"
    CARRIED_FORWARD = "carried_forward", "转为代表提案或建议"
    WITHDRAWN = "withdrawn", "已撤回"


# The labels by value, for pages that print them from plain values (rows written in
# Python, not get_state_display() per row).
STATE_LABELS = dict(CaseState.choices)


# Not here: CLOSED, CARRIED_FORWARD and WITHDRAWN, where a case's life ends. A withdrawn
# case is neither open nor handled: it counts in no queue, deadline or closed figure.
OPEN_STATES = {
    CaseState.REGISTERED,
    CaseState.AT_DEPARTMENT,
    CaseState.WITH_UNIT,
    CaseState.ANSWERED,
}


class Action(models.TextChoices):
    """Every step a case can take; each is one row on its timeline."""

    REGISTER = "register", "登记"
    ANSWER_ON_SPOT = "answer_on_spot", "当场答复"
    CONFIRM_REPRESENTATIVE = "confirm_representative", "党代表确认"
    CONFIRM_REPORTER = "confirm_reporter", "反映人确认"
    SEND_TO_STREET = "send_to_street", "报送街道组织部门"
    REFER = "refer", "转办承办单位"
    ESCALATE = "escalate", "上报上级组织部门"
    RETURN = "return", "承办单位退回（不属职责范围）"
    REQUEST_EXTENSION = "request_extension", "申请延期"
    CONSENT_EXTENSION = "consent_extension", "党代表同意延期"
    REFUSE_EXTENSION = "refuse_extension", "党代表不同意延期"
    PLAN = "plan", "办理计划"
    ANSWER = "answer", "书面答复"
    FEEDBACK = "feedback", "答复抄送"
    URGE = "urge", "督办"
    CONSULT = "consult", "三方协商"
    EVALUATE = "evaluate", "满意度评议"
    REOPEN = "reopen", "不满意，重新办理"
    CARRY_FORWARD = "carry_forward", "转为代表提案或建议"
    WITHDRAW = "withdraw", "反映人撤回"
    NOTE = "note", "备注"


# (action, from state) -> to state. None as the target keeps the state unchanged.
# An action absent for a state is not allowed in that state.
TRANSITIONS: dict[tuple[str, str], str | None] = {
    (Action.CONFIRM_REPRESENTATIVE, CaseState.REGISTERED): None,
    (Action.CONFIRM_REPORTER, CaseState.REGISTERED): None,
    (Action.CONFIRM_REPRESENTATIVE, CaseState.CLOSED): None,
    (Action.CONFIRM_REPORTER, CaseState.CLOSED): None,
    (Action.SEND_TO_STREET, CaseState.REGISTERED): CaseState.AT_DEPARTMENT,
    (Action.CARRY_FORWARD, CaseState.REGISTERED): CaseState.CARRIED_FORWARD,
    (Action.CARRY_FORWARD, CaseState.AT_DEPARTMENT): CaseState.CARRIED_FORWARD,
    # Only the resident, online, and only before the studio sends it on
    # (minyi.online.services): no staff side of minyi.cases.access has this step.
    (Action.WITHDRAW, CaseState.REGISTERED): CaseState.WITHDRAWN,
    (Action.REFER, CaseState.AT_DEPARTMENT): CaseState.WITH_UNIT,
    (Action.ESCALATE, CaseState.AT_DEPARTMENT): CaseState.AT_DEPARTMENT,
    (Action.RETURN, CaseState.WITH_UNIT): CaseState.AT_DEPARTMENT,
    (Action.REQUEST_EXTENSION, CaseState.WITH_UNIT): None,
    (Action.CONSENT_EXTENSION, CaseState.WITH_UNIT): None,
    (Action.REFUSE_EXTENSION, CaseState.WITH_UNIT): None,
    (Action.PLAN, CaseState.WITH_UNIT): None,
    (Action.ANSWER, CaseState.WITH_UNIT): CaseState.ANSWERED,
    (Action.URGE, CaseState.WITH_UNIT): None,
    (Action.CONSULT, CaseState.AT_DEPARTMENT): None,
    (Action.CONSULT, CaseState.WITH_UNIT): None,
    (Action.CONSULT, CaseState.ANSWERED): None,
    (Action.EVALUATE, CaseState.ANSWERED): CaseState.CLOSED,
    (Action.REOPEN, CaseState.ANSWERED): CaseState.WITH_UNIT,
    (Action.NOTE, CaseState.REGISTERED): None,
    (Action.NOTE, CaseState.AT_DEPARTMENT): None,
    (Action.NOTE, CaseState.WITH_UNIT): None,
    (Action.NOTE, CaseState.ANSWERED): None,
    (Action.NOTE, CaseState.CLOSED): None,
    (Action.NOTE, CaseState.CARRIED_FORWARD): None,
    (Action.NOTE, CaseState.WITHDRAWN): None,
}


class TransitionNotAllowed(Exception):
    """The case's state does not allow this step; the message is for the user."""


def next_state(action: str, state: str) -> str:
    """The state after `action`, or TransitionNotAllowed with a Chinese message."""
    key = (action, state)
    if key not in TRANSITIONS and state == CaseState.WITHDRAWN:
        raise TransitionNotAllowed(
            f"反映人已撤回本件，不再办理，不能进行“{Action(action).label}”。"
        )
    if key not in TRANSITIONS:
        raise TransitionNotAllowed(
            f"案件当前状态为“{CaseState(state).label}”，不能进行“{Action(action).label}”。"
        )
    target = TRANSITIONS[key]
    return state if target is None else target


def allowed_actions(state: str) -> set[str]:
    return {action for action, from_state in TRANSITIONS if from_state == state}


class HolderLevel(models.TextChoices):
    """Who holds a case on the department side: CM 10's chain."""

    STREET = "street", "街道组织部门"
    DISTRICT = "district", "区（新区）组织部门"
    CITY = "city", "市委组织部"
    CITY_COMMITTEE = "city_committee", "市委"


ESCALATION = {
    HolderLevel.STREET: HolderLevel.DISTRICT,
    HolderLevel.DISTRICT: HolderLevel.CITY,
    HolderLevel.CITY: HolderLevel.CITY_COMMITTEE,
}
