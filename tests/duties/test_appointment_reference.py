"""The booking reference (预约号): the resident sees it on their confirmation and quotes it
on the phone; the liaison finds the booking by it; the representative's notifications
say what happened to the booking, with its reference."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from minyi.duties import appointments
from minyi.duties.appointments import appointment_cancel, appointment_confirm
from minyi.duties.models import Appointment, Notification
from minyi.duties.references import REFERENCE_LENGTH, as_reference, format_reference
from minyi.online.codes import ALPHABET
from minyi.people.models import Representative
from tests.core.helpers import client_for, text_of
from tests.duties.test_appointments import CHEN, STUDIO, book, booking, make_event

SHOWN = re.compile(r"预约号：\s*<span class=\"code\">([^<]+)</span>")


def test_the_confirmation_shows_a_reference_to_quote_on_the_phone(world):
    event = make_event()
    client = Client()
    response = client.post(reverse("duties:public_booking", args=[event.pk]), booking())
    html = text_of(client.get(response["Location"]))
    appointment = Appointment.objects.get()
    shown = SHOWN.search(html)
    assert shown, "the confirmation shows the booking's reference"
    assert shown.group(1) == format_reference(appointment.reference)
    assert "致电工作室时报上预约号" in html
    # Nothing that can be misread (0/O, 1/I/L) and nothing that counts bookings.
    assert len(appointment.reference) == 6
    assert set(appointment.reference) <= set(ALPHABET)
    assert not set(appointment.reference) & set("0O1IL")
    assert str(appointment.pk) not in appointment.reference


def test_references_are_not_sequential(world):
    event = make_event()
    references = [
        book(event, name=f"居民{n}", phone=f"138 0000 56{n:02d}").reference for n in range(5)
    ]
    assert len(set(references)) == 5
    # Drawn, not counted: one booking's reference says nothing of the next one's.
    assert all(a[:-1] != b[:-1] for a, b in pairwise(references))


def test_a_reference_drawn_twice_is_drawn_again(world, monkeypatch):
    event = make_event()
    first = book(event)
    draws = iter([first.reference, "K7M4QP"])
    monkeypatch.setattr(appointments, "new_reference", lambda: next(draws))
    second = book(event, name="李阿姨", phone="138 0000 5679")
    assert second.reference == "K7M4QP"


def test_a_bot_sees_a_reference_too_and_nothing_is_saved(world):
    event = make_event()
    client = Client()
    response = client.post(
        reverse("duties:public_booking", args=[event.pk]), booking(website="http://spam")
    )
    html = text_of(client.get(response["Location"]))
    assert not Appointment.objects.exists()
    shown = SHOWN.search(html)
    assert shown and as_reference(shown.group(1))


def test_the_liaison_finds_the_booking_by_its_reference(world, liaison, outsider):
    event = make_event()
    wanted = book(event)
    other = book(event, name="李阿姨", phone="138 0000 5679", topic="楼道照明损坏")
    url = reverse("duties:appointment_list")
    spoken = wanted.reference_display.lower().replace("-", " ")  # as typed after a call
    page = text_of(client_for(liaison).get(url, {"q": spoken}))
    assert reverse("duties:appointment_detail", args=[wanted.pk]) in page
    assert reverse("duties:appointment_detail", args=[other.pk]) not in page
    assert wanted.reference_display in page
    # The page of the booking shows it too.
    detail_url = reverse("duties:appointment_detail", args=[wanted.pk])
    detail = text_of(client_for(liaison).get(detail_url))
    assert wanted.reference_display in detail
    # A reference opens nothing outside one's scope.
    page = text_of(client_for(outsider).get(url, {"q": wanted.reference}))
    assert reverse("duties:appointment_detail", args=[wanted.pk]) not in page
    # The topic search still works.
    page = text_of(client_for(liaison).get(url, {"q": "楼道"}))
    assert reverse("duties:appointment_detail", args=[other.pk]) in page
    assert reverse("duties:appointment_detail", args=[wanted.pk]) not in page


def test_what_can_be_a_reference():
    assert as_reference(" k7m-4qp ") == "K7M4QP"
    assert as_reference("K7M 4QP") == "K7M4QP"
    assert as_reference("K7M4Q0") == ""  # 0 is never drawn
    assert as_reference("施工噪声") == ""
    assert format_reference("K7M4QP") == "K7M-4QP"


def test_the_representative_is_told_the_booking_is_confirmed_not_that_it_is_new(
    world, liaison, representative
):
    appointment = book(make_event(), rep=Representative.objects.get(name=CHEN))
    appointment_confirm(appointment=appointment, actor=liaison)
    note = Notification.objects.get()
    when = timezone.localtime(appointment.event.starts_at)
    assert note.text.startswith(f"预约已确认：{when.month}月{when.day}日 {when:%H:%M} {STUDIO}，")
    assert "新的预约" not in note.text
    assert f"预约号 {appointment.reference_display}" in note.text
    appointment_cancel(appointment=appointment, actor=liaison, reason="本人来电取消")
    cancelled = Notification.objects.exclude(pk=note.pk).get()
    told = f"预约已取消：{when.month}月{when.day}日 {when:%H:%M} {STUDIO}"
    assert cancelled.text.startswith(told)
    assert f"预约号 {appointment.reference_display}" in cancelled.text


def test_a_bulk_writer_gets_a_distinct_reference_for_each_number() -> None:
    from minyi.duties.references import SPACE, reference_for_number

    numbers = [*range(200_000), *range(SPACE - 1000, SPACE)]
    references = [reference_for_number(n) for n in numbers]
    assert len(set(references)) == len(numbers)
    assert all(len(r) == REFERENCE_LENGTH and set(r) <= set(ALPHABET) for r in references)
    # Numbers that follow each other do not give references that do.
    assert reference_for_number(1)[:3] != reference_for_number(2)[:3]


def test_the_load_generators_writer_refuses_a_row_without_its_own_reference() -> None:
    """Its defaults are drawn once, so a 预约号 left to them would repeat on every row."""
    from minyi.core.loadgen.bulk import BulkWriter

    writer = BulkWriter(Appointment)
    assert writer.drawn == {"reference"}
    with pytest.raises(ValueError, match="reference"):
        writer.add(id=1, event_id=1, name="x", phone="+8613800000000", topic="x")
    assert not writer.batch
