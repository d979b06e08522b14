"""The Django admin under axe-core and the keyboard, as the staff pages are
(tests/browser/test_staff_accessibility.py, test_staff_keyboard.py, whose helpers these
tests import): the system administrator's pages have no serious or critical violation
and no id twice, and each is walked once round with Tab (every control reached and left,
the focus visible, no positive tabindex, the skip link first).

The pages: the login form, the index, and for every model our admin modules register
(minyi/*/admin.py) its list, its add form (and that form sent empty, with its errors)
and the change form of a row; the calendar's holiday entry (the special days' list with
its filters and dates, a day's form) and the evaluation's inline scores among them; a
lookup popup of a raw-id field, a delete confirmation, a row's history, the password
change, and django-otp's authenticators (where a lost phone's device is deleted). The
project has no admin view of its own (no get_urls) and copies one admin template (the
search box's, for its image's Chinese alt; tests/core/test_admin_search.py); what was
mended is in minyi.core.admin, minyi/static/minyi/admin.css and the project locale's
djangojs.po (docs/decisions.md, "The Django admin: the pages' textarea, axe and Tab").
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from minyi.core.demo import DEMO_PASSWORD
from minyi.org.models import HandlingUnit
from minyi.people.models import User
from minyi.workdays.models import CalendarYear
from tests import test_access_matrix as made
from tests.browser import test_staff_accessibility as axe_pages
from tests.browser.axe import serious_violations
from tests.browser.test_staff_keyboard import Walk
from tests.core.test_line_breaks import _superuser_request

pytestmark = pytest.mark.browser

SUBMIT = axe_pages.SUBMIT

# axe's rules left out on a page, each for markup of Django's own that only a copy of its
# template would change (a copy that would go stale with every Django upgrade).
EXEMPT = {
    # django-otp's list of authenticators sets a search_help_text, so Django's
    # admin/search_form.html gives the search box aria-describedby="searchbar_helptext"
    # beside its only <label>, a magnifier <img alt="Search">; axe then finds the box
    # labelled by its description alone. The lists of our own admins have no help text.
    "/admin/otp_totp/totpdevice/": {"label-title-only"},
}


def _exempted(found: dict[str, list[str]]) -> dict[str, list[str]]:
    kept = {
        where: [line for line in bad if line.split(" ", 1)[0] not in EXEMPT.get(where, set())]
        for where, bad in found.items()
    }
    return {where: bad for where, bad in kept.items() if bad}


def _records(w: Any) -> None:
    """A row for each admin list to show, made as the access matrix makes them: an
    evaluation round submitted to the city committee (its assessments, their scores and
    the circular), an API token, and a district official's authenticator."""
    made._eval_submitted(w)
    made._street_token(w)
    TOTPDevice.objects.create(user=User.objects.get(username="yantian"), name="手机")


def _admin_pages(w: Any) -> list[str]:
    _records(w)
    pages = ["/admin/"]
    for model in admin.site._registry:
        if not model.__module__.startswith("minyi."):
            continue
        info = (model._meta.app_label, model._meta.model_name)
        pages.append(reverse("admin:{}_{}_changelist".format(*info)))
        if admin.site._registry[model].has_add_permission(_superuser_request()):
            pages.append(reverse("admin:{}_{}_add".format(*info)) + SUBMIT)
        row = model._default_manager.order_by("pk").first()
        if row is not None:
            pages.append(reverse("admin:{}_{}_change".format(*info), args=[row.pk]))
    year = CalendarYear.objects.get(year=2026)
    unit = HandlingUnit.objects.order_by("pk").first()
    device = TOTPDevice.objects.get()
    assert unit is not None
    return [
        *pages,
        # The holiday entry: a year's days, by its link on the years' list, and by month.
        f"{reverse('admin:workdays_specialday_changelist')}?calendar_year__id__exact={year.pk}",
        f"{reverse('admin:workdays_specialday_changelist')}?date__year=2026&date__month=10",
        f"{reverse('admin:workdays_specialday_changelist')}?q=国庆",
        f"{reverse('admin:org_orgunit_changelist')}?_popup=1&_to_field=id",  # a raw-id lookup
        reverse("admin:org_handlingunit_delete", args=[unit.pk]),
        reverse("admin:org_handlingunit_history", args=[unit.pk]),
        reverse("admin:password_change"),
        # A lost phone: the administrator deletes the account's authenticator
        # (docs/security.md, "Second factor"), in django-otp's admin.
        reverse("admin:otp_totp_totpdevice_changelist"),
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk]),
        reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]),
    ]


def admin_login(page: Any) -> None:
    """The administrator logs in through the admin's own form."""
    page.goto("/admin/login/")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/admin/")


def test_the_admin_pages_have_no_serious_violations(live_world: Any, new_page: Any) -> None:
    paths = _admin_pages(live_world)
    page = new_page()
    found: dict[str, list[str]] = {}
    axe_pages._walk(page, ["/admin/login/"], found)
    # A wrong password: the login form with its error.
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    page.locator(".errornote").wait_for()
    if bad := serious_violations(page):
        found["/admin/login/ (refused)"] = bad
    admin_login(page)
    axe_pages._walk(page, paths, found, refused=200)
    found = _exempted(found)
    assert not found, axe_pages._report(found)


def test_the_admin_pages_can_be_used_by_keyboard(live_world: Any, new_page: Any) -> None:
    paths = [p.removesuffix(SUBMIT) for p in _admin_pages(live_world)]
    page = new_page()
    walk = Walk(page)
    page.goto("/admin/login/")
    walk.check("/admin/login/")
    admin_login(page)
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status == 200, f"{path}: {response.status}"
        walk.check(path)
    assert not walk.found, walk.report()
