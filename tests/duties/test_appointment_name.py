"""The name of whoever books an appointment is personal data, kept as a reporter's name
is: encrypted at rest, its masked form in a plain column beside it for the lists, never
searched (docs/decisions.md). The full name is decrypted only for the recorded full view
(page and API), the resident's own confirmation and a data-subject export."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.exceptions import FieldError
from django.db import connection
from django.test import Client
from django.urls import reverse

from minyi.cases.retention import anonymise
from minyi.core import crypto
from minyi.duties.models import Appointment, AppointmentView
from minyi.people.models import Representative
from tests.api.conftest import api_for
from tests.cases.helpers import register
from tests.core.helpers import client_for, opened_values, text_of
from tests.duties.test_appointments import CHEN, book, booking, make_event

pytestmark = pytest.mark.django_db

NAME = "欧阳晓明"
MASKED = "欧***"


def _raw(pk: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, name_masked FROM duties_appointment WHERE id = %s", [pk])
        return cursor.fetchone()


# --- storage ---------------------------------------------------------------------------


def test_the_name_is_stored_encrypted_with_its_masked_form_beside_it(world):
    appointment = book(make_event(), name=NAME)
    stored, masked = _raw(appointment.pk)
    assert crypto.is_token(stored) and NAME not in stored and "晓明" not in stored
    assert masked == MASKED
    assert Appointment.objects.get(pk=appointment.pk).name == NAME
    # Saving again derives the masked form from the new name.
    appointment.name = "沙头角演示电子厂"
    appointment.save()
    assert _raw(appointment.pk)[1] == "沙*******"


def test_bulk_create_encrypts_and_masks_too(world):
    event = make_event()
    [created] = Appointment.objects.bulk_create(
        [Appointment(event=event, name=NAME, name_masked="王*", phone="13800001111", topic="事")]
    )
    stored, masked = _raw(created.pk)
    assert crypto.is_token(stored) and masked == MASKED


def test_the_encrypted_name_cannot_be_filtered_by_value(world):
    with pytest.raises(FieldError):
        list(Appointment.objects.filter(name__icontains="晓明"))
    with pytest.raises(FieldError):
        list(Appointment.objects.filter(name=NAME))


# --- the migration ---------------------------------------------------------------------


def test_the_migration_encrypts_the_names_booked_before(world):
    appointment = book(make_event(), name=NAME)
    # The row as it was before 0008: the name plain, no masked name.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE duties_appointment SET name = %s, name_masked = '' WHERE id = %s",
            [NAME, appointment.pk],
        )
    assert _raw(appointment.pk) == (NAME, "")
    migration = importlib.import_module("minyi.duties.migrations.0008_encrypt_appointment_name")
    fill = migration.Migration.operations[-1]
    editor = SimpleNamespace(connection=connection)
    for _ in range(2):  # idempotent: a token is left as it is
        fill.code(apps, editor)
        stored, masked = _raw(appointment.pk)
        assert crypto.is_token(stored) and NAME not in stored and masked == MASKED
        assert Appointment.objects.get(pk=appointment.pk).name == NAME
    # Reversible: the reverse decrypts before the column turns plain again.
    fill.reverse_code(apps, editor)
    assert _raw(appointment.pk)[0] == NAME


# --- the list's search -----------------------------------------------------------------


def _listed(client: Client, q: str) -> str:
    response = client.get(reverse("duties:appointment_list"), {"q": q})
    assert response.status_code == 200
    return text_of(response)


def test_the_list_searches_the_topic_and_never_the_name(world, liaison):
    event = make_event()
    book(event, name=NAME, topic="工地夜间施工噪声扰民")
    book(event, name="王大爷", topic="小区停车难", phone="13800001111")
    client = client_for(liaison)
    found = _listed(client, "噪声")
    assert MASKED in found and "王*" not in found
    # Part of the name, or all of it, finds nothing: nobody probes who booked.
    for q in ("欧阳", "晓明", NAME, "王大爷"):
        page = _listed(client, q)
        assert "没有符合条件的预约" in page and MASKED not in page and "王*" not in page
    # The search box says what it searches.
    page = client.get(reverse("duties:appointment_list")).content.decode()
    assert "反映事项中的字词" in page and "不能按预约人姓名或电话查找" in page


# --- where the name is shown -----------------------------------------------------------


def test_the_list_prints_the_masked_name_without_decrypting_it(world, liaison, monkeypatch):
    event = make_event(capacity=20)
    for n in range(5):
        book(event, name=f"{NAME}{n}", phone=f"1380000111{n}")
    client = client_for(liaison)
    opened = opened_values(monkeypatch)
    page = text_of(client.get(reverse("duties:appointment_list")))
    assert page.count("欧****") == 5 and NAME not in page
    assert not [value for value in opened if NAME in value]


def test_the_page_shows_the_name_masked_and_in_full_only_in_the_recorded_view(
    world, liaison, monkeypatch
):
    appointment = book(make_event(), name=NAME)
    client = client_for(liaison)
    opened = opened_values(monkeypatch)
    page = text_of(client.get(reverse("duties:appointment_detail", args=[appointment.pk])))
    assert MASKED in page and NAME not in page
    assert NAME not in opened and not AppointmentView.objects.exists()
    full = text_of(client.post(reverse("duties:appointment_booker", args=[appointment.pk])))
    assert NAME in full and NAME in opened
    assert AppointmentView.objects.get().viewer == liaison


def test_the_api_answers_masked_and_the_recorded_reveal_in_full(world, liaison, monkeypatch):
    appointment = book(make_event(), name=NAME)
    api = api_for("liaison")
    opened = opened_values(monkeypatch)
    [listed] = api.get("/appointments").json()["items"]
    detail = api.get(f"/appointments/{appointment.pk}").json()
    assert listed["name"] == detail["name"] == MASKED
    assert NAME not in opened and not AppointmentView.objects.exists()
    revealed = api.post(f"/appointments/{appointment.pk}/reveal").json()
    assert revealed["name"] == NAME
    assert AppointmentView.objects.get().purpose == "开放接口查看预约人完整信息"


def test_a_representative_sees_only_the_masked_name(world, representative):
    appointment = book(make_event(), name=NAME, rep=Representative.objects.get(name=CHEN))
    client = client_for(representative)
    listed = text_of(client.get(reverse("duties:appointment_list")))
    page = text_of(client.get(reverse("duties:appointment_detail", args=[appointment.pk])))
    assert MASKED in listed and MASKED in page and NAME not in listed + page


def test_the_resident_who_booked_sees_their_own_name_in_full(world):
    event = make_event()
    client = Client()
    url = reverse("duties:public_booking", args=[event.pk])
    response = client.post(url, booking(name=NAME), follow=True)
    assert NAME in text_of(response)
    assert _raw(Appointment.objects.get(event=event).pk)[1] == MASKED


def test_anonymising_the_case_masks_the_linked_appointment_s_name(world, liaison):
    appointment = book(make_event(), name=NAME)
    case = register()
    Appointment.objects.filter(pk=appointment.pk).update(case=case)
    anonymise([case], actor=liaison, reason="测试")
    appointment = Appointment.objects.get(pk=appointment.pk)
    assert (appointment.name, appointment.name_masked, appointment.phone) == ("已匿名", "已**", "")
    assert NAME not in repr(_raw(appointment.pk))
