"""Organisation pages: the unit form (level derived from the parent, codes checked
against the parent's), handling units (unique name per area), and both lists with their
search, filters and htmx partial."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from minyi.org.models import HandlingUnit, Kind, Level, OrgUnit
from tests.core.helpers import client_for, post_data_from, text_of


def assert_refused(response: Any, label: str, message: str, kept: str) -> str:
    assert response.status_code == 400
    page = text_of(response)
    assert 'class="error-summary"' in page
    assert f"{label}：{message}" in page
    assert kept in page
    return page


def unit_data(parent_unit: OrgUnit, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "parent": parent_unit.pk,
        "name": "海山社区居民委员会",
        "short_name": "海山社区",
        "kind": Kind.ORDINARY,
        "code": "440308003099",
        "party_secretary": "测试书记·何平",
        "party_secretary_phone": "13800008888",
    }
    data.update(overrides)
    return data


class TestUnitForm:
    def test_a_street_official_adds_a_community_whose_level_is_derived(
        self, street_official: Any, world: Any
    ) -> None:
        street = world["440308003"]
        response = client_for(street_official).post(
            reverse("org:unit_create"), unit_data(street, level=Level.DISTRICT)
        )
        unit = OrgUnit.objects.get(short_name="海山社区")
        assert response.status_code == 302
        assert response["Location"] == unit.get_absolute_url()
        assert unit.level == Level.COMMUNITY
        assert unit.parent == street
        assert (unit.street_id, unit.district_id) == (street.pk, world["440308"].pk)
        assert (unit.city_id, unit.province_id) == (world["4403"].pk, world["44"].pk)
        assert unit.party_secretary_phone == "+8613800008888"

    def test_a_district_official_adds_a_street(self, district_official: Any, world: Any) -> None:
        data = unit_data(
            world["440308"], name="海山街道", short_name="", code="440308099", party_secretary=""
        )
        response = client_for(district_official).post(reverse("org:unit_create"), data)
        assert response.status_code == 302
        unit = OrgUnit.objects.get(name="海山街道")
        assert unit.level == Level.STREET
        assert unit.short_name == "海山街道"  # the name, when no short name is given
        assert unit.district == world["440308"]

    def test_a_unit_without_an_official_code_is_allowed(
        self, street_official: Any, world: Any
    ) -> None:
        data = unit_data(world["440308003"], code="")
        assert client_for(street_official).post(reverse("org:unit_create"), data).status_code == 302
        assert OrgUnit.objects.get(short_name="海山社区").code is None

    def test_the_parent_can_be_preselected(self, street_official: Any, world: Any) -> None:
        street = world["440308003"]
        response = client_for(street_official).get(
            reverse("org:unit_create"), {"parent": street.pk}
        )
        assert str(response.context["form"]["parent"].value()) == str(street.pk)

    def test_the_parent_choices_are_the_editable_units_above_community_level(
        self, street_official: Any
    ) -> None:
        response = client_for(street_official).get(reverse("org:unit_create"))
        parents = {u.name for u in response.context["form"].fields["parent"].queryset}
        assert parents == {"沙头角街道"}

    @pytest.mark.parametrize(
        ("overrides", "label", "message"),
        [
            (
                {"code": "440308001099"},
                "区划代码",
                "区划代码应以上级“沙头角街道”的代码 440308003 开头。",
            ),
            ({"code": "44030800309"}, "区划代码", "区划代码应为 2、4、6、9 或 12 位数字。"),
            ({"code": "44030800309X"}, "区划代码", "区划代码应为 2、4、6、9 或 12 位数字。"),
            ({"code": "440308003006"}, "区划代码", "具有 区划代码 的 组织单元 已存在。"),
            ({"party_secretary_phone": "12345"}, "书记联系电话", "“12345”不是有效的电话号码"),
            ({"name": ""}, "名称", "这个字段是必填项。"),
            ({"parent": ""}, "上级", "这个字段是必填项。"),
        ],
    )
    def test_it_refuses_bad_input_and_saves_nothing(
        self, street_official: Any, world: Any, overrides: dict, label: str, message: str
    ) -> None:
        before = OrgUnit.objects.count()
        data = unit_data(world["440308003"], **overrides)
        response = client_for(street_official).post(reverse("org:unit_create"), data)
        assert_refused(response, label, message, kept="测试书记·何平")
        assert OrgUnit.objects.count() == before

    def test_a_code_must_have_the_length_of_its_level(
        self, district_official: Any, world: Any
    ) -> None:
        data = unit_data(world["440308"], name="海山街道", code="440308099001")
        response = client_for(district_official).post(reverse("org:unit_create"), data)
        assert_refused(response, "区划代码", "街道的区划代码应为 9 位数字。", kept="海山街道")

    def test_it_refuses_a_parent_outside_the_scope(self, outsider: Any, world: Any) -> None:
        data = unit_data(world["440308003"])
        response = client_for(outsider).post(reverse("org:unit_create"), data)
        assert_refused(response, "上级", "选择一个有效的选项", kept="海山社区")
        assert not OrgUnit.objects.filter(short_name="海山社区").exists()

    def test_it_refuses_a_community_as_parent(self, street_official: Any, world: Any) -> None:
        data = unit_data(world["440308003006"])
        response = client_for(street_official).post(reverse("org:unit_create"), data)
        assert_refused(response, "上级", "选择一个有效的选项", kept="海山社区")


class TestUnitEdit:
    def edit(self, user: Any, unit: OrgUnit, **changes: Any) -> Any:
        client = client_for(user)
        url = reverse("org:unit_edit", args=[unit.pk])
        data = post_data_from(client.get(url))
        data.update(changes)
        return client.post(url, data)

    def test_an_official_renames_a_community(self, street_official: Any, world: Any) -> None:
        unit = world["440308003009"]
        response = self.edit(street_official, unit, name="田心社区居民委员会", short_name="田心")
        assert response.status_code == 302
        unit.refresh_from_db()
        assert (unit.name, unit.short_name) == ("田心社区居民委员会", "田心")
        assert unit.level == Level.COMMUNITY
        assert unit.parent == world["440308003"]

    def test_an_edit_cannot_move_a_unit(self, street_official: Any, world: Any) -> None:
        unit = world["440308003009"]
        self.edit(street_official, unit, parent=world["440308001"].pk)
        unit.refresh_from_db()
        assert unit.parent == world["440308003"]

    def test_an_edited_code_must_still_start_with_the_parent_code(
        self, street_official: Any, world: Any
    ) -> None:
        unit = world["440308003009"]
        response = self.edit(street_official, unit, code="440308001009", short_name="田心改")
        assert_refused(
            response,
            "区划代码",
            "区划代码应以上级“沙头角街道”的代码 440308003 开头。",
            kept="田心改",
        )
        unit.refresh_from_db()
        assert unit.code == "440308003009"

    @pytest.mark.parametrize("persona", ["outsider", "liaison", "representative"])
    def test_others_cannot_edit(self, world: Any, request: Any, persona: str) -> None:
        unit = world["440308003009"]
        client = client_for(request.getfixturevalue(persona))
        response = client.post(
            reverse("org:unit_edit", args=[unit.pk]), {"name": "改名", "short_name": "改名"}
        )
        assert response.status_code == 404
        unit.refresh_from_db()
        assert unit.short_name == "田心社区"


def unit_names(response: Any) -> set[str]:
    return {row.short_name for row in response.context["rows"]}


class TestUnitList:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({}, {"沙头角街道", "沙头角社区", "田心社区", "桥东社区"}),
            ({"q": "田心"}, {"田心社区"}),
            ({"q": "桥东居委会"}, {"桥东社区"}),  # the full name
            ({"q": "440308003006"}, {"沙头角社区"}),  # a code
            ({"q": "4403080030"}, {"沙头角社区", "田心社区", "桥东社区"}),  # a code prefix
            ({"level": Level.STREET}, {"沙头角街道"}),
            ({"level": Level.COMMUNITY, "q": "沙"}, {"沙头角社区"}),
        ],
    )
    def test_it_searches_and_filters(
        self, street_official: Any, query: dict, expected: set
    ) -> None:
        response = client_for(street_official).get(reverse("org:unit_list"), query)
        assert unit_names(response) == expected

    def test_it_filters_by_parent(self, district_official: Any, world: Any) -> None:
        response = client_for(district_official).get(
            reverse("org:unit_list"), {"parent": world["440308001"].pk}
        )
        assert unit_names(response) == {"大梅沙社区", "小梅沙社区"}

    def test_retired_units_are_shown_only_on_request(
        self, street_official: Any, world: Any
    ) -> None:
        world["440308003003"].retire()
        client = client_for(street_official)
        assert "桥东社区" not in unit_names(client.get(reverse("org:unit_list")))
        response = client.get(reverse("org:unit_list"), {"include_retired": "on"})
        assert "桥东社区" in unit_names(response)
        assert "已撤销" in text_of(response)

    def test_the_htmx_request_gets_only_the_results_table(self, street_official: Any) -> None:
        response = client_for(street_official).get(
            reverse("org:unit_list"),
            {"q": "田心"},
            headers={"HX-Request": "true", "HX-Target": "results"},
        )
        page = text_of(response)
        assert "<html" not in page
        assert "<table" in page
        assert "田心居委会" in page
        assert "桥东居委会" not in page

    def test_a_representative_sees_its_communities(self, representative: Any) -> None:
        response = client_for(representative).get(reverse("org:unit_list"))
        assert unit_names(response) == {"沙头角社区"}
        assert "新增单元" not in text_of(response)


def handling_unit_data(area_unit: OrgUnit, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "沙头角街道社区服务中心",
        "area": area_unit.pk,
        "remit": "社区服务、养老",
        "contact_person": "测试·刘主任",
        "phone": "0755-22223333",
    }
    data.update(overrides)
    return data


class TestHandlingUnitForm:
    def test_a_street_official_adds_a_handling_unit(self, street_official: Any, world: Any) -> None:
        data = handling_unit_data(world["440308003"])
        response = client_for(street_official).post(reverse("org:handlingunit_create"), data)
        unit = HandlingUnit.objects.get(name=data["name"])
        assert response.status_code == 302
        assert response["Location"] == unit.get_absolute_url()
        assert unit.area == world["440308003"]
        assert unit.level == Level.STREET
        assert unit.phone == "+8675522223333"

    def test_the_same_name_is_allowed_in_another_area(self, outsider: Any, world: Any) -> None:
        data = handling_unit_data(world["440308001"], name="沙头角街道城市管理办公室")
        response = client_for(outsider).post(reverse("org:handlingunit_create"), data)
        assert response.status_code == 302
        assert HandlingUnit.objects.filter(name="沙头角街道城市管理办公室").count() == 2

    def test_it_rejects_a_duplicate_name_in_the_same_area(
        self, street_official: Any, world: Any
    ) -> None:
        data = handling_unit_data(world["440308003"], name="沙头角街道城市管理办公室")
        response = client_for(street_official).post(reverse("org:handlingunit_create"), data)
        page = assert_refused(
            response, "名称", "“沙头角街道”已有同名承办单位。", kept="社区服务、养老"
        )
        assert page.count("已有同名承办单位") == 2  # once in the summary, once at the field
        assert "已存在" not in page  # the database constraint does not add a second message
        assert HandlingUnit.objects.filter(name="沙头角街道城市管理办公室").count() == 1

    @pytest.mark.parametrize(
        ("overrides", "label", "message"),
        [
            ({"phone": "12345"}, "联系电话", "“12345”不是有效的电话号码"),
            ({"name": ""}, "名称", "这个字段是必填项。"),
            ({"area": ""}, "负责区域", "这个字段是必填项。"),
        ],
    )
    def test_it_refuses_bad_input_and_saves_nothing(
        self, street_official: Any, world: Any, overrides: dict, label: str, message: str
    ) -> None:
        before = HandlingUnit.objects.count()
        data = handling_unit_data(world["440308003"], **overrides)
        response = client_for(street_official).post(reverse("org:handlingunit_create"), data)
        assert_refused(response, label, message, kept="测试·刘主任")
        assert HandlingUnit.objects.count() == before

    def test_it_refuses_an_area_outside_the_scope(self, outsider: Any, world: Any) -> None:
        data = handling_unit_data(world["440308003"])
        response = client_for(outsider).post(reverse("org:handlingunit_create"), data)
        assert_refused(response, "负责区域", "选择一个有效的选项", kept="测试·刘主任")

    def test_a_community_cannot_be_the_area(self, street_official: Any, world: Any) -> None:
        data = handling_unit_data(world["440308003006"])
        response = client_for(street_official).post(reverse("org:handlingunit_create"), data)
        assert_refused(response, "负责区域", "选择一个有效的选项", kept="测试·刘主任")

    def test_an_official_edits_a_handling_unit(self, street_official: Any) -> None:
        unit = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
        client = client_for(street_official)
        url = reverse("org:handlingunit_edit", args=[unit.pk])
        data = post_data_from(client.get(url))
        data["remit"] = "市容环境、占道经营、施工噪声、垃圾分类"
        assert client.post(url, data).status_code == 302
        unit.refresh_from_db()
        assert unit.remit.endswith("垃圾分类")
        assert unit.phone == "+8613800000090"

    def test_keeping_its_own_name_is_not_a_duplicate(self, street_official: Any) -> None:
        unit = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
        client = client_for(street_official)
        url = reverse("org:handlingunit_edit", args=[unit.pk])
        assert client.post(url, post_data_from(client.get(url))).status_code == 302

    @pytest.mark.parametrize("persona", ["handling_unit_staff", "outsider", "liaison"])
    def test_others_cannot_edit(self, world: Any, request: Any, persona: str) -> None:
        unit = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
        client = client_for(request.getfixturevalue(persona))
        url = reverse("org:handlingunit_edit", args=[unit.pk])
        response = client.post(url, handling_unit_data(world["440308003"], name="改名"))
        assert response.status_code == 404
        unit.refresh_from_db()
        assert unit.name == "沙头角街道城市管理办公室"


class TestHandlingUnitList:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({}, {"沙头角街道城市管理办公室", "盐田区住房和建设局", "深圳市住房和建设局"}),
            ({"q": "住房"}, {"盐田区住房和建设局", "深圳市住房和建设局"}),
            ({"q": "占道"}, {"沙头角街道城市管理办公室"}),  # the remit
            ({"level": Level.CITY}, {"深圳市住房和建设局"}),
            ({"level": Level.DISTRICT}, {"盐田区住房和建设局"}),
            ({"level": Level.STREET}, {"沙头角街道城市管理办公室"}),
        ],
    )
    def test_it_searches_and_filters(self, city_official: Any, query: dict, expected: set) -> None:
        response = client_for(city_official).get(reverse("org:handlingunit_list"), query)
        assert {row.name for row in response.context["rows"]} == expected

    def test_the_staff_of_a_handling_unit_sees_only_theirs(self, handling_unit_staff: Any) -> None:
        response = client_for(handling_unit_staff).get(reverse("org:handlingunit_list"))
        assert [row.name for row in response.context["rows"]] == ["沙头角街道城市管理办公室"]
        assert "新增承办单位" not in text_of(response)

    def test_retired_handling_units_are_not_listed(self, city_official: Any) -> None:
        from django.utils import timezone

        HandlingUnit.objects.filter(name="深圳市住房和建设局").update(retired_at=timezone.now())
        response = client_for(city_official).get(reverse("org:handlingunit_list"))
        assert "深圳市住房和建设局" not in {row.name for row in response.context["rows"]}

    def test_the_htmx_request_gets_only_the_results_table(self, city_official: Any) -> None:
        response = client_for(city_official).get(
            reverse("org:handlingunit_list"),
            {"level": Level.CITY},
            headers={"HX-Request": "true", "HX-Target": "results"},
        )
        page = text_of(response)
        assert "<html" not in page
        assert "<table" in page
        assert "深圳市住房和建设局" in page
        assert "盐田区住房和建设局" not in page


@pytest.mark.parametrize("persona", ["liaison", "representative"])
def test_a_units_path_links_only_the_units_the_viewer_may_open(
    world: Any, request: Any, persona: str
) -> None:
    """The path above 沙头角社区 (深圳市 › 盐田区 › 沙头角街道) linked every unit, and a
    liaison or representative who followed one got 页面不存在: each still shows, linked
    only where the viewer may open it."""
    import re

    client = client_for(request.getfixturevalue(persona))
    page = text_of(client.get(reverse("org:unit_detail", args=[world["440308003006"].pk])))
    assert "沙头角街道</a> › " in page or "沙头角街道 › " in page
    for href in set(re.findall(r'href="(/org/units/\d+/)"', page)):
        assert client.get(href).status_code == 200, href


def test_the_lists_decrypt_no_phone_they_do_not_show(world: Any, monkeypatch: Any) -> None:
    """Neither list prints a phone (the unit's own page does): the rows leave the
    secretaries' and the handling units' phones unread."""
    from minyi.people.models import User
    from tests.core.helpers import opened_values

    for n, unit in enumerate(OrgUnit.objects.filter(code__startswith="440308")):
        unit.party_secretary_phone = f"+86138000099{n:02d}"
        unit.save(update_fields=["party_secretary_phone"])
    for n, handling in enumerate(HandlingUnit.objects.all()):
        handling.phone = f"+86138000088{n:02d}"
        handling.save(update_fields=["phone"])
    client = client_for(User.objects.get(username="yantian"))
    opened = opened_values(monkeypatch)
    units = client.get(reverse("org:unit_list"))
    handling_units = client.get(reverse("org:handlingunit_list"))
    assert len(units.context["rows"]) > 1 and len(handling_units.context["rows"]) > 1
    assert not [value for value in opened if value.startswith("+86138000")]
