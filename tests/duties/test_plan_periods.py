"""An annual plan considers everyone with a period at its studio in its year (SM 10,
12.1): a past year's plan still lists those who were there then, one who left in March
is in that year's plan, one who comes next year is not yet; each owes the windows of
their period."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse

from minyi.core.forms import field_of
from minyi.duties import plans
from minyi.duties.forms_plans import SessionForm
from minyi.people.models import Representative
from minyi.studios.models import StudioAssignment
from tests.core.helpers import client_for, text_of
from tests.duties.test_plans import _draft, _studio

pytestmark = pytest.mark.django_db


def _left_in_march() -> Representative:
    """黄海, not working at the studio now, was there until 31 March 2026."""
    rep = Representative.objects.get(name="演示代表·黄海")
    assert not StudioAssignment.objects.filter(studio=_studio(), representative=rep).exists()
    StudioAssignment.objects.create(
        studio=_studio(),
        representative=rep,
        since=date(2025, 1, 1),
        active=False,
        until=date(2026, 3, 31),
    )
    return rep


def test_a_plan_lists_those_who_were_there_in_its_year(liaison: Any) -> None:
    rep = _left_in_march()
    plan = _draft(liaison, 2026)
    assert rep.pk in {a.representative_id for a in plans.assigned_for(_studio(), 2026)}
    assert rep.pk not in {a.representative_id for a in plans.assigned_for(_studio(), 2027)}
    # Owed January–February and March–April (the whole of March), not after.
    mine = [f.message for f in plans.shortfalls_of(plan) if f.representative == rep]
    assert mine == [
        "演示代表·黄海：1—2月没有安排到工作室活动。",
        "演示代表·黄海：3—4月没有安排到工作室活动。",
    ]
    # The plan's form offers them, once, and a session in their period is taken.
    offered_from = field_of(SessionForm(plan=plan), "representative", forms.ModelChoiceField)
    assert offered_from.queryset is not None
    offered = list(offered_from.queryset)
    assert offered.count(rep) == 1
    plans.plan_session_add(
        actor=liaison,
        plan=plan,
        representative=rep,
        date=date(2026, 2, 4),
        start=time(9),
        end=time(12),
    )
    # A session after they left is refused, with the reason, and nothing is saved.
    with pytest.raises(ValidationError) as exc:
        plans.plan_session_add(
            actor=liaison,
            plan=plan,
            representative=rep,
            date=date(2026, 6, 3),
            start=time(9),
            end=time(12),
        )
    assert exc.value.message_dict["date"] == [
        "演示代表·黄海该日不在本工作室进驻期间，不能安排其活动。"
    ]
    assert plan.sessions.filter(representative=rep).count() == 1


def test_a_plan_for_a_year_before_someone_came_leaves_them_out(liaison: Any) -> None:
    rep = _left_in_march()
    StudioAssignment.objects.create(studio=_studio(), representative=rep, since=date(2027, 9, 1))
    plan = _draft(liaison, 2025)
    newcomer = Representative.objects.get(name="演示代表·林秀英")
    StudioAssignment.objects.filter(studio=_studio(), representative=newcomer).update(
        since=date(2026, 5, 1)
    )
    assert newcomer.pk not in {a.representative_id for a in plans.assigned_for(_studio(), 2025)}
    assert rep.pk in {a.representative_id for a in plans.assigned_for(_studio(), 2025)}
    assert rep.pk in {a.representative_id for a in plans.assigned_for(_studio(), 2028)}
    with pytest.raises(ValidationError) as exc:
        plans.plan_session_add(
            actor=liaison,
            plan=plan,
            representative=newcomer,
            date=date(2025, 3, 4),
            start=time(9),
            end=time(12),
        )
    assert "2025年未进驻本工作室" in exc.value.message_dict["representative"][0]


def test_the_plan_list_counts_the_shortfalls_of_those_who_left(
    liaison: Any, city_official: Any
) -> None:
    _left_in_march()
    plan = _draft(liaison, 2026)
    expected = len(plans.shortfalls_of(plan))
    page = text_of(client_for(city_official).get(reverse("duties:plan_list"), {"year": 2026}))
    assert f"{expected} 项未达要求" in page
    detail = text_of(client_for(liaison).get(reverse("duties:plan_detail", args=[plan.pk])))
    assert "演示代表·黄海：3—4月没有安排到工作室活动。" in detail
