"""A representative who leaves a studio and comes back has two periods there (one row
each): the earlier keeps its dates, both pages show them, the scope follows the open
one, and the database keeps at most one open period per pair."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from minyi.people.models import User
from minyi.people.scopes import scope_of
from minyi.studios.models import StudioAssignment, open_period
from tests.core.helpers import client_for, text_of
from tests.studios.test_assignment_until import fresh, working


def _assign(user: User, assignment: StudioAssignment, **extra: Any) -> Any:
    return client_for(user).post(
        reverse("studios:assignment_add", args=[assignment.studio_id]),
        {"representative": assignment.representative_id, **extra},
    )


def _left(assignment: StudioAssignment, since: date, until: date) -> None:
    StudioAssignment.objects.filter(pk=assignment.pk).update(since=since, until=until, active=False)


def test_leaving_and_coming_back_keeps_both_periods_and_shows_them(
    representative: User, street_official: User
) -> None:
    assignment = working(representative)
    today = timezone.localdate()
    left_on = today - timedelta(days=30)
    _left(assignment, date(2024, 3, 1), left_on)
    assert assignment.studio_id not in scope_of(fresh(representative)).studio_ids
    back_on = today - timedelta(days=10)
    assert _assign(street_official, assignment, since=back_on.isoformat()).status_code == 302

    periods = list(
        StudioAssignment.objects.filter(
            studio=assignment.studio, representative=assignment.representative
        ).order_by("pk")
    )
    assert [(p.since, p.until, p.active) for p in periods] == [
        (date(2024, 3, 1), left_on, False),
        (back_on, None, True),
    ]
    assert assignment.studio_id in scope_of(fresh(representative)).studio_ids

    client = client_for(street_official)
    studio_page = text_of(client.get(assignment.studio.get_absolute_url()))
    working_now, ended = studio_page.split("曾进驻的党代表")
    assert assignment.representative.name in working_now and back_on.isoformat() in working_now
    assert assignment.representative.name in ended and "已离开" in ended
    assert "2024-03-01" in ended and left_on.isoformat() in ended
    assert f"{back_on.isoformat()} 重新进驻" in ended

    rep_page = text_of(client.get(assignment.representative.get_absolute_url()))
    assert f"{back_on.isoformat()} 进驻" in rep_page
    assert f"2024-03-01 进驻，{left_on.isoformat()} 离开" in rep_page


def test_leaving_again_keeps_every_period(representative: User, street_official: User) -> None:
    assignment = working(representative)
    _left(assignment, date(2024, 3, 1), date(2024, 6, 30))
    back = open_period(assignment.studio, assignment.representative, date(2025, 1, 1))
    url = reverse("studios:assignment_remove", args=[assignment.studio_id, back.pk])
    assert client_for(street_official).post(url).status_code == 302
    rows = StudioAssignment.objects.filter(
        studio=assignment.studio, representative=assignment.representative
    )
    assert sorted((p.since, p.until) for p in rows) == [
        (date(2024, 3, 1), date(2024, 6, 30)),
        (date(2025, 1, 1), timezone.localdate()),
    ]
    page = text_of(client_for(street_official).get(assignment.studio.get_absolute_url()))
    assert "曾进驻的党代表（2）" in page and "重新进驻" not in page


def test_coming_back_before_the_last_period_ended_is_refused(
    representative: User, street_official: User
) -> None:
    assignment = working(representative)
    today = timezone.localdate()
    _left(assignment, date(2024, 3, 1), today - timedelta(days=5))
    response = _assign(street_official, assignment, since=(today - timedelta(days=6)).isoformat())
    assert response.status_code == 400
    assert "进驻日期不能早于该党代表上次离开本工作室的日期" in response.content.decode()
    assert (
        StudioAssignment.objects.filter(representative=assignment.representative_id)
        .filter(studio=assignment.studio, active=True)
        .count()
        == 0
    )


def test_at_most_one_open_period_per_pair(representative: User) -> None:
    assignment = working(representative)
    # Assigning someone working here already keeps their period and its day.
    assert open_period(assignment.studio, assignment.representative, date(2020, 1, 1)) == (
        assignment
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        StudioAssignment.objects.create(
            studio=assignment.studio, representative=assignment.representative
        )
    for until in (date(2024, 6, 30), date(2025, 6, 30)):
        StudioAssignment.objects.create(
            studio=assignment.studio,
            representative=assignment.representative,
            active=False,
            until=until,
        )


def test_returned_representatives_cost_the_studio_page_no_query(
    representative: User, street_official: User
) -> None:
    assignment = working(representative)
    client = client_for(street_official)
    url = assignment.studio.get_absolute_url()

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    def came_back(year: int) -> None:
        StudioAssignment.objects.create(
            studio=assignment.studio,
            representative=assignment.representative,
            since=date(year, 1, 1),
            active=False,
            until=date(year, 6, 30),
        )

    # A save of an assignment inside the test's transaction makes every later request
    # read the account afresh (the kept scopes wait for the commit): one before both.
    came_back(2020)
    count()
    few = count()
    for year in (2021, 2022, 2023):
        came_back(year)
    assert count() == few
    assert text_of(client.get(url)).count("重新进驻") == 4


def test_a_period_cannot_start_before_the_studio_was_set_up(
    representative: User, street_official: User
) -> None:
    """A representative cannot have worked at a studio before it existed: the date is
    refused in Chinese and no period is opened (the compliance rules would otherwise owe
    them the two-month windows before the studio was set up)."""
    assignment = working(representative)
    studio = assignment.studio
    studio.established_on = date(2026, 1, 1)
    studio.save(update_fields=["established_on"])
    StudioAssignment.objects.filter(pk=assignment.pk).delete()
    before = StudioAssignment.objects.count()
    response = _assign(street_official, assignment, since="2025-12-31")
    assert response.status_code == 400
    assert "进驻日期不能早于工作室的设立日期（2026-01-01）。" in text_of(response)
    assert StudioAssignment.objects.count() == before
