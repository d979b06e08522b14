"""Changes to the organisation tree that span several rows: re-parenting, merging,
retiring. Each runs in one transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from minyi.org.models import ANCESTOR_LEVELS, LEVEL_ORDER, OrgUnit


@transaction.atomic
def unit_reparent(*, unit: OrgUnit, parent: OrgUnit) -> None:
    """Move a unit (and everything beneath it) under another parent of the same level
    as its current one, rewriting the descendants' ancestor pointers in one UPDATE."""
    if parent.level != LEVEL_ORDER[LEVEL_ORDER.index(unit.level) - 1]:
        raise ValidationError("新的上级单元层级不正确。")
    unit.set_ancestors_from(parent)
    unit.save()
    above = (
        ANCESTOR_LEVELS[: ANCESTOR_LEVELS.index(unit.level)]
        if unit.level in ANCESTOR_LEVELS
        else []
    )
    if above:
        OrgUnit.objects.filter(**{f"{unit.level}_id": unit.pk}).update(
            **{f"{lvl}_id": getattr(unit, f"{lvl}_id") for lvl in above}
        )


@transaction.atomic
def unit_merge(*, source: OrgUnit, target: OrgUnit) -> None:
    """Merge one unit into another of the same level: children, studios, handling
    units, liaisons and representatives' links move to the target; the source is
    retired and remembers where it went, so its history stays readable."""
    from minyi.people.models import Liaison, Representative
    from minyi.studios.models import Studio

    if source.pk == target.pk:
        raise ValidationError("不能并入自身。")
    if source.level != target.level:
        raise ValidationError("只能并入同一层级的单元。")
    if source.is_retired or target.is_retired:
        raise ValidationError("已撤销的单元不能合并。")
    # Handling unit names are unique per area: refuse up front rather than fail on the
    # database constraint half-way through the move.
    clashes = sorted(
        set(source.handling_units.values_list("name", flat=True))
        & set(target.handling_units.values_list("name", flat=True))
    )
    if clashes:
        raise ValidationError(
            f"“{target.name}”已有同名承办单位：{'、'.join(clashes)}。请先改名或撤销其一，再合并。"
        )
    for child in list(source.children.all()):
        unit_reparent(unit=child, parent=target)
    Studio.objects.filter(unit=source).update(unit=target)
    source.handling_units.update(area=target)
    Liaison.objects.filter(community=source).update(community=target)
    links = Representative.linked_communities.through.objects
    already = set(links.filter(orgunit=target).values_list("representative_id", flat=True))
    links.filter(orgunit=source, representative_id__in=already).delete()
    links.filter(orgunit=source).update(orgunit=target)
    source.merged_into = target
    source.retired_at = timezone.now()
    source.save(update_fields=["merged_into", "retired_at", "updated_at"])


@transaction.atomic
def unit_retire(*, unit: OrgUnit) -> None:
    """Retire a unit that nothing active hangs on; its records stay."""
    from minyi.studios.models import Studio

    if unit.is_retired:
        raise ValidationError("该单元已撤销。")
    if unit.children.filter(retired_at__isnull=True).exists():
        raise ValidationError("该单元还有未撤销的下级单元，请先撤销或合并下级单元。")
    if Studio.objects.active().filter(unit=unit).exists():
        raise ValidationError("该单元还有在用的工作室，请先将工作室迁移或撤销。")
    unit.retire()
