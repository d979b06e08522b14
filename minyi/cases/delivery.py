"""Delivering answer copies (CM 11: "whoever raised it is answered").

Copies are outbox rows (`FeedbackCopy`) written with the answer; `deliver_feedback`
sends them through a channel. Copies for the department, the representative and the
studio are read in the system and count as delivered at once. The reporter's copy goes
through the configured channel:

- console: writes the message to the log (development default);
- http: a text message through the deployment's SMS gateway (minyi.core.sms), with the
  copy's id as the idempotency key, so a copy sent again after a lost answer is sent once.

There is no e-mail channel: the registration form (2010 measures, annex) records a
reporter's phones and addresses, never an e-mail address, so a reporter's copy could
never be sent by mail. A printed letter handed over by the studio, or a gateway that
cannot take our signed request, is deployment-specific: add a class with
`send(copy) -> None` and register it in CHANNELS (minyi.cases.apps refuses to start with
MINYI_REPORTER_CHANNEL naming none). A copy whose channel is not registered fails with a
recorded error after MAX_ATTEMPTS, it is never lost.

Sending is claim, send, record (deliver_pending): the network call happens outside any
transaction, and a claim keeps two runs from sending the same copy at once. A claim left
by a crashed run is taken over after claim_bound(); the copy may then go out twice, and
the idempotency key is what makes that safe at the gateway.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from minyi.cases.models import DeliveryStatus, FeedbackCopy, Recipient
from minyi.core import sms
from minyi.core.phones import mask_phone

log = logging.getLogger("minyi.delivery")
MAX_ATTEMPTS = 5


class Channel(Protocol):
    def send(self, copy: FeedbackCopy) -> None: ...


# A written answer can run to pages; a text message is billed per 67 characters and
# gateways refuse long ones. The reporter reads the whole answer in the online studio
# (查询办理进度, by the case number and a code sent to the same phone), so the message
# carries its beginning and says where the rest is.
SMS_ANSWER_CHARS = 200
SMS_SUMMARY_CHARS = 40
SMS_MORE = "…（全文请在网上党代表工作室“查询办理进度”中查看）"


def _cut(text: str, limit: int, more: str = "…") -> str:
    return text if len(text) <= limit else text[:limit] + more


def message_for(copy: FeedbackCopy) -> str:
    case, answer = copy.answer.case, copy.answer
    summary = _cut(case.summary, SMS_SUMMARY_CHARS)
    text = _cut(answer.text, SMS_ANSWER_CHARS, SMS_MORE)
    return (
        f"您反映的问题（编号 {case.number}：{summary}）已由{answer.handling_unit}书面答复：{text}"
    )


def logged_address(copy: FeedbackCopy) -> str:
    """The address as a log line may show it: a reporter's phone or address masked, since
    logs are read by operators who may not see the reporter (docs/personal-data.md)."""
    if copy.recipient != Recipient.REPORTER:
        return copy.address
    if copy.address.startswith("+"):
        return mask_phone(copy.address)
    return copy.address[:3] + "****" if copy.address else ""


class ConsoleChannel:
    def send(self, copy: FeedbackCopy) -> None:
        who, where = copy.get_recipient_display(), logged_address(copy)
        log.info("反馈 → %s %s：%s", who, where, message_for(copy))


class HttpChannel:
    def send(self, copy: FeedbackCopy) -> None:
        # The reporter's address is a phone in E.164 or a postal address (services.py);
        # a postal address cannot take a text message.
        if not copy.address.startswith("+"):
            raise sms.SmsError("反映人没有留手机号码，不能发短信；请由工作室另行送达")
        sms.send_text(phone=copy.address, text=message_for(copy), key=f"feedback-copy-{copy.pk}")


class InternalChannel:
    def send(self, copy: FeedbackCopy) -> None:
        """Shown on the case in the system; nothing leaves it."""


CHANNELS: dict[str, Channel] = {
    "console": ConsoleChannel(),
    "http": HttpChannel(),
    "internal": InternalChannel(),
}


def claim_bound() -> timedelta:
    """How old a claim must be before another run may take the copy over: the run that
    claimed it has crashed. Several times the gateway's timeouts (a read timeout counts
    per read, and the mail backend has its own), and at least five minutes."""
    timeouts = settings.MINYI_SMS_CONNECT_TIMEOUT + settings.MINYI_SMS_READ_TIMEOUT
    return timedelta(seconds=max(300.0, 10 * timeouts))


def _claim_next(after_pk: int, where: Q | None = None) -> tuple[FeedbackCopy | None, bool]:
    """Take the next pending copy after `after_pk` that no run is sending, in one short
    transaction: lock it (skipping rows another run has locked this instant), mark it
    claimed and count the attempt, commit. Returns (copy, gave up): a copy whose last
    attempt was cut short by a crash and has no attempt left is marked failed instead."""
    now = timezone.now()
    due = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - claim_bound())
    with transaction.atomic():
        copy = (
            FeedbackCopy.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("answer__case", "answer__handling_unit")
            .filter(due, where or Q(), status=DeliveryStatus.PENDING, pk__gt=after_pk)
            .order_by("pk")
            .first()
        )
        if copy is None:
            return None, False
        if copy.attempts >= MAX_ATTEMPTS:  # only an abandoned claim gets here
            copy.status, copy.claimed_at = DeliveryStatus.FAILED, None
            copy.last_error = f"第 {copy.attempts} 次发送中断，没有结果；已达最多尝试次数"
            copy.save(update_fields=["status", "claimed_at", "last_error"])
            return copy, True
        copy.attempts += 1
        copy.claimed_at = now
        copy.save(update_fields=["attempts", "claimed_at"])
    return copy, False


# What a channel's exception may quote of the recipient: an SMTP server names the mailbox
# it refused, a gateway may echo the number.
_EMAIL = re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")
_NUMBER = re.compile(r"\+?\d[\d \-]{5,}\d")


def scrubbed(error: str, address: str) -> str:
    """A channel's error as `last_error` may keep it (shown to staff, kept with the copy):
    without the recipient's address, mailboxes or long numbers. The SMS channel's errors
    are clean already; an SMTP or third-party channel's need not be."""
    if address:
        error = error.replace(address, "***")
    error = _EMAIL.sub(lambda m: "***@" + m.group(1), error)
    return _NUMBER.sub("***", error)


def _record(copy: FeedbackCopy, error: str) -> bool:
    """Write the outcome of the attempt `copy` claimed; one UPDATE, so its own short
    transaction. It applies only while the claim is still ours (same attempt number):
    if a run took over a claim it thought abandoned, that run records. Returns whether
    it was written."""
    changes: dict[str, object] = {"claimed_at": None}
    if not error:
        changes.update(status=DeliveryStatus.SENT, delivered_at=timezone.now())
    else:
        changes["last_error"] = error
        if copy.attempts >= MAX_ATTEMPTS:
            changes["status"] = DeliveryStatus.FAILED
    ours = FeedbackCopy.objects.filter(
        pk=copy.pk, status=DeliveryStatus.PENDING, attempts=copy.attempts
    )
    if ours.update(**changes):
        return True
    log.warning("答复抄送 %s 的发送认领已被接管，结果由接管的一方记录", copy.pk)
    return False


def deliver_pending(limit: int = 500, *, where: Q | None = None) -> tuple[int, int]:
    """Try every pending copy once (or those `where` selects); returns (sent, failed for
    good).

    No network call happens inside a transaction: a slow gateway would otherwise hold a
    transaction and the copy's row lock open for as long as it takes, per copy. Each
    copy is claimed (committed), sent, then recorded. Copies are claimed one at a time,
    in order of id, so that a claim is never older than the send it covers; a run walks
    the outbox once, so a copy that failed waits for the next run."""
    sent = failed = 0
    after_pk = 0
    for _ in range(limit):
        copy, gave_up = _claim_next(after_pk, where)
        if copy is None:
            break
        after_pk = copy.pk
        if gave_up:
            failed += 1
            continue
        try:
            CHANNELS[copy.channel].send(copy)
        except Exception as exc:  # any channel fault is recorded, never raised
            error = scrubbed(f"{type(exc).__name__}: {exc}", copy.address)[:1000]
        else:
            error = ""
        if _record(copy, error):
            if not error:
                sent += 1
            elif copy.attempts >= MAX_ATTEMPTS:
                failed += 1
    return sent, failed
