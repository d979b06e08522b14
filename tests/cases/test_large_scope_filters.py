"""The studio and handling-unit filters of the list and the ledger cost the same whatever
the size of the scope: a scope of up to `SELECT_LIMIT` studios (a street has some 70)
keeps the select of all of them; a larger one (a district has up to 1,500) offers only
the one its address asks for (the dashboards link with ?studio=) and a search by name
within its scope. The list's category filter likewise: a select up to `CATEGORY_LIMIT`
(studio, category) pairs, a text field with a type-ahead beyond. The tests lower the
limits so that the demo's few studios make a large scope."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django import forms as django_forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from minyi.cases import forms, services
from minyi.cases.forms import CaseFilterForm, LedgerFilterForm
from minyi.cases.models import Case, StudioCategory
from minyi.org.models import HandlingUnit
from minyi.people.models import Representative, User
from minyi.studios.models import Studio, StudioKind
from tests.cases.helpers import STUDIO, register, reporter_data
from tests.core.helpers import client_for, text_of

pytestmark = pytest.mark.django_db

MEISHA_STUDIO = "大梅沙社区党代表工作室"
URBAN = "沙头角街道城市管理办公室"
PAGES = ["cases:list", "cases:ledger"]
FORMS = [CaseFilterForm, LedgerFilterForm]


def _user(username: str) -> User:
    return User.objects.get(username=username)


@pytest.fixture
def limit(monkeypatch: pytest.MonkeyPatch) -> Any:
    def set_limit(n: int) -> None:
        monkeypatch.setattr(forms, "SELECT_LIMIT", n)

    return set_limit


@pytest.fixture
def category_limit(monkeypatch: pytest.MonkeyPatch) -> Any:
    def set_limit(n: int) -> None:
        monkeypatch.setattr(forms, "CATEGORY_LIMIT", n)

    return set_limit


def _add_studios(world: Any, n: int, *, unit: str = "440308003006", name: str = "测试") -> None:
    start = Studio.objects.count()
    Studio.objects.bulk_create(
        Studio(
            name=f"{name}工作室{start + i:03d}",
            kind=StudioKind.COMMUNITY,
            unit=world[unit],
            host_organisation="测试党委",
        )
        for i in range(n)
    )


def _register_at_meisha() -> Case:
    studio = Studio.objects.get(name=MEISHA_STUDIO)
    rep = Representative.objects.get(assignments__studio=studio)
    return services.case_register(
        actor=_user("yantian"),
        studio=studio,
        representative=rep,
        data=reporter_data(summary="大梅沙的一件"),
    )


def _summaries(user: User, name: str, **params: Any) -> list[str]:
    response = client_for(user).get(reverse(name), params)
    assert response.status_code == 200
    return sorted(c.summary for c in response.context["rows"])


def _offered(form: Any, name: str = "studio") -> list[str]:
    return [str(label) for _, label in form.fields[name].widget.choices]


class TestSmallScope:
    @pytest.mark.parametrize("form_class", FORMS)
    def test_it_offers_every_studio_by_name_and_no_search(
        self, world: Any, form_class: type
    ) -> None:
        _add_studios(world, 3, unit="440308001006", name="丙")
        form = form_class(user=_user("yantian"))
        assert _offered(form) == [
            "全部",
            *sorted(["丙工作室002", "丙工作室003", "丙工作室004", STUDIO, MEISHA_STUDIO]),
        ]
        assert "studio_name" not in form.fields
        assert "handling_unit_name" not in form.fields

    def test_a_chosen_studio_filters(self, world: Any) -> None:
        register(summary="沙头角的一件")
        _register_at_meisha()
        studio = Studio.objects.get(name=MEISHA_STUDIO)
        assert _summaries(_user("yantian"), "cases:list", studio=studio.pk) == ["大梅沙的一件"]

    def test_an_out_of_scope_studio_is_explained(self, world: Any) -> None:
        other = Studio.objects.get(name=STUDIO)
        response = client_for(_user("meisha")).get(reverse("cases:list"), {"studio": other.pk})
        assert "请从列表中选择您管辖范围内的工作室。" in text_of(response)


class TestLargeScope:
    @pytest.mark.parametrize("name", PAGES)
    def test_it_offers_all_and_a_search_by_name(self, world: Any, limit: Any, name: str) -> None:
        limit(1)
        response = client_for(_user("yantian")).get(reverse(name))
        form = response.context["form"]
        assert _offered(form) == ["全部"]
        assert "studio_name" in form.fields
        page = text_of(response)
        assert "工作室名称" in page
        assert MEISHA_STUDIO not in page and STUDIO not in page

    @pytest.mark.parametrize("name", PAGES)
    def test_the_dashboards_studio_link_still_filters(
        self, world: Any, limit: Any, name: str
    ) -> None:
        limit(1)
        register(summary="沙头角的一件")
        _register_at_meisha()
        studio = Studio.objects.get(name=MEISHA_STUDIO)
        response = client_for(_user("yantian")).get(reverse(name), {"studio": studio.pk})
        assert [c.summary for c in response.context["rows"]] == ["大梅沙的一件"]
        assert _offered(response.context["form"]) == ["全部", MEISHA_STUDIO]
        assert f'<option value="{studio.pk}" selected>{MEISHA_STUDIO}</option>' in text_of(response)

    @pytest.mark.parametrize("name", PAGES)
    @pytest.mark.parametrize("value", ["other", "abc", "-1", "0", "99999999999999999999"])
    def test_a_studio_out_of_scope_or_malformed_is_explained(
        self, world: Any, limit: Any, name: str, value: str
    ) -> None:
        limit(0)
        register(summary="沙头角的一件")
        if value == "other":
            value = str(Studio.objects.get(name=STUDIO).pk)
        response = client_for(_user("meisha")).get(reverse(name), {"studio": value})
        assert response.status_code == 200
        page = text_of(response)
        assert "工作室：请从列表中选择您管辖范围内的工作室。（筛选未生效）" in page
        assert STUDIO not in page
        assert response.context["rows"] == []

    @pytest.mark.parametrize("name", PAGES)
    def test_the_name_search_filters_within_the_scope(
        self, world: Any, limit: Any, name: str
    ) -> None:
        limit(1)
        register(summary="沙头角的一件")
        _register_at_meisha()
        yantian = _user("yantian")
        assert _summaries(yantian, name, studio_name="梅沙") == ["大梅沙的一件"]
        assert _summaries(yantian, name, studio_name="沙头角社区") == ["沙头角的一件"]
        assert _summaries(yantian, name, studio_name="工作室") == ["大梅沙的一件", "沙头角的一件"]
        assert _summaries(yantian, name, studio_name="无此工作室") == []

    @pytest.mark.parametrize("name", PAGES)
    def test_the_name_search_never_reaches_another_scope(
        self, world: Any, limit: Any, name: str
    ) -> None:
        limit(0)
        register(summary="沙头角的一件")
        _add_studios(world, 1, unit="440303001001", name="大梅沙")  # 罗湖区, same words
        meisha = _user("meisha")
        assert _summaries(meisha, name, studio_name="沙头角") == []
        named = set(forms.studios_named(meisha, "梅沙").values_list("pk", flat=True))
        assert named == {Studio.objects.get(name=MEISHA_STUDIO).pk}

    @pytest.mark.parametrize("name", PAGES)
    def test_a_too_long_name_is_explained(self, world: Any, limit: Any, name: str) -> None:
        limit(1)
        response = client_for(_user("yantian")).get(reverse(name), {"studio_name": "长" * 51})
        assert response.status_code == 200
        assert "工作室名称最多 50 个字，请缩短后再筛选。（筛选未生效）" in text_of(response)

    def test_handling_units_get_the_same_bound(self, world: Any, limit: Any) -> None:
        limit(1)
        case = register(summary="转城管的一件")
        case = services.case_send_to_street(case=case, actor=_user("liaison"))
        urban = HandlingUnit.objects.get(name=URBAN)
        services.case_refer(case=case, actor=_user("shatoujiao"), handling_unit=urban)
        register(summary="未转办的一件")
        yantian = _user("yantian")
        form = CaseFilterForm(user=yantian)
        assert _offered(form, "handling_unit") == ["全部"]
        assert "handling_unit_name" in form.fields
        assert _summaries(yantian, "cases:list", handling_unit=urban.pk) == ["转城管的一件"]
        assert _summaries(yantian, "cases:ledger", handling_unit_name="城市管理") == [
            "转城管的一件"
        ]


def _queries(user: User, name: str, params: dict[str, Any]) -> int:
    client = client_for(user)
    client.get(reverse(name))  # warm the session
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse(name), params).status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("chosen", [False, True])
@pytest.mark.parametrize("size", ["small", "large"])
def test_the_pages_read_as_much_with_3_studios_in_scope_as_with_40(
    world: Any, limit: Any, name: str, chosen: bool, size: str
) -> None:
    """The query count of the list and the ledger for a small scope (the select of every
    studio) and for a large one (the chosen studio, the name search) does not grow with
    the studios in scope."""
    limit(2 if size == "large" else 200)
    register()
    user = _user("yantian")
    params: dict[str, int | str] = {"studio": Studio.objects.get(name=STUDIO).pk} if chosen else {}
    if size == "large":
        params["studio_name"] = "工作室"
    _add_studios(world, 1)
    few = _queries(user, name, params)
    _add_studios(world, 40)
    assert _queries(user, name, params) == few


@pytest.mark.parametrize("name", PAGES)
def test_a_large_scope_reads_no_more_than_a_small_one(world: Any, limit: Any, name: str) -> None:
    register()
    user = _user("yantian")
    small = _queries(user, name, {})
    limit(1)
    assert _queries(user, name, {}) == small


class TestSuggestions:
    """The name search's type-ahead (htmx fills a <datalist>): names of studios in
    scope only, at most twenty, read at a fixed cost."""

    def _names(self, user: User, text: str) -> list[str]:
        response = client_for(user).get(reverse("cases:studio_suggestions"), {"studio_name": text})
        assert response.status_code == 200
        return re.findall(r'<option value="([^"]*)">', text_of(response))

    def test_it_suggests_the_studios_in_scope_that_match(self, world: Any) -> None:
        _add_studios(world, 1, unit="440303001001", name="大梅沙")  # 罗湖区, same words
        assert self._names(_user("yantian"), "梅沙") == [MEISHA_STUDIO]
        assert self._names(_user("meisha"), "沙头角") == []
        assert self._names(_user("yantian"), "工作室") == sorted([STUDIO, MEISHA_STUDIO])

    @pytest.mark.parametrize("text", ["", "   ", "长" * 51])
    def test_nothing_to_search_suggests_nothing(self, world: Any, text: str) -> None:
        assert self._names(_user("yantian"), text) == []

    def test_at_most_twenty_at_the_same_cost(self, world: Any) -> None:
        user = _user("yantian")
        _add_studios(world, 3)
        client = client_for(user)
        url = reverse("cases:studio_suggestions")
        client.get(url)  # warm the session
        with CaptureQueriesContext(connection) as few:
            client.get(url, {"studio_name": "测试"})
        _add_studios(world, 40)
        with CaptureQueriesContext(connection) as many:
            response = client.get(url, {"studio_name": "测试"})
        assert len(many) == len(few)
        assert text_of(response).count("<option") == forms.SUGGESTIONS

    def test_the_large_scopes_search_box_asks_for_them(self, world: Any, limit: Any) -> None:
        limit(1)
        page = text_of(client_for(_user("yantian")).get(reverse("cases:list")))
        assert f'hx-get="{reverse("cases:studio_suggestions")}"' in page
        assert 'list="id_studio_name-suggestions"' in page
        assert '<datalist id="id_studio_name-suggestions"></datalist>' in page


# --- categories -----------------------------------------------------------------------

OTHER_DISTRICT = "440303001001"  # 罗湖区


def _categorised() -> None:
    """Cases of three categories and one without, at 盐田区's two studios."""
    register(summary="城管的一件", category="城市管理")
    register(summary="环卫的一件", category="环境卫生")
    register(summary="未分类的一件", category="")
    studio = Studio.objects.get(name=MEISHA_STUDIO)
    services.case_register(
        actor=_user("yantian"),
        studio=studio,
        representative=Representative.objects.get(assignments__studio=studio),
        data=reporter_data(summary="旅游的一件", category="旅游管理"),
    )


def _add_categories(world: Any, names: list[str], unit: str = "440308003006") -> None:
    _add_studios(world, 1, unit=unit, name="类别")
    studio = Studio.objects.latest("pk")
    StudioCategory.objects.bulk_create(StudioCategory(studio=studio, name=n) for n in names)


class TestCategories:
    def test_a_small_scope_keeps_the_select_of_its_categories(self, world: Any) -> None:
        _categorised()
        form = CaseFilterForm(user=_user("yantian"))
        assert isinstance(form.fields["category"], django_forms.ChoiceField)
        # By code point, as the C collation sorts them.
        assert _offered(form, "category") == ["全部", "未分类", "城市管理", "旅游管理", "环境卫生"]
        street = CaseFilterForm(user=_user("meisha"))
        assert _offered(street, "category") == ["全部", "未分类", "旅游管理"]

    def test_a_small_scope_explains_an_unknown_category(self, world: Any) -> None:
        _categorised()
        response = client_for(_user("meisha")).get(reverse("cases:list"), {"category": "城市管理"})
        assert response.status_code == 200
        assert "类别：请从列表中选择类别。（筛选未生效）" in text_of(response)

    def test_a_large_scope_gets_a_text_box_with_a_type_ahead(
        self, world: Any, category_limit: Any
    ) -> None:
        _categorised()
        category_limit(2)
        response = client_for(_user("yantian")).get(reverse("cases:list"))
        form = response.context["form"]
        assert isinstance(form.fields["category"], forms.CategorySearchField)
        page = text_of(response)
        assert f'hx-get="{reverse("cases:category_suggestions")}"' in page
        assert '<datalist id="id_category-suggestions"></datalist>' in page
        assert forms.CATEGORY_HINT in page
        assert "环境卫生" not in page.replace("环卫的一件", "")

    def test_the_limit_counts_pairs_and_stays_small_up_to_it(
        self, world: Any, category_limit: Any
    ) -> None:
        _categorised()  # three (studio, category) pairs
        category_limit(3)
        assert isinstance(
            CaseFilterForm(user=_user("yantian")).fields["category"], django_forms.ChoiceField
        )
        category_limit(2)
        assert isinstance(
            CaseFilterForm(user=_user("yantian")).fields["category"], forms.CategorySearchField
        )

    @pytest.mark.parametrize(
        ("category", "expected"),
        [
            ("城市管理", ["城管的一件"]),
            ("旅游管理", ["旅游的一件"]),
            ("-", ["未分类的一件"]),
            ("", ["城管的一件", "旅游的一件", "未分类的一件", "环卫的一件"]),
        ],
    )
    def test_a_dashboard_link_selects_the_same_rows_in_a_large_scope(
        self, world: Any, category_limit: Any, category: str, expected: list[str]
    ) -> None:
        _categorised()
        yantian = _user("yantian")
        small = _summaries(yantian, "cases:list", category=category)
        category_limit(0)
        large = _summaries(yantian, "cases:list", category=category)
        assert small == large == sorted(expected)

    def test_a_category_of_another_district_finds_nothing(
        self, world: Any, category_limit: Any
    ) -> None:
        _categorised()
        _add_categories(world, ["罗湖专属"], unit=OTHER_DISTRICT)
        category_limit(0)
        assert _summaries(_user("yantian"), "cases:list", category="罗湖专属") == []

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("长" * 51, "类别最多 50 个字，请缩短后再筛选。"),
            ("城市\x00管理", "类别中有无法识别的字符，请重新输入。"),
            ("城市\n管理", "类别中有无法识别的字符，请重新输入。"),
        ],
    )
    def test_bad_input_is_explained_and_the_list_still_shows(
        self, world: Any, category_limit: Any, value: str, message: str
    ) -> None:
        _categorised()
        category_limit(0)
        response = client_for(_user("yantian")).get(reverse("cases:list"), {"category": value})
        assert response.status_code == 200
        assert f"类别：{message}（筛选未生效）" in text_of(response)
        assert len(response.context["rows"]) == 4

    @pytest.mark.parametrize("params", [{}, {"category": "城市管理"}, {"category": "-"}])
    def test_the_list_reads_as_much_in_a_large_scope_as_in_a_small_one(
        self, world: Any, category_limit: Any, params: dict[str, str]
    ) -> None:
        _categorised()
        user = _user("yantian")
        small = _queries(user, "cases:list", params)
        _add_categories(world, [f"类别{i:02d}" for i in range(30)])
        assert _queries(user, "cases:list", params) == small
        category_limit(5)
        large = _queries(user, "cases:list", params)
        _add_categories(world, [f"类别{i:02d}" for i in range(30)])
        assert _queries(user, "cases:list", params) == large == small


class TestCategorySuggestions:
    """The category box's type-ahead: categories used in scope only, at most twenty,
    "未分类" when it matches, at a fixed cost."""

    def _options(self, user: User, text: str) -> list[str]:
        response = client_for(user).get(reverse("cases:category_suggestions"), {"category": text})
        assert response.status_code == 200
        return re.findall(r'<option value="([^"]*)">', text_of(response))

    def test_it_suggests_the_categories_in_scope_that_match(self, world: Any) -> None:
        _categorised()
        _add_categories(world, ["罗湖城市管理", "罗湖专属"], unit=OTHER_DISTRICT)
        yantian, meisha = _user("yantian"), _user("meisha")
        assert self._options(yantian, "管理") == ["城市管理", "旅游管理"]
        assert self._options(meisha, "管理") == ["旅游管理"]
        assert self._options(yantian, "罗湖") == []
        assert self._options(_user("city"), "罗湖") == ["罗湖专属", "罗湖城市管理"]

    @pytest.mark.parametrize("text", ["未分类", "分类", "-"])
    def test_uncategorised_is_reachable(self, world: Any, text: str) -> None:
        _categorised()
        response = client_for(_user("yantian")).get(
            reverse("cases:category_suggestions"), {"category": text}
        )
        assert '<option value="-">未分类</option>' in text_of(response)

    @pytest.mark.parametrize("text", ["", "   ", "长" * 51])
    def test_nothing_to_search_suggests_nothing(self, world: Any, text: str) -> None:
        _categorised()
        assert self._options(_user("yantian"), text) == []

    def test_at_most_twenty_at_the_same_cost(self, world: Any) -> None:
        _add_categories(world, [f"测试类别{i:02d}" for i in range(3)])
        client = client_for(_user("yantian"))
        url = reverse("cases:category_suggestions")
        client.get(url)  # warm the session
        with CaptureQueriesContext(connection) as few:
            client.get(url, {"category": "测试"})
        _add_categories(world, [f"测试类别{i:02d}" for i in range(40)])
        with CaptureQueriesContext(connection) as many:
            response = client.get(url, {"category": "测试"})
        assert len(many) == len(few)
        options = re.findall(r'<option value="([^"]*)">', text_of(response))
        assert options == [f"测试类别{i:02d}" for i in range(forms.SUGGESTIONS)]
