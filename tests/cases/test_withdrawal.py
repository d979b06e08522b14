"""A resident's online withdrawal ends the case's life (已撤回): the case keeps its number
and its timeline, leaves every open queue and count, and no later step may move it."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps as global_apps
from django.urls import reverse
from django.utils import timezone

from minyi.cases import services
from minyi.cases.models import Case, CaseStep
from minyi.cases.states import OPEN_STATES, Action, CaseState, TransitionNotAllowed
from minyi.cases.summary import case_counts
from minyi.online.models import OnlineReport
from minyi.online.services import online_report_withdraw
from minyi.org.models import HandlingUnit
from minyi.people.models import User
from tests.api.conftest import api_for, refused
from tests.cases.helpers import register
from tests.core.helpers import client_for, text_of

pytestmark = pytest.mark.django_db

REFUSAL = "反映人已撤回本件，不再办理"


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _online(**overrides: Any) -> tuple[Case, OnlineReport]:
    """A case as the online studio registers it, with its report, received today."""
    case = register(received_on=timezone.localdate(), **overrides)
    report = OnlineReport.objects.create(
        case=case,
        progress_code_hash="x" * 64,
        withdraw_until=timezone.now() + timedelta(minutes=30),
    )
    return case, report


def _withdrawn(**overrides: Any) -> Case:
    case, report = _online(**overrides)
    online_report_withdraw(report=report)
    return Case.objects.get(pk=case.pk)


def test_withdrawal_is_a_step_to_a_state_that_is_not_open(world: Any) -> None:
    case, report = _online()
    number = case.number
    online_report_withdraw(report=report)
    case.refresh_from_db()
    assert case.state == CaseState.WITHDRAWN and case.state not in OPEN_STATES
    assert case.number == number and case.version == 2
    assert case.closed_at is not None  # retention counts from the end of its life
    step = case.steps.get(action=Action.WITHDRAW)
    assert (step.state_before, step.state_after) == (CaseState.REGISTERED, CaseState.WITHDRAWN)
    assert "撤回" in step.text
    assert not Case.objects.open().filter(pk=case.pk).exists()
    assert OnlineReport.objects.get(pk=report.pk).withdrawn_at is not None


def test_the_next_case_takes_the_next_number(world: Any) -> None:
    first = _withdrawn()
    second = register()
    assert second.serial == first.serial + 1


@pytest.mark.parametrize("step", ["send", "carry_forward", "refer", "answer", "withdraw"])
def test_no_step_moves_a_withdrawn_case(world: Any, step: str) -> None:
    case = _withdrawn()
    calls = {
        "send": lambda: services.case_send_to_street(case=case, actor=_user("liaison")),
        "carry_forward": lambda: services.case_carry_forward(
            case=case, actor=_user("rep"), form="建议"
        ),
        "refer": lambda: services.case_refer(
            case=case,
            actor=_user("shatoujiao"),
            handling_unit=HandlingUnit.objects.get(name="沙头角街道城市管理办公室"),
        ),
        "answer": lambda: services.case_answer(case=case, actor=_user("unit"), text="已处理"),
        "withdraw": lambda: services.case_withdraw(case=case, actor=_user("liaison"), text="再撤"),
    }
    with pytest.raises(TransitionNotAllowed, match=REFUSAL):
        calls[step]()
    case.refresh_from_db()
    assert (case.state, case.version) == (CaseState.WITHDRAWN, 2)


def test_a_withdrawn_case_may_still_take_a_note(world: Any) -> None:
    case = services.case_note(case=_withdrawn(), actor=_user("liaison"), text="已电话确认撤回")
    assert case.state == CaseState.WITHDRAWN


def test_a_case_sent_on_cannot_be_withdrawn(world: Any) -> None:
    case, _ = _online()
    services.case_send_to_street(case=case, actor=_user("liaison"))
    with pytest.raises(TransitionNotAllowed):
        services.case_withdraw(case=case, actor=_user("liaison"), text="撤回")
    assert not CaseStep.objects.filter(action=Action.WITHDRAW).exists()


def test_no_staff_role_may_withdraw(world: Any) -> None:
    from minyi.cases.access import permitted_actions

    case, _ = _online()
    for username in ("liaison", "rep", "shatoujiao", "unit", "city", "admin"):
        assert Action.WITHDRAW not in permitted_actions(_user(username), case)


def test_the_send_button_is_refused_on_the_page_in_chinese(world: Any) -> None:
    case = _withdrawn()
    client = client_for(_user("liaison"))
    page = text_of(client.get(case.get_absolute_url()))
    assert "已撤回" in page and "撤回时间" in page
    assert reverse("cases:send", args=[case.pk]) not in page  # no button to press
    response = client.post(reverse("cases:send", args=[case.pk]), {"version": case.version})
    assert response.status_code == 400
    assert REFUSAL in text_of(response)
    assert not CaseStep.objects.filter(action=Action.SEND_TO_STREET).exists()


def test_the_send_step_is_refused_over_the_api(world: Any) -> None:
    case = _withdrawn()
    body = refused(api_for("liaison").post(f"/cases/{case.pk}/send"), 409)
    assert body["code"] == "transition_not_allowed" and REFUSAL in body["message"]
    detail = api_for("liaison").get(f"/cases/{case.pk}").json()
    assert detail["state"] == "withdrawn" and detail["permitted_actions"] == ["note"]
    listed = api_for("liaison").get("/cases", {"state": "withdrawn"}).json()
    assert [row["id"] for row in listed["items"]] == [case.pk]


def test_lists_show_it_as_withdrawn_and_filter_it(world: Any) -> None:
    withdrawn = _withdrawn(summary="撤回的一件")
    register(summary="待报送的一件")
    client = client_for(_user("liaison"))
    response = client.get(reverse("cases:list"))
    rows = {row.summary: row.state_label for row in response.context["rows"]}
    assert rows == {"撤回的一件": "已撤回", "待报送的一件": "已登记（待报送街道）"}
    state_choices = dict(response.context["form"].fields["state"].choices)
    assert state_choices["withdrawn"] == "已撤回"
    filtered = client.get(reverse("cases:list"), {"state": "withdrawn"}).context["rows"]
    assert [row.pk for row in filtered] == [withdrawn.pk]
    ledger = client.get(reverse("cases:ledger"), {"state": "withdrawn"})
    assert [row.pk for row in ledger.context["rows"]] == [withdrawn.pk]
    assert "已撤回" in text_of(ledger)


def test_it_counts_as_neither_open_nor_overdue_on_the_start_page(world: Any) -> None:
    _withdrawn()
    register()
    counts = case_counts(_user("liaison"))
    assert counts["open_cases"] == 1
    assert counts["overdue_cases"] == 0


def test_the_dashboard_counts_it_as_withdrawn_and_links_to_exactly_it(world: Any) -> None:
    withdrawn = _withdrawn()
    register(received_on=timezone.localdate())
    client = client_for(_user("shatoujiao"))
    response = client.get(reverse("dashboards:overview"), {"year": timezone.localdate().year})
    charts = {chart.key: chart for chart in response.context["dashboard"].charts}
    state = charts["state"]
    index = state.categories.index("已撤回")
    assert state.series[0].values[index] == 1
    assert state.series[0].values[state.categories.index("已办结")] == 0
    listed = client.get(state.series[0].urls[index]).context["rows"]
    assert [row.pk for row in listed] == [withdrawn.pk]
    assert response.context["dashboard"].headline["overdue"][0] == 0


def _legacy_withdrawal() -> tuple[Case, OnlineReport]:
    """A withdrawal as it was before the state existed: the flag and a note."""
    case, report = _online()
    services.case_note(case=case, actor=_user("liaison"), text="反映人已在网上撤回本件，请勿报送。")
    OnlineReport.objects.filter(pk=report.pk).update(withdrawn_at=timezone.now())
    case.refresh_from_db()
    report.refresh_from_db()
    return case, report


def test_the_migration_ends_the_cases_withdrawn_before_and_goes_back(world: Any) -> None:
    migration = import_module("minyi.online.migrations.0002_withdrawn_cases")
    legacy, report = _legacy_withdrawal()
    # Withdrawn, but the studio sent it on regardless: handled since, left alone.
    sent, _ = _legacy_withdrawal()
    services.case_send_to_street(case=sent, actor=_user("liaison"))
    untouched = register()

    migration.withdraw(global_apps, None)
    legacy.refresh_from_db()
    assert legacy.state == CaseState.WITHDRAWN and legacy.closed_at == report.withdrawn_at
    step = legacy.steps.get(action=Action.WITHDRAW)
    assert step.at == report.withdrawn_at and step.state_after == CaseState.WITHDRAWN
    assert Case.objects.get(pk=sent.pk).state == CaseState.AT_DEPARTMENT
    assert Case.objects.get(pk=untouched.pk).state == CaseState.REGISTERED
    assert CaseStep.objects.filter(action=Action.WITHDRAW).count() == 1

    migration.unwithdraw(global_apps, None)
    legacy.refresh_from_db()
    assert legacy.state == CaseState.REGISTERED and legacy.closed_at is None
    assert not CaseStep.objects.filter(action=Action.WITHDRAW).exists()
    # The step is a note again, so the older code's timeline still says so.
    assert legacy.steps.filter(action=Action.NOTE, text=step.text).exists()
