"""What every staff page reads around itself is kept in the shared cache between
requests (issue 8): the signed-in account with its unit (minyi.core.account_cache) and
its unread count (minyi.duties.notify). Kept values must never outlive the writes that
change them, and the second view must not read them again."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from minyi.api.tokens import token_issue, token_revoke
from minyi.core import account_cache, generations
from minyi.duties.notify import notification_mark_read, notification_send, unread_count
from minyi.org.models import OrgUnit
from minyi.people.models import Role, User
from tests.core.helpers import client_for

pytestmark = pytest.mark.django_db


class _RolledBack(Exception):
    pass


def _tables_read(client: Any, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def _badge(client: Any) -> str:
    html = client.get(reverse("home")).content.decode()
    nav = html.split('<nav aria-label="主导航">')[1].split("</nav>")[0]
    return nav.split("通知", 1)[1].split("</a>", 1)[0]


def test_the_second_page_reads_neither_the_account_nor_the_unread_count(world: Any) -> None:
    client = client_for(User.objects.get(username="liaison"))
    url = reverse("duties:notification_list")
    first = _tables_read(client, url)
    assert any('FROM "people_user"' in sql for sql in first)
    again = _tables_read(client, reverse("home"))
    assert not any('FROM "people_user"' in sql for sql in again)
    assert not any('FROM "duties_notification"' in sql and "COUNT(" in sql.upper() for sql in again)


def test_the_unread_badge_follows_new_and_read_notifications(world: Any) -> None:
    liaison = User.objects.get(username="liaison")
    client = client_for(liaison)
    assert "条未读" not in _badge(client)  # now kept: 0
    notification_send(recipients=[liaison], text="有新的预约")
    assert 'aria-label="1 条未读">1<' in _badge(client)
    notification_send(recipients=[liaison, liaison], text="又有新的预约")
    assert 'aria-label="2 条未读">2<' in _badge(client)
    notification_mark_read(user=liaison)
    assert "条未读" not in _badge(client)


def test_a_count_read_before_a_commit_is_not_served_after_it(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The race the bump after the commit settles: another view counts while the
    notification is written but not yet committed, and keeps its count under the
    current number."""
    liaison = User.objects.get(username="liaison")
    assert unread_count(liaison) == 0
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notification_send(recipients=[liaison], text="有新的预约")
        current = cache.get(f"duties:unread-generation:{liaison.pk}")
        # Kept as generations.kept keeps it in another connection: counted (0) before
        # the commit, under the number current then.
        cache.set(f"duties:unread:{liaison.pk}", ((current,), 0))
    assert unread_count(liaison) == 1


@pytest.mark.parametrize("inside", [False, True], ids=["transaction", "savepoint"])
def test_a_count_read_inside_a_rolled_back_write_is_not_served_after_it(
    world: Any, inside: bool
) -> None:
    """The writing transaction (or savepoint) sees its own notification, and keeps
    nothing of what it read: a count that includes a rolled-back notification would
    otherwise be served for UNREAD_SECONDS."""
    liaison = User.objects.get(username="liaison")
    assert unread_count(liaison) == 0
    with transaction.atomic() if inside else contextlib.nullcontext():
        with pytest.raises(_RolledBack), transaction.atomic():
            notification_send(recipients=[liaison], text="有新的预约")
            assert unread_count(liaison) == 1
            raise _RolledBack
        # The rollback took the write and its pending bump with it: counted and kept.
        assert unread_count(liaison) == 0
        assert cache.get(f"duties:unread:{liaison.pk}")[1] == 0
    assert unread_count(liaison) == 0


def test_an_account_read_inside_a_rolled_back_save_is_not_served_after_it(world: Any) -> None:
    liaison = User.objects.get(username="liaison")

    def load():
        return User.objects.select_related("unit").get(pk=liaison.pk)

    assert account_cache.fetched(liaison.pk, load).is_active
    with pytest.raises(_RolledBack), transaction.atomic():
        liaison.is_active = False
        liaison.save()
        assert not account_cache.fetched(liaison.pk, load).is_active
        raise _RolledBack
    assert account_cache.fetched(liaison.pk, load).is_active


def test_one_write_bumps_once_however_often_it_saves(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    liaison = User.objects.get(username="liaison")
    key = f"duties:unread-generation:{liaison.pk}"
    before = generations.current(key)
    with django_capture_on_commit_callbacks(execute=True) as hooks, transaction.atomic():
        for text in ("一", "二", "三"):
            notification_send(recipients=[liaison], text=text)
    assert len(hooks) == 1
    assert generations.current(key) == before + 1
    assert unread_count(liaison) == 3


def test_a_changed_role_or_unit_shows_on_the_next_request(world: Any) -> None:
    official = User.objects.get(username="shatoujiao")
    client = client_for(official)
    assert client.get(reverse("home")).status_code == 200
    assert "审计日志" not in client.get(reverse("home")).content.decode()
    official.role = Role.CITY_OFFICIAL
    official.unit = OrgUnit.objects.get(parent__isnull=True)
    official.save()
    assert "审计日志" in client.get(reverse("home")).content.decode()


def test_a_deactivated_account_is_out_on_its_next_request(world: Any) -> None:
    liaison = User.objects.get(username="liaison")
    client = client_for(liaison)
    assert client.get(reverse("home")).status_code == 200  # kept now
    liaison.is_active = False
    liaison.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_queryset_update_that_calls_forget_is_seen(world: Any) -> None:
    liaison = User.objects.get(username="liaison")
    calls = []

    def load():
        calls.append(1)
        return User.objects.get(pk=liaison.pk)

    assert account_cache.fetched(liaison.pk, load).is_active
    assert account_cache.fetched(liaison.pk, load).is_active
    assert len(calls) == 1
    User.objects.filter(pk=liaison.pk).update(is_active=False)
    account_cache.forget(liaison.pk)
    assert not account_cache.fetched(liaison.pk, load).is_active
    assert len(calls) == 2


def test_a_revoked_tokens_service_account_is_forgotten(world: Any) -> None:
    city = User.objects.get(username="city")
    account = User(role=Role.CITY_OFFICIAL, unit=city.unit)
    token, _secret = token_issue(issuer=city, name="测试系统", account=account)

    def load():
        return User.objects.get(pk=token.user_id)

    assert account_cache.fetched(token.user_id, load).is_active
    assert token_revoke(token=token)
    assert not account_cache.fetched(token.user_id, load).is_active
