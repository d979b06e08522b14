"""Every step of a case: one function each, one transaction each, one timeline row each.

Views validate input and call these; these check the state table, the case's version
(two people acting on the same case at once: the second is told, nothing is
overwritten), write the change and its `CaseStep`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from minyi.audit.trail import batched, record_bulk
from minyi.cases import notices
from minyi.cases.access import is_the_representative
from minyi.cases.attachments import case_attach
from minyi.cases.deadlines import EXTENDED_DAYS, STANDARD_DAYS, set_deadline
from minyi.cases.models import (
    Answer,
    AnswerTimeliness,
    Case,
    CaseStep,
    Consultation,
    DeliveryStatus,
    Evaluation,
    FeedbackCopy,
    Outcome,
    PersonalDataView,
    Recipient,
    Satisfaction,
    record_category,
)
from minyi.cases.numbering import format_number, next_number, number_prefix
from minyi.cases.states import (
    ESCALATION,
    Action,
    CaseState,
    HolderLevel,
    TransitionNotAllowed,
    next_state,
)
from minyi.core.once import made_with
from minyi.org.models import HandlingUnit, OrgDepartment


class CaseChanged(Exception):
    """Someone else changed the case since this user loaded it."""

    message = "该案件刚刚已被他人更新，您的操作未保存。请刷新页面查看最新情况后再操作。"


def today() -> date:
    return timezone.localdate()


@dataclass(frozen=True)
class ReporterData:
    name: str
    gender: str = ""
    age: int | None = None
    phone: str = ""
    employer: str = ""
    employer_address: str = ""
    home_address: str = ""
    home_phone: str = ""


# References full_clean would look up again, one existence query each (eight per
# registration, nine with a unit complained of): the studio, the representative and the
# unit complained of that the caller just read (through the user's scope), the acting
# account, and the area pointers copied from the studio's own unit row. The database's
# foreign keys still refuse a row that is gone, at COMMIT; the callers' boundaries turn
# that into a message (minyi.core.integrity.references_checked).
_READ_WITH_THE_REQUEST = (
    "studio",
    "representative",
    "about_unit",
    "registered_by",
    "area",
    "street",
    "district",
    "city",
    "province",
)


@transaction.atomic
def case_register(
    *,
    actor: Any,
    studio: Any,
    representative: Any,
    data: dict[str, Any],
    attachments: Sequence[Any] = (),
    submission_key: UUID | None = None,
) -> Case:
    """Register an opinion form (CM 9): numbered, and either answered on the spot
    (closed, with the answer and the reporter's satisfaction) or waiting to be sent on.

    `submission_key` is the one-time key of the page that sent it (minyi.core.once): a
    second registration with the same key is refused by the unique constraint with an
    IntegrityError when the case is inserted, after its serial was taken, so that the
    rollback gives the serial back (no gap); `registered_with` finds the first."""
    received_on = data["received_on"]
    prefix = number_prefix(studio)
    case = Case(
        number_prefix=prefix,
        year=received_on.year,
        studio=studio,
        **studio.unit.area_pointers(),
        representative=representative,
        representative_name=representative.name,
        representative_position=representative.position,
        representative_contact=representative.phone,
        registered_by=actor,
        submission_key=submission_key,
        **data,
    )
    if case.outcome == Outcome.ON_THE_SPOT:
        if not case.spot_answer.strip():
            raise ValidationError({"spot_answer": "当场答复的，请填写答复内容。"})
        if not case.spot_satisfaction:
            raise ValidationError({"spot_satisfaction": "当场答复的，请记录反映人的满意度。"})
        case.state = CaseState.CLOSED
        case.final_rating = case.spot_satisfaction
        case.closed_at = timezone.now()
    # Validated before the serial is taken: from there until commit the counter row and,
    # through the counter's audit row, the audit trail are locked (minyi.audit.trail), so
    # every registration waits for the slowest part after it. The number's uniqueness is
    # the counter's to give and the database's unique constraints' to enforce.
    # Nor is the submission key checked here (a query, and racy): its unique constraint
    # refuses a second case at the INSERT, under the serial's lock.
    case.full_clean(exclude=["number", "serial", "submission_key", *_READ_WITH_THE_REQUEST])
    record_category(case)  # before the serial's lock, for the same reason
    # The audit rows of the counter, the case, its steps and attachments in one INSERT
    # at the end (audit.batched): the same rows, in the same order, as one apiece.
    with batched():
        # The prefix as it stands under the lock: see next_number.
        case.number_prefix, case.serial = next_number(studio, prefix, received_on.year)
        case.number = format_number(case.number_prefix, received_on.year, case.serial)
        case.save()
        _record(
            case,
            Action.REGISTER,
            actor,
            CaseState.REGISTERED,
            CaseState.REGISTERED,
            text=case.summary,
        )
        if case.outcome == Outcome.ON_THE_SPOT:
            _record(
                case,
                Action.ANSWER_ON_SPOT,
                actor,
                CaseState.REGISTERED,
                CaseState.CLOSED,
                text=case.spot_answer,
                rating=case.spot_satisfaction,
            )
        for upload in attachments:
            case_attach(case=case, actor=actor, upload=upload)
    return case


def registered_with(submission_key: UUID | None) -> Case | None:
    """The case a page's one-time key registered, if any: what a form sent twice gets
    instead of a second case. Not scoped: the caller shows it only to whoever sent it
    (the same account and studio, or the resident's session holding the key)."""
    return made_with(Case, submission_key, "pk", "number", "studio_id", "registered_by_id")


def _record(
    case: Case, action: str, actor: Any, before: str, after: str, **fields: Any
) -> CaseStep:
    return CaseStep.objects.create(
        case=case, action=action, actor=actor, state_before=before, state_after=after, **fields
    )


def _begin(
    case: Case, action: str, version: int | None, *, lock: bool = False
) -> tuple[Case, str, str]:
    """Check nobody changed the case since `version`, check the transition; returns the
    copy of the case the step changes and _commit writes.

    With a `version` (every page and API step) the caller's case, read in its request,
    is the one the step starts from: a case at another version is refused at once, and
    the write itself is refused if the row moved on meanwhile (_commit's UPDATE … WHERE
    version), so the case is not read a second time under a lock. Without one (commands,
    tests calling a service directly) the row is locked and read afresh; so it is with
    `lock`, for a step that writes rows of its own before the case's (an answer, a
    consultation, an evaluation): their audit rows take the audit lane's lock, and every
    other step takes the case's row (its UPDATE) before that lane, so taking them the
    other way round could deadlock with a step on the same case in the same lane."""
    if version is None or lock:
        locked = (
            Case.objects.select_for_update(of=("self",))
            .select_related("studio__unit", "holder_department__unit", "handling_unit")
            .get(pk=case.pk)
        )
        if version is not None and locked.version != version:
            raise CaseChanged(CaseChanged.message)
        case = locked
    elif case.version != version:
        raise CaseChanged(CaseChanged.message)
    else:
        # A copy: a step refused halfway leaves the caller's case as it was read, which
        # the page shows again with the refusal.
        case = copy.copy(case)
    before = case.state
    after = next_state(action, before)
    case.__dict__[_AS_READ] = case.__dict__.copy()
    return case, before, after


# The case's values as _begin had them, so that _commit writes only the columns the step
# changed: rewriting all sixty, the five encrypted ones re-encrypted, was half the CPU of
# a step's save. Another step cannot have changed the others meanwhile: the write is
# refused unless the version is still the one read.
_AS_READ = "_minyi_as_read"


def _commit(case: Case, action: str, actor: Any, before: str, after: str, **step: Any) -> CaseStep:
    read = case.__dict__.pop(_AS_READ)
    expected = case.version
    case.state = after
    case.version += 1
    case.updated_at = timezone.now()
    state = case.__dict__
    changed = [
        field
        for field in case._meta.concrete_fields
        if field.attname in state and read.get(field.attname, _UNREAD) != state[field.attname]
    ]
    # One UPDATE that is also the version check. save() has no condition of its own, so
    # the post_save it would send (the audit row of the change) is sent here.
    written = Case.objects.filter(pk=case.pk, version=expected).update(
        **{field.attname: state[field.attname] for field in changed}
    )
    if not written:
        raise CaseChanged(CaseChanged.message)
    # The audit rows of the change and of its step in one INSERT (audit.batched), after
    # the case's row, as before: the lane's lock is still taken after the case's.
    with batched():
        post_save.send(
            sender=Case,
            instance=case,
            created=False,
            update_fields=frozenset(field.name for field in changed),
            raw=False,
            using=router.db_for_write(Case, instance=case),
        )
        return _record(case, action, actor, before, after, **step)


_UNREAD = object()


def department_of(case: Case, level: str) -> OrgDepartment:
    """The organisation department of `level` above the case's studio (CM 10's chain)."""
    unit_level = {
        HolderLevel.STREET: "street",
        HolderLevel.DISTRICT: "district",
        HolderLevel.CITY: "city",
        HolderLevel.CITY_COMMITTEE: "city",
    }[HolderLevel(level)]
    # The case's area columns are its studio's unit and that unit's ancestors, each at
    # its own level (minyi.cases.areas): the unit of the department is on the case's own
    # row, and neither the studio nor its unit is read (nor, as once, its ancestors).
    target = getattr(case, f"{unit_level}_id")
    if target is None and level == HolderLevel.STREET:
        # A studio of a system committee or a district has no street above it.
        return department_of(case, HolderLevel.DISTRICT)
    department = (
        OrgDepartment.objects.select_related("unit")
        .only("name", "unit__level")
        .filter(unit_id=target)
        .order_by()
        .first()
        if target
        else None
    )
    if department is None:
        raise ValidationError(f"找不到{HolderLevel(level).label}，请先在组织架构中设立。")
    return department


def _holder_level_of(department: OrgDepartment) -> str:
    return {
        "street": HolderLevel.STREET,
        "district": HolderLevel.DISTRICT,
        "city": HolderLevel.CITY,
    }[department.unit.level]


def confirmation_refusal(case: Case, action: str) -> str:
    """Why the form cannot be confirmed now, or "" while it can.

    The form is confirmed at the studio: while the case waits there, or, answered on the
    spot, once closed at its registration (it never had another state). A case closed
    after its handling and rating has ended; a confirmation recorded then would not be
    of what was registered but a signature added after the end, so it is refused, as
    it is on a withdrawn case or one carried forward (the state table)."""
    if case.state == CaseState.CLOSED and case.outcome != Outcome.ON_THE_SPOT:
        return f"本件已办结，不能再记录“{Action(action).label}”。"
    return ""


@transaction.atomic
def case_confirm(*, case: Case, actor: Any, who: str, version: int | None = None) -> Case:
    """The representative (note 7) or the reporter (note 4) confirms the form."""
    action = Action.CONFIRM_REPRESENTATIVE if who == "representative" else Action.CONFIRM_REPORTER
    case, before, after = _begin(case, action, version)
    if refusal := confirmation_refusal(case, action):
        raise TransitionNotAllowed(refusal)
    if who == "representative":
        if case.representative_confirmed_at:
            raise TransitionNotAllowed("党代表已确认过本登记表。")
        case.representative_confirmed_at, case.representative_confirmed_by = timezone.now(), actor
    else:
        if case.reporter_confirmed_at:
            raise TransitionNotAllowed("反映人已确认过本登记表。")
        case.reporter_confirmed_at, case.reporter_confirmed_by = timezone.now(), actor
    _commit(case, action, actor, before, after)
    return case


@transaction.atomic
def case_send_to_street(*, case: Case, actor: Any, version: int | None = None) -> Case:
    case, before, after = _begin(case, Action.SEND_TO_STREET, version)
    department = department_of(case, HolderLevel.STREET)
    case.holder_department, case.holder_level = department, _holder_level_of(department)
    _commit(
        case,
        Action.SEND_TO_STREET,
        actor,
        before,
        after,
        to_department=department,
        to_level=case.holder_level,
    )
    return case


@transaction.atomic
def case_escalate(*, case: Case, actor: Any, reason: str, version: int | None = None) -> Case:
    """Up one level: street → district → city organisation department → city committee."""
    case, before, after = _begin(case, Action.ESCALATE, version)
    current = HolderLevel(case.holder_level)
    if current not in ESCALATION:
        raise TransitionNotAllowed("市委已是最高一级，不能再上报。")
    target_level = ESCALATION[current]
    department = department_of(case, target_level)
    source = case.holder_department
    case.holder_department, case.holder_level = department, target_level
    _commit(
        case,
        Action.ESCALATE,
        actor,
        before,
        after,
        from_department=source,
        to_department=department,
        to_level=target_level,
        text=reason,
    )
    return case


def units_for_referral(case: Case):
    """A department refers to handling units of its own level and area (CM 10)."""
    department = case.holder_department  # None, without a query, when there is none
    if department is None:
        return HandlingUnit.objects.none()
    return HandlingUnit.objects.active().filter(area_id=department.unit_id).order_by("name")


def may_refer_to(case: Case, unit: HandlingUnit) -> bool:
    """units_for_referral's rule, on the unit's own columns."""
    if case.holder_department_id is None or unit.retired_at is not None:
        return False
    department = case.holder_department
    assert department is not None  # holder_department_id is set
    return unit.area_id == department.unit_id


@transaction.atomic
def case_refer(
    *,
    case: Case,
    actor: Any,
    handling_unit: HandlingUnit,
    note: str = "",
    version: int | None = None,
) -> Case:
    case, before, after = _begin(case, Action.REFER, version)
    # The unit as the caller read it (the page's form, from units_for_referral of this
    # very case and version), not looked up again; a unit deleted meanwhile is refused by
    # its foreign key at COMMIT (minyi.core.integrity).
    if not may_refer_to(case, handling_unit):
        raise ValidationError({"handling_unit": "只能转办给本级组织部门所在区域的承办单位。"})
    case.handling_unit = handling_unit
    case.extension_requested = False
    set_deadline(case, received=today(), days=STANDARD_DAYS)
    _commit(
        case,
        Action.REFER,
        actor,
        before,
        after,
        from_department=case.holder_department,
        to_handling_unit=handling_unit,
        text=note,
        due_on=case.due_on,
    )
    return case


@transaction.atomic
def case_return(*, case: Case, actor: Any, reason: str, version: int | None = None) -> Case:
    """The unit says the case is outside its remit; it goes back to the department
    that referred it, which routes it again."""
    if not reason.strip():
        raise ValidationError({"reason": "退回须说明理由。"})
    case, before, after = _begin(case, Action.RETURN, version)
    unit_id = case.handling_unit_id
    case.handling_unit = None
    case.unit_received_on = case.due_on = case.due_days = None
    case.due_provisional = case.extension_requested = False
    _commit(
        case,
        Action.RETURN,
        actor,
        before,
        after,
        to_department=case.holder_department,
        text=reason,
        to_handling_unit_id=unit_id,
    )
    return case


@transaction.atomic
def case_request_extension(
    *, case: Case, actor: Any, reason: str, version: int | None = None
) -> Case:
    if not reason.strip():
        raise ValidationError({"reason": "申请延期须说明理由。"})
    case, before, after = _begin(case, Action.REQUEST_EXTENSION, version)
    if case.due_days == EXTENDED_DAYS:
        raise TransitionNotAllowed("已延期至 30 个工作日，不能再申请延期。")
    if case.extension_requested:
        raise TransitionNotAllowed("延期申请已提交，正在等待党代表意见。")
    case.extension_requested, case.extension_reason = True, reason
    _commit(case, Action.REQUEST_EXTENSION, actor, before, after, text=reason)
    return case


@transaction.atomic
def case_decide_extension(
    *, case: Case, actor: Any, consent: bool, note: str = "", version: int | None = None
) -> Case:
    """CM 11: in special cases, with the representative's consent, 30 working days.

    The decision is the representative's. The department holding the case may record
    it for them (a representative without an account, or who answered by telephone):
    then it must say how the representative gave it, and the step says that it was
    recorded on their behalf, so that the timeline, which names the actor, does not
    read as if the official were the representative."""
    action = Action.CONSENT_EXTENSION if consent else Action.REFUSE_EXTENSION
    case, before, after = _begin(case, action, version)
    if not case.extension_requested:
        raise TransitionNotAllowed("承办单位没有提出延期申请。")
    on_behalf = not is_the_representative(actor, case)
    if on_behalf and not note.strip():
        given = "同意" if consent else "不同意"
        raise ValidationError(
            {"note": f"代党代表记录时，请写明党代表是如何表示{given}的（电话、书面或当面）。"}
        )
    case.extension_requested = False
    if consent:
        # A case with its unit (the only state this step is allowed in) was received by it.
        assert case.unit_received_on is not None
        set_deadline(case, received=case.unit_received_on, days=EXTENDED_DAYS)
    if on_behalf:
        name = getattr(actor, "full_name", "") or actor.username
        decision = "同意" if consent else "不同意意见"
        note = f"（由{name}代为记录党代表的{decision}）\n{note.strip()}"
    _commit(case, action, actor, before, after, text=note, due_on=case.due_on)
    return case


@transaction.atomic
def case_plan(*, case: Case, actor: Any, plan: str, version: int | None = None) -> Case:
    if not plan.strip():
        raise ValidationError({"plan": "请填写办理计划（措施、责任人、时限）。"})
    case, before, after = _begin(case, Action.PLAN, version)
    _commit(case, Action.PLAN, actor, before, after, text=plan)
    return case


@transaction.atomic
def case_urge(*, case: Case, actor: Any, note: str = "", version: int | None = None) -> Case:
    case, before, after = _begin(case, Action.URGE, version)
    _commit(
        case,
        Action.URGE,
        actor,
        before,
        after,
        to_handling_unit_id=case.handling_unit_id,
        text=note,
    )
    notices.urged(case, actor, note)
    return case


@transaction.atomic
def case_answer(
    *, case: Case, actor: Any, text: str, result: str = "", version: int | None = None
) -> Answer:
    """The unit answers in writing; the answer goes at once to the department of its
    level and is copied to the reporter, the representative and the studio (CM 11)."""
    if not text.strip():
        raise ValidationError({"text": "请填写书面答复内容。"})
    case, before, after = _begin(case, Action.ANSWER, version, lock=True)
    # A case with its unit (the only state this step is allowed in) has its handling unit.
    assert case.handling_unit is not None
    answered_on = today()
    answer = Answer.objects.create(
        case=case,
        handling_unit=case.handling_unit,
        text=text,
        result=result,
        answered_on=answered_on,
        answered_by=actor,
        on_time=case.due_on is None or answered_on <= case.due_on,
    )
    case.answer_timeliness = timeliness_after(case.answer_timeliness, answer.on_time)
    _commit(
        case, Action.ANSWER, actor, before, after, to_handling_unit=case.handling_unit, text=text
    )
    _queue_feedback(case, answer)
    notices.answered(case, answer)
    return answer


def timeliness_after(current: str, on_time: bool) -> str:
    """One late answer marks the case late for good; the first on-time answer marks an
    unanswered case on time."""
    if not on_time:
        return AnswerTimeliness.LATE
    return current or AnswerTimeliness.ON_TIME


def _queue_feedback(case: Case, answer: Answer) -> None:
    # The department's, the representative's and the studio's copies are the answer on
    # the case page, which they see in their scope from this commit on: delivered with
    # it, not left 待发送 until the next deliver_feedback run (or for ever where none
    # runs, as in the demo). Only the reporter's copy leaves the system (the outbox).
    now = timezone.now()
    read_here = {"channel": "internal", "status": DeliveryStatus.SENT, "delivered_at": now}
    copies = [
        FeedbackCopy(
            answer=answer,
            recipient=Recipient.DEPARTMENT,
            address=str(case.holder_department or ""),
            **read_here,
        ),
        FeedbackCopy(
            answer=answer,
            recipient=Recipient.REPRESENTATIVE,
            address=case.representative_name,
            **read_here,
        ),
        FeedbackCopy(
            answer=answer, recipient=Recipient.STUDIO, address=case.studio.name, **read_here
        ),
        FeedbackCopy(
            answer=answer,
            recipient=Recipient.REPORTER,
            channel=settings.MINYI_REPORTER_CHANNEL,
            address=case.reporter_phone or case.reporter_home_address,
        ),
    ]
    FeedbackCopy.objects.bulk_create(copies)
    record_bulk(FeedbackCopy, len(copies), cause=f"答复 cases.answer#{answer.pk}")


@transaction.atomic
def case_consult(
    *,
    case: Case,
    actor: Any,
    held_on: date,
    attendees: str,
    minutes: str,
    outcome: str = "",
    version: int | None = None,
) -> Consultation:
    if not attendees.strip() or not minutes.strip():
        raise ValidationError("三方协商须填写参加人员和协商纪要。")
    case, before, after = _begin(case, Action.CONSULT, version, lock=True)
    consultation = Consultation.objects.create(
        case=case,
        held_on=held_on,
        attendees=attendees,
        minutes=minutes,
        outcome=outcome,
        recorded_by=actor,
    )
    _commit(case, Action.CONSULT, actor, before, after, text=minutes)
    return consultation


@transaction.atomic
def case_evaluate(
    *,
    case: Case,
    actor: Any,
    rating: str,
    reporter_confirmed: bool,
    representative_confirmed: bool,
    street_head_confirmed: bool,
    comment: str = "",
    reopen: bool = False,
    version: int | None = None,
) -> Evaluation:
    """The rating of the unit's handling (CM 12). 不满意 with `reopen` sends the case back
    to the same unit for handling again, with a fresh 10-working-day limit; that loop
    is counted."""
    if rating not in Satisfaction.values:
        raise ValidationError({"rating": "请选择评议结果。"})
    if reopen and rating != Satisfaction.DISSATISFIED:
        raise ValidationError({"reopen": "只有“不满意”的案件才能退回重新办理。"})
    action = Action.REOPEN if reopen else Action.EVALUATE
    case, before, after = _begin(case, action, version, lock=True)
    answer = case.answers.order_by("-pk").first()
    assert answer is not None  # an answered case (the only state this step is allowed in)
    evaluation = Evaluation.objects.create(
        case=case,
        answer=answer,
        handling_unit=answer.handling_unit,
        rating=rating,
        round=case.reopen_count + 1,
        reporter_confirmed=reporter_confirmed,
        representative_confirmed=representative_confirmed,
        street_head_confirmed=street_head_confirmed,
        comment=comment,
        rated_by=actor,
    )
    if reopen:
        case.reopen_count += 1
        set_deadline(case, received=today(), days=STANDARD_DAYS)
    else:
        case.final_rating = rating
        case.closed_at = timezone.now()
    _commit(
        case,
        action,
        actor,
        before,
        after,
        rating=rating,
        text=comment,
        to_handling_unit=case.handling_unit if reopen else None,
        due_on=case.due_on if reopen else None,
    )
    if reopen:
        notices.reopened(case, actor, comment)
    return evaluation


@transaction.atomic
def case_carry_forward(
    *, case: Case, actor: Any, form: str, note: str = "", version: int | None = None
) -> Case:
    """CM 9: the representative raises the matter as a congress proposal, or between
    sessions as a suggestion, inquiry or interpellation, through the liaison office."""
    if not form:
        raise ValidationError({"form": "请选择提出方式。"})
    case, before, after = _begin(case, Action.CARRY_FORWARD, version)
    case.closed_at = timezone.now()
    _commit(case, Action.CARRY_FORWARD, actor, before, after, text=f"{form}：{note}".rstrip("："))
    return case


@transaction.atomic
def case_withdraw(*, case: Case, actor: Any, text: str, version: int | None = None) -> Case:
    """The reporter takes the opinion back before the studio sends it on (the online
    studio's withdrawal). The case keeps its number, which is never reused; `closed_at`
    marks the end of its life, from which its reporter's data is kept for the retention
    period like any other case's (minyi.cases.retention)."""
    case, before, after = _begin(case, Action.WITHDRAW, version)
    case.closed_at = timezone.now()
    _commit(case, Action.WITHDRAW, actor, before, after, text=text)
    return case


@transaction.atomic
def case_note(*, case: Case, actor: Any, text: str, version: int | None = None) -> Case:
    if not text.strip():
        raise ValidationError({"text": "请填写备注内容。"})
    case, before, after = _begin(case, Action.NOTE, version)
    _commit(case, Action.NOTE, actor, before, after, text=text)
    return case


def record_personal_data_view(*, case: Case, viewer: Any, purpose: str = "") -> None:
    PersonalDataView.objects.create(case=case, viewer=viewer, purpose=purpose)


def pending_feedback() -> Any:
    return FeedbackCopy.objects.filter(status=DeliveryStatus.PENDING)
