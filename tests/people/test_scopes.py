"""Scoping per model: `X.objects.for_user(user)` decides what each account can read,
`X.objects.for_editor(user)` what it can change. Out of scope is simply absent."""

from __future__ import annotations

from typing import Any

import pytest

from minyi.org.models import HandlingUnit, OrgDepartment, OrgUnit
from minyi.people.models import Liaison, Representative, Role, User
from minyi.people.scopes import scope_of
from minyi.studios.models import Studio

SHATOUJIAO_STUDIO = "沙头角社区党代表工作室"
MEISHA_STUDIO = "大梅沙社区党代表工作室"
SHATOUJIAO_REPS = {"演示代表·陈明", "演示代表·林秀英", "演示代表·何建国"}
MEISHA_REPS = {"演示代表·黄海"}
SHATOUJIAO_STUDIO_LIAISONS = {"演示联络员·林芳", "演示联络员·张伟", "演示联络员·李娜"}
SHATOUJIAO_LIAISONS = SHATOUJIAO_STUDIO_LIAISONS | {"演示书记·吴刚"}
MEISHA_LIAISONS = {"演示联络员·赵敏"}
SHATOUJIAO_UNITS = {"沙头角街道", "沙头角社区", "田心社区", "桥东社区"}
MEISHA_UNITS = {"梅沙街道", "大梅沙社区", "小梅沙社区"}
STREET_HANDLING_UNIT = "沙头角街道城市管理办公室"
MEISHA_HANDLING_UNIT = "梅沙街道城市管理办公室"

# Each with its own scoped manager (a plain `type[Model]` has no `objects`).
Scoped = type[Studio] | type[Representative] | type[Liaison] | type[OrgUnit] | type[HandlingUnit]
MODELS: dict[str, tuple[Scoped, str]] = {
    "studios": (Studio, "name"),
    "representatives": (Representative, "name"),
    "liaisons": (Liaison, "name"),
    "units": (OrgUnit, "short_name"),
    "handling_units": (HandlingUnit, "name"),
}


def visible(model: str, user: Any) -> set[str]:
    cls, attr = MODELS[model]
    return set(cls.objects.for_user(user).values_list(attr, flat=True))


def editable(model: str, user: Any) -> set[str]:
    cls, attr = MODELS[model]
    return set(cls.objects.for_editor(user).values_list(attr, flat=True))


@pytest.fixture
def meisha_handling_unit(world: dict[str, OrgUnit]) -> HandlingUnit:
    return HandlingUnit.objects.create(area=world["440308001"], name=MEISHA_HANDLING_UNIT)


def fresh(user: User) -> User:
    """The same account re-read, so no scope is cached on it."""
    return User.objects.get(pk=user.pk)


class TestStreetOfficial:
    @pytest.mark.parametrize(
        ("model", "mine", "theirs"),
        [
            ("studios", {SHATOUJIAO_STUDIO}, {MEISHA_STUDIO}),
            ("representatives", SHATOUJIAO_REPS, MEISHA_REPS),
            ("liaisons", SHATOUJIAO_LIAISONS, MEISHA_LIAISONS),
            ("units", SHATOUJIAO_UNITS, MEISHA_UNITS),
            ("handling_units", {STREET_HANDLING_UNIT}, {MEISHA_HANDLING_UNIT}),
        ],
    )
    def test_it_sees_and_edits_its_street_and_not_meisha(
        self, street_official: User, meisha_handling_unit: Any, model: str, mine: set, theirs: set
    ) -> None:
        assert visible(model, street_official) == mine
        assert editable(model, street_official) == mine
        assert not visible(model, street_official) & theirs

    def test_the_outsider_sees_meisha_and_none_of_shatoujiao(
        self, outsider: User, meisha_handling_unit: Any
    ) -> None:
        assert visible("studios", outsider) == {MEISHA_STUDIO}
        assert visible("representatives", outsider) == MEISHA_REPS
        assert visible("liaisons", outsider) == MEISHA_LIAISONS
        assert visible("units", outsider) == MEISHA_UNITS
        assert visible("handling_units", outsider) == {MEISHA_HANDLING_UNIT}

    def test_it_sees_its_own_organisation_department_only(self, street_official: User) -> None:
        names = set(OrgDepartment.objects.for_user(street_official).values_list("name", flat=True))
        assert names == {"沙头角街道组织部门"}

    def test_it_does_not_see_the_district_above_it(self, street_official: User) -> None:
        assert "盐田区" not in visible("units", street_official)
        assert "盐田区住房和建设局" not in visible("handling_units", street_official)


class TestDistrictOfficial:
    def test_it_sees_both_streets(self, district_official: User, meisha_handling_unit: Any) -> None:
        assert visible("studios", district_official) == {SHATOUJIAO_STUDIO, MEISHA_STUDIO}
        assert visible("representatives", district_official) == SHATOUJIAO_REPS | MEISHA_REPS
        assert visible("liaisons", district_official) == SHATOUJIAO_LIAISONS | MEISHA_LIAISONS
        assert visible("units", district_official) == {"盐田区"} | SHATOUJIAO_UNITS | MEISHA_UNITS
        assert visible("handling_units", district_official) == {
            STREET_HANDLING_UNIT,
            MEISHA_HANDLING_UNIT,
            "盐田区住房和建设局",
        }

    def test_it_does_not_see_another_district_or_the_city(self, district_official: User) -> None:
        units = visible("units", district_official)
        assert not units & {"罗湖区", "桂园街道", "大塘龙社区", "深圳市"}
        assert "深圳市住房和建设局" not in visible("handling_units", district_official)


class TestCityOfficialAndAdmin:
    @pytest.mark.parametrize("persona", ["city_official", "admin_user"])
    def test_they_see_every_studio(self, request: Any, persona: str) -> None:
        user = request.getfixturevalue(persona)
        assert visible("studios", user) == {SHATOUJIAO_STUDIO, MEISHA_STUDIO}
        assert "大塘龙社区" in visible("units", user)


class TestLiaison:
    def test_it_sees_only_its_studio_and_its_people(self, liaison: User) -> None:
        assert visible("studios", liaison) == {SHATOUJIAO_STUDIO}
        assert visible("liaisons", liaison) == SHATOUJIAO_STUDIO_LIAISONS
        assert visible("representatives", liaison) == SHATOUJIAO_REPS
        assert visible("units", liaison) == {"沙头角社区"}
        assert visible("handling_units", liaison) == set()

    def test_it_keeps_its_studio_up_to_date(self, liaison: User) -> None:
        assert editable("studios", liaison) == {SHATOUJIAO_STUDIO}

    def test_it_cannot_edit_units_people_or_handling_units(self, liaison: User) -> None:
        assert editable("units", liaison) == set()
        assert editable("representatives", liaison) == set()
        assert editable("liaisons", liaison) == set()
        assert editable("handling_units", liaison) == set()

    def test_an_inactive_liaison_record_gives_nothing(self, liaison: User) -> None:
        Liaison.objects.filter(user=liaison).update(active=False)
        assert scope_of(fresh(liaison)).is_empty
        assert visible("studios", fresh(liaison)) == set()


class TestRepresentative:
    def test_it_sees_its_own_record_and_its_studios(self, representative: User) -> None:
        own = Representative.objects.get(user=representative)
        reps = visible("representatives", representative)
        assert own.name in reps
        assert reps <= SHATOUJIAO_REPS
        assert visible("studios", representative) == {SHATOUJIAO_STUDIO}
        assert not visible("studios", representative) & {MEISHA_STUDIO}
        assert "演示代表·黄海" not in reps

    def test_it_cannot_edit_the_studio_or_its_own_record(self, representative: User) -> None:
        assert editable("studios", representative) == set()
        assert editable("representatives", representative) == set()
        assert editable("units", representative) == set()

    def test_a_representative_no_longer_in_office_sees_nothing(self, representative: User) -> None:
        Representative.objects.filter(user=representative).update(active=False)
        assert visible("studios", fresh(representative)) == set()
        assert visible("representatives", fresh(representative)) == set()


class TestHandlingUnitStaff:
    def test_it_sees_only_its_own_handling_unit(
        self, handling_unit_staff: User, meisha_handling_unit: Any
    ) -> None:
        assert visible("handling_units", handling_unit_staff) == {STREET_HANDLING_UNIT}
        assert editable("handling_units", handling_unit_staff) == set()

    @pytest.mark.parametrize("model", ["studios", "representatives", "liaisons", "units"])
    def test_it_sees_nothing_else(self, handling_unit_staff: User, model: str) -> None:
        assert visible(model, handling_unit_staff) == set()


class TestNobody:
    @pytest.mark.parametrize("model", list(MODELS))
    def test_an_inactive_official_sees_nothing(self, street_official: User, model: str) -> None:
        street_official.is_active = False
        street_official.save()
        assert visible(model, fresh(street_official)) == set()
        assert editable(model, fresh(street_official)) == set()

    @pytest.mark.parametrize("model", list(MODELS))
    def test_an_account_without_role_sees_nothing(self, world: Any, model: str) -> None:
        user = User.objects.create_user("norole", password="x-irrelevant-1")
        assert scope_of(user).is_empty
        assert visible(model, user) == set()
        assert editable(model, user) == set()

    @pytest.mark.parametrize("model", list(MODELS))
    def test_an_official_whose_unit_is_retired_sees_nothing(
        self, outsider: User, meisha_handling_unit: Any, model: str
    ) -> None:
        assert outsider.unit is not None
        outsider.unit.retire()
        assert visible(model, fresh(outsider)) == set()
        assert editable(model, fresh(outsider)) == set()

    def test_an_official_whose_unit_has_the_wrong_level_sees_nothing(
        self, world: dict[str, OrgUnit]
    ) -> None:
        user = User.objects.create_user(
            "mislevelled", role=Role.STREET_OFFICIAL, unit=world["440308"]
        )
        assert visible("studios", user) == set()

    def test_the_anonymous_visitor_sees_nothing(self, world: Any) -> None:
        from django.contrib.auth.models import AnonymousUser

        assert visible("studios", AnonymousUser()) == set()
        assert visible("units", AnonymousUser()) == set()

    def test_a_handling_unit_staff_account_without_a_unit_sees_nothing(self, world: Any) -> None:
        user = User.objects.create_user("lost", role=Role.HANDLING_UNIT_STAFF)
        assert visible("handling_units", user) == set()
