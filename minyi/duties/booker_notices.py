"""Text messages to whoever booked an appointment (CM 8): the studio confirmed it, or
cancelled it (or the event it was booked for). The booking page gives the resident a
reference and says the studio will be in touch; until now only the representatives
were told of a confirmation or a cancellation, and a resident learnt of a cancelled
meeting by a phone call, or at a closed door.

An outbox, as for answer copies (minyi.cases.delivery): the step writes a
`BookerNotice` in its own transaction, and `deliver_feedback` (cron) sends the pending
ones through the channel MINYI_REPORTER_CHANNEL names: claim, send, record, outside any
transaction (minyi.core.outbox, shared with answer copies). "console" writes the message
to the log with the phone masked (the text names no person); "http" sends it through
the SMS gateway (minyi.core.sms) with the notice's id as the idempotency key. A landline
cannot take a text message: such a notice fails at once and says so, and the appointment
page shows it, so the liaison phones.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from minyi.core import sms
from minyi.core.outbox import Outbox, Undeliverable
from minyi.core.phones import CN_MOBILE_E164, mask_phone
from minyi.duties.models import Appointment, BookerNotice, NoticeStatus
from minyi.duties.notify import month_day

log = logging.getLogger("minyi.duties")

MAX_ATTEMPTS = 5
# A claim older than this is a run that died mid-send: another run takes it over.
CLAIM_BOUND = timedelta(minutes=15)
SIGNATURE = "【党代表工作室】"


def texts_sent() -> bool:
    """Whether a booker's notices leave as text messages (a gateway is configured);
    the booking page promises one only then."""
    return settings.MINYI_REPORTER_CHANNEL == "http"


def _when_where(appt: Appointment) -> str:
    when = timezone.localtime(appt.event.starts_at)
    return f"{month_day(when)} {when:%H:%M} {appt.event.studio.name}"


def _studio_phone(appt: Appointment) -> str:
    phone = appt.event.studio.phone_display
    return f"，工作室电话 {phone}" if phone else ""


def confirmed_text(appt: Appointment) -> str:
    return (
        f"{SIGNATURE}您预约的{_when_where(appt)}接待已确认（预约号 {appt.reference_display}），"
        f"请按时前往。如需取消或改期请联系工作室{_studio_phone(appt)}。"
    )[:300]


def cancelled_text(appt: Appointment, reason: str) -> str:
    head = (
        f"{SIGNATURE}很抱歉，您预约的{_when_where(appt)}接待已取消"
        f"（预约号 {appt.reference_display}）。"
    )
    tail = f"如需另约请联系工作室{_studio_phone(appt)}。"
    room = 300 - len(head) - len(tail) - len("理由：。")
    cut = reason if len(reason) <= room else reason[: room - 1] + "…"
    return f"{head}理由：{cut}。{tail}"


def notice_confirmed(appt: Appointment) -> BookerNotice:
    """Called in the confirmation's transaction."""
    return BookerNotice.objects.create(appointment=appt, text=confirmed_text(appt))


def notice_cancelled(appt: Appointment, reason: str) -> BookerNotice:
    """Called in the cancellation's transaction."""
    return BookerNotice.objects.create(appointment=appt, text=cancelled_text(appt, reason))


def _send(notice: BookerNotice) -> str:
    """Send one claimed notice; returns the status it ends in. A booking without a
    mobile can never be texted: it fails at once, so the page tells the liaison to phone.
    The gateway's refusal (sms.SmsError) names neither phone nor text and is tried again."""
    phone = notice.appointment.phone
    if not phone:
        raise Undeliverable("预约人的信息已匿名化，没有可发送的号码。")
    if not CN_MOBILE_E164.fullmatch(phone):
        raise Undeliverable("预约人留的不是手机号码，不能发短信；请工作室电话告知。")
    if texts_sent():
        sms.send_text(phone=phone, text=notice.text, key=f"booker-notice-{notice.pk}")
        return NoticeStatus.SENT
    log.info("预约短信 → %s：%s", mask_phone(phone), notice.text)
    return NoticeStatus.LOGGED


OUTBOX = Outbox(
    model=BookerNotice,
    send=_send,
    address=lambda notice: notice.appointment.phone,
    claim_bound=lambda: CLAIM_BOUND,
    pending=NoticeStatus.PENDING,
    failed=NoticeStatus.FAILED,
    done_at="sent_at",
    name="booker-notice",
    label="预约短信",
    logger=log,
    max_attempts=MAX_ATTEMPTS,
    related=("appointment",),
    plain_errors=(sms.SmsError,),
)


def deliver_pending(limit: int = 500) -> tuple[int, int]:
    """Send pending notices, oldest first; returns (delivered, failed for good). Claim,
    send, record as minyi.core.outbox does for every outbox: two overlapping runs never
    send the same notice, and the gateway's idempotency key covers a run that dies after
    sending."""
    return OUTBOX.deliver(limit)
