"""Writes of the online studio: an online report, its withdrawal, one-time codes and
the reporter's rating. Each is one transaction; cases are registered and noted only
through minyi.cases.services, so numbering, attachments and the timeline are the
same as for a form registered at the studio."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from minyi.cases.models import Case, Channel, Occasion, Outcome, Satisfaction
from minyi.cases.services import case_note, case_register, case_withdraw
from minyi.cases.states import CaseState, TransitionNotAllowed
from minyi.core import sms
from minyi.core.crypto import phone_digest
from minyi.core.phones import is_mobile, mask_phone
from minyi.online import codes
from minyi.online.models import OneTimeCode, OnlineReport, ResidentRating
from minyi.online.numbers import read_number

log = logging.getLogger("minyi.online")

SERVICE_USERNAME = "online-studio"
WITHDRAW_MINUTES = 30
ONE_TIME_CODE_MINUTES = 10
ONE_TIME_CODE_TRIES = 5


def service_account() -> Any:
    """The account that registers online reports. Cases need a registering account; a
    resident has none. It cannot log in (inactive, unusable password)."""
    from minyi.people.models import User

    user, created = User.objects.get_or_create(
        username=SERVICE_USERNAME,
        defaults={"full_name": "网络工作室（居民网上提交）", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def online_report_submit(
    *,
    studio: Any,
    representative: Any,
    data: dict[str, Any],
    attachments: Sequence[Any] = (),
    submission_key: UUID | None = None,
) -> tuple[OnlineReport, str]:
    """Register the resident's opinion as a case with the online channel (annex note 3),
    sent on to the street department by the studio as usual. Returns the report and the
    progress code, which exists only in this return value and on the resident's screen."""
    case_data = {
        **data,
        "channel": Channel.ONLINE,
        "channel_note": "网络工作室（居民网上提交）",
        "occasion": Occasion.ONLINE_STUDIO,
        "received_on": timezone.localdate(),
        "outcome": Outcome.SENT_ON,
    }
    case = case_register(
        actor=service_account(),
        studio=studio,
        representative=representative,
        data=case_data,
        attachments=attachments,
        submission_key=submission_key,
    )
    code = codes.new_progress_code()
    report = OnlineReport.objects.create(
        case=case,
        progress_code_hash=codes.hash_progress_code(code),
        withdraw_until=timezone.now() + timedelta(minutes=WITHDRAW_MINUTES),
    )
    return report, code


def can_withdraw(report: OnlineReport) -> bool:
    return (
        report.sent_online
        and report.withdrawn_at is None
        and timezone.now() <= report.withdraw_until
        and report.case.state == CaseState.REGISTERED
    )


@transaction.atomic
def online_report_withdraw(*, report: OnlineReport) -> OnlineReport:
    """Within WITHDRAW_MINUTES of sending and while the studio has not sent it on, the
    resident may take it back: the case's own withdrawal step ends its life (已撤回), so
    it leaves the studio's queue and can no longer be sent on. It keeps its number
    (numbers are never reused)."""
    report = OnlineReport.objects.select_for_update().select_related("case").get(pk=report.pk)
    refusal = "已超过可撤回的时间，或工作室已开始办理，不能撤回。如需帮助请致电工作室。"
    if not can_withdraw(report):
        raise ValidationError(refusal)
    try:
        # The case's row is locked and its state checked again there: a liaison sending
        # it on at this moment is either before (refused here) or after (refused there).
        report.case = case_withdraw(
            case=report.case,
            actor=service_account(),
            text=f"反映人已在网上撤回本件（提交后 {WITHDRAW_MINUTES} 分钟内），不再办理。",
        )
    except TransitionNotAllowed as exc:
        raise ValidationError(refusal) from exc
    report.withdrawn_at = timezone.now()
    report.save(update_fields=["withdrawn_at"])
    return report


def find_report(number: str, progress_code: str) -> OnlineReport | None:
    """The report with this number and progress code, or None. A missing case and a
    wrong code take the same path: one query, one hash, one constant-time compare. The
    number as a resident types it (minyi.online.numbers): a text that fits two numbers
    finds neither, so one try still checks one case's code."""
    # The hash alone first: the case, its encrypted columns decrypted on load, is read
    # only for the right code, so a number that exists is not answered measurably slower
    # than one that does not (as one_time_code_send does).
    report = _only(
        OnlineReport.objects.filter(read_number(number).q("case__")).only("progress_code_hash")
    )
    stored = report.progress_code_hash if report else None
    ok = codes.matches(codes.hash_progress_code(progress_code), stored)
    if not ok or report is None:
        return None
    return OnlineReport.objects.select_related("case").get(pk=report.pk)


def _only(rows: QuerySet[Any]) -> Any:
    """The one row, or None when there is none or more than one (at most two are read)."""
    found = list(rows.order_by()[:2])  # which two does not matter, only how many
    return found[0] if len(found) == 1 else None


def follow_record(case: Case) -> OnlineReport:
    """The case's record for following it online, made the first time its reporter
    asks for a code when the case was not sent online (it cannot be withdrawn online:
    that is for a report the resident has just sent themselves)."""
    report, _ = OnlineReport.objects.select_related("case").get_or_create(
        case=case,
        defaults={
            "sent_online": False,
            "withdraw_until": case.created_at,
        },
    )
    return report


class CannotFollow(ValidationError):
    """The reporter cannot be given a way to follow this case online."""


@transaction.atomic
def progress_code_issue(*, case: Case, actor: Any) -> str:
    """A new progress code for the reporter of a case registered at the studio (or sent
    online and the code lost), to be handed to them on paper: the code the resident
    types with the number at /online/progress/find/. Any earlier code stops working.
    Only the code's hash is kept; the code exists in this return value and on the slip.
    The timeline records that a code was given (never the code)."""
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if case.anonymised_at is not None:
        raise CannotFollow("本件反映人的个人信息已按保存期限匿名化，不能再发放查询码。")
    report = follow_record(case)
    code = codes.new_progress_code()
    report.progress_code_hash = codes.hash_progress_code(code)
    report.save(update_fields=["progress_code_hash"])
    case_note(
        case=case,
        actor=actor,
        text="已向反映人发放网上查询码（凭编号和查询码在网上查看办理进度；此前发放的查询码作废）。",
    )
    return code


# --- one-time codes ----------------------------------------------------------------------


class CodeChannel(Protocol):
    def send(self, phone: str, text: str, key: str) -> None: ...


class ConsoleCodeChannel:
    """Development: the message goes to the log, as answer copies do (the phone masked;
    the code must show, a developer has no other way to read it)."""

    def send(self, phone: str, text: str, key: str) -> None:
        log.info("验证码短信 → %s：%s", mask_phone(phone), text)


class HttpCodeChannel:
    """The deployment's SMS gateway (minyi.core.sms), as for answer copies."""

    def send(self, phone: str, text: str, key: str) -> None:
        sms.send_text(phone=phone, text=text, key=key)


# Named like MINYI_REPORTER_CHANNEL's channels in minyi.cases.delivery; a deployment
# whose gateway cannot take the signed request of minyi.core.sms registers its own here.
CODE_CHANNELS: dict[str, CodeChannel] = {
    "console": ConsoleCodeChannel(),
    "http": HttpCodeChannel(),
}


def code_channel_name() -> str:
    name = settings.MINYI_REPORTER_CHANNEL
    return name if name in CODE_CHANNELS else "console"


def codes_available() -> bool:
    """Whether one-time codes can be sent: through a real channel, or to the log where
    that is allowed (development; MINYI_CONSOLE_CODES is off in production)."""
    return code_channel_name() != "console" or settings.MINYI_CONSOLE_CODES


def sms_follow_possible(case: Case) -> bool:
    """Whether the reporter of `case` can ask for a one-time code by text message: codes
    can be sent, and the case's phone is a mobile (a landline or no phone gets none, so
    the slip and the reporter's copy of the form must not send them to ask for one)."""
    return codes_available() and is_mobile(case.reporter_phone)


def one_time_code_send(*, number: str, phone_e164: str) -> OneTimeCode | None:
    """Send a code to the reporter's phone when the number and phone match a case,
    however it was registered (online, at a reception, by phone, through the API).
    Returns None otherwise. A row whose `sent` is False is a code the gateway did not
    take: kept with its error and logged for operators, and answered like no match (the
    caller must not tell the client; docs/decisions.md). It is not sent again: the
    resident asks again.

    The phone is compared with the case's phone as it is now (its lookup digest), so a
    number the studio corrected is the one that counts, and an anonymised case (no
    phone) matches nothing. Not one transaction: the send is a network call of up to
    the gateway's timeouts and must not hold the database meanwhile. The row is written
    first, so a send that succeeds is always backed by a code that can be checked."""
    found = _only(
        Case.objects.filter(read_number(number).q()).values("pk", "reporter_phone_digest")
    )
    stored = found["reporter_phone_digest"] if found else None
    # Compared even when there is no such case, so that both refusals take one path.
    same_phone = constant_time_compare(phone_digest(phone_e164), stored or codes.DUMMY_HASH)
    if found is None or not stored or not same_phone:
        return None
    # The whole case (its encrypted columns decrypted on load) is read only once the
    # phone matched: a wrong guess costs one narrow read, whoever sends it.
    report = follow_record(Case.objects.get(pk=found["pk"]))
    code = codes.new_one_time_code()
    name = code_channel_name()
    row = OneTimeCode.objects.create(
        report=report,
        code_hash=codes.hash_one_time_code(code, report.pk),
        expires_at=timezone.now() + timedelta(minutes=ONE_TIME_CODE_MINUTES),
        channel=name,
    )
    text = (
        f"【党代表工作室】您查询编号 {report.case.number} 办理进度的验证码是 {code}，"
        f"{ONE_TIME_CODE_MINUTES} 分钟内有效。如非本人操作请忽略。"
    )
    key = f"one-time-code-{row.pk}"
    try:
        CODE_CHANNELS[name].send(report.case.reporter_phone, text, key)
    except Exception as exc:  # any gateway fault is recorded; the resident just asks again
        # The error of a channel of our own names neither phone nor text (minyi.core.sms).
        row.last_error = f"{type(exc).__name__}: {exc}"[:300]
        log.warning("验证码短信未发出（%s，通道 %s）", key, name)
    else:
        row.sent = True
    row.save(update_fields=["sent", "last_error"])
    return row


@transaction.atomic
def one_time_code_check(*, number: str, code: str) -> OnlineReport | None:
    """The report when `code` is the newest unexpired, unused code for `number`.
    Each wrong try counts; after ONE_TIME_CODE_TRIES the code is spent."""
    # Codes are only sent for a number that named one case (one_time_code_send).
    row = (
        OneTimeCode.objects.select_for_update()
        .filter(
            read_number(number).q("report__case__"),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            failures__lt=ONE_TIME_CODE_TRIES,
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    report_pk = row.report_id if row else 0
    ok = codes.matches(codes.hash_one_time_code(code, report_pk), row.code_hash if row else None)
    if row is None:
        return None
    if not ok:
        row.failures += 1
        row.save(update_fields=["failures"])
        return None
    row.used_at = timezone.now()
    row.save(update_fields=["used_at"])
    return OnlineReport.objects.select_related("case").get(pk=row.report_id)


# --- the reporter's rating ------------------------------------------------------------------


def rateable_answer(case: Case) -> Any:
    """The answer the reporter may rate now: the latest, while the case waits for its
    rating and the reporter has not rated that answer yet."""
    if case.state != CaseState.ANSWERED:
        return None
    answer = case.answers.order_by("-pk").first()
    if answer is None or ResidentRating.objects.filter(answer=answer).exists():
        return None
    return answer


@transaction.atomic
def resident_rate(*, report: OnlineReport, rating: str, comment: str = "") -> ResidentRating:
    """The reporter rates the unit's answer online (their part of CM 12's joint rating);
    the rating goes on the case's timeline for the street department, who records the
    joint rating with the representative."""
    if rating not in Satisfaction.values:
        raise ValidationError({"rating": "请选择您对办理结果的评价。"})
    comment = (comment or "").strip()
    if len(comment) > 1000:
        raise ValidationError({"comment": "意见请不要超过 1000 字。"})
    case = Case.objects.select_for_update().get(pk=report.case_id)
    answer = rateable_answer(case)
    if answer is None:
        raise ValidationError("这件事现在不需要评价，或您已经评价过了。")
    rated = ResidentRating.objects.create(case=case, answer=answer, rating=rating, comment=comment)
    label = Satisfaction(rating).label
    case_note(
        case=case,
        actor=service_account(),
        text=f"反映人网上评价：{label}。" + (f"意见：{comment}" if comment else ""),
    )
    return rated
