"""The plan's 加入计划 sent twice (a double click, a resend) adds one session: the
form's one-time key (minyi.core.once, docs/decisions.md "A form sent twice")."""

from __future__ import annotations

from datetime import time
from typing import Any
from uuid import uuid4

import pytest
from django.urls import reverse

from minyi.duties import plans
from minyi.duties.models import AnnualPlan, PlannedSession
from minyi.people.models import Representative
from minyi.studios.models import Studio
from tests.core.helpers import client_for, text_of


def _plan(liaison: Any, year: int = 2027) -> AnnualPlan:
    return plans.plan_create(
        actor=liaison,
        studio=Studio.objects.get(name="沙头角社区党代表工作室"),
        year=year,
        opening_weekday=2,
        opening_start=time(9),
        opening_end=time(12),
    )


def _session(year: int = 2027, **overrides: Any) -> dict[str, Any]:
    data = {
        "representative": Representative.objects.get(name="演示代表·陈明").pk,
        "date": f"{year}-05-08",
        "start": "09:00",
        "end": "12:00",
        "kind": "reception",
        "theme": "听取意见",
        "submission_key": str(uuid4()),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _add(client: Any, plan: AnnualPlan, data: dict[str, Any], htmx: bool = True) -> Any:
    url = reverse("duties:plan_session_add", args=[plan.pk])
    if htmx:
        return client.post(url, data, HTTP_HX_REQUEST="true")
    return client.post(url, data, follow=True)


@pytest.mark.django_db
@pytest.mark.parametrize("htmx", [True, False])
def test_the_session_form_sent_twice_adds_one_session(liaison: Any, htmx: bool) -> None:
    client, plan, data = client_for(liaison), _plan(liaison), _session()
    assert _add(client, plan, data, htmx).status_code == 200
    again = _add(client, plan, data, htmx)
    assert again.status_code == 200
    assert "这项安排已经加入计划，没有重复加入" in text_of(again)
    assert plan.sessions.count() == 1
    # The form shown after the session was added carries a fresh key: a next session.
    assert data["submission_key"] not in text_of(again)
    assert 'name="submission_key"' in text_of(again)


@pytest.mark.django_db
@pytest.mark.parametrize("key", [None, "bad"])
def test_a_session_posted_without_a_good_key_is_an_expired_page(
    liaison: Any, key: str | None
) -> None:
    plan = _plan(liaison)
    response = _add(client_for(liaison), plan, _session(submission_key=key, theme="社区议事"))
    assert response.status_code == 400
    page = text_of(response)
    assert "页面已过期，请核对后重新提交" in page and "社区议事" in page
    assert 'name="submission_key"' in page
    assert not PlannedSession.objects.exists()


@pytest.mark.django_db
def test_a_refused_session_keeps_its_key_and_then_adds_once(liaison: Any) -> None:
    client, plan, data = client_for(liaison), _plan(liaison), _session()
    refused = _add(client, plan, data | {"end": "08:00"})
    assert refused.status_code == 400
    assert data["submission_key"] in text_of(refused)  # kept by the refused form
    assert _add(client, plan, data).status_code == 200
    assert plan.sessions.count() == 1


@pytest.mark.django_db
def test_a_key_spent_on_another_plan_is_an_expired_page(liaison: Any) -> None:
    client, data = client_for(liaison), _session()
    first, other = _plan(liaison), _plan(liaison, 2028)
    assert _add(client, first, data).status_code == 200
    response = _add(client, other, data | {"date": "2028-05-08"})
    assert response.status_code == 400
    page = text_of(response)
    assert "页面已过期，请核对后重新提交" in page and "2027-05-08" not in page
    assert not other.sessions.exists() and first.sessions.count() == 1
