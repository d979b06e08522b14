"""Who rates an answer (CM 12): the street organisation department of the case's studio,
with the representative and the reporter, whoever holds the case; the department holding
it only where the studio has no street (docs/decisions.md, "The street department rates
an answer"). The page and the API offer and refuse the same."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from minyi.cases import services
from minyi.cases.access import permitted_actions
from minyi.cases.models import Case, Evaluation
from minyi.cases.states import Action, CaseState
from minyi.org.models import HandlingUnit, OrgUnit
from minyi.people.models import Representative, User
from minyi.studios.models import Studio
from tests.api.conftest import api_for
from tests.cases.helpers import register, reporter_data
from tests.core.helpers import client_for, text_of

pytestmark = pytest.mark.django_db

RATING = {Action.EVALUATE, Action.REOPEN}
RATES_HERE = "满意度评议由沙头角街道组织部门会同党代表和反映人评定等级并登记在册"
SATISFIED = {
    "rating": "satisfied",
    "reporter_confirmed": "on",
    "representative_confirmed": "on",
    "street_head_confirmed": "on",
}


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _studio_at(code: str) -> Studio:
    """A studio whose unit is not a community: a street's or a district's own."""
    return Studio.objects.create(
        name="机关党代表工作室",
        kind="agency",
        unit=OrgUnit.objects.get(code=code),
        host_organisation="机关党委",
    )


def _register_at(studio: Studio) -> Case:
    return services.case_register(
        actor=_user("admin"),
        studio=studio,
        representative=Representative.objects.get(name="演示代表·陈明"),
        data=reporter_data(),
    )


def _answered_by_the_district(case: Case) -> Case:
    """Escalated to 盐田区 (if the street holds it), referred by 盐田区 to its housing
    bureau, which answers: 盐田区's department holds the answered case."""
    if case.holder_level == "street":
        case = services.case_escalate(case=case, actor=_user("admin"), reason="涉及区住建部门")
    housing = HandlingUnit.objects.get(name="盐田区住房和建设局")
    case = services.case_refer(case=case, actor=_user("yantian"), handling_unit=housing)
    services.case_answer(case=case, actor=_user("housing"), text="已责令工地整改。")
    case = Case.objects.get(pk=case.pk)
    held = case.holder_department.unit.code if case.holder_department else None
    assert (case.state, held) == (CaseState.ANSWERED, "440308")
    return case


def _page(username: str, case: Case) -> Any:
    response = client_for(_user(username)).get(case.get_absolute_url())
    assert response.status_code == 200
    return response


def _evaluate(username: str, case: Case, data: dict[str, str]) -> Any:
    return client_for(_user(username)).post(
        reverse("cases:evaluate", args=[case.pk]), {"version": case.version, **data}
    )


def test_an_escalated_case_is_rated_by_its_street_not_by_the_district_holding_it(
    world: Any,
) -> None:
    """盐田区 holds the answered case and may still urge, consult and note on it, but
    the rating is 沙头角街道's: the district is refused (404, as a step its role never
    takes, on the page and the API) and told on the page who rates; the street rates."""
    case = services.case_send_to_street(case=register(), actor=_user("liaison"))
    case = _answered_by_the_district(case)
    yantian = _user("yantian")
    assert not RATING & permitted_actions(yantian, case)
    assert not RATING & permitted_actions(_user("city"), case)
    page = _page("yantian", case)
    assert "evaluate" not in page.context["step_forms"]
    assert "consult" in page.context["step_forms"]  # still the holder
    assert RATES_HERE in text_of(page)
    assert "evaluate" not in api_for("yantian").get(f"/cases/{case.pk}").json()["permitted_actions"]
    assert _evaluate("yantian", case, SATISFIED).status_code == 404
    refused = api_for("yantian").post(
        f"/cases/{case.pk}/evaluate", {"rating": "satisfied", "reporter_confirmed": True}
    )
    assert refused.status_code == 404
    assert Case.objects.get(pk=case.pk).state == CaseState.ANSWERED
    assert not Evaluation.objects.filter(case=case).exists()

    # 沙头角街道 rates, though it no longer holds the case: 不满意 sends it back to the
    # housing bureau (the district still holds it), and the second answer is rated 满意.
    assert permitted_actions(_user("shatoujiao"), case) >= RATING
    page = _page("shatoujiao", case)
    assert "reopen" in page.context["step_forms"]["evaluate"].fields
    assert RATES_HERE not in text_of(page)
    assert "evaluate" in api_for("shatoujiao").get(f"/cases/{case.pk}").json()["permitted_actions"]
    response = _evaluate("shatoujiao", case, {"rating": "dissatisfied", "reopen": "on"})
    assert response.status_code == 302
    case = Case.objects.get(pk=case.pk)
    assert case.state == CaseState.WITH_UNIT
    assert case.handling_unit == HandlingUnit.objects.get(name="盐田区住房和建设局")
    services.case_answer(case=case, actor=_user("housing"), text="已停工整改。")
    rated = api_for("shatoujiao").post(
        f"/cases/{case.pk}/evaluate", {"rating": "satisfied", "reporter_confirmed": True}
    )
    assert rated.status_code == 200, rated.content.decode()
    assert rated.json()["state"] == "closed"
    assert list(
        Evaluation.objects.filter(case=case).order_by("round").values_list("rated_by__username")
    ) == [("shatoujiao",), ("shatoujiao",)]


def test_a_street_studio_s_case_is_rated_by_its_own_street(world: Any) -> None:
    """A studio whose unit is the street itself has no street above it: its street's
    department is that unit's, which sends its case on and rates it while the
    district holds it (the check read the unit's street, empty here)."""
    case = _register_at(_studio_at("440308003"))
    shatoujiao = _user("shatoujiao")
    assert Action.SEND_TO_STREET in permitted_actions(shatoujiao, case)
    response = client_for(shatoujiao).post(
        reverse("cases:send", args=[case.pk]), {"version": case.version}
    )
    assert response.status_code == 302
    case = _answered_by_the_district(Case.objects.get(pk=case.pk))
    assert permitted_actions(shatoujiao, case) >= RATING
    assert not RATING & permitted_actions(_user("yantian"), case)
    assert RATES_HERE in text_of(_page("yantian", case))
    assert _evaluate("yantian", case, SATISFIED).status_code == 404
    assert _evaluate("shatoujiao", case, SATISFIED).status_code == 302
    assert Case.objects.get(pk=case.pk).state == CaseState.CLOSED


def test_a_district_studio_s_case_is_rated_by_the_department_holding_it(world: Any) -> None:
    """A studio at a district has no street: the department holding its case rates it,
    as before, and no page names a street that does."""
    case = _register_at(_studio_at("440308"))
    case = services.case_send_to_street(case=case, actor=_user("admin"))
    case = _answered_by_the_district(case)
    assert permitted_actions(_user("yantian"), case) >= RATING
    page = _page("yantian", case)
    assert "evaluate" in page.context["step_forms"]
    assert "登记在册" not in text_of(page)
    assert "evaluate" in api_for("yantian").get(f"/cases/{case.pk}").json()["permitted_actions"]
    assert not permitted_actions(_user("shatoujiao"), case)
    assert _evaluate("yantian", case, SATISFIED).status_code == 302
    assert Case.objects.get(pk=case.pk).state == CaseState.CLOSED


def test_a_reopened_answer_is_told_to_the_unit_and_to_the_district_holding_it(
    world: Any,
) -> None:
    """不满意 → 重新办理 puts the case back with the unit under a fresh limit: its accounts
    and the department holding the case (when it is not the street that rated) are told;
    nobody was, so the unit learnt it from its list."""
    from minyi.duties.models import Notification

    case = services.case_send_to_street(case=register(), actor=_user("liaison"))
    case = _answered_by_the_district(case)
    services.case_evaluate(
        case=case,
        actor=_user("shatoujiao"),
        rating="dissatisfied",
        reporter_confirmed=True,
        representative_confirmed=True,
        street_head_confirmed=True,
        comment="工地仍在夜间施工",
        reopen=True,
    )
    case = Case.objects.get(pk=case.pk)
    reopened = Notification.objects.filter(text__startswith="【重新办理】")
    told = dict(reopened.values_list("recipient__username", "text"))
    assert set(told) == {"housing", "yantian"}
    text = told["housing"]
    assert (
        text.startswith(f"【重新办理】案件{case.number}") and "评议为不满意，退回重新办理" in text
    )
    due = case.due_on
    assert due is not None and f"答复期限{due.month}月{due.day}日" in text
    assert text.endswith("评议意见：工地仍在夜间施工")


def test_an_answer_is_told_to_the_street_that_rates_it_the_representative_and_the_studio(
    world: Any,
) -> None:
    """The answer's copies to the representative and the studio (CM 11) were marked
    delivered on the case, and the street department that rates an answer to a case the
    district holds (CM 12) learnt of it from nowhere: each is now told. The district
    holding it reads the answer in its list, as before; the unit that answered is not
    told of its own answer."""
    from minyi.duties.models import Notification

    case = services.case_send_to_street(case=register(), actor=_user("liaison"))
    case = _answered_by_the_district(case)
    told = dict(Notification.objects.values_list("recipient__username", "text"))
    assert set(told) == {"shatoujiao", "rep", "liaison"}
    assert told["rep"] == (
        f"【已答复】案件{case.number}“{case.summary}”已由盐田区住房和建设局书面答复，待满意度评议。"
    )
    assert Notification.objects.filter(url=case.get_absolute_url()).count() == 3


def test_a_street_s_start_page_counts_the_answers_it_rates_and_lists_them(world: Any) -> None:
    """The street department rates what the district holds: its start page counts the
    answer under 已答复，待本部门评议 and the list's filter gives exactly that case; the
    district's page and filter do not, since it does not rate it."""
    case = services.case_send_to_street(case=register(), actor=_user("liaison"))
    other = services.case_send_to_street(case=register(), actor=_user("liaison"))
    case = _answered_by_the_district(case)
    street, district = client_for(_user("shatoujiao")), client_for(_user("yantian"))
    home = street.get("/")
    assert home.context["to_rate_cases"] == 1
    assert "已答复，待本部门评议" in text_of(home)
    assert "已答复，待本部门评议" not in text_of(district.get("/"))
    rows = street.get(reverse("cases:list"), {"to_rate": "on"}).context["rows"]
    assert [row.pk for row in rows] == [case.pk]
    assert other.pk not in [row.pk for row in rows]
    assert not district.get(reverse("cases:list"), {"to_rate": "on"}).context["rows"]
    listed = api_for("shatoujiao").get("/cases", {"to_rate": "true"}).json()["items"]
    assert [item["id"] for item in listed] == [case.pk]


def test_a_district_studio_s_answer_waits_for_the_district_holding_it(world: Any) -> None:
    """A studio with no street: its holder rates, so the holder's page counts it."""
    case = _register_at(_studio_at("440308"))
    case = services.case_send_to_street(case=case, actor=_user("admin"))
    _answered_by_the_district(case)
    assert client_for(_user("yantian")).get("/").context["to_rate_cases"] == 1
    assert client_for(_user("shatoujiao")).get("/").context["to_rate_cases"] == 0
