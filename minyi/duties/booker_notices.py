"""Text messages to whoever booked an appointment (CM 8): the studio confirmed it, or
cancelled it (or the event it was booked for). The booking page gives the resident a
reference and says the studio will be in touch; until now only the representatives
were told of a confirmation or a cancellation, and a resident learnt of a cancelled
meeting by a phone call, or at a closed door.

An outbox, as for answer copies (minyi.cases.delivery): the step writes a
`BookerNotice` in its own transaction, and `deliver_feedback` (cron) sends the pending
ones through the channel MINYI_REPORTER_CHANNEL names, claim, send, record, outside any
transaction. "console" writes the message to the log with the phone masked (the text
names no person); "http" sends it through the SMS gateway (minyi.core.sms) with the
notice's id as the idempotency key. A landline cannot take a text message: such a notice
fails at once and says so, and the appointment page shows it, so the liaison phones.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from minyi.core import sms
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


def _send(notice: BookerNotice, phone: str) -> str:
    """Send one notice; returns the status it ends in. Raises sms.SmsError on a refusal
    that may pass (the gateway down), which is tried again."""
    if texts_sent():
        sms.send_text(phone=phone, text=notice.text, key=f"booker-notice-{notice.pk}")
        return NoticeStatus.SENT
    log.info("预约短信 → %s：%s", mask_phone(phone), notice.text)
    return NoticeStatus.LOGGED


def deliver_pending(limit: int = 500) -> tuple[int, int]:
    """Send pending notices, oldest first; returns (delivered, failed for good). Each is
    claimed by one UPDATE that only one run can win, so two overlapping runs never send
    the same notice; the gateway's idempotency key covers a run that dies after sending."""
    now = timezone.now()
    BookerNotice.objects.filter(
        status=NoticeStatus.SENDING, claimed_at__lt=now - CLAIM_BOUND
    ).update(status=NoticeStatus.PENDING)
    pending = list(
        BookerNotice.objects.filter(status=NoticeStatus.PENDING)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    delivered = failed = 0
    # One network call per notice: an outbox is sent row by row (not a page's loop).
    for pk in pending:
        won = BookerNotice.objects.filter(pk=pk, status=NoticeStatus.PENDING).update(
            status=NoticeStatus.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
        )
        if not won:
            continue
        notice = BookerNotice.objects.select_related("appointment").get(pk=pk)
        phone = notice.appointment.phone
        status: str = NoticeStatus.FAILED
        error = ""
        if not phone:
            error = "预约人的信息已匿名化，没有可发送的号码。"
        elif not CN_MOBILE_E164.fullmatch(phone):
            error = "预约人留的不是手机号码，不能发短信；请工作室电话告知。"
        else:
            try:
                status = _send(notice, phone)
            except sms.SmsError as exc:
                # The gateway's refusal names neither phone nor text (minyi.core.sms).
                error = str(exc)[:300]
                if notice.attempts < MAX_ATTEMPTS:
                    status = NoticeStatus.PENDING
        notice.status, notice.last_error = status, error
        notice.sent_at = (
            timezone.now() if status in {NoticeStatus.SENT, NoticeStatus.LOGGED} else None
        )
        notice.save(update_fields=["status", "last_error", "sent_at"])
        if status == NoticeStatus.FAILED:
            failed += 1
            log.warning("预约短信未能发出（booker-notice-%s）", pk)
        elif status != NoticeStatus.PENDING:
            delivered += 1
    return delivered, failed
