"""The staff pages' main navigation, written once per kind of account and kept.

The bar had fifteen `{% url %}` tags and their conditions, rendered on every staff
page: over a millisecond of each page's fixed cost (docs/performance.md, finding 24).
Its links depend only on the account's role, its flags, whether its scope has
dashboards or is a handling unit's and the script prefix, so the markup is kept per
combination of those in the process; only the unread count is added per request.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from minyi.cases.summary import UNIT_WORK
from minyi.people.models import Role

register = template.Library()

# (label, URL name and query, who sees it); None means every staff account. A handling
# unit's account has its own work instead of the organisation's pages (工作室, 党代表,
# 联络员, 组织架构, 履职: none of them holds anything of a unit's), each link the case
# list filtered as its start page counts (minyi.cases.summary.UNIT_WORK).
LINKS: tuple[tuple[str, str, str | None], ...] = (
    ("首页", "home", None),
    *((label, f"cases:list?work={kind}", "unit") for kind, label in UNIT_WORK.items()),
    ("社情民意", "cases:list", None),
    ("工作室", "studios:list", "organisation"),
    ("履职", "duties:hub", "organisation"),
    ("统计图表", "dashboards:overview", "dashboards"),
    ("党代表", "people:representative_list", "organisation"),
    ("联络员", "people:liaison_list", "organisation"),
    ("组织架构", "org:unit_list", "organisation"),
    ("承办单位", "org:handlingunit_list", None),
    ("账号", "people:account_list", "officials"),
    ("接口令牌", "apitokens:list", "officials"),
    ("年度评估", "evaluation:index", "officials"),
    ("审计日志", "audit:event_list", "city"),
    ("双因素认证", "twofactor:policy", "city"),
)

_written: dict[tuple, tuple[str, str]] = {}


def _audiences(user: Any, scope: Any) -> frozenset[str]:
    audiences = {"unit" if scope.handling_unit_id is not None else "organisation"}
    if scope.everything or scope.unit or (user.role == Role.LIAISON and scope.studio_ids):
        audiences.add("dashboards")
    if user.is_superuser or user.is_official:
        audiences.add("officials")
    if user.role == Role.CITY_OFFICIAL:
        audiences.add("city")
    return frozenset(audiences)


def _address(name: str) -> str:
    name, mark, query = name.partition("?")
    return reverse(name) + mark + query


def _write(audiences: frozenset[str]) -> tuple[str, str]:
    links = "\n      ".join(
        f'<a href="{_address(name)}">{label}</a>'
        for label, name, audience in LINKS
        if audience is None or audience in audiences
    )
    head = f"{links}\n      " + f'<a href="{reverse("duties:notification_list")}">通知'
    return head, "</a>"


@register.simple_tag(takes_context=True)
def main_navigation(context: Any) -> SafeString:
    user, scope = context["user"], context["scope"]
    audiences = _audiences(user, scope)
    key = (get_script_prefix(), audiences)
    written = _written.get(key)
    if written is None:
        written = _written[key] = _write(audiences)
    head, tail = written
    unread = context.get("unread_notifications")
    badge = (
        format_html('<span class="badge warn" aria-label="{} 条未读">{}</span>', unread, unread)
        if unread
        else ""
    )
    return mark_safe(head + badge + tail)  # noqa: S308 - labels are ours, the count is escaped
