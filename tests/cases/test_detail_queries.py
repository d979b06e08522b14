"""The case page reads the case once and its timeline in a fixed number of queries,
however long the timeline (issue 8: the scope was asked again for each check)."""

from __future__ import annotations

import re
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
    # No read of the accounts table of its own: the case's registering user comes
    # joined to the case (it was a query of its own per page), and the session's
    # account is kept in the cache since the warming view (minyi.core.account_cache).
    assert _user_reads(few.captured_queries) == []
    for i in range(10):
        case = services.case_note(
            case=Case.objects.get(pk=case.pk), actor=_user("liaison"), text=f"备注{i}"
        )
    with django_assert_num_queries(len(few)):
        assert client.get(case.get_absolute_url()).status_code == 200


def test_the_case_comes_with_the_names_it_prints_and_nothing_else_of_its_rows(
    world: Any,
) -> None:
    """Issue 8: the case's related rows came whole (some 140 columns of nine rows), to
    print a few names; compiling and building them cost more than the database took."""
    urban = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
    case = register(about_unit=urban)
    case = services.case_send_to_street(case=case, actor=_user("liaison"))
    case = services.case_refer(case=case, actor=_user("shatoujiao"), handling_unit=urban)
    client = client_for(_user("shatoujiao"))
    client.get(case.get_absolute_url())  # warm the session
    with CaptureQueriesContext(connection) as read:
        page = client.get(case.get_absolute_url())
    assert page.status_code == 200
    (sql,) = _case_reads(read.captured_queries)
    selected = sql.split(" FROM ")[0]
    related = sorted(
        column
        for table, column in re.findall(r'"(\w+)"\."(\w+)"', selected)
        if table != "cases_case"
    )
    # The studio's name, its unit's street and that street's name; the holding
    # department's name and unit; the handling unit's and the unit reported on's names;
    # three accounts' names (registered, confirmed by the representative's and the
    # reporter's side). Each row also brings its id.
    assert related == sorted(
        ["id", "name", "unit_id"]
        + ["id", "street_id"]
        + ["id", "name"]
        + ["id", "name", "unit_id"]
        + ["id", "name"] * 2
        + ["id", "full_name", "username"] * 3
    ), related
    # None of the page's queries reads an account whole (the session's own is kept in
    # the cache since the warming view).
    assert [q for q in read.captured_queries if '"password"' in q["sql"]] == []
    text = page.content.decode()
    assert "沙头角街道城市管理办公室" in text and "所反映的单位" in text


def test_a_case_not_yet_answered_asks_for_no_evaluations(world: Any) -> None:
    """An evaluation rates an answer: the page of a case without one does not ask."""
    case = services.case_send_to_street(case=register(), actor=_user("liaison"))
    client = client_for(_user("shatoujiao"))
    client.get(case.get_absolute_url())  # warm the session
    with CaptureQueriesContext(connection) as read:
        assert client.get(case.get_absolute_url()).status_code == 200
    assert not [q for q in read.captured_queries if '"cases_evaluation"' in q["sql"]]
    urban = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
    case = services.case_refer(case=case, actor=_user("shatoujiao"), handling_unit=urban)
    services.case_answer(case=case, actor=_user("unit"), text="已处理。")
    services.case_evaluate(
        case=case,
        actor=_user("shatoujiao"),
        rating="satisfied",
        reporter_confirmed=True,
        representative_confirmed=True,
        street_head_confirmed=True,
    )
    page = client.get(case.get_absolute_url())
    assert [e.rating for e in page.context["evaluations"]] == ["satisfied"]
    assert "满意度评议" in page.content.decode()
