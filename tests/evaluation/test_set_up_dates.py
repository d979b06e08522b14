"""A studio is judged from the day it was set up (Studio.judged_from): its 设立日期,
required for a new studio and offered as today, else (stored before it was required)
the day it was entered. Weeks and two-month windows before owe nothing, and a studio set
up in the last quarter of the evaluation's year gets no 通报批评 suggestion."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from minyi.duties.compliance import evaluate, make_rules
from minyi.duties.compliance_rules import Status
from minyi.evaluation import prefill
from minyi.evaluation.models import Criterion, StudioOutcome
from minyi.evaluation.outcomes import outcome_problem, set_up_late, suggested_outcome
from minyi.studios.models import Studio
from tests.core.helpers import client_for, post_data_from, text_of
from tests.evaluation.helpers import AS_OF, YEAR, assessment, open_round, scores
from tests.studios.factories import make_studio, studio_form_data

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 25)


def _entered_on(studio: Studio, day: date) -> None:
    created = timezone.make_aware(datetime(day.year, day.month, day.day, 10))
    Studio.objects.filter(pk=studio.pk).update(created_at=created)
    studio.refresh_from_db()


def _weeks(studio: Studio) -> list[Any]:
    rules = make_rules(date(2026, 1, 1), TODAY, TODAY)
    (row,) = evaluate(Studio.objects.filter(pk=studio.pk), rules).studios
    return [r for r in row.all_results if r.rule == "SM 10" and r.topic == "每周开放"]


# --- the form ---------------------------------------------------------------------------


def test_a_new_studio_is_offered_today_and_must_have_a_set_up_date(
    street_official: Any, world: Any
) -> None:
    client = client_for(street_official)
    form = post_data_from(client.get(reverse("studios:create")))
    assert form["established_on"] == timezone.localdate().isoformat()
    before = Studio.objects.count()
    data = studio_form_data(world["440308003003"], established_on=None)
    response = client.post(reverse("studios:create"), data)
    assert response.status_code == 400
    assert "设立日期：请填写设立日期" in text_of(response)
    assert Studio.objects.count() == before


def test_a_studio_stored_without_one_can_still_be_edited(street_official: Any, world: Any) -> None:
    studio = make_studio(world["440308003006"], established_on=None)
    client = client_for(street_official)
    url = reverse("studios:edit", args=[studio.pk])
    data = post_data_from(client.get(url))
    data["opening_hours"] = "每周二 9:00—12:00"
    assert client.post(url, data).status_code == 302
    studio.refresh_from_db()
    assert studio.opening_hours == "每周二 9:00—12:00" and studio.established_on is None


# --- compliance -------------------------------------------------------------------------


def test_a_studio_without_a_set_up_date_is_judged_from_the_day_it_was_entered(
    world: Any,
) -> None:
    studio = make_studio(world["440308003009"], established_on=None)
    _entered_on(studio, date(2026, 11, 2))  # a Monday
    weeks = _weeks(studio)
    # The weeks of 2 to 22 November passed without an opening; none before is owed.
    assert [r.status for r in weeks if r.status is Status.RED] == [Status.RED] * 3
    assert all(r.due >= date(2026, 11, 8) for r in weeks)


def test_a_studio_set_up_today_owes_no_week_of_the_year(world: Any) -> None:
    studio = make_studio(world["440308003009"], established_on=TODAY)
    assert not [r for r in _weeks(studio) if r.status is Status.RED]


# --- the year-end evaluation ----------------------------------------------------------


def test_the_last_quarter_is_too_late_to_be_judged() -> None:
    assert not set_up_late(date(2026, 9, 30), 2026)
    assert set_up_late(date(2026, 10, 1), 2026)
    assert set_up_late(date(2027, 1, 5), 2026)
    assert not set_up_late(None, 2026)
    low = [0, 5, 5, 5, 5]
    assert suggested_outcome(low) == StudioOutcome.CRITICISE
    assert suggested_outcome(low, late=True) == StudioOutcome.CORRECT
    # The assessors may still criticise, with a reason; 限期纠正 needs none for it.
    assert outcome_problem(StudioOutcome.CORRECT, low, "", late=True) is None
    assert outcome_problem(StudioOutcome.CRITICISE, low, "", late=True) is not None


def test_a_studio_set_up_late_in_the_year_gets_no_criticism_and_a_note(world: Any) -> None:
    studio = make_studio(
        world["440308003009"],
        established_on=date(YEAR, 11, 25),
        full_time_liaison=False,
        area_m2=None,
        has_plaque=False,
        has_desks=False,
        has_computer_network=False,
    )
    round = open_round()
    a = assessment(round, studio.name)
    assert a.suggested != StudioOutcome.CRITICISE  # type: ignore[attr-defined]
    note = "工作室于 2026-11-25 设立，距年底不足三个月"
    assert note in a.late_note  # type: ignore[attr-defined]
    management = scores(a)[Criterion.MANAGEMENT]
    assert any(note in line for line in management.evidence)
    # Only the six weeks from the one of 25 November (week 48) to the year's end.
    assert "未达标 6 项" in "".join(management.evidence), management.evidence
    # Only the November–December report is owed (due 10 January, before AS_OF).
    rules = scores(a)[Criterion.RULES]
    assert any("应报 1 期" in line for line in rules.evidence), rules.evidence
    page = client_for_city_text(a.pk)
    assert note in page


def client_for_city_text(pk: int) -> str:
    from minyi.people.models import User

    city = User.objects.get(username="city")
    return text_of(client_for(city).get(reverse("evaluation:assessment", args=[pk])))


def test_a_studio_set_up_mid_year_owes_the_reports_from_then(world: Any) -> None:
    studio = make_studio(world["440308003009"], established_on=date(YEAR, 6, 15))
    found = prefill.rules([studio.pk], YEAR, AS_OF, {studio.pk: studio.judged_from})
    text = "".join(found[studio.pk].evidence)
    # May–June (ends 30 June, after 15 June) to November–December: four reports.
    assert "应报 4 期" in text and "缺第 3、4、5、6 期" in text
    assert "工作室于 2026-06-15 设立" in text
