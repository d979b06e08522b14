"""The main navigation (minyi/core/templatetags/navigation.py): written once per kind
of account and kept by the process, so it must still show each account what its role
and scope allow, and the unread count of the account viewing it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from minyi.duties.models import Notification
from minyi.people.models import User
from tests.core.helpers import client_for

pytestmark = pytest.mark.django_db

EVERYONE = ["首页", "社情民意", "工作室", "履职", "党代表", "联络员", "组织架构", "承办单位"]
OFFICIALS = ["账号", "接口令牌", "年度评估"]


def _links(user: User) -> list[str]:
    html = client_for(user).get(reverse("home")).content.decode()
    nav = html.split('<nav aria-label="主导航">')[1].split("</nav>")[0]
    return re.findall(r'<a href="[^"]+">([^<]+)', nav)


@pytest.mark.parametrize(
    ("username", "extra"),
    [
        ("city", ["统计图表", *OFFICIALS, "审计日志", "双因素认证"]),
        ("shatoujiao", ["统计图表", *OFFICIALS]),
        ("liaison", ["统计图表"]),
        ("rep", []),
        ("unit", []),
    ],
)
def test_each_account_sees_its_own_links(world: Any, username: str, extra: list[str]) -> None:
    links = _links(User.objects.get(username=username))
    assert sorted(links) == sorted([*EVERYONE, *extra, "通知"])


def test_the_kept_navigation_does_not_leak_between_accounts(world: Any) -> None:
    """The city official's links, kept first, never reach a street official after it."""
    assert "审计日志" in _links(User.objects.get(username="city"))
    assert "审计日志" not in _links(User.objects.get(username="shatoujiao"))
    assert "审计日志" in _links(User.objects.get(username="city"))


def test_the_unread_count_is_the_viewers_own(world: Any) -> None:
    liaison, rep = User.objects.get(username="liaison"), User.objects.get(username="rep")
    Notification.objects.create(recipient=liaison, text="有新的预约")
    page = client_for(liaison).get(reverse("home")).content.decode()
    assert '<span class="badge warn" aria-label="1 条未读">1</span></a>' in page
    assert f'<a href="{reverse("duties:notification_list")}">通知<span' in page
    assert "条未读" not in client_for(rep).get(reverse("home")).content.decode()
