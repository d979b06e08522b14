"""A handling unit's start page and menu (journey 5, CM 11): its own work, not the
organisation department's. 待办理 (referred and not answered by it), 即将到期 (due within
three working days), 已超期 and 已答复, each a link to the case list filtered to exactly
those cases; nothing of the studios, representatives and liaisons, none of them its own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from minyi.cases import services
from minyi.cases.models import Case, Satisfaction
from minyi.cases.summary import DUE_SOON_WORKDAYS, due_soon_until
from minyi.org.models import HandlingUnit
from minyi.people.models import User
from minyi.workdays.calendar import add_workdays
from tests.cases.helpers import register
from tests.core.helpers import client_for, text_of

pytestmark = pytest.mark.django_db

URBAN = "沙头角街道城市管理办公室"
WORK = ["pending", "due_soon", "overdue", "answered"]


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _urban() -> HandlingUnit:
    return HandlingUnit.objects.get(name=URBAN)


def _other_unit() -> HandlingUnit:
    """A second unit of the same street, to which a returned case is re-routed."""
    return HandlingUnit.objects.get_or_create(
        name="沙头角街道市场监督管理所", defaults={"area": _urban().area}
    )[0]


def _referred(summary: str, unit: HandlingUnit | None = None) -> Case:
    case = services.case_send_to_street(case=register(summary=summary), actor=_user("liaison"))
    return services.case_refer(case=case, actor=_user("shatoujiao"), handling_unit=unit or _urban())


def _due(case: Case, due_on: Any) -> None:
    Case.objects.filter(pk=case.pk).update(due_on=due_on)


def _answered(summary: str) -> Case:
    case = _referred(summary)
    services.case_answer(case=case, actor=_user("unit"), text="已处理", result="已解决")
    return Case.objects.get(pk=case.pk)


def _rate(case: Case, rating: str, *, reopen: bool = False) -> None:
    services.case_evaluate(
        case=case,
        actor=_user("shatoujiao"),
        rating=rating,
        reporter_confirmed=True,
        representative_confirmed=True,
        street_head_confirmed=True,
        reopen=reopen,
    )


def _every_state() -> dict[str, set[str]]:
    """A case in each state a unit meets, and which of its figures each belongs to."""
    today = services.today()
    soon = due_soon_until(today)
    _referred("刚转来的")
    _due(_referred("三个工作日内到期"), soon)
    _due(_referred("今天到期"), today)
    _due(_referred("期限在即将到期之后"), soon + timedelta(days=1))
    _due(_referred("已超期的"), today - timedelta(days=1))
    _answered("已答复待评议")
    _rate(_answered("已评议办结"), Satisfaction.SATISFIED)
    _rate(_answered("不满意重办"), Satisfaction.DISSATISFIED, reopen=True)
    returned = _referred("退回的")
    services.case_return(case=returned, actor=_user("unit"), reason="不属本单位职责")
    rerouted = _referred("退回后改由他单位承办")
    rerouted = services.case_return(case=rerouted, actor=_user("unit"), reason="不属本单位职责")
    services.case_refer(case=rerouted, actor=_user("shatoujiao"), handling_unit=_other_unit())
    # Not the unit's at all: never referred to it, or referred to another unit.
    services.case_send_to_street(case=register(summary="仍在街道"), actor=_user("liaison"))
    _due(_referred("他单位超期的", _other_unit()), today - timedelta(days=1))
    pending = {"刚转来的", "三个工作日内到期", "今天到期", "期限在即将到期之后", "已超期的"}
    answered = {"已答复待评议", "已评议办结", "不满意重办"}
    return {
        "pending": pending | {"不满意重办"},
        "due_soon": {"三个工作日内到期", "今天到期"},
        "overdue": {"已超期的"},
        "answered": answered,
        "referred": pending | answered | {"退回的", "退回后改由他单位承办"},
    }


def _rows(client: Any, **query: str) -> set[str]:
    response = client.get(reverse("cases:list"), query)
    assert response.status_code == 200
    return {case.summary for case in response.context["rows"]}


def test_the_counts_are_the_units_own_work(world: Any) -> None:
    expected = _every_state()
    response = client_for(_user("unit")).get(reverse("home"))
    context = response.context
    assert {kind: context[f"{kind}_cases"] for kind in [*WORK, "referred"]} == {
        kind: len(cases) for kind, cases in expected.items()
    }
    page = text_of(response)
    listed = reverse("cases:list")
    assert f'<div class="big">6</div><a href="{listed}?work=pending">待办理</a>' in page
    assert f'<div class="big">2</div><a href="{listed}?work=due_soon">即将到期</a>' in page
    assert f'<div class="big danger">1</div><a href="{listed}?work=overdue">已超期</a>' in page
    assert f'<div class="big">3</div><a href="{listed}?work=answered">已答复</a>' in page
    assert f'<div class="big">10</div><a href="{listed}">转来的全部社情民意</a>' in page
    assert f"{DUE_SOON_WORKDAYS} 个工作日内到期" in page
    assert "本单位：沙头角街道城市管理办公室" in page


def test_each_count_links_to_exactly_its_cases(world: Any) -> None:
    expected = _every_state()
    client = client_for(_user("unit"))
    for kind in WORK:
        assert _rows(client, work=kind) == expected[kind], kind
    assert _rows(client) == expected["referred"]
    # The list says which of its work it shows, and marks its rows as the count does
    # (three working days, however many calendar days that is).
    response = client.get(reverse("cases:list"), {"work": "due_soon"})
    assert "<h1>即将到期的社情民意</h1>" in text_of(response)
    assert all(row.is_due_soon for row in response.context["rows"])
    assert text_of(response).count("即将到期</span>") == 2


def test_due_soon_counts_working_days(world: Any) -> None:
    """即将到期 reaches three working days ahead, over a weekend or a holiday."""
    today = services.today()
    assert due_soon_until(today) == add_workdays(today, DUE_SOON_WORKDAYS).due
    friday = today + timedelta(days=(4 - today.weekday()) % 7)
    # Friday + 3 working days is Wednesday at the earliest (a holiday only adds).
    assert (due_soon_until(friday) - friday).days >= 5


def test_the_organisations_figures_are_not_on_the_units_page(world: Any) -> None:
    _due(_referred("已超期的"), services.today() - timedelta(days=1))
    response = client_for(_user("unit")).get(reverse("home"))
    page = text_of(response).split("</nav>")[-1]
    for other in ("需督办", "办理中的社情民意", "党代表工作室</a>", "联络员</a>", "党代表</a>"):
        assert other not in page, other
    assert "studio_count" not in response.context


def test_the_work_filter_is_a_units_alone(world: Any) -> None:
    """Other accounts' lists have no 本单位 filter; the parameter changes nothing there."""
    _referred("转来的")
    register(summary="刚登记的")
    client = client_for(_user("shatoujiao"))
    response = client.get(reverse("cases:list"), {"work": "answered"})
    assert "work" not in response.context["form"].fields
    assert {c.summary for c in response.context["rows"]} == {"转来的", "刚登记的"}
    assert "<h1>社情民意</h1>" in text_of(response)


def test_an_unknown_work_is_refused_in_chinese(world: Any) -> None:
    _referred("转来的")
    response = client_for(_user("unit")).get(reverse("cases:list"), {"work": "nonsense"})
    assert response.status_code == 200
    assert "本单位：请从待办理、即将到期、已超期、已答复中选择。（筛选未生效）" in text_of(response)
    assert {c.summary for c in response.context["rows"]} == {"转来的"}


def _queries(client: Any, url: str) -> int:
    for _ in range(2):  # warm the session, the kept account and its scope
        client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url", [reverse("home"), reverse("cases:list") + "?work=pending", "/cases/?work=answered"]
)
def test_the_units_pages_run_a_fixed_number_of_queries(world: Any, url: str) -> None:
    client = client_for(_user("unit"))
    _every_state()
    few = _queries(client, url)
    _every_state()
    _every_state()
    assert _queries(client, url) == few


def test_the_officials_due_soon_counts_the_same_working_days(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One rule for 即将到期 (summary.DUE_SOON_WORKDAYS): a street official's start page,
    the case list's filter and its marks count working days as the unit's page does. On
    a Friday, a case due the next Wednesday is due soon (3 working days), though five
    days away; a day later it is not."""
    today = services.today()
    friday = today + timedelta(days=(4 - today.weekday()) % 7)
    monkeypatch.setattr(services, "today", lambda: friday)
    monkeypatch.setattr("minyi.cases.summary.today", lambda: friday)
    last = due_soon_until(friday)
    assert (last - friday).days >= 5
    _due(_referred("第三个工作日到期"), last)
    _due(_referred("第四个工作日到期"), last + timedelta(days=1))
    client = client_for(_user("shatoujiao"))
    home = text_of(client.get(reverse("home")))
    assert f'<div class="big">1</div><a href="{reverse("cases:list")}?due_soon=on">' in home
    assert f"{DUE_SOON_WORKDAYS} 个工作日内到期" in home
    listed = client.get(reverse("cases:list"), {"due_soon": "on"})
    assert [row.summary for row in listed.context["rows"]] == ["第三个工作日到期"]
    assert all(row.is_due_soon for row in listed.context["rows"])
