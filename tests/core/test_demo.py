"""`load_demo`: clearly fake people on the real tree, and running it again adds nothing."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from minyi.core.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from minyi.online.services import SERVICE_USERNAME
from minyi.people.models import Liaison, Representative, User
from tests.personas import build_mini_tree


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label not in {"sessions", "admin"}
    }


@pytest.mark.django_db
def test_loading_the_demo_twice_creates_nothing_new() -> None:
    build_mini_tree()
    call_command("load_demo", stdout=StringIO())
    first = row_counts()
    # and the online studio's service account, which registered the demo online report
    # and cannot log in
    assert first["people.User"] == len(DEMO_ACCOUNTS) + 1
    assert not User.objects.get(username=SERVICE_USERNAME).has_usable_password()
    assert first["studios.Studio"] == 2
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert row_counts() == first
    assert DEMO_PASSWORD in out.getvalue()
    for account in DEMO_ACCOUNTS:
        assert account.username in out.getvalue()


@pytest.mark.django_db
def test_the_demo_keeps_what_was_changed_since() -> None:
    build_mini_tree()
    call_command("load_demo", stdout=StringIO())
    Representative.objects.filter(name="演示代表·陈明").update(position="总工程师")
    call_command("load_demo", stdout=StringIO())
    assert Representative.objects.get(name="演示代表·陈明").position == "总工程师"


@pytest.mark.django_db
def test_the_demo_needs_the_divisions_first() -> None:
    with pytest.raises(RuntimeError, match="请先运行 import_divisions"):
        call_command("load_demo", stdout=StringIO())
    assert not User.objects.exists()


def test_no_one_can_mistake_a_demo_person_for_a_real_one(world: Any) -> None:
    for rep in Representative.objects.all():
        assert rep.name.startswith("演示")
        assert rep.phone.startswith("+86138000")
    for liaison in Liaison.objects.all():
        assert liaison.name.startswith("演示")
        assert liaison.phone.startswith("+86138000")
    for user in User.objects.all():
        assert user.full_name.startswith("演示")


def test_every_demo_account_can_log_in(world: Any) -> None:
    for account in DEMO_ACCOUNTS:
        assert User.objects.get(username=account.username).check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_the_demo_studio_has_a_reception_to_book_next_week() -> None:
    """Journey 3 in the running demo: the resident sees next week's reception with a
    representative on the studio's public page, with a link to book it."""
    from django.test import Client
    from django.urls import reverse

    from minyi.duties.models import Event
    from minyi.studios.models import Studio

    build_mini_tree()
    call_command("load_demo", stdout=StringIO())
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    page = Client().get(reverse("online:studio", args=[studio.pk])).content.decode()
    event = Event.objects.get(studio=studio)
    assert event.state == "published" and not event.late_reason
    assert "演示代表·陈明" in page
    assert reverse("duties:public_booking", args=[event.pk]) in page
    # On the day the page says the studio opens (the demo showed 每周三, then a 星期四).
    assert "每周三" in studio.opening_hours
    assert timezone.localtime(event.starts_at).weekday() == 2


@pytest.mark.parametrize("today", [date(2026, 11, 23) + timedelta(days=n) for n in range(7)])
def test_the_demo_reception_is_an_opening_day_past_the_notice(today: date) -> None:
    from minyi.duties.demo import reception_day
    from minyi.duties.events import NOTICE_DAYS

    day = reception_day(today)
    assert day.weekday() == 2 and NOTICE_DAYS < (day - today).days <= NOTICE_DAYS + 7


@pytest.mark.django_db
def test_the_overdue_demo_case_tells_one_story() -> None:
    # Its referral step shows the deadline the case has, on the day it was referred.
    from minyi.cases.models import Case
    from minyi.cases.states import Action

    build_mini_tree()
    call_command("load_demo", stdout=StringIO())
    case = Case.objects.get(summary="工地夜间施工噪声")
    refer = case.steps.get(action=Action.REFER)
    assert refer.due_on == case.due_on
    assert case.due_on is not None and refer.at.date() < case.due_on
    assert all(step.at <= refer.at for step in case.steps.exclude(action=Action.REFER))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("command", "args"), [("load_demo", []), ("generate_load_data", ["--scale", "city"])]
)
def test_production_refuses_the_commands_with_published_passwords(
    settings: Any, command: str, args: list[str]
) -> None:
    """The demo's `admin` (a superuser) and the load generator's accounts have passwords
    printed in the README: never in a deployment's database."""
    from django.core.management import CommandError

    build_mini_tree()
    before = row_counts()
    settings.MINYI_PRODUCTION = True
    with pytest.raises(CommandError, match="生产环境"):
        call_command(command, *args, stdout=StringIO())
    assert row_counts() == before


@pytest.mark.django_db
def test_every_demo_representative_has_the_day_they_came_to_the_studio() -> None:
    """The studio page showed 进驻日期 "—" for every demo representative."""
    from minyi.studios.models import Studio, StudioAssignment
    from tests.core.helpers import client_for, text_of

    build_mini_tree()
    call_command("load_demo", stdout=StringIO())
    assignments = StudioAssignment.objects.all()
    assert assignments.exists()
    assert not assignments.filter(since__isnull=True).exists()
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    page = text_of(client_for(User.objects.get(username="liaison")).get(studio.get_absolute_url()))
    for a in assignments.filter(studio=studio):
        assert a.since is not None and a.since.isoformat() in page


@pytest.mark.django_db
def test_a_demo_loaded_before_the_days_were_set_gets_them_and_a_changed_day_is_kept() -> None:
    from datetime import date

    from minyi.studios.models import StudioAssignment

    build_mini_tree()
    call_command("load_demo", stdout=StringIO())
    chen = StudioAssignment.objects.get(representative__name="演示代表·陈明")
    StudioAssignment.objects.exclude(pk=chen.pk).update(since=None)
    StudioAssignment.objects.filter(pk=chen.pk).update(since=date(2024, 5, 6))
    call_command("load_demo", stdout=StringIO())
    assert not StudioAssignment.objects.filter(since__isnull=True).exists()
    assert StudioAssignment.objects.get(pk=chen.pk).since == date(2024, 5, 6)


@pytest.mark.django_db
def test_the_demo_case_steps_fall_in_office_hours_each_at_its_own_time() -> None:
    """The back-dated steps all showed the clock time the demo was loaded (13:40)."""
    from datetime import time

    from django.utils import timezone

    from minyi.cases.models import Case

    build_mini_tree()
    call_command("load_demo", stdout=StringIO())
    today = timezone.localdate()
    back_dated = [
        timezone.localtime(step.at)
        for case in Case.objects.prefetch_related("steps")
        for step in case.steps.all()
        if timezone.localtime(step.at).date() < today
    ]
    assert len(back_dated) >= 7
    assert all(time(8, 30) <= at.time() <= time(17, 30) for at in back_dated)
    assert len({at.time() for at in back_dated}) == len(back_dated)
    for case in Case.objects.filter(received_on__lt=today):
        register = min(case.steps.all(), key=lambda s: s.pk)
        assert timezone.localtime(register.at).date() == case.received_on
        ordered = sorted(case.steps.all(), key=lambda s: s.pk)
        assert [s.at for s in ordered] == sorted(s.at for s in ordered)


@pytest.mark.django_db
def test_the_answered_demo_case_tells_one_story_before_today() -> None:
    """Its referral and answer showed the minute the demo was loaded, beside a
    registration twelve days back; now each step has its own day and hour, and the
    deadline and the answer's date agree with them."""
    from datetime import timedelta

    from django.utils import timezone

    from minyi.cases.models import Case
    from minyi.cases.states import Action

    build_mini_tree()
    call_command("load_demo", stdout=StringIO())
    today = timezone.localdate()
    case = Case.objects.get(summary="占道经营影响通行")
    steps = {s.action: timezone.localtime(s.at) for s in case.steps.all()}
    assert all(at.date() < today for at in steps.values()), steps
    answer = case.answers.get()
    assert steps[Action.ANSWER].date() == answer.answered_on == today - timedelta(days=4)
    assert steps[Action.REFER].date() == case.unit_received_on
    assert case.due_on is not None and answer.answered_on <= case.due_on and answer.on_time
