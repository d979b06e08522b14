"""Editing the organisation tree through the pages: add, rename, retire (kept, marked,
history readable), merge (everything that hung on the source moves to the target), and
re-parenting, which rewrites the descendants' ancestor pointers."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from minyi.org.models import HandlingUnit, Kind, Level, OrgUnit
from minyi.org.services import unit_merge, unit_reparent, unit_retire
from minyi.people.models import Liaison, LiaisonKind, Representative, User
from minyi.studios.models import Studio, StudioKind
from tests.core.helpers import client_for, post_data_from, text_of

STREET, MEISHA_STREET = "440308003", "440308001"
SHATOUJIAO, TIANXIN, QIAODONG = "440308003006", "440308003009", "440308003003"
DAMEISHA, XIAOMEISHA = "440308001006", "440308001002"


def retire(user: User, unit: OrgUnit) -> Any:
    return client_for(user).post(reverse("org:unit_retire", args=[unit.pk]), follow=True)


def merge(user: User, source: OrgUnit, target: OrgUnit) -> Any:
    return client_for(user).post(
        reverse("org:unit_merge", args=[source.pk]), {"target": target.pk}, follow=True
    )


def reload(unit: OrgUnit) -> OrgUnit:
    return OrgUnit.objects.get(pk=unit.pk)


class TestAddAndRename:
    def test_a_community_is_added_under_shatoujiao_and_then_renamed(
        self, street_official: User, world: Any
    ) -> None:
        client = client_for(street_official)
        street = world[STREET]
        form_page = client.get(reverse("org:unit_create"), {"parent": street.pk})
        assert form_page.status_code == 200
        response = client.post(
            reverse("org:unit_create"),
            {
                "parent": street.pk,
                "name": "海山社区居民委员会",
                "short_name": "海山社区",
                "kind": Kind.ORDINARY,
                "code": "440308003010",
            },
            follow=True,
        )
        unit = OrgUnit.objects.get(code="440308003010")
        assert response.redirect_chain[-1][0] == unit.get_absolute_url()
        assert "组织单元已保存。" in text_of(response)
        assert unit.level == Level.COMMUNITY
        assert unit.street_id == street.pk
        assert "海山社区居民委员会" in text_of(client.get(street.get_absolute_url()))

        url = reverse("org:unit_edit", args=[unit.pk])
        data = post_data_from(client.get(url))
        data.update(name="海山社区居委会", short_name="海山")
        assert client.post(url, data).status_code == 302
        unit.refresh_from_db()
        assert (unit.name, unit.short_name, unit.code) == ("海山社区居委会", "海山", "440308003010")
        # a street official sees the new community and a neighbour does not
        assert OrgUnit.objects.for_user(street_official).filter(pk=unit.pk).exists()
        assert (
            not OrgUnit.objects.for_user(User.objects.get(username="meisha"))
            .filter(pk=unit.pk)
            .exists()
        )


class TestRetire:
    def test_an_empty_community_is_retired_and_kept(
        self, street_official: User, world: Any
    ) -> None:
        qiaodong = world[QIAODONG]
        response = retire(street_official, qiaodong)
        assert response.status_code == 200
        assert "“桥东居委会”已撤销，历史记录保留。" in text_of(response)
        unit = reload(qiaodong)
        assert unit.is_retired
        assert unit.merged_into is None

    def test_a_retired_unit_is_listed_on_request_and_its_page_stays_readable(
        self, street_official: User, world: Any
    ) -> None:
        qiaodong = world[QIAODONG]
        retire(street_official, qiaodong)
        client = client_for(street_official)
        listed = client.get(reverse("org:unit_list"))
        assert "桥东居委会" not in text_of(listed)
        listed = client.get(reverse("org:unit_list"), {"include_retired": "on"})
        assert "桥东居委会" in text_of(listed)
        page = client.get(qiaodong.get_absolute_url())
        assert page.status_code == 200
        assert "已撤销" in text_of(page)
        assert "撤销此单元" not in text_of(page)
        parent_page = text_of(client.get(world[STREET].get_absolute_url()))
        assert '桥东居委会</a> <span class="badge retired">已撤销</span>' in parent_page

    def test_a_retired_community_is_no_longer_offered_in_forms(
        self, street_official: User, world: Any
    ) -> None:
        retire(street_official, world[QIAODONG])
        response = client_for(street_official).get(reverse("people:liaison_create"))
        communities = response.context["form"].fields["community"].queryset
        assert world[QIAODONG] not in communities

    def test_it_refuses_to_retire_a_unit_with_active_children(
        self, district_official: User, world: Any
    ) -> None:
        response = retire(district_official, world[STREET])
        assert "该单元还有未撤销的下级单元，请先撤销或合并下级单元。" in text_of(response)
        assert not reload(world[STREET]).is_retired

    def test_a_unit_whose_children_are_all_retired_can_be_retired(
        self, district_official: User, world: Any
    ) -> None:
        for code in (DAMEISHA, XIAOMEISHA):
            Studio.objects.filter(unit=world[code]).update(closed_at="2025-01-01T00:00:00+08:00")
            unit_retire(unit=world[code])
        retire(district_official, world[MEISHA_STREET])
        assert reload(world[MEISHA_STREET]).is_retired

    def test_it_refuses_to_retire_a_community_with_an_active_studio(
        self, street_official: User, world: Any
    ) -> None:
        response = retire(street_official, world[SHATOUJIAO])
        assert "该单元还有在用的工作室，请先将工作室迁移或撤销。" in text_of(response)
        assert not reload(world[SHATOUJIAO]).is_retired

    def test_retiring_twice_is_refused(self, street_official: User, world: Any) -> None:
        retire(street_official, world[QIAODONG])
        response = retire(street_official, world[QIAODONG])
        assert "该单元已撤销。" in text_of(response)

    @pytest.mark.parametrize(
        ("persona", "code"),
        [("street_official", STREET), ("district_official", "440308"), ("city_official", "4403")],
    )
    def test_an_official_cannot_retire_their_own_scope_unit(
        self, request: Any, world: Any, persona: str, code: str
    ) -> None:
        user = request.getfixturevalue(persona)
        response = client_for(user).post(reverse("org:unit_retire", args=[world[code].pk]))
        assert response.status_code == 404
        assert not reload(world[code]).is_retired
        assert "撤销此单元" not in text_of(client_for(user).get(world[code].get_absolute_url()))

    @pytest.mark.parametrize("persona", ["outsider", "liaison", "representative"])
    def test_others_cannot_retire(self, request: Any, world: Any, persona: str) -> None:
        user = request.getfixturevalue(persona)
        response = client_for(user).post(reverse("org:unit_retire", args=[world[QIAODONG].pk]))
        assert response.status_code == 404
        assert not reload(world[QIAODONG]).is_retired

    def test_retiring_needs_a_post(self, street_official: User, world: Any) -> None:
        response = client_for(street_official).get(
            reverse("org:unit_retire", args=[world[QIAODONG].pk])
        )
        assert response.status_code == 405


@pytest.fixture
def qiaodong_with_things(world: Any) -> dict[str, Any]:
    """桥东社区 with a studio, a stand-in liaison and two linked representatives, one of
    them already linked to 沙头角社区 as well."""
    qiaodong = world[QIAODONG]
    studio = Studio.objects.create(
        unit=qiaodong,
        name="桥东社区党代表工作室",
        kind=StudioKind.COMMUNITY,
        host_organisation="桥东社区党委",
    )
    stand_in = Liaison.objects.create(
        name="桥东书记", kind=LiaisonKind.STAND_IN, community=qiaodong, phone="+8613800000050"
    )
    both = Representative.objects.get(name="演示代表·陈明")  # linked to 沙头角社区
    both.linked_communities.add(qiaodong)
    only = Representative.objects.get(name="演示代表·何建国")
    only.linked_communities.set([qiaodong])
    return {"studio": studio, "stand_in": stand_in, "both": both, "only": only}


class TestMerge:
    def test_qiaodong_is_merged_into_shatoujiao(
        self, street_official: User, world: Any, qiaodong_with_things: dict
    ) -> None:
        source, target = world[QIAODONG], world[SHATOUJIAO]
        response = merge(street_official, source, target)
        assert response.redirect_chain[-1][0] == target.get_absolute_url()
        assert "“桥东居委会”已并入“沙头角居委会”。" in text_of(response)

        things = qiaodong_with_things
        things["studio"].refresh_from_db()
        things["stand_in"].refresh_from_db()
        assert things["studio"].unit == target
        # 沙头角社区 has its own studio, so the stand-in is no longer needed (CM 7).
        assert things["stand_in"].community == source
        assert not things["stand_in"].active
        assert [c.pk for c in things["both"].linked_communities.all()] == [target.pk]
        assert [c.pk for c in things["only"].linked_communities.all()] == [target.pk]

        source = reload(source)
        assert source.is_retired
        assert source.merged_into == target
        assert not Studio.objects.filter(unit=source).exists()

    def test_the_merged_unit_keeps_a_readable_page_pointing_to_the_target(
        self, street_official: User, world: Any, qiaodong_with_things: dict
    ) -> None:
        merge(street_official, world[QIAODONG], world[SHATOUJIAO])
        page = client_for(street_official).get(world[QIAODONG].get_absolute_url())
        assert page.status_code == 200
        assert "已并入" in text_of(page)
        assert world[SHATOUJIAO].get_absolute_url() in text_of(page)

    def test_merging_streets_moves_their_communities(
        self, district_official: User, world: Any
    ) -> None:
        merge(district_official, world[MEISHA_STREET], world[STREET])
        for code in (DAMEISHA, XIAOMEISHA):
            unit = reload(world[code])
            assert unit.parent_id == world[STREET].pk
            assert unit.street_id == world[STREET].pk
            assert unit.district_id == world["440308"].pk
        street_official = User.objects.get(username="shatoujiao")
        assert Studio.objects.for_user(street_official).filter(name="大梅沙社区党代表工作室")
        assert reload(world[MEISHA_STREET]).merged_into == world[STREET]
        huang = Representative.objects.get(name="演示代表·黄海")
        assert huang.group is None or huang.group.unit_id == world[STREET].pk

    def test_merging_streets_moves_the_group_members_to_the_target_group(
        self, district_official: User, world: Any
    ) -> None:
        from minyi.org.models import Group

        meisha_group = Group.objects.get(unit=world[MEISHA_STREET])
        huang = Representative.objects.get(name="演示代表·黄海")
        huang.group, huang.delegation = meisha_group, meisha_group.delegation
        huang.save()
        merge(district_official, world[MEISHA_STREET], world[STREET])
        huang.refresh_from_db()
        assert huang.group == Group.objects.get(unit=world[STREET])

    def test_a_street_moved_to_another_district_takes_its_group_along(self, world: Any) -> None:
        from minyi.org.models import Delegation, Group
        from minyi.org.services import unit_reparent

        chen = Representative.objects.get(name="演示代表·陈明")
        luohu = world["440303"]
        unit_reparent(unit=world[STREET], parent=luohu)
        group = Group.objects.get(unit=world[STREET])
        assert group.delegation == Delegation.objects.get(unit=luohu)
        chen.refresh_from_db()
        assert chen.delegation == group.delegation

    def test_merging_streets_with_same_named_handling_units_is_refused(
        self, district_official: User, world: Any
    ) -> None:
        HandlingUnit.objects.create(area=world[MEISHA_STREET], name="沙头角街道城市管理办公室")
        response = merge(district_official, world[MEISHA_STREET], world[STREET])
        assert response.status_code == 200
        assert "同名承办单位" in text_of(response)
        assert "沙头角街道城市管理办公室" in text_of(response)
        assert not reload(world[MEISHA_STREET]).is_retired
        assert reload(world[DAMEISHA]).parent_id == world[MEISHA_STREET].pk

    @pytest.mark.parametrize(
        "target_code",
        [STREET, DAMEISHA, "440303001001"],  # another level; out of scope; another district
    )
    def test_it_refuses_a_target_of_another_level_or_outside_the_scope(
        self, street_official: User, world: Any, target_code: str
    ) -> None:
        response = merge(street_official, world[QIAODONG], world[target_code])
        assert "请选择您管辖范围内同一层级、未撤销的单元。" in text_of(response)
        assert not reload(world[QIAODONG]).is_retired

    def test_it_says_which_field_is_missing_when_no_target_is_chosen(
        self, street_official: User, world: Any
    ) -> None:
        # The message shows on the unit's page, away from the form: "this field is
        # required" would not say which.
        response = client_for(street_official).post(
            reverse("org:unit_merge", args=[world[QIAODONG].pk]), {"target": ""}, follow=True
        )
        assert "请选择要并入的单元。" in text_of(response)
        assert not reload(world[QIAODONG]).is_retired

    def test_it_refuses_a_retired_target(self, street_official: User, world: Any) -> None:
        unit_retire(unit=world[QIAODONG])
        response = merge(street_official, world[TIANXIN], world[QIAODONG])
        assert "请选择您管辖范围内同一层级、未撤销的单元。" in text_of(response)
        assert not reload(world[TIANXIN]).is_retired

    def test_an_official_cannot_merge_their_own_scope_unit(
        self, street_official: User, district_official: User, world: Any
    ) -> None:
        response = client_for(street_official).post(
            reverse("org:unit_merge", args=[world[STREET].pk]), {"target": world[MEISHA_STREET].pk}
        )
        assert response.status_code == 404
        response = client_for(district_official).post(
            reverse("org:unit_merge", args=[world["440308"].pk]), {"target": world["440303"].pk}
        )
        assert response.status_code == 404
        assert not reload(world[STREET]).is_retired
        assert not reload(world["440308"]).is_retired

    def test_the_outsider_cannot_merge_into_its_neighbour(self, outsider: User, world: Any) -> None:
        response = client_for(outsider).post(
            reverse("org:unit_merge", args=[world[QIAODONG].pk]), {"target": world[DAMEISHA].pk}
        )
        assert response.status_code == 404

    @pytest.mark.parametrize(
        ("source", "target", "message"),
        [
            (QIAODONG, QIAODONG, "不能并入自身。"),
            (QIAODONG, STREET, "只能并入同一层级的单元。"),
        ],
    )
    def test_the_service_refuses_impossible_merges(
        self, world: Any, source: str, target: str, message: str
    ) -> None:
        with pytest.raises(ValidationError) as caught:
            unit_merge(source=world[source], target=world[target])
        assert caught.value.messages == [message]


class TestReparent:
    def test_moving_a_street_rewrites_its_communities_ancestors(self, world: Any) -> None:
        street, luohu = world[STREET], world["440303"]
        unit_reparent(unit=street, parent=luohu)
        street = reload(street)
        assert street.parent == luohu
        assert street.district_id == luohu.pk
        for code in (SHATOUJIAO, TIANXIN, QIAODONG):
            community = reload(world[code])
            assert community.parent_id == street.pk
            assert community.street_id == street.pk
            assert community.district_id == luohu.pk
            assert community.city_id == world["4403"].pk
            assert community.province_id == world["44"].pk
        # the other street of 盐田区 is untouched
        assert reload(world[DAMEISHA]).district_id == world["440308"].pk

    def test_scoping_follows_the_move(self, district_official: User, world: Any) -> None:
        unit_reparent(unit=world[STREET], parent=world["440303"])
        studios = Studio.objects.for_user(User.objects.get(pk=district_official.pk))
        assert set(studios.values_list("name", flat=True)) == {"大梅沙社区党代表工作室"}

    def test_moving_a_community_to_another_street(self, world: Any) -> None:
        unit_reparent(unit=world[QIAODONG], parent=world[MEISHA_STREET])
        unit = reload(world[QIAODONG])
        assert unit.parent_id == unit.street_id == world[MEISHA_STREET].pk
        assert unit.district_id == world["440308"].pk

    def test_a_parent_of_the_wrong_level_is_refused(self, world: Any) -> None:
        with pytest.raises(ValidationError) as caught:
            unit_reparent(unit=world[QIAODONG], parent=world["440308"])
        assert caught.value.messages == ["新的上级单元层级不正确。"]
        assert reload(world[QIAODONG]).parent_id == world[STREET].pk
