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

Sending is claim, send, record (minyi.core.outbox, shared with bookers' notices): the
network call happens outside any transaction, and a claim keeps two runs from sending
the same copy at once. A claim left by a crashed run is taken over after claim_bound();
the copy may then go out twice, and the idempotency key is what makes that safe at the
gateway.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.db.models import Q

from minyi.cases.models import DeliveryStatus, FeedbackCopy, Recipient
from minyi.core import sms
from minyi.core.outbox import Outbox
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
    per read), and at least five minutes."""
    timeouts = settings.MINYI_SMS_CONNECT_TIMEOUT + settings.MINYI_SMS_READ_TIMEOUT
    return timedelta(seconds=max(300.0, 10 * timeouts))


def _send(copy: FeedbackCopy) -> str:
    # Looked up at each send: a channel missing from CHANNELS is a KeyError, recorded
    # and tried again until MAX_ATTEMPTS, so the copy is never lost silently.
    CHANNELS[copy.channel].send(copy)
    return DeliveryStatus.SENT


OUTBOX = Outbox(
    model=FeedbackCopy,
    send=_send,
    address=lambda copy: copy.address,
    claim_bound=claim_bound,
    pending=DeliveryStatus.PENDING,
    failed=DeliveryStatus.FAILED,
    done_at="delivered_at",
    name="feedback-copy",
    label="答复抄送",
    logger=log,
    max_attempts=MAX_ATTEMPTS,
    related=("answer__case", "answer__handling_unit"),
)


def deliver_pending(limit: int = 500, *, where: Q | None = None) -> tuple[int, int]:
    """Try every pending copy once (or those `where` selects); returns (sent, failed for
    good). Claim, send, record as minyi.core.outbox does for every outbox."""
    return OUTBOX.deliver(limit, where=where)
