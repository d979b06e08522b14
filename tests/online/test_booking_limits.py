"""The public booking page (minyi/duties) is limited per client and per phone too."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from minyi.duties.models import Appointment
from tests.duties.test_appointments import booking, make_event

pytestmark = pytest.mark.django_db


def test_bookings_are_limited_per_phone_and_per_client(world: Any) -> None:
    event = make_event(capacity=50)
    url = reverse("duties:public_booking", args=[event.pk])
    for n in range(3):
        # Three topics: the same booking sent again would take no second place.
        response = Client(REMOTE_ADDR=f"10.4.0.{n}").post(url, booking(topic=f"第{n}件事"))
        assert response.status_code == 302
    response = Client(REMOTE_ADDR="10.4.0.9").post(url, booking(phone="13800005678"))
    assert response.status_code == 429 and "操作过于频繁" in response.content.decode()
    client = Client(REMOTE_ADDR="10.4.1.1")
    for n in range(10):
        client.post(url, booking(phone=f"1380001{n:04d}"))
    assert client.post(url, booking(phone="13800029999")).status_code == 429
    assert Appointment.objects.count() == 3 + 10
