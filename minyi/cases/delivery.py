"""Delivering answer copies (CM 11: "whoever raised it is answered").

Copies are outbox rows (`FeedbackCopy`) written with the answer; `deliver_feedback`
sends them through a channel. Copies for the department, the representative and the
studio are read in the system and count as delivered at once. The reporter's copy goes
through the configured channel:

- console: writes the message to the log (development default);
- email: Django's mail backend (EMAIL_* settings);
- http: a text message through the deployment's SMS gateway (minyi.core.sms), with the
  copy's id as the idempotency key, so a copy sent again after a lost answer is sent once.

A printed letter handed over by the studio, or a gateway that cannot take our signed
request, is deployment-specific: add a class with `send(copy) -> None` and register it in
CHANNELS. A copy whose channel is not registered fails with a recorded error after
MAX_ATTEMPTS, it is never lost.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from minyi.cases.models import DeliveryStatus, FeedbackCopy, Recipient
from minyi.core import sms
from minyi.core.phones import mask_phone

log = logging.getLogger("minyi.delivery")
MAX_ATTEMPTS = 5


class Channel(Protocol):
    def send(self, copy: FeedbackCopy) -> None: ...


def message_for(copy: FeedbackCopy) -> str:
    case = copy.answer.case
    return (
        f"您反映的问题（编号 {case.number}：{case.summary}）已由{copy.answer.handling_unit}"
        f"书面答复：{copy.answer.text}"
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


class EmailChannel:
    def send(self, copy: FeedbackCopy) -> None:
        if "@" not in copy.address:
            raise ValueError("没有电子邮箱地址")
        send_mail("您反映问题的办理答复", message_for(copy), None, [copy.address])


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
    "email": EmailChannel(),
    "http": HttpChannel(),
    "internal": InternalChannel(),
}


def deliver_pending(limit: int = 500) -> tuple[int, int]:
    """Try every pending copy once; returns (sent, failed for good)."""
    sent = failed = 0
    pending = list(
        FeedbackCopy.objects.filter(status=DeliveryStatus.PENDING).select_related(
            "answer__case", "answer__handling_unit"
        )[:limit]
    )
    for copy in pending:
        with transaction.atomic():
            copy.attempts += 1
            try:
                CHANNELS[copy.channel].send(copy)
            except Exception as exc:  # any channel fault is recorded, never raised
                copy.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                if copy.attempts >= MAX_ATTEMPTS:
                    copy.status = DeliveryStatus.FAILED
                    failed += 1
            else:
                copy.status, copy.delivered_at = DeliveryStatus.SENT, timezone.now()
                sent += 1
            copy.save(update_fields=["attempts", "last_error", "status", "delivered_at"])
    return sent, failed
