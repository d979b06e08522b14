"""Whoever booked is told by text message when the studio confirms or cancels the
booking, or cancels the event it was for (minyi.duties.booker_notices): written with the
step, sent by deliver_feedback, never naming the person, never twice."""

from __future__ import annotations

import json
import logging
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from minyi.duties import booker_notices
from minyi.duties.appointments import appointment_cancel, appointment_confirm
from minyi.duties.events import event_cancel
from minyi.duties.models import AppointmentState, BookerNotice, NoticeStatus
from tests.core.helpers import client_for, text_of
from tests.duties.test_appointments import STUDIO, book, make_event

pytestmark = pytest.mark.django_db


def test_a_confirmation_is_texted_to_the_booker_and_shown_on_the_page(
    world: Any, liaison: Any, settings: Any, sms_gateway: Any
) -> None:
    settings.MINYI_REPORTER_CHANNEL = "http"
    appointment = book(make_event())
    response = client_for(liaison).post(
        reverse("duties:appointment_confirm", args=[appointment.pk])
    )
    assert response.status_code == 302
    notice = BookerNotice.objects.get()
    assert notice.status == NoticeStatus.PENDING and not sms_gateway.requests
    assert STUDIO in notice.text and appointment.reference_display in notice.text
    assert "王大爷" not in notice.text  # the text names no person
    out = StringIO()
    call_command("deliver_feedback", stdout=out)
    assert "预约短信：已发出 1 条" in out.getvalue()
    [sent] = sms_gateway.requests
    body = json.loads(sent["body"])
    assert body["phone"] == "+8613800005678" and body["id"] == f"booker-notice-{notice.pk}"
    assert body["text"] == notice.text and "接待已确认" in body["text"]
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT and notice.sent_at is not None
    # Sent once: the next run has nothing to send.
    call_command("deliver_feedback", stdout=StringIO())
    assert len(sms_gateway.requests) == 1
    page = text_of(
        client_for(liaison).get(reverse("duties:appointment_detail", args=[appointment.pk]))
    )
    assert "短信通知" in page and "已发短信" in page


def test_a_cancellation_is_texted_with_its_reason(world: Any, liaison: Any, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="minyi.duties")
    appointment = book(make_event())
    appointment_cancel(appointment=appointment, actor=liaison, reason="代表临时出差")
    [notice] = BookerNotice.objects.all()
    assert "接待已取消" in notice.text and "理由：代表临时出差" in notice.text
    assert booker_notices.deliver_pending() == (1, 0)
    notice.refresh_from_db()
    # The development channel logs it, the phone masked.
    assert notice.status == NoticeStatus.LOGGED
    assert "138****5678" in caplog.text and "13800005678" not in caplog.text


def test_a_landline_is_not_texted_and_the_page_says_so(world: Any, liaison: Any) -> None:
    appointment = book(make_event(), phone="0755-25551234")
    appointment_confirm(appointment=appointment, actor=liaison)
    assert booker_notices.deliver_pending() == (0, 1)
    notice = BookerNotice.objects.get()
    assert notice.status == NoticeStatus.FAILED and "不是手机号码" in notice.last_error
    page = text_of(
        client_for(liaison).get(reverse("duties:appointment_detail", args=[appointment.pk]))
    )
    assert "未能发出" in page and "请工作室电话告知" in page


def test_a_gateway_refusal_is_tried_again_then_given_up(
    world: Any, liaison: Any, settings: Any, sms_gateway: Any
) -> None:
    settings.MINYI_REPORTER_CHANNEL = "http"
    sms_gateway.status = 503
    appointment_confirm(appointment=book(make_event()), actor=liaison)
    for _ in range(booker_notices.MAX_ATTEMPTS - 1):
        assert booker_notices.deliver_pending() == (0, 0)
    notice = BookerNotice.objects.get()
    assert notice.status == NoticeStatus.PENDING and notice.last_error
    assert booker_notices.deliver_pending() == (0, 1)
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.FAILED
    assert len(sms_gateway.requests) == booker_notices.MAX_ATTEMPTS


def test_cancelling_the_event_cancels_its_open_bookings_and_tells_each_booker(
    world: Any, liaison: Any, django_assert_max_num_queries: Any
) -> None:
    event = make_event(capacity=10)
    open_ones = [book(event, name=f"居民{n}", phone=f"1380000{n:04d}") for n in range(4)]
    appointment_confirm(appointment=open_ones[0], actor=liaison)
    gone = book(event, name="李阿姨", phone="13900001111")
    appointment_cancel(appointment=gone, actor=liaison, reason="本人来电取消")
    BookerNotice.objects.all().delete()
    with django_assert_max_num_queries(20):  # the same however many bookings
        event_cancel(actor=liaison, event=event, reason="暴雨红色预警，工作室闭门")
    for appointment in open_ones:
        appointment.refresh_from_db()
        assert appointment.state == AppointmentState.CANCELLED
        assert appointment.cancel_reason == "活动取消：暴雨红色预警，工作室闭门"
        assert appointment.handled_by == liaison
    gone.refresh_from_db()
    assert gone.cancel_reason == "本人来电取消"  # already cancelled: left as it was
    notices = list(BookerNotice.objects.order_by("appointment_id"))
    assert [n.appointment_id for n in notices] == [a.pk for a in open_ones]
    assert all("理由：暴雨红色预警，工作室闭门" in n.text for n in notices)


def test_the_booking_page_promises_a_text_only_where_one_can_be_sent(
    world: Any, settings: Any
) -> None:
    from django.test import Client

    from tests.duties.test_appointments import booking

    promise = "我们会给您留的手机号码发短信"
    for channel, promised in (("console", False), ("http", True)):
        settings.MINYI_REPORTER_CHANNEL = channel
        event = make_event()
        client = Client()
        url = reverse("duties:public_booking", args=[event.pk])
        assert client.post(url, booking()).status_code == 302
        done = text_of(client.get(reverse("duties:public_booking_done", args=[event.pk])))
        assert (promise in done) is promised
