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

EVERYONE = ["首页", "社情民意", "承办单位"]
ORGANISATION = ["工作室", "履职", "党代表", "联络员", "组织架构"]
OFFICIALS = ["账号", "接口令牌", "年度评估"]


def _links(user: User) -> list[str]:
    html = client_for(user).get(reverse("home")).content.decode()
    nav = html.split('<nav aria-label="主导航">')[1].split("</nav>")[0]
    return re.findall(r'<a href="[^"]+">([^<]+)', nav)


@pytest.mark.parametrize(
    ("username", "extra"),
    [
        ("city", [*ORGANISATION, "统计图表", *OFFICIALS, "审计日志", "双因素认证"]),
        ("shatoujiao", [*ORGANISATION, "统计图表", *OFFICIALS]),
        ("liaison", [*ORGANISATION, "统计图表"]),
        ("rep", ORGANISATION),
        # A handling unit's own work instead of the organisation's pages, none of
        # which holds anything of a unit's.
        ("unit", ["待办理", "即将到期", "已超期", "已答复"]),
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


def test_a_units_links_are_its_work_on_the_case_list(world: Any) -> None:
    """Each of a unit's links is the case list filtered as its start page counts."""
    html = client_for(User.objects.get(username="unit")).get(reverse("home")).content.decode()
    nav = html.split('<nav aria-label="主导航">')[1].split("</nav>")[0]
    listed = reverse("cases:list")
    for kind, label in [
        ("pending", "待办理"),
        ("due_soon", "即将到期"),
        ("overdue", "已超期"),
        ("answered", "已答复"),
    ]:
        assert f'<a href="{listed}?work={kind}">{label}</a>' in nav
    # The kept menu of a unit never reaches another account, nor the other way round.
    assert "待办理" not in _links(User.objects.get(username="shatoujiao"))
    assert "工作室" not in _links(User.objects.get(username="unit"))
