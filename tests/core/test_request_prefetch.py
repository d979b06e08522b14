"""A request fetches what it keeps per account in one round trip to the shared cache
(minyi.core.generations.prefetch, issue 8): the account, its scope and its unread count
come together, and the case list's two sets of choices together. What a request fetched
must never hide a write: not its own (a bump), and not one made before the next request."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse

from minyi.cases import services
from minyi.core import generations
from minyi.people.models import User
from tests.core.helpers import client_for

pytestmark = pytest.mark.django_db


class _Counting:
    """The cache as generations sees it, recording each get_many (one round trip)."""

    def __init__(self) -> None:
        self.round_trips: list[list[str]] = []

    def get_many(self, keys: Any) -> Any:
        self.round_trips.append(list(keys))
        return cache.get_many(keys)

    def __getattr__(self, name: str) -> Any:
        return getattr(cache, name)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> _Counting:
    counting = _Counting()
    monkeypatch.setattr(generations, "cache", counting)
    return counting


@pytest.fixture
def in_a_request() -> Any:
    generations.request_started()
    yield
    generations.request_finished()


@pytest.mark.parametrize("username", ["liaison", "shatoujiao"])
def test_a_warm_case_list_makes_two_round_trips(
    world: Any, counting: _Counting, username: str
) -> None:
    user = User.objects.get(username=username)
    client = client_for(user)
    url = reverse("cases:list")
    for _ in range(2):
        assert client.get(url).status_code == 200
    counting.round_trips.clear()
    assert client.get(url).status_code == 200
    account, choices = counting.round_trips  # and nothing more
    assert {
        f"core:account:{user.pk}",
        f"people:scope:{user.pk}",
        f"duties:unread:{user.pk}",
    } <= set(account)
    # The filters' choices and may_register, and the working-day calendar its rows'
    # 即将到期 counts with (the generation and this year's schedule).
    assert len(choices) == 4
    assert sum(key.startswith("cases:choices:") for key in choices) == 2
    assert {"workdays:calendar-generation", f"workdays:year:{services.today().year}"} <= set(
        choices
    )


def test_a_bump_in_the_request_is_seen_by_the_same_request(world: Any, in_a_request: Any) -> None:
    assert generations.kept("test:kept", ["test:generation"], lambda: "before", 60) == "before"
    generations.bump("test:generation")
    assert generations.kept("test:kept", ["test:generation"], lambda: "after", 60) == "after"


def test_a_new_request_does_not_reuse_what_the_last_one_fetched(world: Any) -> None:
    generations.request_started()
    assert generations.kept("test:kept", ["test:generation"], lambda: "first", 60) == "first"
    # Kept meanwhile by another worker under the same number (no bump: e.g. it expired
    # there and was read again).
    number = cache.get("test:generation")
    cache.set("test:kept", ((number,), "elsewhere"), 60)
    generations.request_started()  # the last request never finished (an exception)
    assert generations.kept("test:kept", ["test:generation"], lambda: "third", 60) == "elsewhere"
    generations.request_finished()


def test_outside_a_request_every_call_reads_the_cache(world: Any, counting: _Counting) -> None:
    generations.prefetch(["test:kept", "test:generation"])
    assert counting.round_trips == []
    assert generations.kept("test:kept", ["test:generation"], lambda: "first", 60) == "first"
    number = cache.get("test:generation")
    cache.set("test:kept", ((number,), "elsewhere"), 60)
    assert generations.kept("test:kept", ["test:generation"], lambda: "again", 60) == "elsewhere"
    assert len(counting.round_trips) == 2


def test_inside_a_request_a_key_is_fetched_once(
    world: Any, counting: _Counting, in_a_request: Any
) -> None:
    generations.prefetch(["test:kept", "test:generation", "test:other"])
    assert generations.kept("test:kept", ["test:generation"], lambda: "first", 60) == "first"
    assert generations.kept("test:kept", ["test:generation"], lambda: "again", 60) == "first"
    generations.prefetch(["test:other", "test:kept"])
    assert counting.round_trips == [["test:kept", "test:generation", "test:other"]]


def test_a_warm_start_page_fetches_its_counts_and_the_calendar_together(
    world: Any, counting: _Counting
) -> None:
    client = client_for(User.objects.get(username="shatoujiao"))
    for _ in range(2):
        assert client.get(reverse("home")).status_code == 200
    counting.round_trips.clear()
    assert client.get(reverse("home")).status_code == 200
    _account, kept = counting.round_trips  # and nothing more
    assert any(key.startswith("cases:choices:home-counts") for key in kept)
    assert f"workdays:year:{services.today().year}" in kept
