"""The list, the appointment's page and the open API print the booker's phone masked
(138****5678). The phone has no plain masked copy (seven of eleven digits in the clear:
docs/decisions.md), so each of them decrypts the phones it prints, and nothing else:
not the booker's name (masked from its own column), not the phone of the representative
a row names. The full phone only in the recorded full view."""

from __future__ import annotations

import pytest
from django.urls import reverse

from minyi.people.models import Representative
from tests.api.conftest import api_for
from tests.core.helpers import client_for, opened_values, text_of
from tests.duties.test_appointments import CHEN, book, make_event

pytestmark = pytest.mark.django_db

PHONES = [f"+86138000011{n:02d}" for n in range(5)]


def test_the_list_the_page_and_the_api_decrypt_only_the_phones_they_mask(
    world, liaison, monkeypatch
):
    event = make_event(capacity=20)
    chen = Representative.objects.get(name=CHEN)
    assert chen.phone  # so that leaving it unread means something
    booked = [book(event, name=f"居民{n}", phone=phone, rep=chen) for n, phone in enumerate(PHONES)]
    client = client_for(liaison)
    api = api_for("liaison")
    opened = opened_values(monkeypatch)
    listed = text_of(client.get(reverse("duties:appointment_list")))
    page = text_of(client.get(reverse("duties:appointment_detail", args=[booked[0].pk])))
    items = api.get("/appointments").json()["items"]
    detail = api.get(f"/appointments/{booked[0].pk}").json()
    assert all(f"138****11{n:02d}" in listed for n in range(5))
    assert "138****1100" in page
    assert sorted(item["phone"] for item in items) == [f"138****11{n:02d}" for n in range(5)]
    assert detail["phone"] == "138****1100"
    # The bookers' phones, and only them: no name, not the representative's phone.
    assert opened and set(opened) <= set(PHONES)
    opened.clear()
    # The recorded full view decrypts the name too.
    full = text_of(client.post(reverse("duties:appointment_booker", args=[booked[0].pk])))
    assert "13800001100" in full and "居民0" in opened
