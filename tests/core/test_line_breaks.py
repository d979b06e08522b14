"""A textarea's line breaks: the browser counts one for `maxlength` and sends two (CR LF),
so submitted text is read with LF before its cap is checked (minyi.core.widgets.Textarea,
docs/decisions.md "Free text: a size for each kind")."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from django import forms
from django.urls import reverse

import minyi
from minyi.cases.models import Case, CaseStep
from minyi.core.text_limits import DOCUMENT_MAX, NOTE_MAX
from minyi.core.widgets import Textarea
from tests.cases.helpers import register
from tests.cases.test_pages import form_data
from tests.core.helpers import client_for, text_of


def _lines(length: int, breaks: int) -> str:
    """A text of `length` characters, LF counted as one, with `breaks` line breaks."""
    line = (length - breaks) // (breaks + 1)
    text = "\n".join(["字" * line] * (breaks + 1))
    return text + "尾" * (length - len(text))


def _crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def test_the_helper_makes_a_text_of_the_length_asked() -> None:
    text = _lines(NOTE_MAX, 40)
    assert len(text) == NOTE_MAX and text.count("\n") == 40
    assert len(_crlf(text)) == NOTE_MAX + 40  # what the browser sends


@pytest.mark.django_db
def test_a_note_at_its_cap_with_crlf_line_breaks_is_saved_with_lf(liaison: Any) -> None:
    case = register()
    note = reverse("cases:note", args=[case.pk])
    text = _lines(NOTE_MAX, 40)
    response = client_for(liaison).post(note, {"version": case.version, "text": _crlf(text)})
    assert response.status_code == 302
    assert CaseStep.objects.get(case=case, text__startswith="字").text == text


@pytest.mark.django_db
def test_a_note_one_over_its_cap_is_still_refused(liaison: Any) -> None:
    case = register()
    note = reverse("cases:note", args=[case.pk])
    text = _crlf(_lines(NOTE_MAX + 1, 40))
    response = client_for(liaison).post(note, {"version": case.version, "text": text})
    assert response.status_code == 400
    assert f"最多只能填 {NOTE_MAX} 个字，现在是 {NOTE_MAX + 1} 个字" in text_of(response)
    assert case.steps.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_the_registration_content_at_its_cap_is_saved_with_lf(liaison: Any, newline: str) -> None:
    text = _lines(DOCUMENT_MAX, 200)
    response = client_for(liaison).post(
        reverse("cases:create"), form_data(content=text.replace("\n", newline))
    )
    assert response.status_code == 302
    assert Case.objects.get().content == text
    response = client_for(liaison).post(
        reverse("cases:create"), form_data(content=_crlf(_lines(DOCUMENT_MAX + 1, 200)))
    )
    assert response.status_code == 400
    assert Case.objects.count() == 1


def _form_classes() -> list[Any]:
    for module in pkgutil.walk_packages(minyi.__path__, "minyi."):
        if "forms" in module.name.rsplit(".", 1)[-1]:
            importlib.import_module(module.name)
    found: list[Any] = []
    todo: list[Any] = [forms.BaseForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            # The admin has its own textarea widgets, for the few administrators.
            if sub.__module__.startswith("minyi.") and ".admin" not in sub.__module__:
                found.append(sub)
    return found


def test_every_textarea_of_every_form_reads_lf_line_breaks() -> None:
    classes = _form_classes()
    assert len(classes) > 20
    django_own = [
        f"{form.__module__}.{form.__qualname__}.{name}"
        for form in classes
        for name, field in form.base_fields.items()
        if isinstance(field.widget, forms.Textarea) and not isinstance(field.widget, Textarea)
    ]
    assert not django_own
