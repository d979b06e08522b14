"""A case's timeline in plain words for the person who reported it.

Staff texts (notes, reasons, minutes) are not shown: they are written for colleagues.
The resident sees what happened, when, and who holds the matter now; the unit's answer
is shown in full separately."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from minyi.cases.models import Case, CaseStep
from minyi.cases.states import Action, CaseState

PLAIN: dict[str, str] = {
    Action.REGISTER: "您的意见已登记",
    Action.ANSWER_ON_SPOT: "党代表当场作了答复（答复内容见下方）",
    Action.CONFIRM_REPRESENTATIVE: "党代表已确认登记内容",
    Action.CONFIRM_REPORTER: "您已确认登记内容",
    Action.SEND_TO_STREET: "工作室已把您的意见报送街道组织部门",
    Action.REFER: "组织部门已交给{unit}办理",
    Action.ESCALATE: "已上报上一级组织部门处理",
    Action.RETURN: "承办单位认为不归它管，组织部门正在另行安排",
    Action.REQUEST_EXTENSION: "承办单位申请延长办理时间",
    Action.CONSENT_EXTENSION: "党代表同意延长办理时间",
    Action.REFUSE_EXTENSION: "党代表不同意延长，承办单位须按原期限答复",
    Action.PLAN: "承办单位已定出办理计划",
    Action.ANSWER: "{unit}已书面答复（答复内容见下方）",
    Action.FEEDBACK: "答复已抄送给您",
    Action.URGE: "组织部门已催促承办单位",
    Action.CONSULT: "已召集您、党代表和承办单位三方协商",
    Action.EVALUATE: "已完成评议，结果：{rating}",
    Action.REOPEN: "评议为不满意，已退回承办单位重新办理",
    Action.CARRY_FORWARD: "党代表已把这件事作为代表提案或建议提出",
    Action.WITHDRAW: "您撤回了这次反映，不再办理",
}


# Where the matter stands, in the resident's words: the staff labels (已答复（待评议）,
# 已登记（待报送街道）) speak of the office's queues.
PLAIN_STATE: dict[str, str] = {
    CaseState.REGISTERED: "已登记，工作室将报送街道组织部门",
    CaseState.AT_DEPARTMENT: "组织部门正在安排办理",
    CaseState.WITH_UNIT: "承办单位正在办理",
    CaseState.ANSWERED: "已答复，正在评定办理结果",
    CaseState.CLOSED: "已办结",
    CaseState.CARRIED_FORWARD: "党代表已把这件事作为代表提案或建议提出",
    CaseState.WITHDRAWN: "您已撤回这次反映",
}
ANSWERED_FOR_YOU_TO_RATE = "已答复，请您评价（见下方）"


def plain_state(case: Case, *, rateable: bool) -> str:
    if case.state == CaseState.ANSWERED and rateable:
        return ANSWERED_FOR_YOU_TO_RATE
    return PLAIN_STATE.get(case.state, case.get_state_display())


@dataclass(frozen=True)
class PlainStep:
    at: datetime
    text: str
    due_on: object = None


def plain_steps(case: Case) -> list[PlainStep]:
    """The steps a resident should see, oldest first (one query)."""
    steps = (
        CaseStep.objects.filter(case=case)
        .exclude(action=Action.NOTE)
        .select_related("to_handling_unit")
        .order_by("at", "pk")
    )
    rows = []
    for step in steps:
        template = PLAIN.get(step.action)
        if template is None:
            continue
        text = template.format(
            unit=step.to_handling_unit.name if step.to_handling_unit else "承办单位",
            rating=step.get_rating_display() or "",
        )
        rows.append(PlainStep(at=step.at, text=text, due_on=step.due_on))
    return rows
