"""The staff pages under axe-core, as the residents' pages are (no serious or critical
violations): liaisons, representatives (many of them older) and officials use them
daily, and government systems are held to GB/T 37668 (WCAG 2.1 AA).

Each persona walks its main pages in one browser context, each page once, and the
test lists every violation of every page before failing, so one run shows all there
is to mend. The records the pages show are made the way the access matrix makes them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from typing import Any
from urllib.parse import urlsplit

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from minyi.core.demo import DEMO_PASSWORD
from minyi.duties.models import AnnualPlan
from minyi.evaluation.models import EvaluationRound
from minyi.people.models import Representative, User
from minyi.studios.models import Studio
from tests import test_access_matrix as made
from tests.browser.axe import duplicate_ids, serious_violations
from tests.browser.settle import settle

pytestmark = pytest.mark.browser

STUDIO = "沙头角社区党代表工作室"
SUBMIT = " [submit]"


def _liaison_pages(w: Any) -> list[str]:
    studio = Studio.objects.get(name=STUDIO)
    rep = Representative.objects.get(name="演示代表·陈明")
    case = made._case(w)["pk"]
    event = made._event(w)["pk"]
    appointment = made._appointment(w)["pk"]
    visit = made._household_visit(w)["pk"]
    report = made._report(w)["pk"]
    plan = made._plan(w)["pk"]
    # Two sessions of one representative at overlapping times (as saved before the rule
    # refused them): the plan page shows its 时间重叠 section.
    for hour in (9, 10):
        AnnualPlan.objects.get(pk=plan).sessions.create(
            representative=rep, date=date(2030, 5, 4), start=time(hour), end=time(hour + 2)
        )
    export = made._export_job(w)["pk"]
    return [
        "/",
        "/cases/?q=工地&channel=in_person",
        f"/cases/{case}/",
        "/cases/new/" + SUBMIT,
        "/cases/ledger/",
        "/cases/?overdue=on",
        f"/studios/{studio.pk}/",
        f"/studios/{studio.pk}/edit/",
        f"/studios/{studio.pk}/plaque/",
        f"/people/representatives/{rep.pk}/",
        "/duties/",
        "/duties/plans/",
        f"/duties/plans/{plan}/",
        f"/duties/plans/{plan}/edit/",
        "/duties/events/",
        "/duties/events/new/" + SUBMIT,
        f"/duties/events/{event}/",
        f"/duties/events/{event}/record/",
        "/duties/appointments/",
        f"/duties/appointments/{appointment}/",
        "/duties/visits/",
        "/duties/visits/new/" + SUBMIT,
        f"/duties/visits/{visit}/",
        f"/duties/representatives/{rep.pk}/record/",
        "/duties/reports/",
        f"/duties/reports/{report}/",
        "/duties/compliance/",
        "/duties/notifications/",
        f"/documents/exports/{export}/",
        "/dashboards/",
        "/security/enrol/",
    ]


def _representative_pages(w: Any) -> list[str]:
    rep = Representative.objects.get(name="演示代表·陈明")
    visit = made._household_visit(w)["pk"]  # recorded by the representative
    return [
        "/",
        f"/duties/representatives/{rep.pk}/record/",
        "/duties/visits/",
        f"/duties/visits/{visit}/edit/",
        "/cases/",
    ]


def _street_pages(w: Any) -> list[str]:
    studio = Studio.objects.get(name=STUDIO)
    rep = Representative.objects.get(name="演示代表·陈明")
    case = made._case_at_department(w)["pk"]
    plan = made._submitted_plan(w)["pk"]
    assessment = made._eval_assessment(w)["pk"]
    round_ = EvaluationRound.objects.get().pk
    return [
        "/",
        f"/cases/{case}/",
        "/cases/ledger/",
        f"/duties/plans/{plan}/",
        f"/org/units/{w['440308003006'].pk}/",
        f"/org/units/{w['440308003006'].pk}/edit/",
        "/org/units/",
        "/org/handling-units/",
        "/people/representatives/",
        "/people/liaisons/",
        "/people/accounts/",
        f"/studios/{studio.pk}/edit/",
        "/studios/",
        "/evaluation/",
        f"/evaluation/{round_}/",
        f"/evaluation/assessments/{assessment}/",
        "/api-tokens/new/" + SUBMIT,
        "/people/liaisons/new/" + SUBMIT,
        "/people/representatives/new/" + SUBMIT,
        "/people/accounts/new/" + SUBMIT,
        "/org/units/new/" + SUBMIT,
        "/org/handling-units/new/" + SUBMIT,
        "/studios/new/" + SUBMIT,
        f"/people/representatives/{rep.pk}/edit/",
        "/api-tokens/",
        "/documents/imports/representatives/",
        "/dashboards/",
    ]


def _unit_pages(w: Any) -> list[str]:
    case = made._case_with_unit(w)["pk"]
    return ["/", "/cases/", "/cases/?work=pending", f"/cases/{case}/"]


def _district_pages(w: Any) -> list[str]:
    """盐田区's organisation department: approves the streets' plans and sees the
    district's cases, studios and people."""
    case = made._case_at_department(w)["pk"]
    plan = made._submitted_plan(w)["pk"]
    return [
        "/",
        "/cases/",
        f"/cases/{case}/",
        "/duties/plans/",
        f"/duties/plans/{plan}/",
        "/duties/compliance/",
        "/studios/",
        "/org/units/",
        "/people/representatives/",
        "/evaluation/",
        "/dashboards/",
    ]


def _city_pages(w: Any) -> list[str]:
    round_ = made._eval_drafting(w).pk
    return [
        "/",
        "/dashboards/",
        "/duties/compliance/",
        f"/evaluation/{round_}/",
        f"/evaluation/{round_}/summary/",
        f"/evaluation/{round_}/circular/",
        "/security/policy/",
        "/audit/",
        "/duties/activity-month/",
        "/duties/activity-month/2026/edit/",
    ]


PERSONAS: dict[str, Callable[[Any], list[str]]] = {
    "liaison": _liaison_pages,
    "rep": _representative_pages,
    "shatoujiao": _street_pages,
    "unit": _unit_pages,
    "yantian": _district_pages,
    "city": _city_pages,
}


# Folded content (the dashboards' data tables) is opened first: axe skips what is hidden.
OPEN_DETAILS_JS = "() => document.querySelectorAll('details').forEach(d => d.open = true)"
# The forms are plain posts (novalidate: the server's errors are the ones shown), sent
# as they stand to come back with the page's error summary and field errors.
SUBMIT_UNCHECKED_JS = """() => {
  const form = [...document.querySelectorAll('main form[method=post]')].pop();
  form.requestSubmit();
}"""


def _check(page: Any, label: str, found: dict[str, list[str]]) -> None:
    settle(page)
    page.evaluate(OPEN_DETAILS_JS)
    bad = serious_violations(page) + [f"duplicate id: {d}" for d in duplicate_ids(page)]
    if bad:
        found[label] = bad


def _walk(page: Any, paths: list[str], found: dict[str, list[str]], refused: int = 400) -> None:
    """Checks each page; a path ending in SUBMIT is checked again after its (last) form
    is sent as it stands, to see the form with its errors (status `refused`: the Django
    admin gives its form back with 200)."""
    for entry in paths:
        path = entry.removesuffix(SUBMIT)
        response = page.goto(path)
        assert response is not None and response.status == 200, f"{path}: {response.status}"
        _check(page, path, found)
        if entry.endswith(SUBMIT):
            with page.expect_navigation() as sent:
                page.evaluate(SUBMIT_UNCHECKED_JS)
            assert sent.value.status == refused, f"{path}: the empty form was accepted"
            _check(page, f"{path} (sent with errors)", found)


def _report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{path}:\n  " + "\n  ".join(bad) for path, bad in found.items())


@pytest.mark.parametrize("username", list(PERSONAS))
def test_the_staff_pages_have_no_serious_violations(
    live_world: Any, new_page: Any, login: Any, username: str
) -> None:
    paths = PERSONAS[username](live_world)
    page = new_page()
    found: dict[str, list[str]] = {}
    login(page, username)
    _walk(page, paths, found)
    assert not found, _report(found)


def test_the_login_and_code_pages_have_no_serious_violations(
    live_world: Any, new_page: Any
) -> None:
    # A district official with a bound authenticator: after the password comes the code.
    TOTPDevice.objects.create(user=User.objects.get(username="yantian"), confirmed=True)
    page = new_page()
    found: dict[str, list[str]] = {}
    _walk(page, ["/accounts/login/"], found)
    page.get_by_label("用户名").fill("yantian")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/security/verify/")
    if bad := serious_violations(page):
        found["/security/verify/"] = bad
    # A wrong password: the login page with its error.
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill("yantian")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="登录").wait_for()
    if bad := serious_violations(page):
        found["/accounts/login/ (refused)"] = bad
    assert not found, _report(found)
