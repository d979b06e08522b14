"""The filters' studio, handling-unit and category choices are cached per scope
(minyi.cases.choice_cache): a second view of a scope reads none of them, a write to what
they are read from shows on the next view once it commits, and choosing a value never
depends on the cache being current."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from minyi.cases import choice_cache
from minyi.cases.forms import CaseFilterForm, LedgerFilterForm
from minyi.cases.models import Case
from minyi.org.models import HandlingUnit
from minyi.people.models import Representative, Role, User
from minyi.studios.models import Studio
from tests.cases.helpers import register
from tests.core.helpers import client_for, text_of

pytestmark = pytest.mark.django_db


def _user(username: str) -> User:
    return User.objects.get(username=username)


CHOICE_TABLES = ('"studios_studio"', '"org_handlingunit"', '"cases_studiocategory"')


def _choice_reads(queries: CaptureQueriesContext) -> list[str]:
    """The queries that read a choice table first (FROM it)."""
    found = []
    for query in queries.captured_queries:
        parts = query["sql"].split(" FROM ", 1)
        if len(parts) == 2 and parts[1].startswith(CHOICE_TABLES):
            found.append(query["sql"])
    return found


def _studio_names(form: Any) -> list[str]:
    return [label for value, label in form.fields["studio"].widget.choices if value != ""]


def test_a_second_view_of_the_scope_reads_no_choices(world: Any) -> None:
    first, second = (
        _user("shatoujiao"),
        User.objects.create(
            username="shatoujiao2", role=Role.STREET_OFFICIAL, unit=_user("shatoujiao").unit
        ),
    )
    with CaptureQueriesContext(connection) as cold:
        CaseFilterForm(user=first)
    with CaptureQueriesContext(connection) as warm:
        again = CaseFilterForm(user=second)  # another account, the same scope
    assert len(_choice_reads(cold)) == 3  # studios, handling units, categories
    assert _choice_reads(warm) == []
    assert len(warm) <= len(cold) - 3
    assert _studio_names(again) == _studio_names(CaseFilterForm(user=first))


def test_scopes_do_not_share_choices(world: Any) -> None:
    street = _studio_names(CaseFilterForm(user=_user("shatoujiao")))
    district = _studio_names(CaseFilterForm(user=_user("yantian")))
    liaison = _studio_names(CaseFilterForm(user=_user("liaison")))
    assert set(street) <= set(district)
    assert len(liaison) == 1 and len(district) > len(liaison)


def test_a_new_studio_shows_once_its_transaction_commits(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    user = _user("shatoujiao")
    before = _studio_names(CaseFilterForm(user=user))
    first = Studio.objects.for_user(user).first()
    assert first is not None
    community = first.unit
    with django_capture_on_commit_callbacks(execute=True):
        Studio.objects.create(unit=community, name="沙头角新开工作室")
    after = _studio_names(CaseFilterForm(user=user))
    assert after == sorted([*before, "沙头角新开工作室"])


def test_a_retired_unit_is_marked_on_the_next_view(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    user = _user("shatoujiao")
    client = client_for(user)
    assert "（已撤销）" not in text_of(client.get(reverse("cases:list")))
    unit = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
    with django_capture_on_commit_callbacks(execute=True):
        unit.retired_at = timezone.now()
        unit.save(update_fields=["retired_at"])
    assert "沙头角街道城市管理办公室（已撤销）" in text_of(client.get(reverse("cases:list")))


def test_a_category_used_for_the_first_time_is_offered_on_the_next_view(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    user = _user("shatoujiao")
    client = client_for(user)
    client.get(reverse("cases:list"))  # the scope's choices are now cached
    with django_capture_on_commit_callbacks(execute=True):
        case = register(category="井盖松动")
    response = client.get(reverse("cases:list"), {"category": "井盖松动"})
    assert response.status_code == 200
    page = text_of(response)
    assert case.number in page and "请从列表中选择类别" not in page
    assert '<option value="井盖松动" selected>' in response.content.decode()
    # Registering again in a known category adds nothing, and bumps nothing.
    generation = choice_cache.generation()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        register(category="井盖松动")
    assert callbacks == [] and choice_cache.generation() == generation


@pytest.mark.parametrize("form_class", [CaseFilterForm, LedgerFilterForm])
def test_choosing_does_not_depend_on_the_cache_being_current(world: Any, form_class: type) -> None:
    """A studio the cached list lacks (written without signals, as bulk_create does)
    is still accepted when in scope, and one out of scope is still refused."""
    user = _user("shatoujiao")
    form_class(user=user)  # cache the scope's choices
    first = Studio.objects.for_user(user).first()
    assert first is not None
    community = first.unit
    (quiet,) = Studio.objects.bulk_create([Studio(unit=community, name="未通知缓存的工作室")])
    quiet = Studio.objects.get(name="未通知缓存的工作室")
    form = form_class({"studio": quiet.pk}, user=user)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["studio"].pk == quiet.pk
    elsewhere = Studio.objects.exclude(pk__in=Studio.objects.for_user(user)).first()
    assert elsewhere is not None
    form = form_class({"studio": elsewhere.pk}, user=user)
    assert not form.is_valid()
    assert "管辖范围内" in str(form.errors["studio"])


def test_a_chosen_studio_from_the_cache_filters_and_names_it(world: Any) -> None:
    user = _user("shatoujiao")
    client = client_for(user)
    client.get(reverse("cases:list"))
    studio = Studio.objects.for_user(user).order_by("pk").first()
    assert studio is not None
    form = CaseFilterForm({"studio": studio.pk}, user=user)
    assert form.is_valid()
    chosen = form.cleaned_data["studio"]
    assert (chosen.pk, chosen.name) == (studio.pk, studio.name)
    assert Case.objects.filter(studio=chosen).count() == Case.objects.filter(studio=studio).count()


def _offers_registration(user: User) -> bool:
    return reverse("cases:create") in client_for(user).get(reverse("cases:list")).content.decode()


def test_the_register_link_is_kept_per_scope_and_follows_a_closed_studio(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    liaison = _user("liaison")
    assert _offers_registration(liaison)
    assert not _offers_registration(_user("unit"))  # handling units register nothing
    with CaptureQueriesContext(connection) as warm:
        assert _offers_registration(liaison)
    assert not [sql for sql in _choice_reads(warm) if ' FROM "studios_studio"' in sql]
    with django_capture_on_commit_callbacks(execute=True):
        for studio in Studio.objects.for_user(liaison):
            studio.closed_at = timezone.now()
            studio.save(update_fields=["closed_at"])
    assert not _offers_registration(liaison)


class _RolledBack(Exception):
    pass


def test_choices_read_inside_a_rolled_back_write_are_not_served_after_it(world: Any) -> None:
    """The writing transaction sees its own studio and keeps nothing of what it read:
    a list with a rolled-back studio would otherwise be offered for SECONDS."""
    official = _user("shatoujiao")
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    assert "改名后的工作室" not in _studio_names(CaseFilterForm(user=official))
    with pytest.raises(_RolledBack), transaction.atomic():
        studio.name = "改名后的工作室"
        studio.save()
        assert "改名后的工作室" in _studio_names(CaseFilterForm(user=official))
        raise _RolledBack
    assert "改名后的工作室" not in _studio_names(CaseFilterForm(user=official))


def _representatives_offered(client: Any) -> str:
    html = text_of(client.get(reverse("cases:create")))
    return html.split('name="representative"', 1)[1].split("</select>", 1)[0]


def test_a_representative_linked_to_a_community_is_offered_at_once(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Linking a community (an m2m, which saves no representative) puts the representative
    in the scope of the units around it: the blank registration form, kept per scope,
    offers them on the next view, and stops when the link goes."""
    client = client_for(_user("shatoujiao"))
    community = world["440308003006"]  # 沙头角社区
    # A second studio: no studio is preselected, so the form offers every
    # representative of the street's scope, not only those of one studio.
    with django_capture_on_commit_callbacks(execute=True):
        Studio.objects.create(unit=community, name="沙头角第二工作室")
    elsewhere = Representative.objects.get(name="演示代表·黄海")  # 梅沙's
    assert "演示代表·陈明" in _representatives_offered(client)
    assert elsewhere.name not in _representatives_offered(client)
    with django_capture_on_commit_callbacks(execute=True):
        elsewhere.linked_communities.add(community)
    assert elsewhere.name in _representatives_offered(client)
    with django_capture_on_commit_callbacks(execute=True):
        elsewhere.linked_communities.remove(community)
    assert elsewhere.name not in _representatives_offered(client)


def test_a_representative_assigned_through_the_studio_is_offered_at_once(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(_user("shatoujiao"))
    elsewhere = Representative.objects.get(name="演示代表·黄海")
    assert elsewhere.name not in _representatives_offered(client)
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    with django_capture_on_commit_callbacks(execute=True):
        studio.representatives.add(elsewhere)
    assert elsewhere.name in _representatives_offered(client)
