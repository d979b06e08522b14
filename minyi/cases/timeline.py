"""The case page's timeline (办理记录), read and written in Python rather than by the
template engine.

Each step printed a dozen template variables, two `|date` filters and up to four
get_FOO_display calls, and came with four whole related rows (the actor's account, two
departments, a handling unit) built into models only for their names. Here the steps
are read as plain values with those names joined in, and each <li> is written once:
the markup says what the template said (tests/cases/test_timeline.py), every value
goes through `escape`, exactly as autoescaping did.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Manager, QuerySet
from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from minyi.cases.models import RATING_LABELS
from minyi.cases.states import STATE_LABELS, Action, HolderLevel
from minyi.core.markup import escape

ACTION_LABELS = dict(Action.choices)
LEVEL_LABELS = dict(HolderLevel.choices)

# What a step's line prints, in this order (the names of the related rows joined in).
COLUMNS = (
    "at",
    "action",
    "actor_id",
    "actor__full_name",
    "actor__username",
    "from_department_id",
    "from_department__name",
    "to_department__name",
    "to_level",
    "to_handling_unit__name",
    "state_before",
    "state_after",
    "rating",
    "due_on",
    "text",
)


def _what(step: dict[str, Any]) -> str:
    """The sentence saying what happened, with the departments' and unit's names."""
    action = step["action"]
    to_department = escape(step["to_department__name"] or "")
    unit = escape(step["to_handling_unit__name"] or "")
    if action == Action.SEND_TO_STREET:
        return f"将登记表报送{to_department or '组织部门'}"
    if action == Action.REFER:
        source = f"由{escape(step['from_department__name'])}" if step["from_department_id"] else ""
        return f"{source}转办给{unit}"
    if action == Action.ESCALATE:
        source = escape(step["from_department__name"] or "") or "组织部门"
        level = escape(LEVEL_LABELS.get(step["to_level"], step["to_level"]))
        return f"由{source}上报{to_department}（{level}）"
    if action == Action.RETURN:
        return f"{unit or '承办单位'}以不属职责范围为由退回{to_department or '组织部门'}"
    if action == Action.URGE:
        return f"督办{unit or '承办单位'}"
    if action == Action.REOPEN:
        return f"评议不满意，退回{unit or '承办单位'}重新办理"
    return escape(ACTION_LABELS.get(action, action))


def _line(step: dict[str, Any]) -> SafeString:
    at = timezone.localtime(step["at"])
    actor = (step["actor__full_name"] or step["actor__username"]) if step["actor_id"] else ""
    parts = [
        f'<li><time datetime="{at.isoformat()}">{at:%Y-%m-%d %H:%M}</time> ',
        f"<strong>{escape(actor or '系统')}</strong> ",
        _what(step),
    ]
    before, after = step["state_before"], step["state_after"]
    if before != after:
        parts.append(
            f'<div class="muted">状态：{escape(STATE_LABELS.get(before, before))} → '
            f"{escape(STATE_LABELS.get(after, after))}</div>"
        )
    if step["rating"]:
        parts.append(
            f"<div>评议结果：{escape(RATING_LABELS.get(step['rating'], step['rating']))}</div>"
        )
    if step["due_on"]:
        parts.append(f"<div>答复期限：{step['due_on']:%Y-%m-%d}</div>")
    if step["text"]:
        parts.append(f"<div>{linebreaksbr(step['text'], autoescape=True)}</div>")
    parts.append("</li>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


def timeline(steps: Manager[Any] | QuerySet[Any]) -> list[SafeString]:
    """The lines of a case's timeline, oldest first: `steps` is `case.steps`."""
    return [_line(step) for step in steps.order_by("at", "pk").values(*COLUMNS)]
