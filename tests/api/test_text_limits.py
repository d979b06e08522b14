"""Free text over the API is capped as on the pages (minyi.core.text_limits): over the
cap is a 422 in the usual Chinese shape naming the field and the limit, with nothing
saved; at the cap it is saved; the OpenAPI document shows each cap."""

from __future__ import annotations

from typing import Any

import pytest

from minyi.cases.models import Case
from minyi.core.text_limits import ACCOUNT_MAX, DOCUMENT_MAX, NOTE_MAX
from tests.api.test_api import _assert_error, _body
from tests.cases.helpers import register

pytestmark = pytest.mark.django_db


def test_a_case_whose_content_is_over_its_cap_is_refused_and_not_registered(api: Any) -> None:
    response = api("liaison").post("/cases", _body(content="长" * (DOCUMENT_MAX + 1)))
    data = _assert_error(response, 422)
    assert data["code"] == "invalid"
    assert data["message"] == f"字段 content 最多只能填 {DOCUMENT_MAX} 个字，请删减后再提交。"
    assert data["fields"] == {"content": [f"最多只能填 {DOCUMENT_MAX} 个字，请删减后再提交。"]}
    assert not Case.objects.exists()


def test_a_case_whose_content_is_at_its_cap_is_registered(api: Any) -> None:
    response = api("liaison").post("/cases", _body(content="长" * DOCUMENT_MAX))
    assert response.status_code == 201, response.content
    assert len(Case.objects.get().content) == DOCUMENT_MAX


def test_a_step_note_over_its_cap_is_refused_and_at_it_saved(api: Any) -> None:
    case = register()
    client = api("liaison")
    over = client.post(f"/cases/{case.pk}/note", {"text": "备" * (NOTE_MAX + 1)})
    data = _assert_error(over, 422)
    assert "text" in data["fields"] and str(NOTE_MAX) in data["message"]
    assert case.steps.count() == 1
    response = client.post(f"/cases/{case.pk}/note", {"text": "备" * NOTE_MAX})
    assert response.status_code == 200, response.content
    assert case.steps.count() == 2


def test_the_form_behind_the_api_names_the_field_too(api: Any) -> None:
    """The schema refuses first; were it to let text through, the page's form would
    refuse it with the field's label (minyi.api.common.form_error)."""
    from django import forms

    from minyi.api.common import form_error

    class Form(forms.Form):
        minutes = forms.CharField(label="协商纪要", max_length=5)

    form = Form({"minutes": "纪" * 6})
    assert not form.is_valid()
    error = form_error(form)
    assert error.status == 422
    assert error.message == (
        "“协商纪要”（minutes）最多只能填 5 个字，现在是 6 个字，请删减后再提交。"
    )


def test_the_openapi_document_shows_the_caps(api: Any) -> None:
    schemas = api("liaison").get("/openapi.json").json()["components"]["schemas"]
    assert schemas["CaseIn"]["properties"]["content"]["maxLength"] == DOCUMENT_MAX
    assert schemas["CaseIn"]["properties"]["spot_answer"]["maxLength"] == ACCOUNT_MAX
    assert schemas["ConsultIn"]["properties"]["minutes"]["maxLength"] == DOCUMENT_MAX
    assert schemas["NoteIn"]["properties"]["text"]["maxLength"] == NOTE_MAX
