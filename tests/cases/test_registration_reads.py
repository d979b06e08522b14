"""Registration and the first routing steps read each thing once (issue 8): the blank
form's options come from one read per list and are the options of the fields' scoped
querysets; a registration does not look up again what it has just read; sending to the
street reads the department, not the studio's ancestors one by one; a step writes the
columns it changes."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.db import connection
from django.test.html import parse_html
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from minyi.audit.models import AuditEvent
from minyi.audit.trail import forget_head
from minyi.cases import services
from minyi.cases.forms import DeferredChoiceField, RegistrationForm
from minyi.cases.models import Case
from minyi.cases.numbering import number_prefix
from minyi.core.forms import field_of
from minyi.people.models import Representative, User
from minyi.studios.models import Studio, StudioAssignment
from tests.cases.helpers import register
from tests.cases.test_pages import form_data
from tests.core.helpers import client_for, text_of

pytestmark = pytest.mark.django_db

CHOICE_FIELDS = ("studio", "representative", "about_unit")


@pytest.mark.parametrize("persona", ["liaison", "representative", "city_official"])
@pytest.mark.parametrize("hint", [None, "大梅沙社区党代表工作室"])
def test_the_blank_forms_options_are_those_of_the_scoped_querysets(
    world: Any, request: Any, persona: str, hint: str | None
) -> None:
    user = request.getfixturevalue(persona)
    studio_hint = Studio.objects.get(name=hint).pk if hint else None
    form = RegistrationForm(user=user, studio_hint=studio_hint)
    for name in CHOICE_FIELDS:
        field = field_of(form, name, forms.ModelChoiceField)
        shown = str(form[name])
        field.widget.choices = field.choices  # Django's own, one model per option
        assert parse_html(shown) == parse_html(str(form[name])), name


def _existence_checks(queries: list[dict[str, Any]]) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('SELECT 1 AS "a"')]


def test_registering_looks_up_nothing_it_has_just_read(world: Any, liaison: User) -> None:
    client = client_for(liaison)
    client.get(reverse("cases:create"))  # warm the session
    data = form_data()
    with CaptureQueriesContext(connection) as posted:
        assert client.post(reverse("cases:create"), data).status_code == 302
    # The one rule of its own, that the representative works at the studio, is read with
    # the representative.
    assert _existence_checks(posted.captured_queries) == []
    reads = [
        q["sql"] for q in posted.captured_queries if 'FROM "people_representative"' in q["sql"]
    ]
    assert len(reads) == 1 and 'FROM "studios_studioassignment"' in reads[0], reads
    # Nor is the studio read at all once the choices are kept (choice_cache): its row
    # among them is enough.
    studio_reads = [
        q["sql"] for q in posted.captured_queries if 'FROM "studios_studio"' in q["sql"]
    ]
    assert studio_reads == []


def test_a_registration_runs_a_fixed_number_of_queries(
    world: Any, liaison: User, django_assert_num_queries: Any
) -> None:
    """The session (its account and the liaison's studios, the scope, are kept in the
    cache since the first registration: minyi.core.account_cache,
    minyi.people.scope_cache), the representative (with
    the assignment; the registrable studios are kept in the cache, choice_cache); then
    the serial (one UPDATE … RETURNING),
    the case, its timeline row and their three audit rows in one INSERT (audit.batched),
    which locks the lane (PostgreSQL) and reads its head first. At city scale on
    PostgreSQL these come with BEGIN and COMMIT (21 queries in session 6, 14 in session
    7 with the account, 13 in session 8, 10 in session 9, 9 now); here the test's transaction makes
    these a savepoint and its release, and the session is a database row."""
    client = client_for(liaison)
    data = form_data()
    # The first registration of the studio's year creates its counter and category. The
    # new category bumps the organisation's generation once it commits, so the next
    # request reads the account and the choices afresh and keeps them (choice_cache).
    assert client.post(reverse("cases:create"), data).status_code == 302
    assert client.get(reverse("cases:create")).status_code == 200
    forget_head()  # the test's own transaction holds its lane: as a new one would not
    lane_lock = 1 if connection.vendor == "postgresql" else 0
    again = form_data()  # another blank form, with a key of its own
    with django_assert_num_queries(10 + lane_lock):
        assert client.post(reverse("cases:create"), again).status_code == 302
    assert AuditEvent.objects.filter(object_type="cases.casenumbercounter").count() == 3


def test_sending_to_the_street_reads_no_ancestor_of_the_studio(world: Any) -> None:
    case = register()
    with CaptureQueriesContext(connection) as sent:
        case = services.case_send_to_street(case=case, actor=User.objects.get(username="liaison"))
    unit_reads = [q["sql"] for q in sent.captured_queries if 'FROM "org_orgunit" WHERE' in q["sql"]]
    assert unit_reads == []
    case.refresh_from_db()
    assert case.holder_department is not None
    assert case.holder_department.unit == case.studio.unit.street
    assert case.holder_level == "street"


def test_a_step_writes_only_the_columns_it_changes(world: Any) -> None:
    case = register()
    with CaptureQueriesContext(connection) as sent:
        case = services.case_send_to_street(case=case, actor=User.objects.get(username="liaison"))
    (update,) = [
        q["sql"] for q in sent.captured_queries if q["sql"].startswith('UPDATE "cases_case"')
    ]
    assert '"holder_department_id"' in update and '"version"' in update
    assert '"reporter_phone"' not in update and '"content"' not in update
    case.refresh_from_db()
    assert case.version == 2 and case.state == "at_department"
    event = AuditEvent.objects.filter(object_type="cases.case", action="update").latest("id")
    assert event.fields == ["holder_department", "holder_level", "state", "updated_at", "version"]


def test_the_studio_built_from_its_row_gives_the_case_its_areas_and_number(
    world: Any, city_official: User
) -> None:
    studio = Studio.objects.select_related("unit__street").get(name="大梅沙社区党代表工作室")
    rep = Representative.objects.get(name="演示代表·黄海")
    response = client_for(city_official).post(
        reverse("cases:create"), form_data(studio=studio.pk, representative=rep.pk)
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.studio_id == studio.pk
    assert case.number_prefix == number_prefix(studio)
    assert {name: getattr(case, name) for name in studio.unit.area_pointers()} == (
        studio.unit.area_pointers()
    )


@pytest.mark.parametrize("posted", ["abc", "-1", "other"])
def test_a_studio_outside_the_users_own_is_refused(world: Any, liaison: User, posted: str) -> None:
    if posted == "other":
        posted = str(Studio.objects.get(name="大梅沙社区党代表工作室").pk)
    response = client_for(liaison).post(reverse("cases:create"), form_data(studio=posted))
    assert response.status_code == 400
    assert "请选择您可以登记的工作室。" in text_of(response)
    assert not Case.objects.exists()


def test_the_blank_form_runs_a_fixed_number_of_queries(
    world: Any, liaison: User, django_assert_num_queries: Any
) -> None:
    """The session; the account, the liaison's studios (scope) and the unread count
    are kept in the shared cache, and so are the studios, the units around them and the
    representatives (choice_cache) once a first form has read them (they were three
    queries)."""
    client = client_for(liaison)
    assert client.get(reverse("cases:create")).status_code == 200  # session and cache warm
    with django_assert_num_queries(1):
        response = client.get(reverse("cases:create"))
    assert response.status_code == 200
    assert "演示代表·陈明" in text_of(response)


def test_the_cached_choices_follow_a_new_assignment(
    world: Any, liaison: User, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(liaison)
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    url = reverse("cases:create") + f"?studio={studio.pk}"
    newcomer = Representative.objects.exclude(assignments__studio=studio).filter(active=True)[0]
    assert newcomer.name not in text_of(client.get(url))
    with django_capture_on_commit_callbacks(execute=True):
        StudioAssignment.objects.create(studio=studio, representative=newcomer)
    assert newcomer.name in text_of(client.get(url))
    with django_capture_on_commit_callbacks(execute=True):
        newcomer.active = False
        newcomer.save()
    assert newcomer.name not in text_of(client.get(url))


def test_a_blank_form_builds_its_scoped_querysets_only_when_read(world: Any, liaison: User) -> None:
    RegistrationForm(user=liaison)  # the first reads the representatives into the cache
    form = RegistrationForm(user=liaison)
    for name in CHOICE_FIELDS:
        assert field_of(form, name, DeferredChoiceField)._make_queryset is not None, name
    studio = field_of(form, "studio", DeferredChoiceField)
    studios = studio.queryset  # read: built once, from the scope
    assert studio._make_queryset is None
    assert list(studios) == list(
        Studio.objects.for_user(liaison).active().order_by("unit__code", "name")
    )
    assert studio.queryset is studios
    studio.queryset = Studio.objects.none()  # a queryset set replaces it
    assert list(studio.queryset) == []


def test_a_posted_form_builds_no_scoped_queryset_for_the_studio_or_the_unit(
    world: Any, liaison: User
) -> None:
    RegistrationForm(user=liaison)  # the choices kept
    form = RegistrationForm(form_data(), user=liaison)
    assert form.is_valid(), form.errors
    assert field_of(form, "studio", DeferredChoiceField)._make_queryset is not None  # not built
    assert field_of(form, "about_unit", DeferredChoiceField)._make_queryset is not None
    assert form.cleaned_data["studio"].name == "沙头角社区党代表工作室"


def _closed(studio: Studio, closed: bool) -> None:
    studio.closed_at = timezone.now() if closed else None
    studio.save()


def test_a_studio_closed_after_the_choices_were_kept_is_refused(
    world: Any, city_official: User, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(city_official)
    studio = Studio.objects.get(name="大梅沙社区党代表工作室")
    rep = Representative.objects.get(name="演示代表·黄海")
    assert client.get(reverse("cases:create")).status_code == 200  # the choices kept
    with django_capture_on_commit_callbacks(execute=True):
        _closed(studio, True)
    response = client.post(
        reverse("cases:create"), form_data(studio=studio.pk, representative=rep.pk)
    )
    assert response.status_code == 400
    assert "请选择您可以登记的工作室。" in text_of(response)
    assert not Case.objects.exists()


def test_a_studio_the_kept_choices_lack_is_looked_up_in_the_scope(
    world: Any, city_official: User, django_capture_on_commit_callbacks: Any
) -> None:
    """The cache is behind (the reopening's commit has not bumped it yet): the studio is
    found in the user's scope, and the case is numbered and placed as from its row."""
    client = client_for(city_official)
    studio = Studio.objects.select_related("unit__street").get(name="大梅沙社区党代表工作室")
    rep = Representative.objects.get(name="演示代表·黄海")
    with django_capture_on_commit_callbacks(execute=True):
        _closed(studio, True)
    assert client.get(reverse("cases:create")).status_code == 200  # kept without it
    _closed(studio, False)  # its bump waits for a commit that never comes here
    response = client.post(
        reverse("cases:create"), form_data(studio=studio.pk, representative=rep.pk)
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.studio_id, case.number_prefix) == (studio.pk, number_prefix(studio))
