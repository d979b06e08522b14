"""Free text has a cap for each kind (minyi.core.text_limits): a pasted document is
refused on every page with a Chinese message naming the field and the limit and nothing
saved, text at the cap is saved, and a row longer than a cap from before the caps still
shows. The API's side is in tests/api/test_text_limits.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse
from django.utils import timezone

from minyi.cases import forms as case_forms
from minyi.cases.models import Case, CaseStep, Consultation
from minyi.core.text_limits import (
    ACCOUNT_MAX,
    CUT,
    DOCUMENT_MAX,
    EXCEL_CELL_MAX,
    NOTE_MAX,
    REPORT_MAX,
    clipped,
    fitted,
    shortened,
    too_long,
)
from minyi.duties import events as event_services
from minyi.duties.events import EventData
from minyi.duties.models import EventKind, EventState
from minyi.online.forms import CONTENT_MAX
from minyi.people.models import Representative
from minyi.studios.models import Studio
from tests.cases.helpers import STUDIO, register
from tests.cases.test_pages import form_data
from tests.core.helpers import client_for, text_of
from tests.evaluation.helpers import assessment, open_round, user

# Written by the system, never typed into a form: no cap is owed.
UNCAPPED = {
    "cases.CaseStep.text",  # a step's note, reason or plan, each capped by its form
    "cases.FeedbackCopy.last_error",
    "documents.Export.query",
    "documents.Export.error",
    "documents.Import.error",
    "workdays.CalendarYear.source",
}


def _over(limit: int) -> str:
    return "长" * (limit + 1)


def _message(limit: int) -> str:
    return f"最多只能填 {limit} 个字，现在是 {limit + 1} 个字，请删减后再提交。"


def test_every_cap_fits_an_excel_cell_and_staff_may_write_what_a_resident_may() -> None:
    assert NOTE_MAX < ACCOUNT_MAX < DOCUMENT_MAX < REPORT_MAX < EXCEL_CELL_MAX
    assert (Case._meta.get_field("content").max_length or 0) >= CONTENT_MAX


def test_every_text_field_a_person_types_into_has_a_cap() -> None:
    uncapped = {
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model.__module__.startswith("minyi.")
        for field in model._meta.get_fields()
        if isinstance(field, models.TextField)
        and field.max_length is None
        # Our encrypted fields are TextFields in the database, each capped by its own.
        and type(field) is models.TextField
    }
    assert uncapped <= UNCAPPED, sorted(uncapped - UNCAPPED)


def test_the_message_names_the_field_and_the_limit() -> None:
    assert too_long("“协商纪要”", 10000, 10001) == (
        "“协商纪要”最多只能填 10000 个字，现在是 10001 个字，请删减后再提交。"
    )


@pytest.mark.parametrize(
    ("length", "quoted"),
    [(10, "一二三四五六"), (6, "一二三四五六"), (5, "一二三……"), (3, "一……"), (2, "……"), (0, "……")],
)
def test_a_quoted_text_is_shortened_with_a_mark_where_it_was_cut(length: int, quoted: str) -> None:
    assert shortened("一二三四五六", length) == quoted
    assert len(quoted) <= max(length, len(CUT))


def test_a_draft_keeps_as_much_as_fits_and_none_when_nothing_does() -> None:
    def draft(n: int) -> str:
        return "头" * 10 + "字" * (3 * n)

    assert fitted(draft, limit=100, most=20) == draft(20)  # the whole fits
    assert fitted(draft, limit=40, most=20) == draft(10)  # the largest n within 40
    assert fitted(draft, limit=39, most=20) == draft(9)
    assert fitted(draft, limit=9, most=20) is None
    assert clipped("字" * 50, 20, "见附表") == "字" * 14 + "……\n见附表"
    assert clipped("字" * 20, 20, "见附表") == "字" * 20


# --- the registration form --------------------------------------------------------------


@pytest.mark.django_db
def test_the_registration_form_refuses_a_pasted_document_and_saves_nothing(liaison: Any) -> None:
    client = client_for(liaison)
    page = text_of(client.get(reverse("cases:create")))
    assert f'maxlength="{DOCUMENT_MAX}"' in page  # the browser stops typing there too
    response = client.post(reverse("cases:create"), form_data(content=_over(DOCUMENT_MAX)))
    assert response.status_code == 400
    assert f"反映内容：{_message(DOCUMENT_MAX)}" in text_of(response)
    response = client.post(
        reverse("cases:create"),
        form_data(
            outcome="on_the_spot", spot_answer=_over(ACCOUNT_MAX), spot_satisfaction="satisfied"
        ),
    )
    assert response.status_code == 400
    assert f"当场答复内容：{_message(ACCOUNT_MAX)}" in text_of(response)
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_the_registration_form_saves_content_at_the_cap(liaison: Any) -> None:
    response = client_for(liaison).post(
        reverse("cases:create"), form_data(content="长" * DOCUMENT_MAX)
    )
    assert response.status_code == 302
    assert len(Case.objects.get().content) == DOCUMENT_MAX


# --- a step of a case -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_step_refuses_overlong_minutes_and_saves_nothing(street_official: Any) -> None:
    case = register()
    case_send = reverse("cases:send", args=[case.pk])
    client_for(user("liaison")).post(case_send, {"version": case.version})
    case.refresh_from_db()
    steps = case.steps.count()
    data = {
        "version": case.version,
        "held_on": (case.received_on + timedelta(days=1)).isoformat(),
        "attendees": "反映人、党代表、承办单位",
        "minutes": _over(DOCUMENT_MAX),
    }
    consult = reverse("cases:consult", args=[case.pk])
    response = client_for(street_official).post(consult, data)
    assert response.status_code == 400
    assert _message(DOCUMENT_MAX) in text_of(response)
    assert not Consultation.objects.exists() and case.steps.count() == steps
    case.refresh_from_db()
    data |= {"version": case.version, "minutes": "纪" * DOCUMENT_MAX}
    assert client_for(street_official).post(consult, data).status_code == 302
    assert len(Consultation.objects.get().minutes) == DOCUMENT_MAX


@pytest.mark.django_db
def test_a_note_over_its_cap_is_refused_and_at_it_saved(liaison: Any) -> None:
    case = register()
    note = reverse("cases:note", args=[case.pk])
    response = client_for(liaison).post(note, {"version": case.version, "text": _over(NOTE_MAX)})
    assert response.status_code == 400
    assert _message(NOTE_MAX) in text_of(response)
    assert case.steps.count() == 1
    response = client_for(liaison).post(note, {"version": case.version, "text": "备" * NOTE_MAX})
    assert response.status_code == 302
    assert CaseStep.objects.filter(case=case, text="备" * NOTE_MAX).exists()


def test_every_step_text_has_a_cap() -> None:
    for form in (
        case_forms.ReferForm,
        case_forms.EscalateForm,
        case_forms.ReturnForm,
        case_forms.ExtensionForm,
        case_forms.ExtensionDecideForm,
        case_forms.PlanForm,
        case_forms.AnswerForm,
        case_forms.UrgeForm,
        case_forms.ConsultForm,
        case_forms.EvaluateForm,
        case_forms.CarryForwardForm,
        case_forms.NoteForm,
    ):
        for name, field in form.base_fields.items():
            if isinstance(field.widget, case_forms.forms.Textarea):
                assert isinstance(field, case_forms.forms.CharField)
                assert field.max_length in (NOTE_MAX, ACCOUNT_MAX, DOCUMENT_MAX), (form, name)


# --- a duty form ------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_event_cancelled_with_a_pasted_reason_is_refused_and_stays(liaison: Any) -> None:
    day = timezone.localdate() + timedelta(days=10)
    starts = datetime(day.year, day.month, day.day, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    event = event_services.event_create(
        actor=liaison,
        data=EventData(
            studio=Studio.objects.get(name=STUDIO),
            kind=EventKind.RECEPTION,
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            theme="接待群众",
            place="工作室",
        ),
        representatives=[Representative.objects.get(name="演示代表·陈明")],
    )
    cancel = reverse("duties:event_cancel", args=[event.pk])
    response = client_for(liaison).post(cancel, {"reason": _over(NOTE_MAX)})
    assert response.status_code == 400
    assert _message(NOTE_MAX) in text_of(response)
    event.refresh_from_db()
    assert event.state != EventState.CANCELLED and event.cancelled_reason == ""
    assert client_for(liaison).post(cancel, {"reason": "因" * NOTE_MAX}).status_code == 302
    event.refresh_from_db()
    assert event.state == EventState.CANCELLED and len(event.cancelled_reason) == NOTE_MAX


# --- an evaluation form -----------------------------------------------------------------


def _assessment_form(a: Any, **fields: Any) -> dict[str, Any]:
    from tests.evaluation.test_pages import _form

    return _form(a, **fields)


@pytest.mark.django_db
def test_an_assessment_with_a_pasted_reason_is_refused_and_unchanged(world: Any) -> None:
    round = open_round()
    a = assessment(round)
    client = client_for(user("shatoujiao"))
    data = _assessment_form(a, outcome="keep", outcome_reason=_over(ACCOUNT_MAX))
    response = client.post(a.get_absolute_url(), data)
    assert response.status_code == 400
    assert _message(ACCOUNT_MAX) in text_of(response)
    assert assessment(round).version == a.version
    data = _assessment_form(a, outcome="keep", outcome_reason="由" * ACCOUNT_MAX)
    assert client.post(a.get_absolute_url(), data).status_code == 302
    assert len(assessment(round).outcome_reason) == ACCOUNT_MAX


# --- what was saved before the caps --------------------------------------------------------


@pytest.mark.django_db
def test_a_case_longer_than_the_cap_from_before_still_shows(street_official: Any) -> None:
    case = register()
    long = "旧" * (DOCUMENT_MAX * 4)
    Case.objects.filter(pk=case.pk).update(content=long)
    response = client_for(street_official).get(case.get_absolute_url())
    assert response.status_code == 200
    assert long in text_of(response)
