"""The two routing steps the load run takes after a registration, sending to the street
and referring to a handling unit, run a fixed number of queries (issue 8: 12 and 18 at
city scale before): the case is read once, through the user's scope and with only the
related rows the step decides on, and the step's UPDATE is its version check (no second
read under a lock); the referral does not look the handling unit up again after the
form read it; the department comes from the case's own area columns."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django import forms
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from minyi.audit.models import AuditEvent
from minyi.audit.trail import forget_head
from minyi.cases import services
from minyi.cases.forms import ReferForm
from minyi.cases.models import Case, CaseStep
from minyi.cases.states import Action, CaseState
from minyi.core import crypto
from minyi.core.forms import field_of
from minyi.org.models import HandlingUnit
from minyi.people.models import User
from minyi.workdays.calendar import WorkCalendar
from tests.cases.helpers import register
from tests.core.helpers import client_for, text_of

pytestmark = pytest.mark.django_db

# A day whose ten working days end in the same (complete) year: the deadline reads that
# year's calendar (two queries, none once the shared cache holds it: minyi.workdays.cache),
# whatever day the tests run on.
REFERRED_ON = date(2026, 3, 9)
UNIT = "沙头角街道城市管理办公室"


def _lane_lock() -> int:
    return 1 if connection.vendor == "postgresql" else 0


def _sent(liaison: User) -> Case:
    case = register()
    response = client_for(liaison).post(reverse("cases:send", args=[case.pk]), {"version": 1})
    assert response.status_code == 302
    return Case.objects.get(pk=case.pk)


def _case_reads(queries: list[dict[str, Any]]) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "cases_case"' in q["sql"]]


def test_sending_to_the_street_runs_a_fixed_number_of_queries(
    world: Any, liaison: User, django_assert_num_queries: Any
) -> None:
    """The session (its account and the liaison's studios, the scope, come from the
    cache: minyi.core.account_cache, minyi.people.scope_cache), the case; then the
    street's department, the case's UPDATE (… WHERE version), the timeline row and the
    two audit rows in one INSERT (audit.batched), which locks the lane (PostgreSQL) and
    reads its head first. At city scale on PostgreSQL: 9 queries with BEGIN and COMMIT
    (12, 11, then 10 before); here the
    test's transaction makes these a savepoint and its release, and the session is a
    database row."""
    case = register()
    client = client_for(liaison)
    client.get(reverse("cases:list"))  # warm the session
    forget_head()  # the test's own transaction holds its lane: as a new one would not
    with django_assert_num_queries(9 + _lane_lock()) as sent:
        response = client.post(reverse("cases:send", args=[case.pk]), {"version": 1})
    assert response.status_code == 302
    (case_read,) = _case_reads(sent.captured_queries)
    # Of its related rows, only what the permission and the referral's units decide on:
    # not the accounts, units and names the page prints (views.STEP_RELATED).
    assert '"people_user"' not in case_read and '"org_handlingunit"' not in case_read
    (update,) = [q["sql"] for q in sent.captured_queries if q["sql"].startswith("UPDATE")]
    assert '"version" = 1' in update.split("WHERE")[1]
    case.refresh_from_db()
    assert (case.state, case.version, case.holder_level) == (CaseState.AT_DEPARTMENT, 2, "street")
    assert case.holder_department is not None
    assert case.holder_department.unit_id == case.studio.unit.street_id


def test_referring_runs_a_fixed_number_of_queries(
    world: Any,
    liaison: User,
    street_official: User,
    monkeypatch: Any,
    django_assert_num_queries: Any,
) -> None:
    """The session, the case, the unit chosen (the form's field); then the UPDATE, the
    timeline row and the two audit rows in one INSERT (audit.batched); the year's
    calendar comes from the shared cache (minyi.workdays.cache), warm here as it is after
    the first referral. At city scale on PostgreSQL the load run's referral is 13
    queries (18, then 16 before; of these, three are the session's idle-time write and
    one the second factor's check, which the test's session does not make)."""
    monkeypatch.setattr(services, "today", lambda: REFERRED_ON)
    case = _sent(liaison)
    unit = HandlingUnit.objects.get(name=UNIT)
    client = client_for(street_official)
    client.get(reverse("cases:list"))
    WorkCalendar().schedule(REFERRED_ON.year)  # the calendar's cache warm
    forget_head()
    with django_assert_num_queries(9 + _lane_lock()) as referred:
        response = client.post(
            reverse("cases:refer", args=[case.pk]), {"version": 2, "handling_unit": unit.pk}
        )
    assert response.status_code == 302
    assert len(_case_reads(referred.captured_queries)) == 1
    unit_reads = [
        q["sql"] for q in referred.captured_queries if 'FROM "org_handlingunit"' in q["sql"]
    ]
    assert len(unit_reads) == 1, unit_reads
    case.refresh_from_db()
    assert (case.state, case.version, case.handling_unit_id) == (CaseState.WITH_UNIT, 3, unit.pk)
    assert (case.unit_received_on, case.due_on, case.due_days) == (
        REFERRED_ON,
        date(2026, 3, 23),
        10,
    )


def test_the_referral_form_offers_the_units_without_decrypting_their_phones(
    world: Any, liaison: User, monkeypatch: Any
) -> None:
    """The option is the unit's name; its encrypted phone is neither read nor opened,
    and the units offered are still those of the holding department's area (CM 10)."""
    case = _sent(liaison)
    opened: list[str] = []
    real = crypto.decrypt

    def decrypt(token: str) -> str:
        opened.append(token)
        return real(token)

    monkeypatch.setattr(crypto, "decrypt", decrypt)
    form = ReferForm(case=case)
    html = str(form["handling_unit"])
    assert opened == []
    queryset = field_of(form, "handling_unit", forms.ModelChoiceField).queryset
    assert queryset is not None
    units = list(queryset)
    assert units and all("phone" in unit.get_deferred_fields() for unit in units)
    assert UNIT in html
    assert {unit.pk for unit in units} == set(
        services.units_for_referral(case).values_list("pk", flat=True)
    )
    assert opened == []


def test_the_steps_audit_rows_name_the_changed_columns_and_the_chain_verifies(
    world: Any, liaison: User, street_official: User, capsys: Any
) -> None:
    case = _sent(liaison)
    unit = HandlingUnit.objects.get(name=UNIT)
    client_for(street_official).post(
        reverse("cases:refer", args=[case.pk]), {"version": 2, "handling_unit": unit.pk}
    )
    updates = AuditEvent.objects.filter(object_type="cases.case", action="update").order_by("id")
    # A due day in a year the holiday calendar does not know yet (in late December,
    # while next year's is unpublished) is provisional: that column changes too.
    provisional = ["due_provisional"] if Case.objects.get(pk=case.pk).due_provisional else []
    assert [(e.actor_name, e.fields) for e in updates] == [
        ("liaison", ["holder_department", "holder_level", "state", "updated_at", "version"]),
        (
            "shatoujiao",
            [
                "due_days",
                "due_on",
                *provisional,
                "handling_unit",
                "state",
                "unit_received_on",
                "updated_at",
                "version",
            ],
        ),
    ]
    steps = AuditEvent.objects.filter(object_type="cases.casestep", action="create")
    assert steps.count() == case.steps.count()
    call_command("verify_audit")  # raises at a broken link
    assert "审计日志完好" in capsys.readouterr().out


def test_a_case_changed_between_the_pages_read_and_the_write_is_refused_and_nothing_saved(
    world: Any, liaison: User, street_official: User, monkeypatch: Any
) -> None:
    """The step no longer locks and reads the case again: the version in its UPDATE is
    the check. Another step that commits after the page read the case (simulated inside
    the step, before its write) makes the write refuse; the conflict message is shown and
    the step's timeline and audit rows are rolled back with it."""
    case = _sent(liaison)
    unit = HandlingUnit.objects.get(name=UNIT)
    client = client_for(street_official)  # its login is an audit row of its own
    audit_rows = AuditEvent.objects.count()
    original = services.set_deadline

    def someone_else_first(*args: Any, **kwargs: Any) -> Any:
        Case.objects.filter(pk=case.pk).update(version=3)
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "set_deadline", someone_else_first)
    response = client.post(
        reverse("cases:refer", args=[case.pk]),
        {"version": 2, "handling_unit": unit.pk, "note": "请核实"},
    )
    assert response.status_code == 409
    page = text_of(response)
    assert services.CaseChanged.message in page
    assert "请核实" in page  # what was typed is kept
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.state, fresh.handling_unit_id) == (CaseState.AT_DEPARTMENT, None)
    assert not CaseStep.objects.filter(case=fresh, action=Action.REFER).exists()
    assert AuditEvent.objects.count() == audit_rows


def test_a_refusal_leaves_the_pages_case_as_it_was_read(world: Any, liaison: User) -> None:
    """The step works on a copy of the case the page read: a step refused halfway does
    not show its unsaved changes on the page that explains the refusal."""
    case = register()
    loaded = Case.objects.get(pk=case.pk)
    with pytest.raises(services.CaseChanged):
        services.case_send_to_street(case=loaded, actor=liaison, version=2)
    Case.objects.filter(pk=case.pk).update(version=5)
    with pytest.raises(services.CaseChanged):
        services.case_send_to_street(case=loaded, actor=liaison, version=1)
    assert (loaded.state, loaded.version, loaded.holder_department_id) == (
        CaseState.REGISTERED,
        1,
        None,
    )
    assert not CaseStep.objects.filter(action=Action.SEND_TO_STREET).exists()


def test_sending_and_referring_open_none_of_the_reporter_s_details(
    world: Any, liaison: User, street_official: User, monkeypatch: Any
) -> None:
    """Neither routing step decides on the reporter's name, phones, employer or
    addresses, or the representative's contact: they stay encrypted in the database (an
    answer, which copies the phone to the reporter, reads them under its lock). What is
    still opened is the signed-in account's own row, once, for the session."""
    case = register(reporter_home_address="沙头角街道东和社区1号", reporter_employer="某公司")
    private = {
        getattr(case, name)
        for name in (
            "reporter_name",
            "reporter_phone",
            "reporter_employer",
            "reporter_employer_address",
            "reporter_home_address",
            "reporter_home_phone",
            "representative_contact",
        )
    } - {""}
    opened: list[str] = []
    real = crypto.decrypt

    def watched(token: str) -> str:
        opened.append(real(token))
        return opened[-1]

    monkeypatch.setattr(crypto, "decrypt", watched)
    sent = client_for(liaison).post(reverse("cases:send", args=[case.pk]), {"version": 1})
    assert sent.status_code == 302
    unit = HandlingUnit.objects.only("pk").get(name=UNIT)
    referred = client_for(street_official).post(
        reverse("cases:refer", args=[case.pk]), {"version": 2, "handling_unit": unit.pk}
    )
    assert referred.status_code == 302
    assert len(private) >= 4 and private.isdisjoint(opened)
    case.refresh_from_db()
    assert (case.state, case.version) == (CaseState.WITH_UNIT, 3)
    assert case.reporter_home_address == "沙头角街道东和社区1号"  # still there, whole
