"""A textarea's line breaks: the browser counts one for `maxlength` and sends two (CR LF),
so submitted text is read with LF before its cap is checked (minyi.core.widgets.Textarea,
docs/decisions.md "Free text: a size for each kind")."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from django import forms
from django.contrib import admin
from django.db import models
from django.test import RequestFactory
from django.urls import reverse

import minyi
from minyi.cases.models import Case, CaseStep
from minyi.core.admin import ModelAdmin, StackedInline
from minyi.core.text_limits import DOCUMENT_MAX, NOTE_MAX
from minyi.core.widgets import Textarea
from minyi.people.models import User
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
            # The admin's forms are built by its ModelAdmins: the tests below.
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


# --- the Django admin ---------------------------------------------------------------------


def _superuser_request() -> Any:
    request = RequestFactory().get("/admin/")
    request.user = User(username="root", is_active=True, is_staff=True, is_superuser=True)
    return request


def _admins() -> list[tuple[str, Any]]:
    """Every registered ModelAdmin and each of its inlines, by name."""
    request = _superuser_request()
    found: list[tuple[str, Any]] = []
    for model, model_admin in admin.site._registry.items():
        found.append((model._meta.label, model_admin))
        found.extend(
            (f"{model._meta.label} {type(inline).__name__}", inline)
            for inline in model_admin.get_inline_instances(request)
        )
    return found


def test_every_admin_of_ours_gives_a_text_field_our_textarea() -> None:
    """minyi.core.admin's ModelAdmin and inline (their widgets): an admin that derives
    from Django's own (or registers a model without an admin class) fails here, whether or
    not its model has a TextField today."""
    request = _superuser_request()
    text = models.TextField("说明", max_length=NOTE_MAX)
    ours = [(n, a) for n, a in _admins() if a.model.__module__.startswith("minyi.")]
    assert len(ours) > 15
    bypassing = [
        name
        for name, model_admin in ours
        if not isinstance(model_admin, ModelAdmin | StackedInline)
        or not isinstance(
            getattr(model_admin.formfield_for_dbfield(text, request), "widget", None), Textarea
        )
    ]
    assert not bypassing


def test_every_admin_form_reads_lf_line_breaks() -> None:
    """The forms as the admin builds them, the add and the change form (Django's UserAdmin
    has one of each) and each inline's, Django's and other apps' admins included."""
    request = _superuser_request()
    django_own = []
    shown: set[str] = set()
    for name, model_admin in _admins():
        for obj in (None, model_admin.model()):
            if isinstance(model_admin, admin.options.InlineModelAdmin):
                form = model_admin.get_formset(request, obj).form
            else:
                form = model_admin.get_form(request, obj)
            for field_name, field in form.base_fields.items():
                # A JSON document (a circular's snapshot) has no cap, and a line break
                # is only whitespace to it.
                if isinstance(field.widget, forms.Textarea) and not isinstance(
                    field, forms.JSONField
                ):
                    shown.add(f"{name}.{field_name}")
                    if not isinstance(field.widget, Textarea):
                        django_own.append(f"{name}.{field_name}")
    # The evaluation's texts, a handling unit's remit, the calendar's source.
    assert len(shown) >= 5, shown
    assert not django_own
