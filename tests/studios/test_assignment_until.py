"""An assignment (SM 6) that ends keeps the day it ended (`until`): set where assignments
are ended (the studio page's 移出, the admin), shown with the dates on the studio page
and the representative's page. Assigned again, the representative gets a new period
(tests/studios/test_assignment_periods.py). `active` alone still decides the scope, and
the kept scopes are read afresh."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from minyi.people.models import (
    Representative,
    RepresentativeCategory,
    RepresentativeLevel,
    User,
)
from minyi.people.scopes import scope_of
from minyi.studios.models import Studio, StudioAssignment
from tests.core.helpers import client_for, post_data_from, text_of

SHATOUJIAO_STUDIO = "沙头角社区党代表工作室"


def fresh(user: User) -> User:
    """The account re-read, as the next request has it (no scope on the object)."""
    return User.objects.get(pk=user.pk)


def working(representative: User) -> StudioAssignment:
    """The demo representative's assignment at 沙头角社区党代表工作室."""
    return StudioAssignment.objects.select_related("studio", "representative").get(
        representative__user=representative, studio__name=SHATOUJIAO_STUDIO
    )


def remove(user: User, assignment: StudioAssignment) -> Any:
    url = reverse("studios:assignment_remove", args=[assignment.studio_id, assignment.pk])
    return client_for(user).post(url)


def test_removing_records_today_and_the_scope_loses_the_studio(
    representative: User, street_official: User
) -> None:
    assignment = working(representative)
    assert assignment.studio_id in scope_of(fresh(representative)).studio_ids
    assert remove(street_official, assignment).status_code == 302
    assignment.refresh_from_db()
    assert (assignment.active, assignment.until) == (False, timezone.localdate())
    assert assignment.studio_id not in scope_of(fresh(representative)).studio_ids


def test_the_pages_show_the_ended_assignment_with_its_dates(
    representative: User, street_official: User
) -> None:
    assignment = working(representative)
    StudioAssignment.objects.filter(pk=assignment.pk).update(since=date(2025, 3, 1))
    remove(street_official, assignment)
    today = timezone.localdate().isoformat()
    client = client_for(street_official)
    studio_page = text_of(client.get(assignment.studio.get_absolute_url()))
    assert "曾进驻的党代表（1）" in studio_page
    ended = studio_page.split("曾进驻的党代表")[1]
    assert assignment.representative.name in ended and "已离开" in ended
    assert "2025-03-01" in ended and today in ended
    # The plaque shows those working here only.
    plaque = text_of(client.get(reverse("studios:plaque", args=[assignment.studio_id])))
    assert assignment.representative.name not in plaque
    rep_page = text_of(client.get(assignment.representative.get_absolute_url()))
    assert SHATOUJIAO_STUDIO in rep_page and "已离开" in rep_page
    assert f"2025-03-01 进驻，{today} 离开" in rep_page


def test_an_assignment_ended_before_its_day_was_kept_says_so(
    representative: User, street_official: User
) -> None:
    assignment = working(representative)
    StudioAssignment.objects.filter(pk=assignment.pk).update(active=False)
    client = client_for(street_official)
    rep_page = text_of(client.get(assignment.representative.get_absolute_url()))
    assert "已离开" in rep_page and "离开日期未记录" in rep_page
    studio_page = text_of(client.get(assignment.studio.get_absolute_url()))
    assert "未记录" in studio_page.split("曾进驻的党代表")[1]


def test_the_admin_ends_an_assignment_with_the_day_and_never_reopens_it(
    representative: User, admin_user: User
) -> None:
    assignment = working(representative)
    client = client_for(admin_user)
    url = reverse("admin:studios_studioassignment_change", args=[assignment.pk])
    data = post_data_from(client.get(url))
    data.pop("active")
    assert client.post(url, data).status_code == 302
    assignment.refresh_from_db()
    assert (assignment.active, assignment.until) == (False, timezone.localdate())
    assert assignment.studio_id not in scope_of(fresh(representative)).studio_ids
    # Reopened, the period would lose the day it ended: coming back is a new period.
    response = client.post(url, {**data, "active": "on"})
    assert response.status_code == 200
    assert "已结束的进驻期间不能恢复" in response.content.decode()
    assignment.refresh_from_db()
    assert (assignment.active, assignment.until) == (False, timezone.localdate())


def test_an_ended_assignment_keeps_its_day_when_ended_again() -> None:
    ended = StudioAssignment(active=False, until=date(2025, 6, 30))
    ended.end()
    assert ended.until == date(2025, 6, 30)


def test_the_database_refuses_a_day_of_leaving_on_a_working_assignment(
    representative: User,
) -> None:
    assignment = working(representative)
    with pytest.raises(IntegrityError), transaction.atomic():
        StudioAssignment.objects.filter(pk=assignment.pk).update(until=date(2025, 6, 30))


def test_the_studio_page_reads_those_who_left_with_those_working(
    world: Any, street_official: User
) -> None:
    studio = Studio.objects.get(name=SHATOUJIAO_STUDIO)
    client = client_for(street_official)
    url = studio.get_absolute_url()

    def left(n: int) -> None:
        for i in range(n):
            rep = Representative.objects.create(
                name=f"演示代表·离开{Representative.objects.count()}",
                level=RepresentativeLevel.CITY,
                category=RepresentativeCategory.DISTRICT,
                unit=world["440308"],
                employer="演示单位",
            )
            StudioAssignment.objects.create(
                studio=studio,
                representative=rep,
                active=False,
                until=timezone.localdate() - timedelta(days=i),
            )

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    left(1)
    count()  # the account and its unread count are read once, then kept (cache)
    few = count()
    left(10)
    assert count() == few
    assert "曾进驻的党代表（11）" in text_of(client.get(url))


def _assign(user: User, assignment: StudioAssignment, **extra: Any) -> Any:
    return client_for(user).post(
        reverse("studios:assignment_add", args=[assignment.studio_id]),
        {"representative": assignment.representative_id, **extra},
    )


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("tomorrow", "进驻日期不能晚于今天。"),
        ("2026-02-30", "请填写有效的日期"),
    ],
)
def test_a_bad_start_day_is_refused_in_chinese_and_nothing_changes(
    representative: User, street_official: User, since: str, message: str
) -> None:
    if since == "tomorrow":
        # Worked out here, not when the tests are collected: a run that crosses midnight
        # (Asia/Shanghai) would otherwise post a day that has become today.
        since = (timezone.localdate() + timedelta(days=1)).isoformat()
    assignment = working(representative)
    assignment.end()
    assignment.save()
    response = _assign(street_official, assignment, since=since)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not StudioAssignment.objects.filter(
        studio=assignment.studio, representative=assignment.representative, active=True
    ).exists()
