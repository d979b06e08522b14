"""The phone of whoever books an appointment is printed masked (138****5678) on the
list, the appointment's page and the open API, from a plain column kept beside the
encrypted phone (`Appointment.phone_masked`): none of them decrypts a phone to mask it
(docs/decisions.md). The phone is decrypted only in the recorded full view."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from minyi.cases.retention import anonymise
from minyi.core import crypto
from minyi.core.crypto_migrations import fill_derived
from minyi.duties.models import Appointment
from minyi.people.models import Representative
from tests.api.conftest import api_for
from tests.cases.helpers import register
from tests.core.helpers import client_for, opened_values, text_of
from tests.duties.test_appointments import CHEN, book, make_event

pytestmark = pytest.mark.django_db

PHONES = [f"+86138000011{n:02d}" for n in range(5)]


def _raw(pk: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, phone_masked FROM duties_appointment WHERE id = %s", [pk])
        return cursor.fetchone()


def test_the_masked_phone_is_kept_beside_the_encrypted_one(world):
    appointment = book(make_event(), phone="138 0000 5678")
    stored, masked = _raw(appointment.pk)
    assert crypto.is_token(stored) and masked == "138****5678"
    appointment.phone = "+8675512345678"
    appointment.save()
    assert _raw(appointment.pk)[1] == "075****5678"
    [created] = Appointment.objects.bulk_create(
        [Appointment(event=appointment.event, name="甲", phone="+8613900001234", topic="事")]
    )
    assert _raw(created.pk)[1] == "139****1234"


def test_the_list_the_page_and_the_api_print_the_phone_without_decrypting_it(
    world, liaison, monkeypatch
):
    event = make_event(capacity=20)
    chen = Representative.objects.get(name=CHEN)
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
    # Nor the representative's, which none of them shows.
    assert opened == []
    # The recorded full view does decrypt it.
    full = text_of(client.post(reverse("duties:appointment_booker", args=[booked[0].pk])))
    assert "13800001100" in full and PHONES[0] in opened


def test_the_migration_fills_the_masked_phone_of_the_appointments_booked_before(world):
    event = make_event(capacity=20)
    booked = [book(event, name=f"居民{n}", phone=phone) for n, phone in enumerate(PHONES)]
    # The rows as they were before 0009: no masked phone.
    Appointment.objects.update(phone_masked="")
    migration = importlib.import_module("minyi.duties.migrations.0009_appointment_phone_masked")
    fill = migration.Migration.operations[-1]
    editor = SimpleNamespace(connection=connection)
    expected = [f"138****11{n:02d}" for n in range(5)]
    fill.code(apps, editor)
    assert [_raw(a.pk)[1] for a in booked] == expected
    # Two rows a batch: the five rows take three batches and none is left out; run
    # again, it derives the same values.
    Appointment.objects.update(phone_masked="")
    small = fill_derived("duties.Appointment", {"phone_masked": "phone"}, batch_size=2)
    for _ in range(2):
        small.code(apps, editor)
        assert [_raw(a.pk)[1] for a in booked] == expected
    # The phone itself is left encrypted as it was.
    assert all(crypto.is_token(_raw(a.pk)[0]) for a in booked)
    assert fill.reversible


def test_anonymising_clears_the_masked_phone(world, liaison):
    appointment = book(make_event(), phone="13800005678")
    case = register()
    Appointment.objects.filter(pk=appointment.pk).update(case=case)
    anonymise([case], actor=liaison, reason="测试")
    assert _raw(appointment.pk) == ("", "")
