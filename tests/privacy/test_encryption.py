"""Phones, addresses, ID-like numbers and a reporter's name and employer are encrypted at
rest (issue 7, item 3): a raw SQL read and a backup file show no plaintext; lookups go
through keyed digests; lists read the reporter's masked name from a column of its own."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from minyi.cases import services
from minyi.cases.models import Case, PersonalDataView
from minyi.core import crypto
from minyi.core.crypto import phone_digest
from minyi.core.names import mask_name
from minyi.duties.models import HouseholdVisit
from minyi.org.models import HandlingUnit
from minyi.people.models import Liaison, Representative, User
from tests.api.conftest import api_for
from tests.cases.helpers import register
from tests.core.helpers import client_for, opened_values

ROOT = Path(__file__).resolve().parents[2]
PHONE = "+8613800005678"
PHONE_DIGITS = "13800005678"
HOME = "沙头角演示小区 3 栋 501"
EMPLOYER_ADDRESS = "盐田区海山路 8 号"
HOME_PHONE = "+8675525550123"
NAME = "欧阳晓明"
EMPLOYER = "沙头角演示电子厂"
PLAINTEXTS = [PHONE_DIGITS, HOME, EMPLOYER_ADDRESS, "25550123", NAME, "晓明", EMPLOYER]
REPORTER: dict[str, Any] = {
    "reporter_name": NAME,
    "reporter_employer": EMPLOYER,
    "reporter_phone": PHONE,
    "reporter_home_address": HOME,
    "reporter_employer_address": EMPLOYER_ADDRESS,
    "reporter_home_phone": HOME_PHONE,
}


@pytest.fixture
def case(liaison) -> Case:
    return register(**REPORTER)


def _raw_rows(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return repr(cursor.fetchall())


def test_a_raw_sql_read_shows_no_plaintext(case):
    raw = _raw_rows("cases_case")
    assert case.number in raw  # the read does see the row
    for plain in PLAINTEXTS:
        assert plain not in raw
    # …and the model reads the values back.
    case = Case.objects.get(pk=case.pk)
    assert (case.reporter_phone, case.reporter_home_address) == (PHONE, HOME)
    assert case.reporter_home_phone == HOME_PHONE
    assert (case.reporter_name, case.reporter_employer) == (NAME, EMPLOYER)
    # What lists print is kept plain beside the name: its masked form, nothing more.
    assert case.reporter_name_masked == "欧***" and "欧***" in raw


def test_other_people_s_phones_and_addresses_are_encrypted_too(case, representative):
    rep = Representative.objects.exclude(phone="").first()
    liaison = Liaison.objects.first()
    visit = HouseholdVisit.objects.create(
        representative=rep,
        community=case.studio.unit,
        visited_on=date(2026, 3, 5),
        household="王先生家",
        address="沙头角演示路 99 号 1201",
        recorded_by=representative,
    )
    raw = _raw_rows("people_representative") + _raw_rows("people_liaison")
    assert rep.phone[3:] not in raw and liaison.phone[3:] not in raw
    # Not the bare room number: a timestamp's microseconds may hold those four digits.
    visits = _raw_rows("duties_householdvisit")
    assert "99 号 1201" not in visits and "演示路 99" not in visits
    assert HouseholdVisit.objects.get(pk=visit.pk).address == "沙头角演示路 99 号 1201"
    assert rep.name in raw  # representatives' names stay plain: a public role, searched


@pytest.mark.django_db(transaction=True)
def test_a_backup_file_shows_no_plaintext(world, tmp_path):
    case = register(**REPORTER)
    # The system's own backup (manage.py backup): SQLite's online backup, or pg_dump's
    # custom format read back as SQL with pg_restore (it is compressed on disk).
    suffix = "sqlite3" if connection.vendor == "sqlite" else "dump"
    backup = tmp_path / f"backup.{suffix}"
    call_command("backup", output=backup, stdout=open(os.devnull, "w"))  # noqa: SIM115
    if connection.vendor == "sqlite":
        data = backup.read_bytes()
    else:
        data = subprocess.run(
            ["pg_restore", "--file", "-", str(backup)], capture_output=True, check=True, timeout=120
        ).stdout
    assert case.number.encode() in data  # the backup holds the case
    for plain in PLAINTEXTS:
        assert plain.encode() not in data


def test_encrypted_fields_cannot_be_filtered_by_value(case):
    with pytest.raises(FieldError, match="digest"):
        list(Case.objects.filter(reporter_phone=PHONE))
    with pytest.raises(FieldError):
        list(Case.objects.filter(reporter_home_address__contains="501"))
    with pytest.raises(FieldError):
        list(Case.objects.filter(reporter_name__icontains="晓明"))
    # Emptiness is not a secret and may be filtered.
    assert Case.objects.filter(pk=case.pk).exclude(reporter_phone="").exists()


@pytest.mark.parametrize("typed", ["13800005678", "138 0000 5678", "+86 138-0000-5678"])
def test_a_reporter_is_found_by_phone_through_the_digest(case, typed):
    register(reporter_phone="+8613800009999")
    found = Case.objects.filter(reporter_phone_digest=phone_digest(typed))
    assert list(found) == [case]
    home = Case.objects.filter(reporter_home_phone_digest=phone_digest("0755-25550123"))
    assert list(home) == [case]


def test_digests_are_kept_by_save_and_bulk_create(case):
    case.reporter_phone = "+8613800001111"
    case.save()
    assert Case.objects.get(pk=case.pk).reporter_phone_digest == phone_digest("13800001111")
    case.reporter_phone = ""
    case.save()
    assert Case.objects.get(pk=case.pk).reporter_phone_digest == ""
    digest_field = Case._meta.get_field("reporter_phone_digest")
    assert phone_digest("13800001111") != crypto.digest("+8613800001111x")
    assert digest_field.max_length == 64


@pytest.mark.parametrize(
    ("name", "masked"), [("王五", "王*"), ("欧阳晓明", "欧***"), ("李", "李*"), ("", "")]
)
def test_a_name_is_masked_as_the_lists_always_showed_it(name, masked):
    assert mask_name(name) == masked


def test_the_masked_name_is_kept_by_save_and_bulk_create(case):
    case.reporter_name = "王五"
    case.save()
    assert Case.objects.get(pk=case.pk).reporter_name_masked == "王*"
    clone = Case.objects.get(pk=case.pk)
    clone.pk, clone.number, clone.serial = None, case.number + "b", case.serial + 1000
    clone.reporter_name, clone.reporter_name_masked = "欧阳晓明", "王*"
    (created,) = Case.objects.bulk_create([clone])
    assert Case.objects.get(pk=created.pk).reporter_name_masked == "欧***"
    assert NAME not in _raw_rows("cases_case")


# What only the full view shows: the masked page and API detail leave them unread.
FULL_VIEW_ONLY = [NAME, EMPLOYER, EMPLOYER_ADDRESS, HOME, HOME_PHONE]


@pytest.mark.parametrize("page", ["cases:list", "cases:ledger"])
def test_lists_print_the_masked_name_without_decrypting_it(
    case, liaison, client, monkeypatch, page
):
    opened = opened_values(monkeypatch)
    client.force_login(liaison)
    text = client.get(reverse(page)).content.decode()
    assert case.number in text and "欧***" in text and NAME not in text
    assert opened and NAME not in opened and EMPLOYER not in opened
    # The full view does open it (and records the view).
    response = client.post(reverse("cases:reporter", args=[case.pk]))
    assert NAME in response.content.decode() and NAME in opened


def test_the_case_page_shows_the_reporter_masked_without_decrypting_the_rest(
    case, liaison, client, monkeypatch
):
    """The page prints the masked name and phone; the name, employer and addresses are
    decrypted only for the full view, which is recorded."""
    client.force_login(liaison)
    opened = opened_values(monkeypatch)
    text = client.get(case.get_absolute_url()).content.decode()
    assert case.number in text and "欧***" in text and "5678" in text
    assert PHONE in opened  # printed masked, from the phone
    assert [plain for plain in FULL_VIEW_ONLY if plain in opened] == []
    assert not PersonalDataView.objects.filter(case=case).exists()
    response = client.post(reverse("cases:reporter", args=[case.pk]))
    assert NAME in response.content.decode() and EMPLOYER in response.content.decode()
    assert [plain for plain in FULL_VIEW_ONLY if plain in opened] == FULL_VIEW_ONLY
    assert PersonalDataView.objects.get(case=case).viewer == liaison


def test_the_full_view_refused_decrypts_nothing_of_it(liaison, monkeypatch):
    """A unit the reporter hides from: the page and its refused full view read none."""
    case = register(**REPORTER, hide_identity_from_unit=True)
    case = services.case_send_to_street(case=case, actor=liaison)
    unit = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
    street = User.objects.get(username="shatoujiao")
    services.case_refer(case=case, actor=street, handling_unit=unit)
    client = client_for(User.objects.get(username="unit"))
    opened = opened_values(monkeypatch)
    assert client.get(case.get_absolute_url()).status_code == 200
    assert client.post(reverse("cases:reporter", args=[case.pk])).status_code == 404
    assert [plain for plain in FULL_VIEW_ONLY if plain in opened] == []


def test_the_api_detail_decrypts_only_what_it_shows_and_reveal_the_rest(case, monkeypatch):
    api = api_for("shatoujiao")
    opened = opened_values(monkeypatch)
    detail = api.get(f"/cases/{case.pk}").json()
    assert detail["reporter_name"] == "欧***" and detail["reporter_employer"] is None
    assert [plain for plain in FULL_VIEW_ONLY if plain in opened] == []
    revealed = api.post(f"/cases/{case.pk}/reveal").json()
    assert (revealed["reporter_name"], revealed["reporter_employer"]) == (NAME, EMPLOYER)
    assert [plain for plain in FULL_VIEW_ONLY if plain in opened] == FULL_VIEW_ONLY


def test_the_migration_encrypts_names_registered_before(case):
    # Rows as they were before 0011: the name and employer plain, no masked name.
    table = connection.ops.quote_name("cases_case")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET reporter_name = %s, reporter_employer = %s, "
            "reporter_name_masked = '' WHERE id = %s",
            [NAME, EMPLOYER, case.pk],
        )
    assert NAME in _raw_rows("cases_case")
    migration = importlib.import_module("minyi.cases.migrations.0011_encrypt_reporter_name")
    fill = migration.Migration.operations[-1]
    editor = SimpleNamespace(connection=connection)
    for _ in range(2):  # idempotent: a token is left as it is
        fill.code(apps, editor)
        raw = _raw_rows("cases_case")
        assert NAME not in raw and EMPLOYER not in raw
        case = Case.objects.get(pk=case.pk)
        assert (case.reporter_name, case.reporter_employer) == (NAME, EMPLOYER)
        assert case.reporter_name_masked == "欧***"
    fill.reverse_code(apps, editor)
    assert NAME in _raw_rows("cases_case") and EMPLOYER in _raw_rows("cases_case")


def test_bulk_create_stores_ciphertext(case):
    # Bulk generators (bulk_create, or COPY fed by get_db_prep_value) store tokens too.
    field = Case._meta.get_field("reporter_phone")
    stored = field.get_db_prep_value(PHONE, connection)
    assert crypto.is_token(stored) and crypto.decrypt(stored) == PHONE
    clone = Case.objects.get(pk=case.pk)
    clone.pk, clone.number, clone.serial = None, case.number + "b", case.serial + 1000
    clone.reporter_phone = "+8613800002222"
    (created,) = Case.objects.bulk_create([clone])
    assert "13800002222" not in _raw_rows("cases_case")
    assert Case.objects.get(pk=created.pk).reporter_phone_digest == phone_digest("13800002222")


def test_a_wrong_key_fails_closed(case, settings):
    settings.MINYI_FIELD_KEY = Fernet.generate_key().decode()
    with pytest.raises(crypto.DecryptionError):
        Case.objects.get(pk=case.pk)


def test_a_key_is_rotated_with_fallbacks_and_reencryption(case, settings):
    old_key = settings.MINYI_FIELD_KEY
    before = _raw_rows("cases_case")
    settings.MINYI_FIELD_KEY = Fernet.generate_key().decode()
    settings.MINYI_FIELD_KEY_FALLBACKS = [old_key]
    assert Case.objects.get(pk=case.pk).reporter_phone == PHONE  # the old key still opens it
    call_command("reencrypt_personal_data", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert _raw_rows("cases_case") != before
    settings.MINYI_FIELD_KEY_FALLBACKS = []
    assert Case.objects.get(pk=case.pk).reporter_phone == PHONE  # the new key alone opens it
    assert Case.objects.get(pk=case.pk).reporter_phone_digest == phone_digest(PHONE)
    case = Case.objects.get(pk=case.pk)
    assert (case.reporter_name, case.reporter_employer) == (NAME, EMPLOYER)
    assert case.reporter_name_masked == "欧***"


def _production_check(**keys: str) -> subprocess.CompletedProcess[str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "MINYI_DATA_DIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings_production",
        SECRET_KEY="k7Vq3pZ9-x_2mR8tL4wY6nB1cD5fG0hJ-s8uE2iO4aQ7zX9vC3bN6mK1lP5rT0yW",
        ALLOWED_HOSTS="minyi.example.gov.cn",
        REDIS_URL="redis://127.0.0.1:6379/0",
        **keys,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_the_keys():
    result = _production_check(MINYI_LOOKUP_KEY="some-lookup-key")
    assert result.returncode != 0 and "MINYI_FIELD_KEY" in result.stderr


@pytest.mark.parametrize("name", ["MINYI_FIELD_KEY", "MINYI_LOOKUP_KEY"])
def test_production_refuses_the_published_development_keys(name):
    from config.settings import DEVELOPMENT_FIELD_KEY, DEVELOPMENT_LOOKUP_KEY

    own = {"MINYI_FIELD_KEY": Fernet.generate_key().decode(), "MINYI_LOOKUP_KEY": "own-key"}
    public = {"MINYI_FIELD_KEY": DEVELOPMENT_FIELD_KEY, "MINYI_LOOKUP_KEY": DEVELOPMENT_LOOKUP_KEY}
    assert _production_check(**own).returncode == 0
    result = _production_check(**{**own, name: public[name]})
    assert result.returncode != 0 and f"{name} is the development key" in result.stderr
    # Only the load benchmark, serving the generator's data, says it knows.
    assert (
        _production_check(
            **{**own, name: public[name], "MINYI_BENCHMARK_PUBLIC_KEYS": "1"}
        ).returncode
        == 0
    )
