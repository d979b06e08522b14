"""The case filters' choices of a scope, kept in the shared cache (issue 8).

Every view of the case list and the ledger offers the studios, handling units and
categories of the viewer's scope. They are the same for everyone with that scope and
change seldom (a studio opened, a unit retired, a category used for the first time),
yet reading them cost a street's list about a sixth of its time: three queries and a
hundred and more model rows per view. They are names and keys of the organisation,
never anything about a case or a reporter.

The key is the scope's content (a street official's unit, a liaison's studios …), not
the account, so everyone with one scope shares one entry. Any save or delete of a model
the choices are read from bumps one generation number after its transaction commits,
so the next view reads afresh; a write the signals do not see (queryset.update,
bulk_create) is bounded by the time limit. `record_category` bumps when it adds a
category (models.py). Choosing a value never relies on the cache: a value the cached
list lacks is looked up in the scoped queryset (forms.KnownChoiceField).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from minyi.core import generations
from minyi.people.scopes import Scope

SECONDS = 300
GENERATION_KEY = "cases:choices-generation"


def generation() -> int:
    return generations.current(GENERATION_KEY)


def _scope_part(scope: Scope) -> str:
    unit = scope.unit.pk if scope.unit is not None else ""
    text = (
        f"{int(scope.everything)}|{unit}|{scope.studio_ids}|{scope.representative_ids}|"
        f"{scope.liaison_ids}|{scope.unit_ids}|{scope.handling_unit_id or ''}"
    )
    # A liaison of many studios has a long tuple; the key stays short.
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def cached[T](scope: Scope, what: str, compute: Callable[[], T]) -> T:
    """`compute()` for this scope, from the cache while no write has bumped the
    generation. `what` names the choices and whatever else their value depends on
    (the limits), so a change of either is a new entry. One round trip to the cache
    when it is current: the entry is stored with the generation it was read under and
    fetched together with the current one."""
    return generations.kept(_key(scope, what), [GENERATION_KEY], compute, SECONDS)


def prefetch(scope: Scope, whats: Iterable[str], also: Iterable[str] = ()) -> None:
    """Fetch the choices `whats` of this scope in one round trip, for a page that reads
    several of them (generations.prefetch), with any other kept keys `also`."""
    generations.prefetch([GENERATION_KEY, *(_key(scope, what) for what in whats), *also])


def _key(scope: Scope, what: str) -> str:
    return f"cases:choices:{what}:{_scope_part(scope)}"


def bump() -> None:
    """Invalidate every scope's choices once the current transaction commits (before
    it, a view could cache what it read under the new number); until then the
    transaction reads them afresh and keeps nothing (generations.bump_after_commit)."""
    generations.bump_after_commit([GENERATION_KEY])


def _on_write(**kwargs: Any) -> None:
    bump()


def _on_links(action: str, **kwargs: Any) -> None:
    if action.startswith("post_"):
        bump()


def connect() -> None:
    from minyi.cases.models import StudioCategory
    from minyi.org.models import HandlingUnit, OrgUnit
    from minyi.people.models import Liaison, Representative
    from minyi.studios.models import Studio, StudioAssignment

    # Studios and assignments make a scope's studios; units (and their areas) its
    # handling units; studio categories its categories. The start page's counts of the
    # scope (minyi.core.views.home) are kept here too, hence representatives and
    # liaisons.
    models = (
        Studio,
        StudioAssignment,
        HandlingUnit,
        OrgUnit,
        StudioCategory,
        Representative,
        Liaison,
    )
    for model in models:
        uid = f"cases-choices-{model._meta.label_lower}"
        post_save.connect(_on_write, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(_on_write, sender=model, dispatch_uid=f"{uid}-delete")
    # A representative's linked communities put them in the scope of the units around
    # them (the registration form's representatives), and .add/.set/.remove/.clear of an
    # m2m saves no row that post_save sees: neither of the links nor of studios'
    # representatives (assignments made through Studio.representatives).
    for through in (Representative.linked_communities.through, Studio.representatives.through):
        m2m_changed.connect(
            _on_links, sender=through, dispatch_uid=f"cases-choices-{through._meta.label_lower}"
        )
