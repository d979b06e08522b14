"""A date in an edit form must reach the browser as YYYY-MM-DD: `<input type="date">`
drops any other value, so a zh-hans date (2026/03/04) showed an empty field, and saving
the page cleared the studio's founding date or refused the visit (its date required)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from minyi.audit.forms import AuditFilterForm
from minyi.core.widgets import DayInput
from minyi.duties.visits import household_visit_record
from minyi.people.models import Representative
from minyi.studios.models import Studio
from tests.core.helpers import client_for


def day_value(html: str, name: str) -> str:
    tag = re.search(rf'<input type="date" name="{name}"[^>]*>', html)
    assert tag, f"no date input named {name}"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


def test_the_widget_writes_the_iso_day_whatever_the_language() -> None:
    with translation.override("zh-hans"):
        assert 'value="2026-03-04"' in DayInput().render("d", date(2026, 3, 4))


def test_the_studio_edit_page_keeps_its_founding_date(world: Any, street_official: Any) -> None:
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    studio.established_on = date(2012, 7, 1)
    studio.save()
    page = client_for(street_official).get(reverse("studios:edit", args=[studio.pk]))
    assert day_value(page.content.decode(), "established_on") == "2012-07-01"


def test_the_visit_edit_page_keeps_the_visit_date(world: Any, representative: Any) -> None:
    rep = Representative.objects.get(user=representative)
    community = rep.linked_communities.first()
    assert community is not None
    visit = household_visit_record(
        actor=representative,
        representative=rep,
        community=community,
        visited_on=date(2026, 3, 4),
        household="演示·王先生家",
        address="沙头角演示小区 1 栋",
        notes="",
    )
    page = client_for(representative).get(reverse("duties:visit_edit", args=[visit.pk]))
    assert day_value(page.content.decode(), "visited_on") == "2026-03-04"


@pytest.mark.parametrize("field", ["since", "until"])
def test_the_audit_filter_writes_an_initial_day_as_iso(field: str) -> None:
    form = AuditFilterForm(initial={field: date(2026, 1, 2)})
    assert day_value(str(form[field]), field) == "2026-01-02"
