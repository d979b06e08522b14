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

from collections.abc import Callable, Iterable
from typing import Any

from minyi.core import generations

SECONDS = 60

# Functions giving, for an account, the keys of other values kept per account that most
# requests read after it (its scope, its unread count): fetched with it in one round trip.
_companions: list[Callable[[Any], Iterable[str]]] = []


def fetch_with_account(keys: Callable[[Any], Iterable[str]]) -> None:
    """Register `keys(pk)` to be fetched together with the account `pk`."""
    if keys not in _companions:
        _companions.append(keys)


def generation_key(pk: Any) -> str:
    """The account's own generation number (minyi.people.scope_cache keeps the scope
    under it too)."""
    return f"core:account-generation:{pk}"


def fetched(pk: Any, load: Callable[[], Any]) -> Any:
    """The account `pk` as `load()` reads it (None when there is none), from the cache
    while neither generation has moved since it was kept."""
    from minyi.cases.choice_cache import GENERATION_KEY as ORGANISATION_KEY

    numbers = [generation_key(pk), ORGANISATION_KEY]
    key = f"core:account:{pk}"
    generations.prefetch([*numbers, key, *(name for keys in _companions for name in keys(pk))])
    return generations.kept(key, numbers, load, SECONDS)


def forget(pk: Any) -> None:
    """The account changed: kept copies are stale once the transaction commits, and
    until then it reads the account afresh (generations.bump_after_commit)."""
    generations.bump_after_commit([generation_key(pk)])


def _on_write(sender: Any, instance: Any, **kwargs: Any) -> None:
    forget(instance.pk)


def connect() -> None:
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save

    user_model = get_user_model()
    post_save.connect(_on_write, sender=user_model, dispatch_uid="account_cache_save")
    post_delete.connect(_on_write, sender=user_model, dispatch_uid="account_cache_delete")
