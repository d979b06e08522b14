"""The studio and handling-unit filters of the list and the ledger cost the same whatever
the size of the scope: a scope of up to `SELECT_LIMIT` studios (a street has some 70)
keeps the select of all of them; a larger one (a district has up to 1,500) offers only
the one its address asks for (the dashboards link with ?studio=) and a search by name
within its scope. The tests lower the limit so that the demo's few studios make a
large scope."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from minyi.cases import forms, services
from minyi.cases.forms import CaseFilterForm, LedgerFilterForm
from minyi.cases.models import Case
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
    params = {"studio": Studio.objects.get(name=STUDIO).pk} if chosen else {}
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
