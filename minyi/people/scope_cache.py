"""A liaison's and a representative's scope, kept in the shared cache (issue 8).

An official's scope is their unit, which travels with the account (core.account_cache);
a liaison's is read from their liaison rows (one query) and a representative's from
their record, studio assignments and linked communities (three queries), on every
request. They change when an administrator changes those rows, a few times a year.

The scope is kept per account under three generation numbers:
- the account's own (core.account_cache): a change of role, unit or active flag;
- the organisation's (cases.choice_cache): studios moved, units merged or retired;
- this module's, bumped when the transaction commits every save or delete of a
  liaison, representative, studio assignment or studio, and every change of a
  representative's linked communities (`connect`). Until the commit the writing
  transaction reads its scope afresh, and nothing it read is kept
  (generations.bump_after_commit).

What the signals cannot see is bounded by SECONDS: raw SQL, and queryset updates. The
organisation services that move liaisons, studios or links with a queryset update
(org.services.unit_merge, unit_reparent) save an organisation unit in the same
transaction, which bumps the organisation's number. A liaison or representative
switched off is therefore refused on their next request, not a minute later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minyi.core import generations

SECONDS = 60
GENERATION_KEY = "people:scope-generation"


def _key(user_pk: Any) -> str:
    return f"people:scope:{user_pk}"


def kept[T](user_pk: Any, compute: Callable[[], T]) -> T:
    from minyi.cases.choice_cache import GENERATION_KEY as ORGANISATION_KEY
    from minyi.core.account_cache import generation_key

    return generations.kept(
        _key(user_pk),
        [GENERATION_KEY, generation_key(user_pk), ORGANISATION_KEY],
        compute,
        SECONDS,
    )


def _fetched_with_account(user_pk: Any) -> tuple[str, str]:
    # The account's and the organisation's numbers come with the account anyway.
    return (GENERATION_KEY, _key(user_pk))


def forget() -> None:
    """Some scope changed: every kept scope is read afresh."""
    generations.bump_after_commit([GENERATION_KEY])


def _on_write(**kwargs: Any) -> None:
    forget()


def _on_links(action: str, **kwargs: Any) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        forget()


def connect() -> None:
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from minyi.core import account_cache
    from minyi.people.models import Liaison, Representative
    from minyi.studios.models import Studio, StudioAssignment

    for model in (Liaison, Representative, StudioAssignment, Studio):
        uid = f"people-scope-{model._meta.label_lower}"
        post_save.connect(_on_write, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(_on_write, sender=model, dispatch_uid=f"{uid}-delete")
    m2m_changed.connect(
        _on_links,
        sender=Representative.linked_communities.through,
        dispatch_uid="people-scope-linked-communities",
    )
    # Officials have no kept scope: two keys more in the same round trip for them.
    account_cache.fetch_with_account(_fetched_with_account)
