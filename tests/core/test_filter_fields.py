"""core/filters.html's fields, written by the filter_fields filter, are the markup the
template loop wrote (kept in tests/core/filters_template.html), for every kind of
filter form, blank, filled in and with errors. Whitespace between tags is compared
as one space, as a browser lays it out."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.template import engines

from minyi.audit.forms import AuditFilterForm
from minyi.cases.forms import CaseFilterForm, LedgerFilterForm
from minyi.duties.forms_events import EventFilterForm
from minyi.org.forms import OrgUnitFilterForm
from minyi.people.forms import RepresentativeFilterForm
from minyi.people.models import User
from minyi.studios.forms import StudioFilterForm

pytestmark = pytest.mark.django_db

ORACLE = (Path(__file__).parent / "filters_template.html").read_text()


def _html(source: str, form: Any) -> str:
    rendered = engines["django"].from_string(source).render({"form": form})
    return re.sub(r"\s+", " ", rendered).replace("> <", "><").strip()


def _new(form: Any) -> str:
    return _html("{% include 'core/filters.html' %}", form)


def _old(form: Any) -> str:
    return _html(ORACLE, form)


@pytest.mark.parametrize("username", ["shatoujiao", "liaison", "unit", "city"])
@pytest.mark.parametrize(
    "data",
    [
        None,
        {"q": "井盖<b>", "state": "closed", "overdue": "on", "year": "2026"},
        {"date_from": "2026-02-30", "year": "1999", "state": "nonsense"},  # errors
    ],
)
def test_case_and_ledger_filters(world: Any, username: str, data: dict[str, str] | None) -> None:
    user = User.objects.get(username=username)
    for form_class in (CaseFilterForm, LedgerFilterForm):
        form = form_class(data, user=user)
        form.is_valid()
        assert _new(form) == _old(form)


@pytest.mark.parametrize(
    "form_class",
    [EventFilterForm, OrgUnitFilterForm, RepresentativeFilterForm, StudioFilterForm],
)
def test_other_lists_filters(world: Any, form_class: type) -> None:
    user = User.objects.get(username="yantian")
    for data in (None, {"q": "'引号' & <标签>", "date_from": "not a date"}):
        form = form_class(data, user=user)
        form.is_valid()
        assert _new(form) == _old(form)


def test_the_audit_filter_a_plain_form(world: Any) -> None:
    form = AuditFilterForm({"ip": "999.1.1.1", "actor": "<admin>"})
    form.is_valid()
    new = _new(form)
    assert new == _old(form)
    assert "&lt;admin&gt;" in new and 'class="errorlist"' in new
