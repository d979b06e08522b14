"""What part of the organisation an account answers for.

Every scoped queryset (`X.objects.for_user(user)`) asks `scope_of(user)` and turns the
answer into a filter. Officials answer for the subtree of their unit; a liaison for
their studio; a representative for their own work and their studios; a handling
unit's staff for their unit. Anyone else sees nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from minyi.org.models import OrgUnit
from minyi.people.models import OFFICIAL_ROLE_LEVELS, Role

_CACHE_ATTR = "_minyi_scope"


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    unit: OrgUnit | None = None
    studio_ids: tuple[int, ...] = ()
    representative_ids: tuple[int, ...] = ()
    liaison_ids: tuple[int, ...] = ()
    unit_ids: tuple[int, ...] = ()
    handling_unit_id: int | None = None

    @property
    def stands_in(self) -> bool:
        """A liaison without a studio: the party secretary (or deputy) of a community
        with no studio, standing in as its liaison (CM 7); `unit_ids` is the community."""
        return bool(self.liaison_ids and self.unit_ids and not self.studio_ids)

    @property
    def is_empty(self) -> bool:
        return not (
            self.everything
            or self.unit
            or self.studio_ids
            or self.representative_ids
            or self.liaison_ids
            or self.handling_unit_id
        )


NOTHING = Scope()


def scope_of(user: Any) -> Scope:
    """The scope of an account, computed once per request (cached on the user object)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    if user.role in (Role.LIAISON, Role.REPRESENTATIVE) and not user.is_superuser:
        # Read from their rows (one query, or three): kept between requests.
        from minyi.people import scope_cache

        scope = scope_cache.kept(user.pk, lambda: _compute(user))
    else:
        scope = _compute(user)
    setattr(user, _CACHE_ATTR, scope)
    return scope


def forget_scope(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def _compute(user: Any) -> Scope:
    from minyi.people.models import Liaison, Representative
    from minyi.studios.models import StudioAssignment

    if user.is_superuser:
        return Scope(everything=True)
    if user.role in OFFICIAL_ROLE_LEVELS:
        unit = user.unit
        if unit is None or unit.is_retired or unit.level not in OFFICIAL_ROLE_LEVELS[user.role]:
            return NOTHING
        return Scope(unit=unit)
    if user.role == Role.LIAISON:
        rows = list(
            Liaison.objects.filter(user=user, active=True).values_list(
                "pk", "studio_id", "studio__unit_id", "community_id"
            )
        )
        studio_ids = tuple(sorted({s for _, s, _, _ in rows if s}))
        unit_ids = {u for _, _, u, _ in rows if u} | {c for _, _, _, c in rows if c}
        return Scope(
            studio_ids=studio_ids,
            liaison_ids=tuple(pk for pk, _, _, _ in rows),
            unit_ids=tuple(sorted(unit_ids)),
        )
    if user.role == Role.REPRESENTATIVE:
        rep = Representative.objects.filter(user=user, active=True).first()
        if rep is None:
            return NOTHING
        studios = list(
            StudioAssignment.objects.filter(representative=rep, active=True).values_list(
                "studio_id", "studio__unit_id"
            )
        )
        linked = list(rep.linked_communities.values_list("pk", flat=True))
        return Scope(
            studio_ids=tuple(sorted({s for s, _ in studios})),
            representative_ids=(rep.pk,),
            unit_ids=tuple(sorted({u for _, u in studios} | set(linked))),
        )
    if user.role == Role.HANDLING_UNIT_STAFF and user.handling_unit_id:
        return Scope(handling_unit_id=user.handling_unit_id)
    return NOTHING
