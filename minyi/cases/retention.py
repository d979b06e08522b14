"""Retention and data-subject requests for reporters' personal data (docs/personal-data.md).

`anonymise(cases, …)` replaces a case's personal data with anonymised values and deletes its
attachments, while everything statistics and reports count stays: number, studio, category,
dates, state, units, steps, answers, ratings. Used by `anonymise_closed_cases` (retention,
MINYI_RETENTION_YEARS after closing) and by `reporter_data erase` (a reporter's request).

Works on batches with a fixed number of queries per batch (no queries per case).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from minyi.cases.models import (
    Answer,
    Case,
    CaseAttachment,
    CaseStep,
    Consultation,
    Evaluation,
    FeedbackCopy,
    Recipient,
)
from minyi.cases.states import Action
from minyi.core.crypto import phone_digest
from minyi.core.names import mask_name
from minyi.core.phones import display_phone

ANONYMOUS = "已匿名"
SCRUBBED = "***"
BATCH = 200


def retention_cutoff(now: datetime | None = None) -> datetime:
    """Cases closed before this moment are past retention."""
    now = now or timezone.now()
    years = settings.MINYI_RETENTION_YEARS
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def due_for_anonymisation(now: datetime | None = None) -> QuerySet[Case]:
    return Case.objects.filter(
        closed_at__isnull=False, closed_at__lt=retention_cutoff(now), anonymised_at__isnull=True
    )


def cases_of_reporter(phone: str) -> QuerySet[Case]:
    """Every case whose reporter gave this phone (mobile or home), however it is typed."""
    digest = phone_digest(phone)
    if not digest:
        return Case.objects.none()
    return Case.objects.filter(
        Q(reporter_phone_digest=digest) | Q(reporter_home_phone_digest=digest)
    )


def _spellings(case: Case) -> list[str]:
    """The ways the reporter's name and phones may appear in free text."""
    values = [case.reporter_name]
    if "·" in case.reporter_name:
        values.append(case.reporter_name.split("·")[-1])
    for phone in (case.reporter_phone, case.reporter_home_phone):
        if phone:
            values += [phone, display_phone(phone), phone.removeprefix("+86")]
    return sorted({v for v in values if v and len(v) >= 2}, key=len, reverse=True)


def _scrub(text: str, spellings: list[str]) -> str:
    if not text or not spellings:
        return text
    return re.sub("|".join(re.escape(s) for s in spellings), SCRUBBED, text)


def anonymise(cases: Iterable[Case], *, actor: Any = None, reason: str) -> int:
    """Anonymise these cases (already anonymised ones are skipped); returns how many."""
    ids = [c.pk for c in cases]
    done = 0
    for start in range(0, len(ids), BATCH):
        done += _anonymise_batch(ids[start : start + BATCH], actor=actor, reason=reason)
    return done


@transaction.atomic
def _anonymise_batch(ids: list[int], *, actor: Any, reason: str) -> int:
    from minyi.duties.models import Appointment
    from minyi.online.models import ResidentRating

    now = timezone.now()
    batch = list(
        Case.objects.select_for_update()
        .filter(pk__in=ids, anonymised_at__isnull=True)
        .prefetch_related(
            "steps",
            "answers__copies",
            "answers__resident_rating",
            "evaluations",
            "consultations",
            "attachments",
        )
    )
    if not batch:
        return 0
    steps, answers, copies, evaluations, consultations, files = [], [], [], [], [], []
    ratings = []
    for case in batch:
        spellings = _spellings(case)
        for step in case.steps.all():
            step.text = _scrub(step.text, spellings)
            steps.append(step)
        for answer in case.answers.all():
            answer.text, answer.result = (
                _scrub(answer.text, spellings),
                _scrub(answer.result, spellings),
            )
            answers.append(answer)
            rating = getattr(answer, "resident_rating", None)
            if rating is not None:
                rating.comment = _scrub(rating.comment, spellings)
                ratings.append(rating)
            for copy in answer.copies.all():
                if copy.recipient == Recipient.REPORTER:
                    copy.address = ""
                    copies.append(copy)
        for evaluation in case.evaluations.all():
            evaluation.comment = _scrub(evaluation.comment, spellings)
            evaluations.append(evaluation)
        for meeting in case.consultations.all():
            meeting.attendees = _scrub(meeting.attendees, spellings)
            meeting.minutes = _scrub(meeting.minutes, spellings)
            meeting.outcome = _scrub(meeting.outcome, spellings)
            consultations.append(meeting)
        files += [a.file.name for a in case.attachments.all()]
        case.summary = _scrub(case.summary, spellings)
        case.content = _scrub(case.content, spellings)
        case.spot_answer = _scrub(case.spot_answer, spellings)
        case.reporter_name = ANONYMOUS
        # bulk_update skips pre_save: the masked name the lists print is set here.
        case.reporter_name_masked = mask_name(ANONYMOUS)
        case.reporter_gender = ""
        case.reporter_age = None
        case.reporter_employer = ""
        for field in (
            "reporter_phone",
            "reporter_phone_digest",
            "reporter_home_phone",
            "reporter_home_phone_digest",
            "reporter_employer_address",
            "reporter_home_address",
        ):
            setattr(case, field, "")
        case.anonymised_at = now
    Case.objects.bulk_update(
        batch,
        [
            "summary",
            "content",
            "spot_answer",
            "reporter_name",
            "reporter_name_masked",
            "reporter_gender",
            "reporter_age",
            "reporter_employer",
            "reporter_phone",
            "reporter_phone_digest",
            "reporter_home_phone",
            "reporter_home_phone_digest",
            "reporter_employer_address",
            "reporter_home_address",
            "anonymised_at",
        ],
    )
    CaseStep.objects.bulk_update(steps, ["text"])
    Answer.objects.bulk_update(answers, ["text", "result"])
    FeedbackCopy.objects.bulk_update(copies, ["address"])
    Evaluation.objects.bulk_update(evaluations, ["comment"])
    Consultation.objects.bulk_update(consultations, ["attendees", "minutes", "outcome"])
    ResidentRating.objects.bulk_update(ratings, ["comment"])
    # update() skips pre_save: the masked name the lists print is set here.
    Appointment.objects.filter(case__in=batch).update(
        name=ANONYMOUS, name_masked=mask_name(ANONYMOUS), phone="", phone_digest=""
    )
    CaseAttachment.objects.filter(case__in=batch).delete()
    # The files go once the rows are gone for good: a rollback keeps both.
    storage = CaseAttachment._meta.get_field("file").storage

    def delete_files() -> None:
        for name in files:
            assert name is not None  # an attachment's file is required, so it has a name
            storage.delete(name)

    transaction.on_commit(delete_files)
    CaseStep.objects.bulk_create(
        CaseStep(
            case=case,
            action=Action.NOTE,
            actor=actor,
            state_before=case.state,
            state_after=case.state,
            text=f"反映人个人信息已匿名化：{reason}",
        )
        for case in batch
    )
    return len(batch)
