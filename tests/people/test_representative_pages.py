"""Representatives through their pages: create, edit, the linked-community rule (CM 2),
bad input refused in Chinese with nothing saved, the list's search and filters."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from minyi.org.models import Delegation, Group, OrgUnit
from minyi.people.models import Representative, RepresentativeCategory, RepresentativeLevel
from tests.core.helpers import client_for, post_data_from, text_of

SHATOUJIAO, TIANXIN, QIAODONG = "440308003006", "440308003009", "440308003003"
DAMEISHA, XIAOMEISHA = "440308001006", "440308001002"


def rep_form_data(world: dict[str, OrgUnit], *communities: str, **overrides: Any) -> dict:
    street = world["440308003"]
    data: dict[str, Any] = {
        "name": "测试代表·王红",
        "level": RepresentativeLevel.CITY,
        "category": RepresentativeCategory.DISTRICT,
        "unit": world["440308"].pk,
        "delegation": Delegation.objects.get(unit=world["440308"]).pk,
        "group": Group.objects.get(unit=street).pk,
        "employer": "盐田区测试单位",
        "position": "主任",
        "phone": "13800005555",
        "linked_communities": [world[code].pk for code in communities or (SHATOUJIAO,)],
        "active": "on",
    }
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def assert_refused(response: Any, label: str, message: str, kept: str) -> str:
    assert response.status_code == 400
    page = text_of(response)
    assert 'class="error-summary"' in page
    assert f"{label}：{message}" in page
    assert kept in page
    return page


class TestCreate:
    def test_the_district_official_creates_a_representative_with_two_communities(
        self, district_official: Any, world: Any
    ) -> None:
        data = rep_form_data(world, SHATOUJIAO, TIANXIN)
        response = client_for(district_official).post(reverse("people:representative_create"), data)
        rep = Representative.objects.get(name="测试代表·王红")
        assert response.status_code == 302
        assert response["Location"] == rep.get_absolute_url()
        assert rep.phone == "+8613800005555"
        assert {c.short_name for c in rep.linked_communities.all()} == {"沙头角社区", "田心社区"}
        assert rep.group is not None and rep.group.unit == world["440308003"]

    def test_the_delegation_follows_from_the_group(
        self, district_official: Any, world: Any
    ) -> None:
        data = rep_form_data(world, delegation="")
        client_for(district_official).post(reverse("people:representative_create"), data)
        rep = Representative.objects.get(name="测试代表·王红")
        assert rep.delegation == Delegation.objects.get(unit=world["440308"])

    def test_a_street_official_creates_a_representative_for_its_communities(
        self, street_official: Any, world: Any
    ) -> None:
        data = rep_form_data(world, QIAODONG)
        response = client_for(street_official).post(reverse("people:representative_create"), data)
        assert response.status_code == 302, text_of(response)
        rep = Representative.objects.get(name="测试代表·王红")
        assert rep.unit == world["440308"]
        assert Representative.objects.for_user(street_official).filter(pk=rep.pk).exists()

    def test_a_street_official_must_link_a_new_representative_to_its_area(
        self, street_official: Any, world: Any
    ) -> None:
        """Otherwise the record, elected in the district above, would be out of sight."""
        data = rep_form_data(
            world, level=RepresentativeLevel.DISTRICT, group="", linked_communities=None
        )
        response = client_for(street_official).post(reverse("people:representative_create"), data)
        assert_refused(response, "联系社区", "请选择本辖区内的联系社区", kept="测试代表·王红")
        assert not Representative.objects.filter(name="测试代表·王红").exists()

    def test_a_district_official_may_create_a_district_representative_without_community(
        self, district_official: Any, world: Any
    ) -> None:
        data = rep_form_data(
            world, level=RepresentativeLevel.DISTRICT, group="", linked_communities=None
        )
        response = client_for(district_official).post(reverse("people:representative_create"), data)
        assert response.status_code == 302

    def test_a_system_committee_representative_needs_no_community(
        self, city_official: Any, world: Any
    ) -> None:
        committee = OrgUnit.objects.get(name="市卫生健康工委")
        data = rep_form_data(
            world,
            category=RepresentativeCategory.SYSTEM_COMMITTEE,
            unit=committee.pk,
            delegation="",
            group="",
            linked_communities=None,
        )
        response = client_for(city_official).post(reverse("people:representative_create"), data)
        assert response.status_code == 302, text_of(response)
        assert not Representative.objects.get(name="测试代表·王红").linked_communities.exists()


class TestBadInput:
    @pytest.mark.parametrize(
        ("overrides", "label", "message"),
        [
            ({"phone": "12345"}, "联系电话", "“12345”不是有效的电话号码"),
            ({"phone": ""}, "联系电话", "这个字段是必填项。"),
            ({"name": ""}, "姓名", "这个字段是必填项。"),
            (
                {"linked_communities": None},
                "联系社区",
                "市党代表须固定联系一个社区或两个相邻社区。",
            ),
        ],
    )
    def test_it_refuses_bad_input_and_saves_nothing(
        self, district_official: Any, world: Any, overrides: dict, label: str, message: str
    ) -> None:
        before = Representative.objects.count()
        data = rep_form_data(world, **overrides)
        response = client_for(district_official).post(reverse("people:representative_create"), data)
        assert_refused(response, label, message, kept="盐田区测试单位")
        assert Representative.objects.count() == before

    def test_it_rejects_two_communities_in_different_streets(
        self, district_official: Any, world: Any
    ) -> None:
        data = rep_form_data(world, SHATOUJIAO, DAMEISHA)
        response = client_for(district_official).post(reverse("people:representative_create"), data)
        page = assert_refused(
            response, "联系社区", "两个联系社区须相邻，不能分属不同街道", kept="测试代表·王红"
        )
        assert "沙头角社区" in page
        assert "大梅沙社区" in page
        assert not Representative.objects.filter(name="测试代表·王红").exists()

    def test_it_rejects_more_than_two_communities(self, district_official: Any, world: Any) -> None:
        data = rep_form_data(world, SHATOUJIAO, TIANXIN, QIAODONG)
        response = client_for(district_official).post(reverse("people:representative_create"), data)
        assert_refused(
            response, "联系社区", "联系社区最多两个（一个社区或两个相邻社区）。", kept="13800005555"
        )
        assert not Representative.objects.filter(name="测试代表·王红").exists()

    def test_it_rejects_a_community_outside_the_scope(
        self, street_official: Any, world: Any
    ) -> None:
        data = rep_form_data(world, XIAOMEISHA)
        response = client_for(street_official).post(reverse("people:representative_create"), data)
        assert_refused(response, "联系社区", "选择一个有效的选项", kept="测试代表·王红")
        assert not Representative.objects.filter(name="测试代表·王红").exists()

    def test_it_rejects_a_group_of_another_delegation(self, city_official: Any, world: Any) -> None:
        data = rep_form_data(
            world,
            group=Group.objects.get(unit=world["440303001"]).pk,
        )
        response = client_for(city_official).post(reverse("people:representative_create"), data)
        assert_refused(
            response, "代表组", "“桂园街道代表组”不属于“盐田区代表团”。", kept="测试代表·王红"
        )

    def test_a_system_committee_representative_must_be_elected_by_a_committee(
        self, district_official: Any, world: Any
    ) -> None:
        data = rep_form_data(world, category=RepresentativeCategory.SYSTEM_COMMITTEE)
        response = client_for(district_official).post(reverse("people:representative_create"), data)
        assert_refused(response, "选举单位", "系统工委代表的选举单位应为", kept="测试代表·王红")


class TestEdit:
    def edit(self, user: Any, rep: Representative, **changes: Any) -> Any:
        client = client_for(user)
        url = reverse("people:representative_edit", args=[rep.pk])
        data = post_data_from(client.get(url))
        data.update(changes)
        return client.post(url, data)

    @pytest.mark.parametrize("persona", ["street_official", "district_official", "city_official"])
    def test_an_official_in_scope_edits_a_representative(
        self, request: Any, world: Any, persona: str
    ) -> None:
        rep = Representative.objects.get(name="演示代表·陈明")
        response = self.edit(request.getfixturevalue(persona), rep, position="高级工程师")
        assert response.status_code == 302, text_of(response)
        rep.refresh_from_db()
        assert rep.position == "高级工程师"
        assert rep.unit == world["440308"]
        assert rep.delegation is not None
        assert [c.short_name for c in rep.linked_communities.all()] == ["沙头角社区"]

    def test_an_edit_keeps_a_linked_community_outside_the_editors_scope(
        self, street_official: Any, world: Any
    ) -> None:
        """黄海 is linked to 大梅沙社区 (梅沙街道) and also works at 沙头角's studio, so
        沙头角's official may edit him; the edit must not drop the link it cannot offer."""
        from minyi.studios.models import Studio, StudioAssignment

        rep = Representative.objects.get(name="演示代表·黄海")
        StudioAssignment.objects.create(
            studio=Studio.objects.get(name="沙头角社区党代表工作室"), representative=rep
        )
        response = self.edit(street_official, rep, position="总经理")
        assert response.status_code == 302, text_of(response)
        rep.refresh_from_db()
        assert rep.position == "总经理"
        assert [c.short_name for c in rep.linked_communities.all()] == ["大梅沙社区"]

    def test_clearing_the_communities_of_a_city_representative_is_refused(
        self, street_official: Any
    ) -> None:
        rep = Representative.objects.get(name="演示代表·陈明")
        response = self.edit(street_official, rep, linked_communities=[])
        assert_refused(
            response, "联系社区", "市党代表须固定联系一个社区或两个相邻社区。", kept=rep.name
        )
        assert list(rep.linked_communities.all())

    def test_an_edit_with_a_bad_phone_changes_nothing(self, street_official: Any) -> None:
        rep = Representative.objects.get(name="演示代表·陈明")
        response = self.edit(street_official, rep, phone="12345", position="改过的职务")
        assert_refused(response, "联系电话", "“12345”不是有效的电话号码", kept="改过的职务")
        rep.refresh_from_db()
        assert rep.position == "工程师"

    @pytest.mark.parametrize("persona", ["outsider", "liaison", "representative"])
    def test_others_cannot_edit(self, request: Any, world: Any, persona: str) -> None:
        rep = Representative.objects.get(name="演示代表·陈明")
        client = client_for(request.getfixturevalue(persona))
        url = reverse("people:representative_edit", args=[rep.pk])
        response = client.post(url, rep_form_data(world, name="改名"))
        assert response.status_code == 404
        rep.refresh_from_db()
        assert rep.name == "演示代表·陈明"


def names_in(response: Any) -> set[str]:
    return {row.name for row in response.context["rows"]}


class TestList:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({}, {"演示代表·陈明", "演示代表·林秀英", "演示代表·何建国", "演示代表·黄海"}),
            ({"q": "林秀英"}, {"演示代表·林秀英"}),
            ({"q": "医院"}, {"演示代表·何建国"}),  # the employer
            ({"q": "教师"}, {"演示代表·林秀英"}),  # the position
            ({"level": RepresentativeLevel.DISTRICT}, {"演示代表·何建国"}),
            (
                {"category": RepresentativeCategory.DISTRICT, "level": RepresentativeLevel.CITY},
                {"演示代表·陈明", "演示代表·林秀英", "演示代表·黄海"},
            ),
            ({"q": "没有这个人"}, set()),
        ],
    )
    def test_it_searches_and_filters(
        self, district_official: Any, query: dict, expected: set
    ) -> None:
        response = client_for(district_official).get(reverse("people:representative_list"), query)
        assert names_in(response) == expected

    def test_it_filters_by_delegation(self, city_official: Any, world: Any) -> None:
        client = client_for(city_official)
        yantian = Delegation.objects.get(unit=world["440308"])
        luohu = Delegation.objects.get(unit=world["440303"])
        response = client.get(reverse("people:representative_list"), {"delegation": yantian.pk})
        assert names_in(response) == {"演示代表·陈明", "演示代表·林秀英"}
        response = client.get(reverse("people:representative_list"), {"delegation": luohu.pk})
        assert names_in(response) == set()

    def test_the_street_official_sees_only_its_representatives(self, street_official: Any) -> None:
        response = client_for(street_official).get(reverse("people:representative_list"))
        assert "演示代表·黄海" not in text_of(response)
        assert len(response.context["rows"]) == 3

    def test_the_list_shows_linked_communities(self, street_official: Any) -> None:
        page = text_of(client_for(street_official).get(reverse("people:representative_list")))
        assert "沙头角社区、田心社区" in page or "田心社区、沙头角社区" in page

    def test_the_htmx_request_gets_only_the_results_table(self, district_official: Any) -> None:
        response = client_for(district_official).get(
            reverse("people:representative_list"),
            {"q": "黄海"},
            headers={"HX-Request": "true", "HX-Target": "results"},
        )
        page = text_of(response)
        assert "<html" not in page
        assert "<table" in page
        assert "演示代表·黄海" in page
        assert "演示代表·陈明" not in page


class TestDetail:
    def test_it_shows_the_representative_and_their_studios(self, representative: Any) -> None:
        rep = Representative.objects.get(user=representative)
        page = text_of(client_for(representative).get(rep.get_absolute_url()))
        assert rep.name in page
        assert "13800000010" in page  # the phone, in national form
        assert "沙头角社区党代表工作室" in page
        assert "沙头角街道 沙头角社区" in page
        assert "编辑" not in page  # a representative cannot edit their own record


def test_a_studio_the_viewer_cannot_open_is_named_but_not_linked(liaison: Any, world: Any) -> None:
    """A representative working at two studios: the liaison of one saw a link to the
    other, which answered 页面不存在; it is named without a link."""
    from minyi.studios.models import Studio, open_period
    from tests.studios.factories import make_studio

    home = Studio.objects.get(name="沙头角社区党代表工作室")
    rep = home.assignments.filter(active=True).select_related("representative")[0].representative
    other = make_studio(world["440308003003"], name="桥东社区党代表工作室")
    open_period(other, rep, None)
    client = client_for(liaison)
    page = text_of(client.get(reverse("people:representative_detail", args=[rep.pk])))
    assert "桥东社区党代表工作室" in page
    assert other.get_absolute_url() not in page
    assert home.get_absolute_url() in page


def test_the_list_decrypts_no_phone_it_does_not_show(world: Any, monkeypatch: Any) -> None:
    """The list's rows print name, level, delegation and communities, no phone."""
    from minyi.people.models import User
    from tests.core.helpers import opened_values

    phones = set(Representative.objects.values_list("phone", flat=True))
    assert phones - {""}  # so that leaving them unread means something
    client = client_for(User.objects.get(username="yantian"))
    opened = opened_values(monkeypatch)
    page = client.get(reverse("people:representative_list"))
    assert page.status_code == 200 and len(page.context["rows"]) > 1
    assert not set(opened) & phones
