"""Telling the people a deadline concerns, in the system (the notifications every staff
page counts in its menu, /duties/notifications/).

The deadline job (minyi.cases.reminders) and 督办 recorded what they were for (a
Reminder row, a step on the timeline) but reached nobody: a unit learnt it had been
urged only by opening the case. Now:

- a due-soon reminder goes to the handling unit's accounts;
- an overdue flag goes to the officials of the department that holds the case, who
  urge the unit (CM 11: the department supervises the answer);
- 督办 goes to the handling unit's accounts;
- a written answer goes to those who rate it (CM 12: the street organisation department
  of the case's studio, with the representative) and to the studio's liaisons, whose
  copies (CM 11: 抄送市党代表和党代表工作室) were only marked delivered on the case.

Each is written in the transaction of what it reports. A reminder's notification
carries a key (the reminder's case, kind and deadline), so two overlapping runs of the
job, which may both find a reminder new, write it once (the unique (recipient, key)
constraint, as the duty warnings do).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from minyi.audit.trail import record_bulk
from minyi.cases.models import Answer, Case, Reminder, ReminderKind
from minyi.duties.models import Notification
from minyi.duties.notify import fit_text, month_day, notification_send, unread_changed
from minyi.people.models import OFFICIAL_ROLE_LEVELS, Role, User


def unit_accounts(handling_unit_ids: Iterable[int]) -> dict[int, set[int]]:
    """The active accounts of each handling unit, by unit (one query)."""
    found: dict[int, set[int]] = defaultdict(set)
    for pk, unit_id in User.objects.filter(
        is_active=True, role=Role.HANDLING_UNIT_STAFF, handling_unit_id__in=set(handling_unit_ids)
    ).values_list("pk", "handling_unit_id"):
        found[unit_id].add(pk)
    return found


def department_officials(org_unit_ids: Iterable[int]) -> dict[int, set[int]]:
    """The active officials of the departments of these org units, by unit (one query)."""
    found: dict[int, set[int]] = defaultdict(set)
    for pk, unit_id in User.objects.filter(
        is_active=True, role__in=list(OFFICIAL_ROLE_LEVELS), unit_id__in=set(org_unit_ids)
    ).values_list("pk", "unit_id"):
        found[unit_id].add(pk)
    return found


def _reminder_text(reminder: Reminder, case: Case) -> str:
    due = month_day(reminder.due_on)
    if reminder.kind == ReminderKind.DUE_SOON:
        return f"【即将到期】案件{case.number}“{case.summary}”应于{due}前书面答复。"
    unit = case.handling_unit
    return f"【已超期】案件{case.number}“{case.summary}”（{unit}）已超过{due}的答复期限，请督办。"


def reminders_sent(reminders: list[Reminder]) -> int:
    """The notifications of new reminders (their cases read with their handling unit and
    holding department): two queries for the recipients, one INSERT."""
    if not reminders:
        return 0
    units = unit_accounts(r.handling_unit_id for r in reminders if r.handling_unit_id)
    departments = {r.department.unit_id for r in reminders if r.department is not None}
    officials = department_officials(departments)
    rows: list[Notification] = []
    for reminder in reminders:
        case = reminder.case
        if reminder.kind == ReminderKind.DUE_SOON:
            recipients = units.get(reminder.handling_unit_id or 0, set())
        else:
            department = reminder.department
            recipients = officials.get(department.unit_id, set()) if department else set()
        text = fit_text(_reminder_text(reminder, case))
        key = f"case-reminder:{reminder.kind}:{case.pk}:{reminder.due_on.isoformat()}"
        rows.extend(
            Notification(recipient_id=pk, text=text, url=case.get_absolute_url(), key=key)
            for pk in sorted(recipients)
        )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    record_bulk(Notification, len(rows), cause="期限提醒")
    unread_changed(row.recipient_id for row in rows)
    return len(rows)


def urged(case: Case, actor: Any, note: str) -> None:
    """督办: the handling unit's accounts are told, with the department's note."""
    if case.handling_unit_id is None:
        return
    department = case.holder_department
    who = str(department) if department is not None else str(actor)
    due = f"，答复期限{month_day(case.due_on)}" if case.due_on else ""
    text = f"【督办】{who}督办案件{case.number}“{case.summary}”{due}。"
    if note.strip():
        text += f"督办意见：{note.strip()}"
    notification_send(recipients=_unit_staff(case), text=text, url=case.get_absolute_url())


def _unit_staff(case: Case) -> Any:
    return User.objects.filter(
        is_active=True, role=Role.HANDLING_UNIT_STAFF, handling_unit_id=case.handling_unit_id
    )


def reopened(case: Case, actor: Any, comment: str) -> None:
    """不满意 → 重新办理 (CM 12): the case is back with the unit under a fresh limit. The
    unit's accounts are told, and the officials of the department holding the case when
    it is not the rater's own (the street rates a case a district or the city holds)."""
    due = f"，答复期限{month_day(case.due_on)}" if case.due_on else ""
    text = f"【重新办理】案件{case.number}“{case.summary}”评议为不满意，退回重新办理{due}。"
    if comment.strip():
        text += f"评议意见：{comment.strip()}"
    recipients = list(_unit_staff(case))
    department = case.holder_department
    if department is not None and department.unit_id != getattr(actor, "unit_id", None):
        recipients += User.objects.filter(
            is_active=True, role__in=list(OFFICIAL_ROLE_LEVELS), unit_id=department.unit_id
        )
    notification_send(recipients=recipients, text=text, url=case.get_absolute_url())


def rating_unit_id(case: Case) -> int | None:
    """The org unit whose department rates the case's answer (minyi.cases.access.
    rates_case): the street of the case's studio, or the holder where there is none."""
    if case.street_id is not None:
        return case.street_id
    department = case.holder_department
    return department.unit_id if department is not None else None


def answered(case: Case, answer: Answer) -> None:
    """A written answer arrived: the department that rates it (with the representative and
    the reporter, CM 12), the case's representative and the studio's liaisons are told,
    in one query for the accounts and one INSERT. The representative and the studio had
    a copy marked delivered on the case and learnt of it only by opening the case; the
    street department rating an answer to a case the district holds did not learn of it
    at all. The holding department, if it is not the rater, reads the answer in its
    list (已答复), as it did."""
    who = Q(representative__pk=case.representative_id) | Q(
        liaison__studio_id=case.studio_id, liaison__active=True
    )
    rater = rating_unit_id(case)
    if rater is not None:
        who |= Q(role__in=list(OFFICIAL_ROLE_LEVELS), unit_id=rater)
    text = (
        f"【已答复】案件{case.number}“{case.summary}”已由{answer.handling_unit}书面答复，"
        "待满意度评议。"
    )
    recipients = User.objects.filter(who, is_active=True).distinct()
    notification_send(recipients=recipients, text=text, url=case.get_absolute_url())
