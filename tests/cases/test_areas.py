"""A case's area columns (Case.area, province … street): set at registration from its
studio's unit, the source of truth for scoping, and kept equal to the studio's unit when
the organisation changes (minyi.cases.areas; docs/decisions.md)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from minyi.cases.areas import backfill_areas
from minyi.cases.models import Case
from minyi.cases.services import case_register
from minyi.org.models import OrgUnit
from minyi.org.services import unit_merge, unit_reparent
from minyi.people.models import Representative, Role, User
from minyi.studios.models import Studio, StudioKind
from tests.cases.helpers import register, reporter_data
from tests.cases.test_pages import form_data
from tests.core.helpers import client_for, post_data_from

PROVINCE, CITY, YANTIAN, LUOHU = "44", "4403", "440308", "440303"
SHATOUJIAO_STREET, MEISHA_STREET = "440308003", "440308001"
SHATOUJIAO, TIANXIN, DAMEISHA = "440308003006", "440308003009", "440308001006"


def areas(case: Case) -> tuple[int | None, ...]:
    case = Case.objects.get(pk=case.pk)
    return (case.area_id, case.street_id, case.district_id, case.city_id, case.province_id)


def ids(world: dict[str, OrgUnit], *codes: str | None) -> tuple[int | None, ...]:
    return tuple(world[code].pk if code else None for code in codes)


def visible(user: User, case: Case) -> bool:
    return Case.objects.for_user(user).filter(pk=case.pk).exists()


def street_studio_case(world: dict[str, OrgUnit]) -> Case:
    """A case of a studio that sits at the street itself, not at a community."""
    studio = Studio.objects.create(
        unit=world[SHATOUJIAO_STREET], name="沙头角街道机关党代表工作室", kind=StudioKind.AGENCY
    )
    return case_register(
        actor=User.objects.get(username="liaison"),
        studio=studio,
        representative=Representative.objects.get(name="演示代表·陈明"),
        data=reporter_data(),
    )


def luohu_official() -> User:
    return User.objects.create_user(
        username="luohu",
        password="x",
        role=Role.DISTRICT_OFFICIAL,
        unit=OrgUnit.objects.get(code=LUOHU),
    )


class TestSetAtRegistration:
    def test_a_community_studio_case_has_its_community_and_every_level_above(
        self, world: Any
    ) -> None:
        case = register()
        assert areas(case) == ids(world, SHATOUJIAO, SHATOUJIAO_STREET, YANTIAN, CITY, PROVINCE)

    def test_a_street_studio_case_has_the_street_itself_as_its_street(self, world: Any) -> None:
        case = street_studio_case(world)
        assert areas(case) == ids(
            world, SHATOUJIAO_STREET, SHATOUJIAO_STREET, YANTIAN, CITY, PROVINCE
        )

    def test_the_registration_page_sets_them(self, liaison: User, world: Any) -> None:
        response = client_for(liaison).post(reverse("cases:create"), form_data())
        assert response.status_code == 302
        assert areas(Case.objects.get()) == ids(
            world, SHATOUJIAO, SHATOUJIAO_STREET, YANTIAN, CITY, PROVINCE
        )


class TestVisibility:
    def test_a_street_sees_its_cases_and_not_the_neighbours(
        self, world: Any, street_official: User, outsider: User
    ) -> None:
        community, street = register(), street_studio_case(world)
        assert visible(street_official, community) and visible(street_official, street)
        assert not visible(outsider, community) and not visible(outsider, street)

    def test_the_district_and_the_city_see_them_another_district_does_not(
        self, world: Any, district_official: User, city_official: User
    ) -> None:
        community, street = register(), street_studio_case(world)
        for user in (district_official, city_official):
            assert visible(user, community) and visible(user, street)
        assert not visible(luohu_official(), community)

    def test_a_handling_unit_sees_a_case_only_once_referred_as_before(
        self, world: Any, handling_unit_staff: User, representative: User
    ) -> None:
        case = register()
        assert not visible(handling_unit_staff, case)
        assert visible(representative, case)


class TestTheOrganisationChanges:
    def test_a_street_moved_to_another_district_takes_its_cases_along(
        self, world: Any, district_official: User
    ) -> None:
        community, street = register(), street_studio_case(world)
        unit_reparent(unit=world[SHATOUJIAO_STREET], parent=world[LUOHU])
        assert areas(community) == ids(world, SHATOUJIAO, SHATOUJIAO_STREET, LUOHU, CITY, PROVINCE)
        assert areas(street) == ids(
            world, SHATOUJIAO_STREET, SHATOUJIAO_STREET, LUOHU, CITY, PROVINCE
        )
        luohu = luohu_official()
        assert visible(luohu, community) and visible(luohu, street)
        assert not visible(district_official, community)
        assert not visible(district_official, street)

    def test_a_community_moved_to_another_street_takes_its_cases_along(
        self, world: Any, street_official: User, outsider: User
    ) -> None:
        case = register()
        unit_reparent(unit=world[SHATOUJIAO], parent=world[MEISHA_STREET])
        assert areas(case) == ids(world, SHATOUJIAO, MEISHA_STREET, YANTIAN, CITY, PROVINCE)
        assert visible(outsider, case) and not visible(street_official, case)

    def test_merged_communities_take_the_cases_to_the_target(
        self, world: Any, outsider: User
    ) -> None:
        case = register()
        unit_merge(source=world[SHATOUJIAO], target=world[DAMEISHA])
        assert areas(case) == ids(world, DAMEISHA, MEISHA_STREET, YANTIAN, CITY, PROVINCE)
        assert visible(outsider, case)

    def test_a_studio_moved_to_another_community_takes_its_cases_along(
        self, world: Any, city_official: User, street_official: User, outsider: User
    ) -> None:
        case = register()
        studio = case.studio
        url = reverse("studios:edit", args=[studio.pk])
        client = client_for(city_official)
        data = post_data_from(client.get(url))
        data["unit"] = world[DAMEISHA].pk
        assert client.post(url, data).status_code == 302
        assert areas(case) == ids(world, DAMEISHA, MEISHA_STREET, YANTIAN, CITY, PROVINCE)
        assert visible(outsider, case) and not visible(street_official, case)

    def test_editing_a_studio_without_moving_it_leaves_its_cases_alone(
        self, world: Any, city_official: User
    ) -> None:
        case = register()
        Case.objects.filter(pk=case.pk).update(area=None)  # would be rewritten by a move
        url = reverse("studios:edit", args=[case.studio_id])
        client = client_for(city_official)
        data = post_data_from(client.get(url))
        data["name"] = "沙头角社区党代表工作室（新址）"
        assert client.post(url, data).status_code == 302
        assert Case.objects.get(pk=case.pk).area_id is None


class TestBackfill:
    @pytest.mark.parametrize("street_studio", [False, True])
    def test_the_migration_backfills_cases_without_areas(
        self, world: Any, street_studio: bool
    ) -> None:
        case = street_studio_case(world) if street_studio else register()
        other = register(received_on=reporter_data()["received_on"])
        expected = {c.pk: areas(c) for c in (case, other)}
        Case.objects.update(area=None, street=None, district=None, city=None, province=None)
        assert backfill_areas(Case, Studio) == 2
        assert {c.pk: areas(c) for c in (case, other)} == expected
        # Cases that already have their areas are left alone.
        assert backfill_areas(Case, Studio) == 0


class TestAdminParentChange:
    """The Django admin is a superuser's repair tool; a parent changed there goes through
    `unit_reparent` like any other move, and the derived pointers cannot be typed in."""

    @pytest.fixture
    def admin_client(self, client: Any, django_user_model: Any) -> Any:
        user = django_user_model.objects.create(
            username="tree-admin", is_staff=True, is_superuser=True
        )
        client.force_login(user)
        return client

    def change(self, admin_client: Any, unit: OrgUnit, **values: Any) -> Any:
        url = reverse("admin:org_orgunit_change", args=[unit.pk])
        data = post_data_from(admin_client.get(url)) | values
        return admin_client.post(url, data)

    def test_a_street_moved_in_the_admin_takes_its_communities_and_cases_along(
        self, world: Any, admin_client: Any, district_official: User
    ) -> None:
        case = register()
        response = self.change(admin_client, world[SHATOUJIAO_STREET], parent=world[LUOHU].pk)
        assert response.status_code == 302
        assert areas(case) == ids(world, SHATOUJIAO, SHATOUJIAO_STREET, LUOHU, CITY, PROVINCE)
        assert OrgUnit.objects.get(pk=world[SHATOUJIAO].pk).district_id == world[LUOHU].pk
        assert visible(luohu_official(), case)
        assert not visible(district_official, case)

    def test_a_parent_of_the_wrong_level_is_refused_and_nothing_changes(
        self, world: Any, admin_client: Any
    ) -> None:
        case = register()
        before = areas(case)
        response = self.change(admin_client, world[SHATOUJIAO], parent=world[LUOHU].pk)
        assert response.status_code == 200
        assert "新的上级单元层级不正确。" in response.content.decode()
        assert OrgUnit.objects.get(pk=world[SHATOUJIAO].pk).parent_id == world[SHATOUJIAO_STREET].pk
        assert areas(case) == before

    def test_the_derived_pointers_are_not_editable(self, world: Any, admin_client: Any) -> None:
        url = reverse("admin:org_orgunit_change", args=[world[SHATOUJIAO].pk])
        form = admin_client.get(url).context["adminform"].form
        assert {"province", "city", "district", "street", "level"}.isdisjoint(form.fields)
        # A posted pointer is ignored, not saved.
        self.change(admin_client, world[SHATOUJIAO], district=world[LUOHU].pk)
        assert OrgUnit.objects.get(pk=world[SHATOUJIAO].pk).district_id == world[YANTIAN].pk
