"""Appointments (CM 8): the public booking page, capacity (also under concurrent
bookings), and the liaison's side: confirm (the representative is notified), cancel,
no-show, attended, link to a case; the notifications page."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from minyi.duties.appointments import (
    FULL,
    AppointmentNotAllowed,
    appointment_book,
    appointment_cancel,
    appointment_confirm,
    appointment_link_case,
    appointment_mark_attended,
    appointment_mark_no_show,
)
from minyi.duties.models import (
    Appointment,
    AppointmentState,
    Event,
    EventKind,
    EventState,
    Notification,
)
from minyi.people.models import Representative
from minyi.studios.models import Studio
from tests.core.helpers import client_for, text_of

STUDIO = "沙头角社区党代表工作室"
CHEN = "演示代表·陈明"
LIN = "演示代表·林秀英"


def make_event(
    *,
    studio: str = STUDIO,
    days: float = 8,
    capacity: int = 5,
    state: str = EventState.PUBLISHED,
    reps: tuple[str, ...] = (CHEN, LIN),
    hours: float = 3,
    **fields: Any,
) -> Event:
    """An event created through the ORM (the event services are another module's)."""
    start = timezone.now().replace(microsecond=0) + timedelta(days=days)
    event = Event.objects.create(
        studio=Studio.objects.get(name=studio),
        kind=fields.pop("kind", EventKind.RECEPTION),
        theme=fields.pop("theme", "听取居民意见"),
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        place=fields.pop("place", "工作室接待室"),
        capacity=capacity,
        state=state,
        published_at=timezone.now() if state != EventState.PLANNED else None,
        **fields,
    )
    event.representatives.set(Representative.objects.filter(name__in=reps))
    return event


def booking(**overrides: Any) -> dict[str, Any]:
    data = {
        "requester_kind": "person",
        "name": "王大爷",
        "phone": "138 0000 5678",
        "topic": "工地夜间施工噪声扰民",
        "preferred_representative": "",
        "website": "",
    }
    data.update(overrides)
    return data


def book(event: Event, **overrides: Any) -> Appointment:
    data = booking(**overrides)
    return appointment_book(
        event=event,
        requester_kind=data["requester_kind"],
        name=data["name"],
        phone=data["phone"],
        topic=data["topic"],
        preferred_representative=overrides.get("rep"),
    )


# --- the public page -------------------------------------------------------------------


def test_a_resident_books_a_slot_without_logging_in_and_sees_a_confirmation(world):
    event = make_event()
    chen = Representative.objects.get(name=CHEN)
    url = reverse("duties:public_booking", args=[event.pk])
    client = Client()
    page = client.get(url)
    assert page.status_code == 200
    html = text_of(page)
    assert "预约见党代表" in html and STUDIO in html and 'class="honeypot"' in html
    assert 'name="phone"' in html and "<label" in html
    response = client.post(url, booking(preferred_representative=chen.pk))
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.state == AppointmentState.REQUESTED
    assert appointment.phone == "+8613800005678"
    assert appointment.preferred_representative == chen
    done = client.get(response["Location"])
    html = text_of(done)
    assert done.status_code == 200
    assert "联络员将与您联系确认" in html
    assert STUDIO in html and "工作室接待室" in html and "王大爷" in html
    assert "13800005678" not in html  # the phone is not echoed
    # The studio's number to call about a change, a tap away on a phone.
    assert f'href="tel:{event.studio.phone}"' in html
    # A way back to the studio's page, where the resident came from.
    assert f'href="{reverse("online:studio", args=[event.studio_id])}"' in done.content.decode()
    # Someone else's browser does not see the confirmation.
    other = Client().get(reverse("duties:public_booking_done", args=[event.pk]))
    assert other.status_code == 302


def test_large_text_mode_persists_in_a_cookie_and_renders_on_the_server(world):
    event = make_event()
    client = Client()
    url = reverse("duties:public_booking", args=[event.pk])
    assert 'class="public large"' in text_of(client.get(url + "?text=large"))
    assert 'class="public large"' in text_of(client.get(url))
    assert 'class="public"' in text_of(client.get(url + "?text=normal"))


def test_the_honeypot_looks_like_success_but_saves_nothing(world):
    event = make_event()
    client = Client()
    response = client.post(
        reverse("duties:public_booking", args=[event.pk]), booking(website="http://spam")
    )
    assert response.status_code == 302
    assert not Appointment.objects.exists()
    assert "联络员将与您联系确认" in text_of(client.get(response["Location"]))


def test_a_bad_phone_is_refused_with_a_summary_linking_to_the_field(world):
    event = make_event()
    response = Client().post(
        reverse("duties:public_booking", args=[event.pk]), booking(phone="12345", name="")
    )
    assert response.status_code == 400
    html = text_of(response)
    assert 'id="error-summary"' in html
    assert 'href="#id_phone"' in html and "不是有效的电话号码" in html
    assert 'href="#id_name"' in html and "请填写姓名或单位名称" in html
    assert not Appointment.objects.exists()


def test_a_short_shenzhen_number_cannot_book(world):
    # The liaison phones the booker to confirm: 0755-1234 would reach nobody.
    event = make_event()
    response = Client().post(
        reverse("duties:public_booking", args=[event.pk]), booking(phone="0755-1234")
    )
    assert response.status_code == 400
    assert "“0755-1234”不是有效的电话号码" in text_of(response)
    assert not Appointment.objects.exists()


def test_a_representative_not_at_the_event_cannot_be_chosen(world):
    event = make_event(reps=(CHEN,))
    he = Representative.objects.get(name="演示代表·何建国")
    response = Client().post(
        reverse("duties:public_booking", args=[event.pk]), booking(preferred_representative=he.pk)
    )
    assert response.status_code == 400
    assert "请在本场活动的党代表中选择" in text_of(response)
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"days": -1},
        {"state": EventState.PLANNED},
        {"state": EventState.CANCELLED},
        {"state": EventState.HELD},
        {"capacity": 0},
    ],
    ids=["past", "unpublished", "cancelled", "held", "no-capacity"],
)
def test_only_published_future_events_with_places_can_be_booked(world, fields):
    event = make_event(**fields)
    client = Client()
    url = reverse("duties:public_booking", args=[event.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, booking()).status_code == 404
    assert not Appointment.objects.exists()


def test_a_full_event_says_so_in_chinese(world):
    event = make_event(capacity=1)
    book(event)
    url = reverse("duties:public_booking", args=[event.pk])
    page = Client().get(url)
    assert page.status_code == 200
    assert "预约名额已满" in text_of(page)
    response = Client().post(url, booking(name="李阿姨"))
    assert response.status_code == 400
    assert "预约名额已满" in text_of(response)
    assert Appointment.objects.count() == 1


def test_the_same_booking_sent_twice_takes_one_place(world):
    """A double click or a resent form: one place. The same phone booking for another
    person, or about another matter, takes a place of its own."""
    event = make_event(capacity=5)
    first = book(event)
    assert book(event, phone="+8613800005678").pk == first.pk
    assert book(event, name="王大妈").pk != first.pk
    assert book(event, topic="小区停车难").pk != first.pk
    assert Appointment.objects.filter(event=event).count() == 3


def test_cancelled_and_no_show_bookings_free_their_place(world, liaison):
    event = make_event(capacity=1)
    first = book(event)
    with pytest.raises(ValidationError) as excinfo:
        book(event, name="李阿姨")
    assert FULL in excinfo.value.messages
    appointment_cancel(appointment=first, actor=liaison, reason="本人来电取消")
    assert book(event, name="李阿姨").state == AppointmentState.REQUESTED


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_bookings_for_three_places_give_exactly_three(world: Any) -> None:
    """Threads with their own connections to the file database (SQLite or PostgreSQL)."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        "file:memorydb"
    ):
        pytest.skip("needs a file-based SQLite database")
    event = make_event(capacity=3)
    barrier = threading.Barrier(10)
    booked: list[int] = []
    full: list[str] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            booked.append(book(event, name=f"居民{n}").pk)
        except ValidationError as exc:
            full.extend(exc.messages)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(booked) == 3
    assert full == [FULL] * 7
    assert Appointment.objects.filter(event=event).holding_a_place().count() == 3


# --- the staff side --------------------------------------------------------------------


def test_confirming_notifies_the_preferred_representative(world, liaison, representative):
    # On a day of the month below 10, written as Chinese writes it (3日, not 03日).
    days = 8
    while (timezone.localtime() + timedelta(days=days)).day >= 10:
        days += 1
    event = make_event(days=days)
    when = timezone.localtime(event.starts_at)
    chen = Representative.objects.get(name=CHEN)
    appointment = book(event, rep=chen)
    response = client_for(liaison).post(
        reverse("duties:appointment_confirm", args=[appointment.pk])
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.CONFIRMED
    assert appointment.confirmed_by == liaison
    note = Notification.objects.get()
    assert note.recipient == representative
    assert note.text.startswith(f"预约已确认：{when.month}月{when.day}日 {when:%H:%M} {STUDIO}，")
    assert "工地夜间施工噪声扰民" in note.text
    # The representative sees the unread count in the navigation and reads it.
    client = client_for(representative)
    home = text_of(client.get(reverse("duties:notification_list")))
    assert "1 条未读" in home and "预约已确认" in home
    client.post(reverse("duties:notification_read"), {"pk": note.pk})
    note.refresh_from_db()
    assert note.read_at is not None
    assert "条未读" not in text_of(client.get(reverse("duties:notification_list")))


def test_without_a_preferred_representative_all_the_events_representatives_are_told(world, liaison):
    lin = Representative.objects.get(name=LIN)
    lin_user = type(liaison).objects.create(username="lin", role="representative")
    lin.user = lin_user
    lin.save()
    appointment = book(make_event())
    appointment_confirm(appointment=appointment, actor=liaison)
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {
        "rep",
        "lin",
    }


def test_a_representative_reads_but_cannot_confirm(world, representative):
    appointment = book(make_event(), rep=Representative.objects.get(name=CHEN))
    client = client_for(representative)
    assert (
        client.get(reverse("duties:appointment_detail", args=[appointment.pk])).status_code == 200
    )
    response = client.post(reverse("duties:appointment_confirm", args=[appointment.pk]))
    assert response.status_code == 404
    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.REQUESTED


def test_appointments_are_404_outside_scope(world, outsider):
    appointment = book(make_event())
    client = client_for(outsider)
    assert (
        client.get(reverse("duties:appointment_detail", args=[appointment.pk])).status_code == 404
    )
    assert (
        client.post(reverse("duties:appointment_confirm", args=[appointment.pk])).status_code == 404
    )
    assert appointment.name not in text_of(client.get(reverse("duties:appointment_list")))


def test_cancel_needs_a_reason_and_tells_the_representative_when_it_was_confirmed(
    world, liaison, representative
):
    appointment = book(make_event(), rep=Representative.objects.get(name=CHEN))
    appointment_confirm(appointment=appointment, actor=liaison)
    client = client_for(liaison)
    url = reverse("duties:appointment_cancel", args=[appointment.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400
    assert "请填写取消理由" in text_of(response)
    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.CONFIRMED
    assert client.post(url, {"reason": "本人来电取消"}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.CANCELLED
    assert Notification.objects.filter(
        recipient=representative, text__contains="本人来电取消"
    ).exists()
    # A cancelled appointment cannot be confirmed again: explained, not hidden.
    response = client.post(reverse("duties:appointment_confirm", args=[appointment.pk]))
    assert response.status_code == 400
    assert "不能确认" in text_of(response)


def test_attendance_is_recorded_only_once_the_event_has_started(world, liaison):
    future = book(make_event())
    with pytest.raises(AppointmentNotAllowed, match="活动尚未开始"):
        appointment_mark_attended(appointment=future, actor=liaison)
    started = make_event(days=0)
    Event.objects.filter(pk=started.pk).update(starts_at=timezone.now() - timedelta(hours=1))
    a = Appointment.objects.create(event=started, name="甲", phone="+8613800001111", topic="事")
    b = Appointment.objects.create(event=started, name="乙", phone="+8613800001112", topic="事")
    assert appointment_mark_attended(appointment=a, actor=liaison).state == "attended"
    assert appointment_mark_no_show(appointment=b, actor=liaison).state == "no_show"


def test_a_met_appointment_links_to_a_case_registered_that_day_at_the_studio(world, liaison):
    from tests.cases.helpers import register

    event = make_event(days=0)
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - timedelta(minutes=5))
    event.refresh_from_db()
    appointment = book(make_event())  # another event: not linkable
    appointment.event = event
    appointment.save()
    appointment_confirm(appointment=appointment, actor=liaison)
    # The event's own day, not today's: five minutes before 00:05 is yesterday.
    today_case = register(received_on=timezone.localtime(event.starts_at).date())
    old_case = register()  # 2026-03-04: another day
    client = client_for(liaison)
    detail = text_of(client.get(reverse("duties:appointment_detail", args=[appointment.pk])))
    assert today_case.number in detail and old_case.number not in detail
    assert f"/cases/new/?studio={event.studio_id}" in detail
    url = reverse("duties:appointment_link_case", args=[appointment.pk])
    response = client.post(url, {"case": old_case.pk})
    assert response.status_code == 400
    assert "只能关联本工作室在活动当天登记的社情民意" in text_of(response)
    assert client.post(url, {"case": today_case.pk}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.case == today_case
    with pytest.raises(ValidationError):
        appointment_link_case(appointment=appointment, actor=liaison, case=old_case)


def test_the_appointment_list_masks_phones_and_runs_a_constant_number_of_queries(world, liaison):
    event = make_event(capacity=50)
    book(event, rep=Representative.objects.get(name=CHEN))
    client = client_for(liaison)
    url = reverse("duties:appointment_list")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    count()  # the account and its unread count are read once, then kept (cache)
    few = count()
    for n in range(20):
        book(event, name=f"居民{n}", rep=Representative.objects.get(name=LIN))
    html = text_of(client.get(url))
    assert "138****5678" in html and "13800005678" not in html
    # The name too (a resident's is personal data), as reporters' names are masked.
    assert "王*" in html and "王大爷" not in html and "居*" in html and "居民1" not in html
    assert count() == few


@pytest.mark.django_db
def test_a_cancellation_keeps_its_reason_and_who_recorded_it(world, liaison):
    from datetime import timedelta

    from django.utils import timezone

    from minyi.duties.appointments import appointment_cancel
    from minyi.duties.models import Appointment, Event, EventKind, EventState
    from minyi.studios.models import Studio

    start = timezone.now() + timedelta(days=9)
    event = Event.objects.create(
        studio=Studio.objects.get(name="沙头角社区党代表工作室"),
        kind=EventKind.RECEPTION,
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        state=EventState.PUBLISHED,
        capacity=3,
    )
    appt = Appointment.objects.create(
        event=event, name="演示居民", phone="+8613800001111", topic="噪声"
    )
    appointment_cancel(appointment=appt, actor=liaison, reason="居民已另约时间")
    appt.refresh_from_db()
    assert appt.cancel_reason == "居民已另约时间"
    assert appt.handled_by == liaison and appt.handled_at is not None


def test_the_appointment_page_masks_the_booker_and_the_liaison_s_full_view_is_recorded(
    world, liaison
):
    """The name and phone masked as on the list; the liaison, who confirms the booking by
    telephone, sees them in full on request, and each view is recorded (and audited)."""
    from minyi.audit.models import Action, AuditEvent
    from minyi.duties.models import AppointmentView

    appointment = book(make_event())
    client = client_for(liaison)
    page = text_of(client.get(reverse("duties:appointment_detail", args=[appointment.pk])))
    assert "王*" in page and "138****5678" in page
    assert "王大爷" not in page and "13800005678" not in page
    assert "查看预约人完整信息" in page
    assert not AppointmentView.objects.exists()
    response = client.post(reverse("duties:appointment_booker", args=[appointment.pk]))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    full = text_of(response)
    assert "王大爷" in full and "13800005678" in full and "本次查看已记录" in full
    view = AppointmentView.objects.get()
    assert (view.appointment, view.viewer, view.purpose) == (
        appointment,
        liaison,
        "查看预约人完整信息",
    )
    assert AuditEvent.objects.filter(
        action=Action.VIEW_PERSONAL, object_id=str(appointment.pk), actor_id=liaison.pk
    ).exists()


def test_a_representative_sees_the_booker_masked_and_has_no_full_view(world, representative):
    from minyi.duties.models import AppointmentView

    appointment = book(make_event(), rep=Representative.objects.get(name=CHEN))
    client = client_for(representative)
    page = text_of(client.get(reverse("duties:appointment_detail", args=[appointment.pk])))
    assert "王*" in page and "王大爷" not in page and "查看预约人完整信息" not in page
    url = reverse("duties:appointment_booker", args=[appointment.pk])
    assert client.post(url).status_code == 404
    assert client.get(url).status_code == 405
    assert not AppointmentView.objects.exists()
