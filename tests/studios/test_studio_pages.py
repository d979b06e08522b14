"""The studio pages: create and edit through the form (bad input refused in Chinese,
nothing saved, typed values kept), the list with its search, filters and htmx partial."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from minyi.studios.models import Studio, StudioKind
from tests.core.helpers import client_for, post_data_from, text_of
from tests.studios.factories import make_studio, studio_form_data

SHATOUJIAO_STUDIO = "沙头角社区党代表工作室"
MEISHA_STUDIO = "大梅沙社区党代表工作室"


@pytest.fixture
def qiaodong(world: dict[str, Any]) -> Any:
    return world["440308003003"]


def assert_refused(response: Any, field_label: str, message: str, kept: str) -> str:
    """A refused form: 400, an error summary naming the field, the typed values kept."""
    assert response.status_code == 400
    page = text_of(response)
    assert 'class="error-summary"' in page
    assert f"{field_label}：{message}" in page
    assert kept in page
    return page


class TestCreate:
    def test_a_street_official_creates_a_community_studio(
        self, street_official: Any, qiaodong: Any
    ) -> None:
        data = studio_form_data(qiaodong)
        client = client_for(street_official)
        response = client.post(reverse("studios:create"), data)
        studio = Studio.objects.get(name=data["name"])
        assert response.status_code == 302
        assert response["Location"] == studio.get_absolute_url()
        assert studio.unit == qiaodong
        assert studio.phone == "+8675512345678"
        assert studio.area_m2 == Decimal(30)
        assert str(studio.established_on) == "2024-03-01"
        page = text_of(client.get(studio.get_absolute_url()))
        assert "工作室信息已保存。" in page
        assert "0755-12345678" in page

    def test_an_online_studio_may_sit_on_a_street(self, street_official: Any, world: Any) -> None:
        data = studio_form_data(
            world["440308003"], name="沙头角网络工作室", kind=StudioKind.ONLINE, area_m2=""
        )
        response = client_for(street_official).post(reverse("studios:create"), data)
        assert response.status_code == 302
        assert Studio.objects.get(name="沙头角网络工作室").area_m2 is None

    def test_the_form_offers_only_units_in_scope(self, street_official: Any) -> None:
        response = client_for(street_official).get(reverse("studios:create"))
        names = {unit.short_name for unit in response.context["form"].fields["unit"].queryset}
        assert names == {"沙头角街道", "沙头角社区", "田心社区", "桥东社区"}


class TestBadInput:
    @pytest.mark.parametrize(
        ("overrides", "label", "message"),
        [
            ({"phone": "12345"}, "工作室电话", "“12345”不是有效的电话号码"),
            ({"phone": "电话"}, "工作室电话", "“电话”不是有效的电话号码"),
            ({"area_m2": "-5"}, "面积（平方米）", "面积不能为负数。"),
            ({"area_m2": "很大"}, "面积（平方米）", "输入一个数字。"),
            ({"name": ""}, "名称", "这个字段是必填项。"),
            ({"host_organisation": ""}, "依托党组织", "这个字段是必填项。"),
            ({"established_on": "2024-13-45"}, "设立日期", "输入一个有效的日期。"),
        ],
    )
    def test_it_refuses_bad_input_and_saves_nothing(
        self, street_official: Any, qiaodong: Any, overrides: dict, label: str, message: str
    ) -> None:
        before = Studio.objects.count()
        data = studio_form_data(qiaodong, **overrides)
        response = client_for(street_official).post(reverse("studios:create"), data)
        assert_refused(response, label, message, kept="每周四 9:00—12:00")
        assert Studio.objects.count() == before

    def test_it_rejects_a_community_studio_placed_on_a_street(
        self, street_official: Any, world: Any
    ) -> None:
        data = studio_form_data(world["440308003"])
        response = client_for(street_official).post(reverse("studios:create"), data)
        assert_refused(
            response, "所在社区或单位", "社区工作室须选择所在社区。", kept=data["address"]
        )
        assert not Studio.objects.filter(name=data["name"]).exists()

    def test_it_rejects_a_unit_outside_the_users_scope(self, outsider: Any, qiaodong: Any) -> None:
        data = studio_form_data(qiaodong)
        response = client_for(outsider).post(reverse("studios:create"), data)
        assert_refused(response, "所在社区或单位", "选择一个有效的选项", kept=data["name"])
        assert not Studio.objects.filter(name=data["name"]).exists()

    def test_several_mistakes_are_all_reported(self, street_official: Any, qiaodong: Any) -> None:
        data = studio_form_data(qiaodong, phone="12345", area_m2="-1")
        response = client_for(street_official).post(reverse("studios:create"), data)
        page = assert_refused(
            response, "工作室电话", "“12345”不是有效的电话号码", kept=data["name"]
        )
        assert "请修改以下 2 处问题后再保存" in page
        assert "面积不能为负数。" in page
        assert 'value="-1"' in page

    def test_it_rejects_a_second_open_studio_of_the_same_name_in_one_place(
        self, street_official: Any, world: Any
    ) -> None:
        """Two 沙头角社区党代表工作室 in 沙头角社区 could not be told apart in any list or
        choice. (Elsewhere the name is not refused.)"""
        existing = Studio.objects.get(name=SHATOUJIAO_STUDIO)
        data = studio_form_data(existing.unit, name=SHATOUJIAO_STUDIO)
        client = client_for(street_official)
        response = client.post(reverse("studios:create"), data)
        assert_refused(
            response,
            "名称",
            f"沙头角社区已有名为“{SHATOUJIAO_STUDIO}”的工作室，请换一个名称以便区分。",
            kept=data["address"],
        )
        assert Studio.objects.filter(name=SHATOUJIAO_STUDIO).count() == 1
        elsewhere = studio_form_data(world["440308003003"], name=SHATOUJIAO_STUDIO)
        assert client.post(reverse("studios:create"), elsewhere).status_code == 302


class TestEdit:
    def test_a_street_official_edits_a_studio(self, street_official: Any) -> None:
        studio = Studio.objects.get(name=SHATOUJIAO_STUDIO)
        client = client_for(street_official)
        url = reverse("studios:edit", args=[studio.pk])
        data = post_data_from(client.get(url))
        data["opening_hours"] = "每周一至周五 9:00—12:00"
        response = client.post(url, data)
        assert response.status_code == 302
        studio.refresh_from_db()
        assert studio.opening_hours == "每周一至周五 9:00—12:00"
        assert studio.phone == "+8675500000001"

    def test_the_liaison_keeps_the_facts_but_cannot_move_the_studio(
        self, liaison: Any, world: Any
    ) -> None:
        studio = Studio.objects.get(name=SHATOUJIAO_STUDIO)
        client = client_for(liaison)
        url = reverse("studios:edit", args=[studio.pk])
        data = post_data_from(client.get(url))
        assert "unit" not in data
        data["area_m2"] = "18"
        data["unit"] = world["440308003009"].pk  # ignored: the field is not on the form
        response = client.post(url, data)
        assert response.status_code == 302
        studio.refresh_from_db()
        assert studio.area_m2 == Decimal(18)
        assert studio.unit == world["440308003006"]

    def test_an_edit_that_creates_a_shortfall_is_saved_with_a_warning(self, liaison: Any) -> None:
        studio = Studio.objects.get(name=SHATOUJIAO_STUDIO)
        client = client_for(liaison)
        url = reverse("studios:edit", args=[studio.pk])
        data = post_data_from(client.get(url))
        del data["has_computer_network"]
        response = client.post(url, data, follow=True)
        assert response.status_code == 200
        assert "缺少：配备电脑和网络。" in text_of(response)

    def test_an_edit_with_bad_input_changes_nothing(self, liaison: Any) -> None:
        studio = Studio.objects.get(name=SHATOUJIAO_STUDIO)
        client = client_for(liaison)
        url = reverse("studios:edit", args=[studio.pk])
        data = post_data_from(client.get(url))
        data.update(area_m2="-3", opening_hours="改过的开放时间")
        response = client.post(url, data)
        assert_refused(response, "面积（平方米）", "面积不能为负数。", kept="改过的开放时间")
        studio.refresh_from_db()
        assert studio.area_m2 == Decimal(36)
        assert studio.opening_hours.startswith("每周三")

    @pytest.mark.parametrize("persona", ["representative", "outsider", "handling_unit_staff"])
    def test_others_cannot_edit_the_studio(self, world: Any, request: Any, persona: str) -> None:
        studio = Studio.objects.get(name=SHATOUJIAO_STUDIO)
        client = client_for(request.getfixturevalue(persona))
        url = reverse("studios:edit", args=[studio.pk])
        response = client.post(url, studio_form_data(studio.unit, name="改名"))
        assert response.status_code == 404
        studio.refresh_from_db()
        assert studio.name == SHATOUJIAO_STUDIO


def names_in(response: Any) -> set[str]:
    return {studio.name for studio in response.context["rows"]}


class TestList:
    def test_it_lists_the_studios_in_scope(self, district_official: Any) -> None:
        response = client_for(district_official).get(reverse("studios:list"))
        assert names_in(response) == {SHATOUJIAO_STUDIO, MEISHA_STUDIO}

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({"q": "大梅沙"}, {MEISHA_STUDIO}),
            ({"q": "沙深路演示大厦"}, {SHATOUJIAO_STUDIO}),  # the address
            ({"q": "沙头角居委会"}, {SHATOUJIAO_STUDIO}),  # the community's full name
            ({"q": "不存在的工作室"}, set()),
            ({"kind": StudioKind.ONLINE}, {"盐田网络工作室"}),
            ({"kind": StudioKind.COMMUNITY}, {SHATOUJIAO_STUDIO, MEISHA_STUDIO}),
            ({"shortfall": "on"}, {MEISHA_STUDIO}),
            ({"q": "工作室", "kind": StudioKind.COMMUNITY, "shortfall": "on"}, {MEISHA_STUDIO}),
        ],
    )
    def test_it_searches_and_filters(
        self, district_official: Any, world: Any, query: dict, expected: set
    ) -> None:
        make_studio(world["440308"], name="盐田网络工作室", kind=StudioKind.ONLINE)
        response = client_for(district_official).get(reverse("studios:list"), query)
        assert names_in(response) == expected

    def test_it_filters_by_street(self, district_official: Any, world: Any) -> None:
        client = client_for(district_official)
        response = client.get(reverse("studios:list"), {"street": world["440308001"].pk})
        assert names_in(response) == {MEISHA_STUDIO}
        response = client.get(reverse("studios:list"), {"street": world["440308003"].pk})
        assert names_in(response) == {SHATOUJIAO_STUDIO}

    def test_a_street_outside_the_scope_reveals_nothing(self, outsider: Any, world: Any) -> None:
        response = client_for(outsider).get(
            reverse("studios:list"), {"street": world["440308003"].pk}
        )
        assert SHATOUJIAO_STUDIO not in text_of(response)

    def test_closed_studios_are_not_listed(self, district_official: Any) -> None:
        from django.utils import timezone

        Studio.objects.filter(name=MEISHA_STUDIO).update(closed_at=timezone.now())
        response = client_for(district_official).get(reverse("studios:list"))
        assert names_in(response) == {SHATOUJIAO_STUDIO}

    def test_the_shortfall_filter_counts_and_pages_only_the_studios_that_fall_short(
        self, district_official: Any, world: Any
    ) -> None:
        for _ in range(55):
            make_studio(world["440308003009"])
        make_studio(world["440308003009"], name="田心缺面积工作室", area_m2=None)
        response = client_for(district_official).get(reverse("studios:list"), {"shortfall": "on"})
        assert names_in(response) == {MEISHA_STUDIO, "田心缺面积工作室"}
        assert response.context["page"].paginator.count == 2
        assert "共 2 条" in text_of(response)

    def test_the_htmx_request_gets_only_the_results_table(self, district_official: Any) -> None:
        response = client_for(district_official).get(
            reverse("studios:list"),
            {"q": "大梅沙"},
            headers={"HX-Request": "true", "HX-Target": "results"},
        )
        page = text_of(response)
        assert response.status_code == 200
        assert "<html" not in page
        assert "<table" in page
        assert MEISHA_STUDIO in page
        assert SHATOUJIAO_STUDIO not in page
        assert 'role="search"' not in page

    def test_a_plain_request_gets_the_whole_page(self, district_official: Any) -> None:
        page = text_of(client_for(district_official).get(reverse("studios:list")))
        assert "<html" in page
        assert 'id="results"' in page


def test_an_htmx_request_for_another_target_gets_the_whole_page(district_official: Any) -> None:
    response = client_for(district_official).get(
        reverse("studios:list"), headers={"HX-Request": "true", "HX-Target": "main"}
    )
    assert "<html" in text_of(response)


def test_the_studio_page_and_plaque_list_the_full_time_liaison_first(
    street_official: Any,
) -> None:
    """The demo's part-time liaisons' names sort before the full-time one's; the page and
    the plaque still put 专职联络员 first."""
    studio = Studio.objects.get(name=SHATOUJIAO_STUDIO)
    client = client_for(street_official)
    for url in ("studios:detail", "studios:plaque"):
        page = text_of(client.get(reverse(url, args=[studio.pk])))
        full, part = page.index("（专职联络员）"), page.index("（兼职联络员）")
        assert full < part, url


def test_the_studio_page_shows_the_day_it_was_set_up(street_official: Any) -> None:
    studio = Studio.objects.get(name=SHATOUJIAO_STUDIO)
    studio.established_on = "2012-07-01"
    studio.save()
    page = text_of(client_for(street_official).get(reverse("studios:detail", args=[studio.pk])))
    assert "<dt>设立日期</dt><dd>2012年7月1日</dd>" in page


def test_the_plaque_of_a_studio_without_liaisons_says_so(
    street_official: Any, qiaodong: Any
) -> None:
    """A new studio with no liaison yet: the printed plaque's 联络员 heading is not left
    standing over nothing, as 开放时间 and 地址 are not."""
    studio = make_studio(qiaodong, full_time_liaison=False)
    page = text_of(client_for(street_official).get(reverse("studios:plaque", args=[studio.pk])))
    section = page[page.index("<h2>联络员</h2>") :]
    assert "（尚未配备）" in section


def test_the_studio_page_and_form_name_the_community_as_people_do(street_official: Any) -> None:
    """The division list names a community 沙头角居委会; every page says 沙头角社区 (the
    unit's short name), and the studio's page and form said the former."""
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    client = client_for(street_official)
    page = text_of(client.get(reverse("studios:detail", args=[studio.pk])))
    assert "沙头角街道 沙头角社区" in page and "沙头角居委会" not in page
    form = client.get(reverse("studios:edit", args=[studio.pk])).content.decode()
    assert ">沙头角社区（社区）</option>" in form and "沙头角居委会" not in form
