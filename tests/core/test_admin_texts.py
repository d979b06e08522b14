"""The Django admin holds text to the same caps as the pages (minyi.core.text_limits): text
over a field's cap comes back with the Chinese message beside the field and nothing saved,
one form per kind of text (a note in an inline, an account, a report, a one-line field),
and a text at its cap posted with the browser's CR LF line breaks is saved with LF
(minyi.core.admin.AdminTextarea). tests/core/test_line_breaks.py checks every admin's
textarea; tests/browser/test_admin_accessibility.py the pages under axe and the keyboard."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import models
from django.urls import reverse

from minyi.core.admin import AdminTextarea
from minyi.core.text_limits import ACCOUNT_MAX, NOTE_MAX, REPORT_MAX
from minyi.evaluation.models import Circular, CriterionScore
from minyi.org.models import HandlingUnit
from tests.core.helpers import client_for, post_data_from, text_of
from tests.evaluation.helpers import open_round

pytestmark = pytest.mark.django_db

UNIT = "沙头角街道城市管理办公室"


def _message(limit: int) -> str:
    return f"最多只能填 {limit} 个字，现在是 {limit + 1} 个字，请删减后再提交。"


@pytest.fixture
def admin_client(world: Any, django_user_model: Any) -> Any:
    return client_for(
        django_user_model.objects.create(username="text-admin", is_staff=True, is_superuser=True)
    )


def _with_inlines(response: Any) -> dict[str, Any]:
    """post_data_from, and the inlines' forms as the page holds them (management form
    included)."""
    data = post_data_from(response)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for form in formset.forms:
            for name in form.fields:
                value = form[name].value()
                if value is not None and name not in inline.readonly_fields:
                    data[form.add_prefix(name)] = str(value)
    return data


def _refused(response: Any, limit: int) -> None:
    assert response.status_code == 200  # the admin gives its form back with the errors
    page = text_of(response)
    assert "请更正以下错误。" in page
    assert _message(limit) in page


def test_an_account_over_its_cap_is_refused_and_the_unit_unchanged(admin_client: Any) -> None:
    unit = HandlingUnit.objects.get(name=UNIT)
    url = reverse("admin:org_handlingunit_change", args=[unit.pk])
    form = admin_client.get(url)
    assert f'maxlength="{ACCOUNT_MAX}"' in text_of(form)
    data = post_data_from(form)
    _refused(admin_client.post(url, {**data, "remit": "责" * (ACCOUNT_MAX + 1)}), ACCOUNT_MAX)
    assert HandlingUnit.objects.get(pk=unit.pk).remit == unit.remit


def test_a_one_line_field_over_its_cap_is_refused(admin_client: Any) -> None:
    unit = HandlingUnit.objects.get(name=UNIT)
    url = reverse("admin:org_handlingunit_change", args=[unit.pk])
    data = post_data_from(admin_client.get(url))
    _refused(admin_client.post(url, {**data, "name": "名" * 101}), 100)
    assert HandlingUnit.objects.get(pk=unit.pk).name == UNIT


def test_an_account_at_its_cap_with_crlf_line_breaks_is_saved_with_lf(admin_client: Any) -> None:
    unit = HandlingUnit.objects.get(name=UNIT)
    url = reverse("admin:org_handlingunit_change", args=[unit.pk])
    data = post_data_from(admin_client.get(url))
    text = "\n".join(["责" * 99] * 20)  # 1,999 characters, LF counted as one
    text += "尾" * (ACCOUNT_MAX - len(text))
    sent = text.replace("\n", "\r\n")  # as the browser posts it: 19 more
    assert admin_client.post(url, {**data, "remit": sent}).status_code == 302
    assert HandlingUnit.objects.get(pk=unit.pk).remit == text


def test_a_report_over_its_cap_is_refused_and_nothing_added(admin_client: Any) -> None:
    round_ = open_round()
    url = reverse("admin:evaluation_circular_add")
    data = {"round": round_.pk, "title": "年度通报", "body": "正" * (REPORT_MAX + 1)}
    _refused(admin_client.post(url, data), REPORT_MAX)
    assert not Circular.objects.exists()
    data["body"] = "正" * REPORT_MAX
    assert admin_client.post(url, data).status_code == 302
    assert len(Circular.objects.get().body) == REPORT_MAX


def test_a_note_in_an_inline_over_its_cap_is_refused_and_the_score_unchanged(
    admin_client: Any,
) -> None:
    round_ = open_round()
    score = CriterionScore.objects.filter(assessment__round=round_).first()
    assert score is not None
    url = reverse("admin:evaluation_studioassessment_change", args=[score.assessment_id])
    data = _with_inlines(admin_client.get(url))
    prefix = next(k for k, v in data.items() if k.endswith("-id") and v == str(score.pk))
    prefix = prefix.removesuffix("-id")
    data |= {f"{prefix}-adjusted_score": "3", f"{prefix}-reason": "由" * (NOTE_MAX + 1)}
    _refused(admin_client.post(url, data), NOTE_MAX)
    score.refresh_from_db()
    assert score.adjusted_score is None and score.reason == ""


def test_the_admin_textarea_keeps_the_admin_look() -> None:
    widget = AdminTextarea()
    assert widget.attrs["class"] == "vLargeTextField"
    assert widget.value_from_datadict({"t": "a\r\nb\rc"}, {}, "t") == "a\nb\nc"
    field = models.TextField("说明", max_length=NOTE_MAX).formfield(widget=AdminTextarea)
    assert field is not None and field.widget.attrs["maxlength"] == str(NOTE_MAX)
