"""Finding a studio by community, street or address text, and the studio's page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from minyi.duties.models import Event
from minyi.people.models import Representative
from minyi.studios.models import Studio
from tests.online.helpers import REP, studio

pytestmark = pytest.mark.django_db


def _find(q: str) -> str:
    response = Client().get(reverse("online:find"), {"q": q})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("q", ["沙头角社区", "沙头角街道", "沙深路", "盐田区 沙头角"])
def test_a_studio_is_found_by_community_street_or_address(world: Any, q: str) -> None:
    page = _find(q)
    assert "沙头角社区党代表工作室" in page
    assert reverse("online:studio", args=[studio().pk]) in page


def test_a_community_without_a_studio_finds_its_streets_studios(world: Any) -> None:
    """田心社区 has no studio (its party secretary stands in, CM 7): the resident who types
    it, as the search box's own example suggests, is shown the studios of 沙头角街道."""
    for q in ("田心社区", "田心"):
        page = _find(q)
        assert "沙头角社区党代表工作室" in page, q
        assert "大梅沙社区党代表工作室" not in page
    # A community with a studio of its own still finds just that one.
    assert "大梅沙社区党代表工作室" not in _find("沙头角社区")


def test_the_search_says_so_when_nothing_matches_and_never_lists_closed_studios(
    world: Any,
) -> None:
    assert "没有找到" in _find("不存在的社区")
    Studio.objects.filter(name="大梅沙社区党代表工作室").update(closed_at=timezone.now())
    assert "大梅沙社区党代表工作室" not in _find("梅沙")
    assert (
        Client()
        .get(reverse("online:studio", args=[Studio.objects.get(name="大梅沙社区党代表工作室").pk]))
        .status_code
        == 404
    )


def test_an_overlong_search_is_refused_in_chinese(world: Any) -> None:
    response = Client().get(reverse("online:find"), {"q": "长" * 51})
    assert response.status_code == 400
    assert "error-summary" in response.content.decode()


def _event(days: int, state: str = "published", capacity: int = 5) -> Event:
    start = timezone.now() + timedelta(days=days)
    event = Event.objects.create(
        studio=studio(),
        kind="reception",
        theme=f"第{days}天的接待",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        capacity=capacity,
        state=state,
        published_at=timezone.now(),
    )
    event.representatives.add(Representative.objects.get(name=REP))
    return event


def test_the_studio_page_shows_representatives_hours_and_the_coming_weeks_events(
    world: Any,
) -> None:
    soon, later, draft = _event(8), _event(40), _event(9, state="draft")
    full = _event(10, capacity=0)
    page = Client().get(reverse("online:studio", args=[studio().pk])).content.decode()
    assert REP in page and "工程师" in page  # name and position, as on the plaque
    assert "每周三 9:00—12:00" in page
    assert soon.theme in page and full.theme in page
    assert later.theme not in page and draft.theme not in page
    assert reverse("duties:public_booking", args=[soon.pk]) in page
    assert reverse("duties:public_booking", args=[full.pk]) not in page
    assert reverse("online:report_form", args=[studio().pk]) in page


def test_the_studio_page_runs_a_fixed_number_of_queries(
    world: Any, django_assert_num_queries: Any
) -> None:
    for day in range(8, 12):
        _event(day)
    client = Client()
    url = reverse("online:studio", args=[studio().pk])
    # studio, representatives, events, their representatives.
    with django_assert_num_queries(4):
        client.get(url)
    # The same content for every resident, from the cache (minyi.online.public_cache).
    with django_assert_num_queries(0):
        Client().get(url)
    for day in range(12, 20):
        _event(day)
    with django_assert_num_queries(4):
        page = client.get(url).content.decode()
    assert page.count("预约这场") == 12


def test_the_cached_studio_page_follows_every_change_it_shows(world: Any) -> None:
    from minyi.duties.models import Appointment

    event = _event(8, capacity=2)
    url = reverse("online:studio", args=[studio().pk])
    assert "还剩 2 个名额" in Client().get(url).content.decode()
    Appointment.objects.create(
        event=event, name="王阿姨", phone="13800001111", topic="楼道灯", state="confirmed"
    )
    assert "还剩 1 个名额" in Client().get(url).content.decode()
    event.theme = "改过的主题"
    event.save()
    assert "改过的主题" in Client().get(url).content.decode()
    rep = Representative.objects.get(name=REP)
    rep.position = "新的职务"
    rep.save()
    assert "新的职务" in Client().get(url).content.decode()
    place = studio()
    place.opening_hours = "每周五 14:00—17:00"
    place.save()
    assert "每周五 14:00—17:00" in Client().get(url).content.decode()
    place.closed_at = timezone.now()
    place.save()
    assert Client().get(url).status_code == 404


def test_the_cached_content_carries_nothing_of_the_request(world: Any) -> None:
    url = reverse("online:studio", args=[studio().pk])
    assert 'class="public large"' not in Client().get(url).content.decode()
    large = Client().get(url, {"text": "large"}).content.decode()
    assert 'class="public large"' in large and f'href="{url}?text=normal"' in large
    assert "no-store" in Client().get(url)["Cache-Control"]


def test_the_search_runs_one_query(world: Any, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        Client().get(reverse("online:find"), {"q": "沙头角"})


def test_large_text_is_rendered_by_the_server_and_remembered(world: Any) -> None:
    client = Client()
    response = client.get(reverse("online:find"), {"text": "large"})
    assert 'class="public large"' in response.content.decode()
    assert response.cookies["minyi_text"].value == "large"
    again = client.get(reverse("online:studio", args=[studio().pk]))
    assert 'class="public large"' in again.content.decode()


def test_a_photo_is_served_only_for_a_representative_working_at_a_studio(
    world: Any, settings: Any
) -> None:
    from django.core.files.base import ContentFile

    rep = Representative.objects.get(name=REP)
    rep.photo.save("chen.png", ContentFile(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64))
    url = reverse("online:photo", args=[rep.pk])
    assert Client().get(url).status_code == 200
    rep.active = False
    rep.save(update_fields=["active"])
    assert Client().get(url).status_code == 404


def test_the_studio_page_shows_residents_no_template_comment(world: Any) -> None:
    page = Client().get(reverse("online:studio", args=[studio().pk])).content.decode()
    assert "{#" not in page and "public_cache" not in page
