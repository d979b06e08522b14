"""Opinions at every stage, in two streets, to count on the dashboards.

Built through the workflow services (a late answer is given after its limit); only
the dates of reception are moved afterwards, as the demo does, so the numbers depend on real
states, answers and ratings."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from unittest import mock

from minyi.cases import services
from minyi.cases.models import Case, Channel, Outcome, Satisfaction
from minyi.org.models import HandlingUnit
from minyi.people.models import Representative, User
from minyi.studios.models import Studio
from tests.cases.helpers import register

YEAR = 2025
URBAN = "沙头角街道城市管理办公室"


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _dated(case: Case, received_on: date, **fields: Any) -> Case:
    Case.objects.filter(pk=case.pk).update(received_on=received_on, **fields)
    case.refresh_from_db()
    return case


def _referred(received_on: date, **data: Any) -> Case:
    case = services.case_send_to_street(case=register(**data), actor=_user("liaison"))
    case = services.case_refer(
        case=case, actor=_user("shatoujiao"), handling_unit=HandlingUnit.objects.get(name=URBAN)
    )
    return _dated(case, received_on)


def _answered(received_on: date, *, late: bool, rating: str | None, **data: Any) -> Case:
    case = _referred(received_on, **data)
    # A late answer is given the day after the limit, through the service, so the
    # answer and the case's own record of it agree.
    assert case.due_on is not None
    answered_on = case.due_on + timedelta(days=1) if late else case.due_on
    with mock.patch("minyi.cases.services.today", return_value=answered_on):
        services.case_answer(case=case, actor=_user("unit"), text="已处理。")
    case.refresh_from_db()
    if rating:
        services.case_evaluate(
            case=case,
            actor=_user("shatoujiao"),
            rating=rating,
            reporter_confirmed=True,
            representative_confirmed=True,
            street_head_confirmed=True,
        )
    return case


def build_cases(extra: int = 0) -> None:
    """Eight opinions at 沙头角 and one at 梅沙 in YEAR; `extra` more at 沙头角 (for the
    query-count tests)."""
    today = services.today()
    on_the_spot = register(
        channel=Channel.PHONE,
        category="城市管理",
        outcome=Outcome.ON_THE_SPOT,
        spot_answer="当场说明。",
        spot_satisfaction=Satisfaction.SATISFIED,
    )
    _dated(on_the_spot, date(YEAR, 1, 15))
    _dated(register(category="环境卫生"), date(YEAR, 1, 20))
    sent = services.case_send_to_street(case=register(category="环境卫生"), actor=_user("liaison"))
    _dated(sent, date(YEAR, 3, 4))
    escalated = services.case_send_to_street(case=register(), actor=_user("liaison"))
    escalated = services.case_escalate(case=escalated, actor=_user("shatoujiao"), reason="跨街道")
    _dated(escalated, date(YEAR, 3, 9))
    overdue = _referred(date(YEAR, 5, 6), channel=Channel.ONLINE, channel_note="网上留言")
    _dated(overdue, date(YEAR, 5, 6), due_on=today - timedelta(days=3))
    _answered(date(YEAR, 6, 1), late=False, rating=Satisfaction.SATISFIED, category="城市管理")
    _answered(date(YEAR, 6, 2), late=True, rating=Satisfaction.DISSATISFIED)
    _answered(date(YEAR, 7, 3), late=False, rating=None, category="城市管理")
    # Last year's opinion: not on this year's dashboard.
    _dated(register(), date(YEAR - 1, 12, 30))
    # 梅沙街道's opinion: not on 沙头角's dashboard.
    meisha = services.case_register(
        actor=_user("meisha"),
        studio=Studio.objects.get(name="大梅沙社区党代表工作室"),
        representative=Representative.objects.get(name="演示代表·黄海"),
        data=_meisha_data(),
    )
    _dated(meisha, date(YEAR, 2, 2))
    for index in range(extra):
        _answered(
            date(YEAR, 1 + index % 12, 10),
            late=index % 2 == 1,
            rating=Satisfaction.VERY_SATISFIED if index % 3 == 0 else None,
            category=f"类别{index % 4}",
            channel=Channel.ONLINE if index % 2 else Channel.IN_PERSON,
        )


def _meisha_data() -> dict[str, Any]:
    from tests.cases.helpers import reporter_data

    return reporter_data(category="旅游管理", summary="大梅沙停车难")
