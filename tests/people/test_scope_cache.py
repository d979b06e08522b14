"""A liaison's and a representative's scope is kept between requests
(minyi.people.scope_cache) and read afresh as soon as what makes it changes."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from minyi.org.models import OrgUnit
from minyi.people.models import Liaison, Representative, User
from minyi.people.scopes import NOTHING, scope_of
from minyi.studios.models import Studio, StudioAssignment

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The same account re-read, as the next request has it (no scope on the object)."""
    return User.objects.get(pk=user.pk)


def scope_queries(user: User) -> tuple[object, int]:
    with CaptureQueriesContext(connection) as queries:
        scope = scope_of(user)
    return scope, len(queries)


@pytest.mark.parametrize(("persona", "first_reads"), [("liaison", 1), ("representative", 3)])
def test_the_next_request_reads_no_query_for_the_scope(
    request: pytest.FixtureRequest, persona: str, first_reads: int
) -> None:
    user = request.getfixturevalue(persona)
    first, n = scope_queries(fresh(user))
    assert n == first_reads
    again, n = scope_queries(fresh(user))
    assert (again, n) == (first, 0)


def test_a_liaison_switched_off_is_refused_on_the_next_request(liaison: User) -> None:
    assert scope_of(fresh(liaison)).studio_ids
    for row in Liaison.objects.filter(user=liaison):
        row.active = False
        row.save()
    assert scope_of(fresh(liaison)) == NOTHING


def test_a_liaison_moved_to_another_studio_sees_the_new_one(
    liaison: User, world: dict[str, OrgUnit]
) -> None:
    before = scope_of(fresh(liaison)).studio_ids
    other = Studio.objects.exclude(pk__in=before).first()
    assert other is not None
    row = Liaison.objects.get(user=liaison)
    row.studio = other
    row.save()
    assert scope_of(fresh(liaison)).studio_ids == (other.pk,)


def test_a_representative_leaving_a_studio_loses_it(representative: User) -> None:
    rep = Representative.objects.get(user=representative)
    studio_ids = scope_of(fresh(representative)).studio_ids
    assert studio_ids
    for assignment in StudioAssignment.objects.filter(representative=rep):
        assignment.active = False
        assignment.save()
    assert scope_of(fresh(representative)).studio_ids == ()


def test_linked_communities_are_followed(representative: User, world: dict[str, OrgUnit]) -> None:
    rep = Representative.objects.get(user=representative)
    community = OrgUnit.objects.get(code="440308001002")  # 小梅沙社区, not linked yet
    assert community.pk not in scope_of(fresh(representative)).unit_ids
    rep.linked_communities.add(community)
    assert community.pk in scope_of(fresh(representative)).unit_ids
    rep.linked_communities.remove(community)
    assert community.pk not in scope_of(fresh(representative)).unit_ids


def test_a_change_of_the_account_is_followed(liaison: User) -> None:
    assert scope_of(fresh(liaison)).studio_ids
    account = fresh(liaison)
    account.role = ""
    account.save()
    assert scope_of(fresh(liaison)) == NOTHING


@pytest.mark.django_db(transaction=True)
def test_a_scope_read_after_a_rolled_back_change_is_the_committed_one(
    world: dict[str, OrgUnit],
) -> None:
    liaison = User.objects.get(username="liaison")
    committed = scope_of(fresh(liaison))
    row = Liaison.objects.get(user=liaison)
    with pytest.raises(RuntimeError), transaction.atomic():
        row.active = False
        row.save()
        assert scope_of(fresh(liaison)) == NOTHING  # the change is seen inside
        raise RuntimeError
    assert scope_of(fresh(liaison)) == committed
