"""The list's and the ledger's filter choices come from the organisation and small
tables, not from the cases in scope (docs/performance.md, finding 2): what a user may
pick is offered, what is out of scope is not, a bad value in the address is explained in
Chinese, and building the choices reads no more when there are more cases."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from minyi.cases import services
from minyi.cases.forms import CaseFilterForm, LedgerFilterForm
from minyi.cases.models import Case, StudioCategory
from minyi.org.models import HandlingUnit
from minyi.people.models import User
from minyi.studios.models import Studio
from tests.cases.helpers import STUDIO, register
from tests.core.helpers import choices_of, client_for, text_of

pytestmark = pytest.mark.django_db

STREET_UNIT = "沙头角街道城市管理办公室"
DISTRICT_UNIT = "盐田区住房和建设局"
CITY_UNIT = "深圳市住房和建设局"


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _unit_names(form: Any) -> set[str]:
    """The units the select offers (its rows: pk, name, retired_at)."""
    return {row[1] for row in form.fields["handling_unit"].known.values()}


@pytest.fixture
def elsewhere(world: Any) -> HandlingUnit:
    """A handling unit of 梅沙街道: out of 沙头角's scope."""
    return HandlingUnit.objects.create(area=world["440308001"], name="梅沙街道公共服务办公室")


class TestHandlingUnits:
    @pytest.mark.parametrize("persona", ["shatoujiao", "liaison", "rep"])
    def test_the_units_of_the_area_and_above_are_offered(
        self, world: Any, elsewhere: HandlingUnit, persona: str
    ) -> None:
        """A street's cases go to its street's, district's or city's units (CM 10)."""
        for form_class in (CaseFilterForm, LedgerFilterForm):
            names = _unit_names(form_class(user=_user(persona)))
            assert {STREET_UNIT, DISTRICT_UNIT, CITY_UNIT} <= names
            assert elsewhere.name not in names

    def test_the_district_sees_its_streets_units_and_not_another_district(
        self, world: Any, elsewhere: HandlingUnit
    ) -> None:
        luohu = HandlingUnit.objects.create(area=world["440303"], name="罗湖区教育局")
        names = _unit_names(CaseFilterForm(user=_user("yantian")))
        assert {STREET_UNIT, DISTRICT_UNIT, CITY_UNIT, elsewhere.name} <= names
        assert luohu.name not in names

    def test_a_handling_unit_sees_only_itself(self, world: Any, elsewhere: HandlingUnit) -> None:
        assert _unit_names(CaseFilterForm(user=_user("unit"))) == {STREET_UNIT}

    def test_a_retired_unit_stays_for_its_old_cases(self, world: Any) -> None:
        HandlingUnit.objects.filter(name=STREET_UNIT).update(retired_at=timezone.now())
        page = text_of(client_for(_user("shatoujiao")).get(reverse("cases:list")))
        assert f"{STREET_UNIT}（已撤销）" in page

    @pytest.mark.parametrize("name", ["cases:list", "cases:ledger"])
    def test_an_out_of_scope_unit_in_the_address_is_explained(
        self, world: Any, elsewhere: HandlingUnit, name: str
    ) -> None:
        response = client_for(_user("shatoujiao")).get(
            reverse(name), {"handling_unit": elsewhere.pk}
        )
        assert response.status_code == 200
        assert "请从列表中选择您管辖范围内的承办单位。" in text_of(response)


class TestYears:
    def test_from_the_first_case_to_this_year(self, world: Any) -> None:
        register(received_on=date(2022, 5, 6))
        form = CaseFilterForm(user=_user("liaison"))
        this_year = services.today().year
        years = [value for value, _ in choices_of(form.fields["year"]) if value]
        assert years == list(range(this_year, 2021, -1))

    def test_without_cases_only_this_year(self, world: Any) -> None:
        form = CaseFilterForm(user=_user("liaison"))
        assert [v for v, _ in choices_of(form.fields["year"])] == ["", services.today().year]

    def test_a_year_filters(self, world: Any) -> None:
        register(received_on=date(2022, 5, 6), summary="旧的一件")
        register(summary="新的一件")
        response = client_for(_user("liaison")).get(reverse("cases:list"), {"year": 2022})
        assert [c.summary for c in response.context["rows"]] == ["旧的一件"]

    @pytest.mark.parametrize("year", ["1990", "abc", "99999999999999999999"])
    def test_an_unknown_year_is_explained_in_chinese(self, world: Any, year: str) -> None:
        register(received_on=date(2022, 5, 6))
        response = client_for(_user("liaison")).get(reverse("cases:list"), {"year": year})
        assert response.status_code == 200
        page = text_of(response)
        assert f"年度只能选 2022 年至 {services.today().year} 年。" in page
        assert "筛选未生效" in page


class TestCategories:
    def test_registering_records_the_category_once(self, world: Any) -> None:
        register(category="城市管理")
        register(category="城市管理")
        register(category="")
        studio = Studio.objects.get(name=STUDIO)
        assert list(StudioCategory.objects.values_list("studio_id", "name")) == [
            (studio.pk, "城市管理")
        ]

    @pytest.mark.parametrize("persona", ["liaison", "shatoujiao", "yantian", "city", "rep"])
    def test_a_used_category_is_offered_in_scope(self, world: Any, persona: str) -> None:
        register(category="城市管理")
        choices = dict(choices_of(CaseFilterForm(user=_user(persona)).fields["category"]))
        assert choices["城市管理"] == "城市管理"
        assert choices["-"] == "未分类"

    def test_another_streets_categories_are_not_offered(self, world: Any) -> None:
        register(category="城市管理")
        choices = dict(choices_of(CaseFilterForm(user=_user("meisha")).fields["category"]))
        assert "城市管理" not in choices
        assert "-" in choices

    def test_the_dashboards_drill_down_filters(self, world: Any) -> None:
        register(category="城市管理", summary="有类别")
        register(category="", summary="未分类的")
        client = client_for(_user("shatoujiao"))

        def rows(category: str) -> list[str]:
            response = client.get(reverse("cases:list"), {"category": category})
            return [c.summary for c in response.context["rows"]]

        assert rows("城市管理") == ["有类别"]
        assert rows("-") == ["未分类的"]

    def test_an_unknown_category_is_explained_in_chinese(self, world: Any) -> None:
        response = client_for(_user("shatoujiao")).get(
            reverse("cases:list"), {"category": "无此类"}
        )
        assert response.status_code == 200
        assert "请从列表中选择类别。" in text_of(response)

    @pytest.mark.parametrize(
        ("name", "label"),
        [("state", "状态"), ("rating", "评议结果"), ("channel", "反映方式"), ("level", "报送到")],
    )
    def test_an_unknown_choice_names_what_to_choose_not_the_value(
        self, world: Any, name: str, label: str
    ) -> None:
        response = client_for(_user("shatoujiao")).get(reverse("cases:list"), {name: "zz-nonsense"})
        assert response.status_code == 200
        page = text_of(response)
        assert f"请从列表中选择{label}。" in page
        assert "zz-nonsense 不在" not in page


_serial = iter(range(1, 1_000_000))


def _many_cases(world: Any, n: int) -> None:
    """n cases over three years, with many categories, referred to many handling units."""
    units = [
        HandlingUnit.objects.create(
            area=world["440308003"], name=f"沙头角街道测试办{next(_serial)}"
        )
        for _ in range(max(1, n // 3))
    ]
    liaison, street = _user("liaison"), _user("shatoujiao")
    for i in range(n):
        case = register(received_on=date(2024 + i % 3, 3, 4), category=f"类别{i}")
        if i % 2:
            case = services.case_send_to_street(case=case, actor=liaison)
            services.case_refer(case=case, actor=street, handling_unit=units[i % len(units)])


def _form_queries(user: User, form_class: type) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        str(form_class(user=user))  # build and render every choice
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("form_class", [CaseFilterForm, LedgerFilterForm])
@pytest.mark.parametrize("persona", ["liaison", "shatoujiao", "yantian", "unit", "rep"])
def test_building_the_choices_reads_no_case_beyond_the_first(
    world: Any, form_class: type, persona: str
) -> None:
    """The only read of the cases table is the first case (ORDER BY received_on LIMIT 1,
    one end of an index); DISTINCT over the cases in scope was a scan of them all."""
    _many_cases(world, 6)
    for sql in _form_queries(_user(persona), form_class):
        if '"cases_case"' in sql:
            assert "LIMIT 1" in sql and "DISTINCT" not in sql.upper(), sql


@pytest.mark.parametrize("name", ["cases:list", "cases:ledger"])
@pytest.mark.parametrize("persona", ["liaison", "shatoujiao", "unit"])
def test_the_pages_run_the_same_queries_with_3_cases_and_with_60(
    world: Any, name: str, persona: str, django_assert_num_queries: Any
) -> None:
    user = _user(persona)
    client = client_for(user)
    _many_cases(world, 3)
    client.get(reverse(name))  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(name)).status_code == 200
    _many_cases(world, 60)
    assert Case.objects.values("year").distinct().count() == 3
    with django_assert_num_queries(len(few)):
        response = client.get(reverse(name))
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["cases:list", "cases:ledger"])
def test_the_pages_read_no_encrypted_column_they_do_not_show(world: Any, name: str) -> None:
    """Every encrypted column read is a decryption per row (minyi.core.crypto): the rows
    show the reporter's phone and (ledger) the representative's contact, not the party
    secretaries' phones of the org units joined, nor a handling unit's phone."""
    client = client_for(_user("shatoujiao"))
    _many_cases(world, 3)
    with CaptureQueriesContext(connection) as pages:
        response = client.get(reverse(name))
    assert response.status_code == 200
    for sql in (q["sql"] for q in pages.captured_queries):
        if 'FROM "cases_case"' in sql or 'FROM "studios_studio"' in sql:
            assert "party_secretary_phone" not in sql, sql
            assert '"org_handlingunit"."phone"' not in sql, sql


@pytest.mark.parametrize("persona", ["shatoujiao", "yantian"])
def test_the_year_filter_is_a_range_of_received_on_alone(world: Any, persona: str) -> None:
    """The numbering year is the year of received_on, so the year filter reads the range
    of dates only: `year = …` as well made PostgreSQL visit every matching row of the
    table (3.2 s to count a national year's closed cases; docs/performance.md)."""
    _many_cases(world, 6)
    client = client_for(_user(persona))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("cases:list"), {"year": 2025})
    assert response.status_code == 200
    reads = [q["sql"] for q in captured.captured_queries if 'FROM "cases_case"' in q["sql"]]
    assert any("received_on" in sql for sql in reads)
    for sql in reads:
        assert '"cases_case"."year" =' not in sql, sql
    shown = {case.pk for case in response.context["rows"]}
    assert shown and shown == set(
        Case.objects.filter(received_on__year=2025).values_list("pk", flat=True)
    )
    assert all(Case.objects.get(pk=pk).year == 2025 for pk in shown)


def test_the_first_year_is_read_once_per_five_minutes(world: Any, monkeypatch: Any) -> None:
    """The year select starts at the first case's year, read once and kept by the
    process for five minutes (minyi.cases.forms._first_year)."""
    from minyi.cases import forms as case_forms

    clock = [1000.0]
    monkeypatch.setattr(case_forms.time, "monotonic", lambda: clock[0])
    case = register(received_on=date(2019, 3, 1))
    with CaptureQueriesContext(connection) as first:
        assert case_forms._first_year() == 2019
    Case.objects.filter(pk=case.pk).update(received_on=date(2017, 3, 1))
    with CaptureQueriesContext(connection) as again:
        assert case_forms._first_year() == 2019
    assert (len(first), len(again)) == (1, 0)
    clock[0] += 301
    assert case_forms._first_year() == 2017
