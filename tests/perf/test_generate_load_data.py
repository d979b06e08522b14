"""The load-data generator at a tiny scale (issue 8, item 1): counts, shares, gap-free
numbers that the application's own numbering continues, values written through the
fields. Runs on SQLite (batched inserts) and PostgreSQL (COPY); on PostgreSQL with its
workers in threads of this process (tests/perf/in_process.py): pytest-xdist runs the
tests in a process with threads, where a fork is unsafe; the command's real fork runs in
a process of its own (`test_the_command_forks_its_workers_from_a_process_of_one_thread`)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F

from minyi.cases.areas import AREA_COLUMNS
from minyi.cases.models import (
    Answer,
    Case,
    CaseNumberCounter,
    CaseStep,
    Evaluation,
    StudioCategory,
)
from minyi.cases.services import case_register
from minyi.cases.states import Action, CaseState
from minyi.core.crypto import is_token, phone_digest
from minyi.core.loadgen import generate
from minyi.core.loadgen.generate import (
    LOAD_PASSWORD,
    LOADED,
    SCALES,
    YEARS,
    Generator,
    LoadDataError,
)
from minyi.core.names import mask_name
from minyi.duties.models import Appointment, Attendance, Event, EventState
from minyi.org.models import Level, OrgUnit
from minyi.people.models import Role, User
from minyi.studios.models import Studio
from tests.perf import in_process

TODAY = date(2026, 11, 20)
CASES = 1500


@pytest.fixture(autouse=True)
def _workers_in_threads(monkeypatch):
    def fork():
        raise AssertionError("the load generator's tests must not fork (see in_process.py)")

    monkeypatch.setattr(generate, "worker_context", in_process.Context)
    monkeypatch.setattr(os, "fork", fork)


@pytest.fixture
def generated(world):
    report = Generator(SCALES["city"], cases=CASES, today=TODAY, chunk=400).run()
    return report


@pytest.mark.django_db
def test_it_writes_the_requested_cases_on_every_community_of_the_city(generated):
    assert Case.objects.count() == CASES
    assert generated.counts["cases.Case"] == CASES
    # Every community of the mini tree has a community studio; the generator added
    # the missing ones, each with a load_ liaison, and only those get cases.
    communities = OrgUnit.objects.filter(level=Level.COMMUNITY, city__code="4403")
    assert set(Studio.objects.filter(kind="community").values_list("unit_id", flat=True)) == set(
        communities.values_list("pk", flat=True)
    )
    new_studios = Studio.objects.filter(liaisons__user__username__startswith="load_")
    assert new_studios.count() >= 3
    assert set(Case.objects.values_list("studio_id", flat=True)) == set(
        new_studios.values_list("pk", flat=True)
    )
    assert Case.objects.filter(received_on__gt=TODAY).count() == 0
    assert Case.objects.filter(received_on__lt=date(2021, 11, 21)).count() == 0
    # Every case has its timeline, starting with its registration.
    assert CaseStep.objects.filter(action=Action.REGISTER).count() == CASES
    assert CaseStep.objects.values("case").distinct().count() == CASES
    assert Event.objects.filter(state=EventState.HELD).exists()
    assert Appointment.objects.exists()
    # The list filter's category choices (StudioCategory) match the cases written.
    assert set(StudioCategory.objects.values_list("studio_id", "name")) == set(
        Case.objects.exclude(category="").values_list("studio_id", "category")
    )


@pytest.mark.django_db
def test_channels_routes_and_ratings_have_realistic_shares(generated):
    def share(**filters):
        return Case.objects.filter(**filters).count() / CASES

    assert 0.45 < share(channel="in_person") < 0.65
    assert 0.12 < share(channel="phone") < 0.28
    assert 0.25 < share(outcome="on_the_spot") < 0.45
    assert share(state=CaseState.CLOSED) > 0.60
    assert share(final_rating="dissatisfied") < 0.10
    assert 0.30 < share(final_rating="very_satisfied") < 0.60
    # Some cases were escalated, some are still open, some are overdue.
    assert CaseStep.objects.filter(action=Action.ESCALATE).exists()
    assert Case.objects.filter(state=CaseState.WITH_UNIT, due_on__lt=TODAY).exists()
    assert Case.objects.filter(state=CaseState.CARRIED_FORWARD).exists()
    # Answers and ratings belong to routed cases only.
    assert Answer.objects.count() == Answer.objects.filter(case__outcome="sent_on").count()
    assert Evaluation.objects.filter(rating="").count() == 0
    # The case's own record of its answers agrees with the answers.
    late = set(Answer.objects.filter(on_time=False).values_list("case_id", flat=True))
    answered = set(Answer.objects.values_list("case_id", flat=True))
    assert late
    assert set(Case.objects.filter(answer_timeliness="late").values_list("pk", flat=True)) == late
    assert set(Case.objects.filter(answer_timeliness="on_time").values_list("pk", flat=True)) == (
        answered - late
    )


@pytest.mark.django_db
def test_numbers_are_gap_free_per_prefix_and_year_and_the_counter_continues(generated):
    serials = defaultdict(list)
    for prefix, year, serial, number in Case.objects.values_list(
        "number_prefix", "year", "serial", "number"
    ):
        serials[prefix, year].append(serial)
        assert number == f"{prefix}{year}{serial:03d}"
    counters = {(c.prefix, c.year): c.last_serial for c in CaseNumberCounter.objects.all()}
    assert set(counters) == set(serials)
    for key, found in serials.items():
        assert sorted(found) == list(range(1, len(found) + 1)), key
        assert counters[key] == len(found)
    # Earlier received, lower serial: the numbers follow the order of registration.
    for key in list(serials)[:5]:
        days = list(
            Case.objects.filter(number_prefix=key[0], year=key[1])
            .order_by("serial")
            .values_list("received_on", flat=True)
        )
        assert days == sorted(days)

    # The application's own registration continues the sequence.
    case = Case.objects.select_related("studio", "representative").order_by("-pk").first()
    liaison = User.objects.get(username__startswith="load_liaison", liaison__studio=case.studio)
    before = counters[case.number_prefix, 2026]
    new = case_register(
        actor=liaison,
        studio=case.studio,
        representative=case.representative,
        data={
            "channel": "in_person",
            "occasion": "reception",
            "received_on": date(2026, 11, 20),
            "reporter_name": "测试居民",
            "summary": "测试",
            "content": "测试内容",
            "outcome": "sent_on",
        },
    )
    assert new.serial == before + 1


@pytest.mark.django_db
def test_values_go_through_the_fields(generated):
    case = Case.objects.filter(reporter_phone__isnull=False).first()
    assert case.reporter_phone.startswith("+861380000")
    assert case.reporter_name.startswith("测试")
    assert case.created_at.date() == case.received_on
    step = CaseStep.objects.filter(case=case).order_by("at", "pk").first()
    assert step.at.date() == case.received_on  # the historical time, not auto_now_add
    # Encrypted at rest, with the lookup digest the field derives (minyi.core.crypto).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reporter_phone, reporter_phone_digest FROM cases_case WHERE id = %s",
            [case.pk],
        )
        stored, digest = cursor.fetchone()
    assert stored and case.reporter_phone not in stored
    assert is_token(stored)
    assert digest == phone_digest(case.reporter_phone)
    # The name too, with the masked form the lists print derived in bulk beside it.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reporter_name, reporter_name_masked FROM cases_case WHERE id = %s",
            [case.pk],
        )
        stored, masked = cursor.fetchone()
    assert is_token(stored) and case.reporter_name not in stored
    assert masked == mask_name(case.reporter_name) and masked.startswith("测*")
    # An appointment's booker likewise: the name encrypted, the masked name beside it.
    appointment = Appointment.objects.first()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, name_masked FROM duties_appointment WHERE id = %s", [appointment.pk]
        )
        stored, masked = cursor.fetchone()
    assert is_token(stored) and appointment.name not in stored
    assert appointment.name.startswith("测试")
    assert masked == mask_name(appointment.name) and masked.startswith("测*")


@pytest.mark.django_db
def test_generated_accounts_log_in_and_see_their_scope(generated, client):
    liaison = User.objects.filter(role=Role.LIAISON, username__startswith="load_").first()
    assert client.login(username=liaison.username, password=LOAD_PASSWORD)
    response = client.get("/cases/")
    assert response.status_code == 200
    studio = liaison.liaison.studio
    case = Case.objects.filter(studio=studio).first()
    assert client.get(f"/cases/{case.pk}/").status_code == 200
    other = Case.objects.exclude(studio=studio).first()
    assert client.get(f"/cases/{other.pk}/").status_code == 404
    street = User.objects.get(username=f"load_street{studio.unit.street_id}")
    assert street.role == Role.STREET_OFFICIAL


@pytest.mark.django_db
def test_cases_carry_their_studios_area(generated):
    # Scoping reads these columns (Case.objects.for_user): a wrong one hides a case.
    expected = {
        studio.pk: tuple(studio.unit.area_pointers()[c] for c in AREA_COLUMNS)
        for studio in Studio.objects.select_related("unit")
    }
    rows = Case.objects.order_by().values_list("studio_id", *AREA_COLUMNS).distinct()
    assert rows and all(expected[studio_id] == tuple(areas) for studio_id, *areas in rows)


@pytest.mark.django_db
def test_it_refuses_a_database_that_already_has_cases(generated):
    with pytest.raises(CommandError, match="已有社情民意案件"):
        call_command("generate_load_data", "--scale", "city", "--cases", "10")
    assert Case.objects.count() == CASES
    assert Case.objects.values("number").annotate(n=Count("id")).filter(n__gt=1).count() == 0


@pytest.mark.django_db
def test_it_explains_a_missing_tree():
    with pytest.raises(CommandError, match="import_divisions"):
        call_command("generate_load_data", "--scale", "city", "--cases", "10")


@pytest.mark.django_db
def test_every_stored_phone_decrypts_and_matches_its_digest(generated):
    # Reporters come back: far fewer distinct residents than cases, each with one
    # phone, whose token (stored once per resident) decrypts on every one of their rows.
    rows = list(
        Case.objects.values_list(
            "reporter_phone", "reporter_phone_digest", "reporter_home_address",
            "representative_contact",
        )
    )  # fmt: skip
    phones = {phone for phone, *_ in rows}
    assert CASES / 5 < len(phones) < CASES * 0.9
    for phone, digest, address, contact in rows:
        assert phone.startswith("+861380000")
        assert digest == phone_digest(phone)
        assert address and contact.startswith("+861380000")
    assert Appointment.objects.exclude(phone_digest="").count() == Appointment.objects.count()
    for phone, digest in Appointment.objects.values_list("phone", "phone_digest")[:200]:
        assert digest == phone_digest(phone)


def _indexes_and_foreign_keys(tables):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "UNION ALL SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ANY (SELECT to_regclass(t) FROM unnest(%s::text[]) t)",
            [tables, tables],
        )
        return sorted(row[0] for row in cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_indexes_and_foreign_keys_dropped_for_the_load_are_back(world):
    if connection.vendor != "postgresql":
        pytest.skip("indexes are dropped for the load on PostgreSQL only")
    tables = [m._meta.db_table for m in LOADED]
    before = _indexes_and_foreign_keys(tables)
    assert any("case_state_due" in d for d in before)
    Generator(SCALES["city"], cases=200, today=TODAY, chunk=50).run()
    assert _indexes_and_foreign_keys(tables) == before


@pytest.mark.django_db(transaction=True)
def test_a_failed_load_leaves_nothing_behind(world, monkeypatch):
    # The load is one transaction: the dropped indexes come back with the rollback.
    tables = [m._meta.db_table for m in LOADED]
    before = _indexes_and_foreign_keys(tables) if connection.vendor == "postgresql" else []

    def broken(self, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(Generator, "reporter", broken)
    with pytest.raises((RuntimeError, LoadDataError), match="boom"):
        Generator(SCALES["city"], cases=200, today=TODAY, chunk=50).run()
    assert Case.objects.count() == 0
    assert not Event.objects.filter(studio__liaisons__user__username__startswith="load_").exists()
    if connection.vendor == "postgresql":
        assert _indexes_and_foreign_keys(tables) == before


@pytest.mark.django_db
def test_case_ids_are_contiguous_and_ratings_belong_to_their_case_s_answers(generated):
    # On PostgreSQL two worker processes made the cases, each with its own id ranges.
    ids = sorted(Case.objects.values_list("pk", flat=True))
    assert ids == list(range(ids[0], ids[0] + CASES))
    assert Evaluation.objects.exclude(answer__case=F("case")).count() == 0
    assert Answer.objects.exclude(case__in=Case.objects.all()).count() == 0
    steps = CaseStep.objects.values("case").annotate(n=Count("id"))
    assert max(row["n"] for row in steps) <= 12


@pytest.mark.django_db
def test_every_new_studio_has_its_five_years_of_events(generated):
    # On PostgreSQL two worker processes made the events, each for half the studios
    # and with its own id ranges: every studio still has exactly its share.
    per_studio = SCALES["city"].events_per_studio_year * YEARS
    studios = Studio.objects.filter(liaisons__user__username__startswith="load_")
    counts = dict(studios.annotate(n=Count("events")).values_list("pk", "n"))
    assert len(counts) >= 3
    assert set(counts.values()) == {per_studio}
    events = Event.objects.filter(studio__in=studios)
    assert (
        Event.representatives.through.objects.filter(event__in=events).count()
        == len(counts) * per_studio
    )
    held = events.filter(state=EventState.HELD)
    assert Attendance.objects.filter(event__in=held).count() == held.count()
    assert Attendance.objects.exclude(event__in=held).count() == 0
    # One appointment per event at city scale (appointments_per_event 1.0).
    assert Appointment.objects.filter(event__in=events).count() == len(counts) * per_studio
    assert generated.counts["duties.Event"] == len(counts) * per_studio


@pytest.mark.django_db
def test_on_postgresql_two_workers_make_the_events_and_two_the_cases(world, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the workers run on PostgreSQL only")
    started = []
    start = in_process.Process.start

    def counted(process):
        started.append(process)
        start(process)

    monkeypatch.setattr(in_process.Process, "start", counted)
    report = Generator(SCALES["city"], cases=200, today=TODAY, chunk=50).run()
    assert len(started) == 4 and all(p.exitcode == 0 for p in started)
    assert report.counts["cases.Case"] == Case.objects.count() == 200


@pytest.mark.django_db(transaction=True)
def test_the_command_forks_its_workers_from_a_process_of_one_thread(world):
    """The real fork, where it runs: `manage.py generate_load_data` in a process of its
    own (one thread when it forks), on this test's database (committed: transaction)."""
    if connection.vendor != "postgresql":
        pytest.skip("the workers run on PostgreSQL only")
    db = connection.settings_dict
    url = (
        f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}"
        f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    result = subprocess.run(
        [sys.executable, "-W", "default::DeprecationWarning", "manage.py", "generate_load_data",
         "--scale", "city", "--cases", "200", "--workers", "2", "--chunk", "50"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "fork()" not in result.stderr  # no "multi-threaded, use of fork()" warning
    assert "cases.Case: 200" in result.stdout
    assert Case.objects.count() == 200
    ids = sorted(Case.objects.values_list("pk", flat=True))
    assert ids == list(range(ids[0], ids[0] + 200))  # both workers' id ranges, no gap
    case = Case.objects.filter(reporter_phone__isnull=False).first()
    assert case.reporter_phone_digest == phone_digest(case.reporter_phone)


@pytest.mark.django_db(transaction=True)
def test_a_case_worker_refuses_to_query_the_database(world, monkeypatch):
    # The workers share the parent's connection by inheritance; a query from one would
    # land in the middle of the parent's COPY.
    if connection.vendor != "postgresql":
        pytest.skip("the case workers run on PostgreSQL only")
    original = Generator.reporter

    def querying(self, *args, **kwargs):
        Case.objects.count()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Generator, "reporter", querying)
    with pytest.raises(LoadDataError, match="不能访问数据库"):
        Generator(SCALES["city"], cases=200, today=TODAY, chunk=50, workers=2).run()
    assert Case.objects.count() == 0


@pytest.mark.django_db
def test_numbers_follow_the_applications_prefixes_where_a_name_recurs(world):
    """A community named as another of the city, in a street named as the other's, has
    its own prefix (minyi.org.prefixes): the generator numbers its cases under it, as
    the registration would, not under the street + community they share."""
    existing = OrgUnit.objects.get(code="440308003006")
    other_district = OrgUnit.objects.get(code="440303")
    street = OrgUnit(name="沙头角街道", short_name="沙头角街道", level=Level.STREET)
    street.set_ancestors_from(other_district)
    street.save()
    twin = OrgUnit(name=existing.name, short_name=existing.short_name, level=Level.COMMUNITY)
    twin.set_ancestors_from(street)
    twin.save()
    Generator(SCALES["city"], cases=300, today=TODAY, chunk=400).run()
    rows = Case.objects.values_list("number_prefix", "studio__unit__number_prefix").distinct()
    assert all(prefix == unit_prefix for prefix, unit_prefix in rows)
    assert Case.objects.filter(studio__unit=twin, number_prefix=f"罗湖区{existing.number_prefix}")


@pytest.mark.django_db
def test_studios_at_communities_without_a_street_get_their_own_prefixes(world):
    """Two communities of one name straight under districts (no street, so no
    community prefix): their studios, named alike, are numbered by prefixes of their
    own (minyi.org.prefixes, studio_number_prefix), stored on the studio, as the
    registration would give them, not under the name they share."""
    twins = []
    for code in ("440308", "440303"):
        unit = OrgUnit(name="田园社区", short_name="田园社区", level=Level.COMMUNITY)
        unit.set_ancestors_from(OrgUnit.objects.get(code=code))
        unit.save()
        twins.append(unit)
    Generator(SCALES["city"], cases=300, today=TODAY, chunk=400).run()
    studios = Studio.objects.filter(unit__in=twins).order_by("unit_id")
    prefixes = [studio.number_prefix for studio in studios]
    assert prefixes == ["田园社区党代表工作室", "罗湖区田园社区党代表工作室"]
    rows = Case.objects.filter(studio__in=studios).values_list(
        "number_prefix", "studio__number_prefix"
    )
    assert all(prefix == own for prefix, own in rows)
    studio = studios[1]
    case = case_register(
        actor=User.objects.get(liaison__studio=studio),
        studio=Studio.objects.select_related("unit").get(pk=studio.pk),
        representative=studio.representatives.first(),
        data={"channel": "in_person", "occasion": "reception", "received_on": TODAY,
              "reporter_name": "测试居民", "summary": "测试", "content": "测试内容",
              "outcome": "sent_on"},
    )  # fmt: skip
    assert case.number_prefix == "罗湖区田园社区党代表工作室"
