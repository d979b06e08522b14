"""Each role's start page asks the same number of queries however much its scope holds
(non-negotiable 6): its counts are aggregates and its studios one prefetched read, so
more cases in more states, answers awaiting rating, plans awaiting approval and
studios add rows to count, not queries."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from minyi.cases import services
from minyi.duties import plans
from minyi.org.models import HandlingUnit
from minyi.people.models import User
from minyi.studios.models import Studio
from tests.cases.helpers import register
from tests.core.helpers import client_for

pytestmark = pytest.mark.django_db


def _user(name: str) -> User:
    return User.objects.get(username=name)


def _queries(user: User) -> int:
    client = client_for(user)
    client.get("/")  # the session and the kept counts warm
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    return len(queries)


def _more(n: int, year: int) -> None:
    """n cases in each open state and answered (awaiting the street's rating), a plan
    sent for approval, n studios of the street."""
    unit = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
    for i in range(n):
        register(summary=f"待报送{i}")
        sent = services.case_send_to_street(case=register(), actor=_user("liaison"))
        referred = services.case_refer(case=sent, actor=_user("shatoujiao"), handling_unit=unit)
        if i % 2:
            services.case_answer(case=referred, actor=_user("unit"), text="已处理。")
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    plan = plans.plan_create(
        actor=_user("liaison"),
        studio=studio,
        year=year,
        opening_weekday=2,
        opening_start=time(9),
        opening_end=time(12),
    )
    plans.plan_submit(actor=_user("liaison"), plan=plan)
    street = studio.unit.parent
    assert street is not None
    for i in range(n):
        Studio.objects.create(
            name=f"机关党代表工作室{year}-{i}",
            kind="agency",
            unit=street,
            host_organisation="机关党委",
        )


@pytest.mark.parametrize("persona", ["city", "yantian", "shatoujiao", "liaison", "rep", "unit"])
def test_the_start_page_asks_a_fixed_number_of_queries(world: Any, persona: str) -> None:
    user = _user(persona)
    _more(1, 2030)
    few = _queries(user)
    _more(4, 2031)
    assert _queries(user) == few
