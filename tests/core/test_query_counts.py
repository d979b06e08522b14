"""List pages and the home page run a fixed number of queries however many rows they
show: measured with a few extra rows, then again with twenty more."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from minyi.org.models import Delegation, Group, HandlingUnit, OrgUnit
from minyi.people.models import (
    Liaison,
    LiaisonKind,
    Representative,
    RepresentativeCategory,
    RepresentativeLevel,
)
from minyi.studios.models import Studio, StudioAssignment
from tests.core.helpers import client_for
from tests.studios.factories import make_studio

_serial = iter(range(100, 100_000))


def add_studios(world: Any, n: int) -> None:
    reps = list(Representative.objects.all())
    for i in range(n):
        unit = world["440308003009"] if i % 2 else world["440308001002"]
        studio = make_studio(unit, area_m2=None if i % 3 == 0 else 40)
        StudioAssignment.objects.create(studio=studio, representative=reps[i % len(reps)])
        Liaison.objects.create(
            name=f"兼职{next(_serial)}",
            kind=LiaisonKind.PART_TIME,
            studio=studio,
            phone="+8613900001111",
        )


def add_representatives(world: Any, n: int) -> None:
    group = Group.objects.get(unit=world["440308003"])
    delegation = Delegation.objects.get(unit=world["440308"])
    for i in range(n):
        rep = Representative.objects.create(
            name=f"测试代表{next(_serial)}",
            level=RepresentativeLevel.CITY,
            category=RepresentativeCategory.DISTRICT,
            unit=world["440308"],
            delegation=delegation,
            group=group,
            employer="测试单位",
            phone="+8613900002222",
        )
        rep.linked_communities.set(
            [world["440308003006"], world["440308003009"]] if i % 2 else [world["440308001006"]]
        )


def add_liaisons(world: Any, n: int) -> None:
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    for i in range(n):
        if i % 2:
            Liaison.objects.create(
                name=f"联络员{next(_serial)}",
                kind=LiaisonKind.PART_TIME,
                studio=studio,
                phone="+8613900003333",
            )
        else:
            Liaison.objects.create(
                name=f"书记{next(_serial)}",
                kind=LiaisonKind.STAND_IN,
                community=world["440308003003"],
                phone="+8613900003333",
            )


def add_units(world: Any, n: int) -> None:
    for i in range(n):
        parent = world["440308003"] if i % 2 else world["440308001"]
        unit = OrgUnit(name=f"测试社区{next(_serial)}", short_name="测试社区", level="community")
        unit.set_ancestors_from(parent)
        unit.save()


def add_handling_units(world: Any, n: int) -> None:
    for i in range(n):
        area = world["440308003"] if i % 2 else world["440308"]
        HandlingUnit.objects.create(area=area, name=f"测试承办单位{next(_serial)}")


def add_everything(world: Any, n: int) -> None:
    add_studios(world, n)
    add_representatives(world, n)
    add_liaisons(world, n)
    add_units(world, n)
    add_handling_units(world, n)


PAGES: list[tuple[str, Callable[[Any, int], None], dict[str, str]]] = [
    ("studios:list", add_studios, {}),
    ("studios:list", add_studios, {"shortfall": "on", "kind": "community"}),
    ("people:representative_list", add_representatives, {}),
    ("people:representative_list", add_representatives, {"q": "测试"}),
    ("people:liaison_list", add_liaisons, {}),
    ("org:unit_list", add_units, {}),
    ("org:unit_list", add_units, {"include_retired": "on", "level": "community"}),
    ("org:handlingunit_list", add_handling_units, {}),
    ("home", add_everything, {}),
]


def queries_for(client: Any, url: str, query: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("persona", ["district_official", "admin_user", "liaison"])
@pytest.mark.parametrize(("name", "add", "query"), PAGES)
def test_the_page_runs_a_fixed_number_of_queries(
    world: Any,
    request: Any,
    django_assert_num_queries: Any,
    persona: str,
    name: str,
    add: Callable[[Any, int], None],
    query: dict[str, str],
) -> None:
    client = client_for(request.getfixturevalue(persona))
    url = reverse(name)
    add(world, 3)
    client.get(url, query)  # warm up: the first request of a session may differ
    few = queries_for(client, url, query)
    add(world, 20)
    # Adding studios or liaisons bumps the kept scopes and choices
    # (people.scope_cache, cases.choice_cache): warm up again, so that both counts are
    # taken with the caches in the same state and only the rows differ.
    client.get(url, query)
    with django_assert_num_queries(few):
        response = client.get(url, query)
    assert response.status_code == 200


def test_the_detail_pages_run_a_fixed_number_of_queries(
    world: Any,
    district_official: Any,
    django_assert_num_queries: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The studio page lists representatives and liaisons; the unit page lists children."""
    client = client_for(district_official)
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    street = world["440308003"]
    urls = [studio.get_absolute_url(), street.get_absolute_url()]
    for url in urls:
        client.get(url)
    counts = [queries_for(client, url, {}) for url in urls]
    # The new rows as committed: the first view after them reads the organisation's
    # cached rows afresh and keeps them (minyi.core.generations), as the warm-up did.
    with django_capture_on_commit_callbacks(execute=True):
        add_liaisons(world, 20)
        add_units(world, 20)
        add_representatives(world, 10)
        for rep in Representative.objects.filter(name__startswith="测试代表"):
            StudioAssignment.objects.create(studio=studio, representative=rep)
    for url in urls:
        client.get(url)
    for url, count in zip(urls, counts, strict=True):
        with django_assert_num_queries(count):
            client.get(url)
