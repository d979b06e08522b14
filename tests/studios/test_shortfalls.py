"""SM 5 (premises and facilities) and SM 11 (a full-time liaison) shortfalls: warnings
that are shown, never a reason to refuse a save."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from minyi.people.models import Liaison, LiaisonKind
from minyi.studios.models import FACILITIES, Studio, StudioKind
from tests.core.helpers import client_for, text_of
from tests.studios.factories import make_studio, studio_form_data


@pytest.fixture
def community(world: dict[str, Any]) -> Any:
    return world["440308003003"]  # 桥东社区: no studio yet


def messages_of(studio: Studio) -> list[str]:
    return [item.message for item in studio.shortfalls()]


def test_a_compliant_studio_has_no_shortfalls(community: Any) -> None:
    assert make_studio(community).shortfalls() == []


def test_the_demo_studio_of_shatoujiao_is_compliant(world: Any) -> None:
    assert Studio.objects.get(name="沙头角社区党代表工作室").shortfalls() == []


@pytest.mark.parametrize("area", ["19.9", "0", "15"])
def test_it_warns_about_a_room_under_20_square_metres(community: Any, area: str) -> None:
    studio = make_studio(community, area_m2=Decimal(area))
    [shortfall] = studio.shortfalls()
    assert shortfall.rule == "SM 5"
    assert "不足 20 平方米" in shortfall.message
    assert area in shortfall.message


def test_exactly_20_square_metres_is_enough(community: Any) -> None:
    assert make_studio(community, area_m2=Decimal(20)).shortfalls() == []


def test_it_warns_about_a_missing_area(community: Any) -> None:
    studio = make_studio(community, area_m2=None)
    assert messages_of(studio) == ["未填写工作室面积。"]


@pytest.mark.parametrize(("field", "label"), FACILITIES)
def test_it_warns_about_each_missing_facility(community: Any, field: str, label: str) -> None:
    studio = make_studio(community, **{field: False})
    [shortfall] = studio.shortfalls()
    assert shortfall.rule == "SM 5"
    assert shortfall.message == f"缺少：{label}。"


def test_a_bare_room_lists_every_missing_facility(community: Any) -> None:
    studio = make_studio(community, area_m2=Decimal(12), **{name: False for name, _ in FACILITIES})
    assert len(studio.shortfalls()) == 1 + len(FACILITIES)


def test_it_warns_when_there_is_no_full_time_liaison(community: Any) -> None:
    studio = make_studio(community, full_time_liaison=False)
    Liaison.objects.create(
        name="兼职甲", kind=LiaisonKind.PART_TIME, studio=studio, phone="+8613900000001"
    )
    [shortfall] = studio.shortfalls()
    assert shortfall.rule == "SM 11"
    assert shortfall.message == "没有专职联络员。"


def test_a_full_time_liaison_who_left_does_not_count(community: Any) -> None:
    studio = make_studio(community)
    studio.liaisons.update(active=False)
    assert messages_of(studio) == ["没有专职联络员。"]


def test_preloaded_liaisons_give_the_same_answer(community: Any) -> None:
    studio = make_studio(community, full_time_liaison=False, area_m2=None)
    active = list(studio.liaisons.filter(active=True))
    assert studio.shortfalls(liaisons=active) == studio.shortfalls()


@pytest.mark.parametrize("kind", [StudioKind.ONLINE, StudioKind.MOBILE])
def test_online_and_mobile_studios_are_exempt_from_premises_rules(world: Any, kind: str) -> None:
    studio = make_studio(
        world["440308003"], kind=kind, area_m2=None, **{name: False for name, _ in FACILITIES}
    )
    assert studio.shortfalls() == []
    assert not studio.has_premises


@pytest.mark.parametrize("kind", [StudioKind.ONLINE, StudioKind.MOBILE])
def test_online_and_mobile_studios_still_need_a_full_time_liaison(world: Any, kind: str) -> None:
    studio = make_studio(world["440308003"], kind=kind, area_m2=None, full_time_liaison=False)
    assert messages_of(studio) == ["没有专职联络员。"]


@pytest.mark.parametrize(
    "kind", [StudioKind.INDUSTRY, StudioKind.PARK, StudioKind.AGENCY, StudioKind.SERVICE_WINDOW]
)
def test_other_kinds_of_studio_keep_the_premises_rules(world: Any, kind: str) -> None:
    studio = make_studio(world["440308003"], kind=kind, area_m2=Decimal(10))
    assert [item.rule for item in studio.shortfalls()] == ["SM 5"]


class TestThroughThePages:
    def test_saving_a_studio_with_shortfalls_succeeds(
        self, street_official: Any, community: Any
    ) -> None:
        data = studio_form_data(community, area_m2="12")
        for name, _ in FACILITIES[:2]:
            data.pop(name)
        response = client_for(street_official).post(reverse("studios:create"), data)
        assert response.status_code == 302
        studio = Studio.objects.get(name=data["name"])
        assert response["Location"] == studio.get_absolute_url()
        assert len(studio.shortfalls()) == 4  # area, two facilities, no full-time liaison

    def test_the_studio_page_shows_the_shortfalls(
        self, street_official: Any, community: Any
    ) -> None:
        studio = make_studio(
            community, area_m2=Decimal(15), has_slogan_sign=False, full_time_liaison=False
        )
        page = text_of(client_for(street_official).get(studio.get_absolute_url()))
        assert "尚有 3 项不足" in page
        assert "面积 15 平方米，不足 20 平方米。" in page
        assert "缺少：悬挂“知党情、听民意、促和谐”标识。" in page
        assert "没有专职联络员。" in page
        assert "《工作室管理办法》</abbr>第十一条" in page
        assert "SM 11" not in page

    def test_a_compliant_studio_page_says_so(self, street_official: Any, community: Any) -> None:
        studio = make_studio(community)
        page = text_of(client_for(street_official).get(studio.get_absolute_url()))
        assert "均符合办法要求" in page
        assert "项不足" not in page

    def test_the_home_page_lists_studios_with_shortfalls(self, district_official: Any) -> None:
        page = text_of(client_for(district_official).get(reverse("home")))
        assert "1 个工作室尚有不足项" in page
        assert "大梅沙社区党代表工作室</a>：" in page

    def test_the_list_marks_studios_with_shortfalls(self, district_official: Any) -> None:
        page = text_of(client_for(district_official).get(reverse("studios:list")))
        short = Studio.objects.get(name="大梅沙社区党代表工作室")
        assert f"{len(short.shortfalls())} 项不足" in page
        assert "达标" in page


def test_the_shortfall_filter_agrees_with_the_shortfall_list(world: Any) -> None:
    """`Studio.objects.with_shortfalls()` (SQL, for the list filter) finds exactly the
    studios whose `shortfalls()` (Python, for the warnings) is not empty."""
    community, street = world["440308003009"], world["440308003"]
    make_studio(community)
    make_studio(community, area_m2=None)
    make_studio(community, area_m2=Decimal("19.9"))
    make_studio(community, area_m2=Decimal(20))
    make_studio(community, has_rules_posted=False)
    make_studio(community, full_time_liaison=False)
    make_studio(street, kind=StudioKind.ONLINE, area_m2=None, has_plaque=False)
    make_studio(street, kind=StudioKind.MOBILE, full_time_liaison=False)
    left = make_studio(community)
    left.liaisons.update(active=False)
    part_time_only = make_studio(community, full_time_liaison=False)
    Liaison.objects.create(
        name="兼职乙", kind=LiaisonKind.PART_TIME, studio=part_time_only, phone="+8613900000002"
    )
    expected = {studio.pk for studio in Studio.objects.all() if studio.shortfalls()}
    assert set(Studio.objects.with_shortfalls().values_list("pk", flat=True)) == expected
    assert len(expected) == 8  # 大梅沙 (demo) and seven of the ten above


@pytest.mark.parametrize(("stored", "shown"), [("24.0", "24"), ("24.5", "24.5"), ("120", "120")])
def test_an_area_reads_the_same_on_the_studio_page_and_in_its_evaluation_evidence(
    street_official: Any, community: Any, stored: str, shown: str
) -> None:
    # The studio page said "24.0 平方米" (the stored decimal) where the evaluation's
    # evidence said "36 平方米": one format, a real fraction kept.
    from minyi.evaluation import prefill

    studio = make_studio(community, area_m2=Decimal(stored))
    studio.refresh_from_db()  # as a page reads it: the column's one decimal place
    page = text_of(client_for(street_official).get(studio.get_absolute_url()))
    assert f"{shown} 平方米" in page and f"{shown}.0 平方米" not in page
    assert f"面积 {shown} 平方米。" in "".join(prefill.building(studio).evidence)
