"""The case page reads the case once and its timeline in a fixed number of queries,
however long the timeline (issue 8: the scope was asked again for each check)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from minyi.cases import services
from minyi.cases.models import Case
from minyi.org.models import HandlingUnit
from minyi.people.models import User
from tests.cases.helpers import register
from tests.core.helpers import client_for

pytestmark = pytest.mark.django_db


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _case_reads(queries: list[dict[str, Any]]) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "cases_case"' in q["sql"]]


def _user_reads(queries: list[dict[str, Any]]) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "people_user"' in q["sql"]]


@pytest.mark.parametrize("persona", ["liaison", "shatoujiao", "unit", "rep"])
def test_the_case_is_read_once_and_the_timeline_in_fixed_queries(
    world: Any, persona: str, django_assert_num_queries: Any
) -> None:
    case = register()
    case = services.case_send_to_street(case=case, actor=_user("liaison"))
    urban = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
    case = services.case_refer(case=case, actor=_user("shatoujiao"), handling_unit=urban)
    client = client_for(_user(persona))
    client.get(case.get_absolute_url())  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(case.get_absolute_url()).status_code == 200
    assert len(_case_reads(few.captured_queries)) == 1, _case_reads(few.captured_queries)
    # The only read of the accounts table of its own is the session's user: the case's
    # registering user comes joined to the case (it was a query of its own per page).
    assert len(_user_reads(few.captured_queries)) == 1, _user_reads(few.captured_queries)
    for i in range(10):
        case = services.case_note(
            case=Case.objects.get(pk=case.pk), actor=_user("liaison"), text=f"备注{i}"
        )
    with django_assert_num_queries(len(few)):
        assert client.get(case.get_absolute_url()).status_code == 200
