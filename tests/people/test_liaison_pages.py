"""Liaisons (SM 11, CM 7) through their pages: full-time and part-time liaisons belong
to a studio; where a community has no studio, its party secretary stands in."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from minyi.people.models import Liaison, LiaisonKind
from minyi.studios.models import Studio
from tests.core.helpers import client_for, post_data_from, text_of
from tests.studios.factories import make_studio

SHATOUJIAO_STUDIO = "沙头角社区党代表工作室"


@pytest.fixture
def studio(world: Any) -> Studio:
    return Studio.objects.get(name=SHATOUJIAO_STUDIO)


def liaison_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "测试联络员·周洁",
        "kind": LiaisonKind.PART_TIME,
        "studio": "",
        "community": "",
        "position": "社区工作站工作人员",
        "phone": "13800007777",
        "active": "on",
    }
    data.update(overrides)
    return data


def assert_refused(response: Any, label: str, message: str, kept: str) -> None:
    assert response.status_code == 400
    page = text_of(response)
    assert 'class="error-summary"' in page
    assert f"{label}：{message}" in page
    assert kept in page


class TestCreate:
    def test_a_street_official_adds_a_full_time_liaison_to_a_studio(
        self, street_official: Any, studio: Studio
    ) -> None:
        # The one in post leaves first (SM 11: one full-time liaison a studio).
        studio.liaisons.filter(kind=LiaisonKind.FULL_TIME).update(active=False)
        data = liaison_data(kind=LiaisonKind.FULL_TIME, studio=studio.pk)
        response = client_for(street_official).post(reverse("people:liaison_create"), data)
        liaison = Liaison.objects.get(name="测试联络员·周洁")
        assert response.status_code == 302
        assert response["Location"] == liaison.get_absolute_url()
        assert liaison.studio == studio
        assert liaison.phone == "+8613800007777"

    def test_a_party_secretary_stands_in_where_there_is_no_studio(
        self, street_official: Any, world: Any
    ) -> None:
        qiaodong = world["440308003003"]
        data = liaison_data(kind=LiaisonKind.STAND_IN, community=qiaodong.pk, position="书记")
        response = client_for(street_official).post(reverse("people:liaison_create"), data)
        assert response.status_code == 302
        liaison = Liaison.objects.get(name="测试联络员·周洁")
        assert liaison.community == qiaodong
        assert liaison.studio is None
        page = text_of(client_for(street_official).get(qiaodong.get_absolute_url()))
        assert "测试联络员·周洁" in page

    def test_the_studio_can_be_preselected(self, street_official: Any, studio: Studio) -> None:
        response = client_for(street_official).get(
            reverse("people:liaison_create"), {"studio": studio.pk}
        )
        assert response.context["form"]["studio"].value() == str(studio.pk)


class TestBadInput:
    def create(self, user: Any, **overrides: Any) -> Any:
        return client_for(user).post(reverse("people:liaison_create"), liaison_data(**overrides))

    def test_it_rejects_a_stand_in_for_a_community_that_has_a_studio(
        self, street_official: Any, world: Any
    ) -> None:
        response = self.create(
            street_official, kind=LiaisonKind.STAND_IN, community=world["440308003006"].pk
        )
        assert_refused(
            response,
            "社区（无工作室时）",
            "“沙头角社区”已设立工作室，请在工作室下设联络员。",
            kept="测试联络员·周洁",
        )
        assert not Liaison.objects.filter(name="测试联络员·周洁").exists()

    def test_it_rejects_a_second_full_time_liaison_in_post(
        self, street_official: Any, studio: Studio
    ) -> None:
        response = self.create(street_official, kind=LiaisonKind.FULL_TIME, studio=studio.pk)
        assert_refused(
            response,
            "类型",
            "“沙头角社区党代表工作室”已有在岗的专职联络员演示联络员·林芳，每个工作室配备一名"
            "（《工作室管理办法》第十一条）。如需更换，请先将演示联络员·林芳设为不在岗，"
            "再登记新的专职联络员。",
            kept="测试联络员·周洁",
        )
        assert not Liaison.objects.filter(name="测试联络员·周洁").exists()
        # Not in post, or part-time, a second one is taken; and the one in post is saved
        # again as it is.
        assert (
            self.create(
                street_official, kind=LiaisonKind.FULL_TIME, studio=studio.pk, active=""
            ).status_code
            == 302
        )
        current = studio.liaisons.get(kind=LiaisonKind.FULL_TIME, active=True)
        client = client_for(street_official)
        url = reverse("people:liaison_edit", args=[current.pk])
        edit = client.post(url, post_data_from(client.get(url)))
        assert edit.status_code == 302, text_of(edit)[:3000]

    def test_it_rejects_a_full_time_liaison_without_a_studio(self, street_official: Any) -> None:
        response = self.create(street_official, kind=LiaisonKind.FULL_TIME)
        assert_refused(
            response, "工作室", "专职、兼职联络员须选择所在工作室。", kept="社区工作站工作人员"
        )
        assert not Liaison.objects.filter(name="测试联络员·周洁").exists()

    def test_it_rejects_a_part_time_liaison_given_a_community(
        self, street_official: Any, studio: Studio, world: Any
    ) -> None:
        response = self.create(
            street_official, studio=studio.pk, community=world["440308003003"].pk
        )
        assert_refused(
            response,
            "社区（无工作室时）",
            "专职、兼职联络员不填社区，请清空此项。",
            kept="13800007777",
        )

    def test_it_rejects_a_stand_in_given_a_studio(
        self, street_official: Any, studio: Studio
    ) -> None:
        response = self.create(street_official, kind=LiaisonKind.STAND_IN, studio=studio.pk)
        assert_refused(response, "工作室", "书记兼任的联络员不属于工作室", kept="测试联络员·周洁")
        assert "请选择由其兼任联络员的社区。" in text_of(response)

    @pytest.mark.parametrize(
        ("overrides", "label", "message"),
        [
            ({"phone": "12345"}, "联系电话", "“12345”不是有效的电话号码"),
            ({"phone": ""}, "联系电话", "这个字段是必填项。"),
            ({"name": ""}, "姓名", "这个字段是必填项。"),
            ({"kind": ""}, "类型", "这个字段是必填项。"),
        ],
    )
    def test_it_refuses_bad_input_and_saves_nothing(
        self, street_official: Any, studio: Studio, overrides: dict, label: str, message: str
    ) -> None:
        before = Liaison.objects.count()
        response = self.create(street_official, studio=studio.pk, **overrides)
        assert_refused(response, label, message, kept="社区工作站工作人员")
        assert Liaison.objects.count() == before

    def test_it_rejects_a_studio_outside_the_scope(self, outsider: Any, studio: Studio) -> None:
        response = self.create(outsider, studio=studio.pk)
        assert_refused(response, "工作室", "选择一个有效的选项", kept="测试联络员·周洁")


class TestEdit:
    def test_an_official_marks_a_liaison_as_gone(self, street_official: Any) -> None:
        liaison = Liaison.objects.get(name="演示联络员·张伟")
        client = client_for(street_official)
        url = reverse("people:liaison_edit", args=[liaison.pk])
        data = post_data_from(client.get(url))
        del data["active"]
        data["position"] = "已调离"
        assert client.post(url, data).status_code == 302
        liaison.refresh_from_db()
        assert not liaison.active
        assert liaison.position == "已调离"
        assert liaison.phone == "+8613800000031"

    @pytest.mark.parametrize("persona", ["liaison", "representative", "outsider"])
    def test_others_cannot_edit(self, world: Any, request: Any, persona: str) -> None:
        liaison = Liaison.objects.get(name="演示联络员·张伟")
        client = client_for(request.getfixturevalue(persona))
        url = reverse("people:liaison_edit", args=[liaison.pk])
        assert client.post(url, liaison_data(studio=liaison.studio_id)).status_code == 404
        liaison.refresh_from_db()
        assert liaison.name == "演示联络员·张伟"


def names_in(response: Any) -> set[str]:
    return {row.name for row in response.context["rows"]}


class TestList:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({}, {"演示联络员·林芳", "演示联络员·张伟", "演示联络员·李娜", "演示书记·吴刚"}),
            ({"q": "林芳"}, {"演示联络员·林芳"}),
            ({"q": "居委会委员"}, {"演示联络员·李娜"}),  # the position
            ({"kind": LiaisonKind.FULL_TIME}, {"演示联络员·林芳"}),
            ({"kind": LiaisonKind.STAND_IN}, {"演示书记·吴刚"}),
            ({"kind": LiaisonKind.PART_TIME, "q": "张"}, {"演示联络员·张伟"}),
        ],
    )
    def test_it_searches_and_filters(
        self, street_official: Any, query: dict, expected: set
    ) -> None:
        response = client_for(street_official).get(reverse("people:liaison_list"), query)
        assert names_in(response) == expected

    def test_it_filters_by_studio(self, district_official: Any) -> None:
        meisha = Studio.objects.get(name="大梅沙社区党代表工作室")
        response = client_for(district_official).get(
            reverse("people:liaison_list"), {"studio": meisha.pk}
        )
        assert names_in(response) == {"演示联络员·赵敏"}

    def test_the_stand_in_is_shown_with_the_community(self, street_official: Any) -> None:
        page = text_of(client_for(street_official).get(reverse("people:liaison_list")))
        assert "沙头角街道 田心社区（未设工作室）" in page
        assert "13800000040" in page

    def test_a_stand_in_whose_community_has_since_opened_a_studio_is_flagged(
        self, street_official: Any, world: Any
    ) -> None:
        """CM 7: the secretary stands in only while the community has no studio. Once one
        is opened there, the list no longer says （未设工作室） but what to do."""
        make_studio(world["440308003009"], name="田心社区党代表工作室")
        page = text_of(client_for(street_official).get(reverse("people:liaison_list")))
        assert "田心社区（未设工作室）" not in page
        assert "沙头角街道 田心社区（已设工作室，请改在工作室下设联络员）" in page

    def test_the_liaison_sees_its_colleagues_without_edit_links(self, liaison: Any) -> None:
        response = client_for(liaison).get(reverse("people:liaison_list"))
        assert names_in(response) == {"演示联络员·林芳", "演示联络员·张伟", "演示联络员·李娜"}
        assert "/edit/" not in text_of(response)

    def test_the_htmx_request_gets_only_the_results_table(self, street_official: Any) -> None:
        response = client_for(street_official).get(
            reverse("people:liaison_list"),
            {"kind": LiaisonKind.STAND_IN},
            headers={"HX-Request": "true", "HX-Target": "results"},
        )
        page = text_of(response)
        assert "<html" not in page
        assert "<table" in page
        assert "演示书记·吴刚" in page
        assert "演示联络员·林芳" not in page
