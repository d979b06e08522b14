"""The signed-in account, kept in the shared cache between requests (issue 8).

Every staff request read the account with its organisation unit: a query whose
building cost about as much CPU as the rest of the request's frame. The row is now kept
per account under two generation numbers:
- the account's own, bumped by every save or delete of the account (`connect`), and by
  the code that changes accounts with a queryset update (`forget`);
- the organisation's (minyi.cases.choice_cache), bumped by every save of an
  organisation unit, since the unit travels with the account and makes its scope.

A write that goes round both (raw SQL, a future queryset update that forgets to call
`forget`) is seen within SECONDS. Deactivation does not wait for it: it also deletes
the account's sessions (minyi.core.security). What is kept is what the database row
holds, the password hash included, in the same cache that holds the sessions
(docs/personal-data.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction

from minyi.core import generations

SECONDS = 60


def _generation_key(pk: Any) -> str:
    return f"core:account-generation:{pk}"


def fetched(pk: Any, load: Callable[[], Any]) -> Any:
    """The account `pk` as `load()` reads it (None when there is none), from the cache
    while neither generation has moved since it was kept."""
    from minyi.cases.choice_cache import GENERATION_KEY as ORGANISATION_KEY

    own_key, key = _generation_key(pk), f"core:account:{pk}"
    found = cache.get_many([own_key, ORGANISATION_KEY, key])
    own = found.get(own_key)
    if own is None:
        own = generations.current(own_key)
    organisation = found.get(ORGANISATION_KEY)
    if organisation is None:
        organisation = generations.current(ORGANISATION_KEY)
    entry = found.get(key)
    if entry is not None and entry[0] == (own, organisation):
        return entry[1]
    # Read under these numbers: a write committing meanwhile bumps past them.
    account = load()
    if account is not None:
        cache.set(key, ((own, organisation), account), SECONDS)
    return account


def forget(pk: Any) -> None:
    """The account changed: now, for the writing request's own later reads, and again
    after the commit, for a request that read the old row before it and kept it under
    the first bump."""
    key = _generation_key(pk)

    def bump() -> None:
        generations.bump(key)

    bump()
    transaction.on_commit(bump)


def _on_write(sender: Any, instance: Any, **kwargs: Any) -> None:
    forget(instance.pk)


def connect() -> None:
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save

    user_model = get_user_model()
    post_save.connect(_on_write, sender=user_model, dispatch_uid="account_cache_save")
    post_delete.connect(_on_write, sender=user_model, dispatch_uid="account_cache_delete")
