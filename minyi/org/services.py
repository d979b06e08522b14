"""Changes to the organisation tree that span several rows: re-parenting, merging,
retiring. Each runs in one transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from minyi.audit.trail import record_bulk
from minyi.cases.areas import cases_follow_merge, cases_follow_unit
from minyi.org import prefixes
from minyi.org.models import ANCESTOR_LEVELS, LEVEL_ORDER, HandlingUnit, OrgUnit


def check_parent(unit: OrgUnit, parent: OrgUnit) -> None:
    """A unit's parent is a live unit of the level just above its own."""
    if (
        unit.level not in LEVEL_ORDER[1:]
        or parent.level != LEVEL_ORDER[LEVEL_ORDER.index(unit.level) - 1]
    ):
        raise ValidationError("新的上级单元层级不正确。")
    if parent.is_retired:
        raise ValidationError(f"“{parent.name}”已撤销，不能作为上级单元。")


def _lock_tree(*units: OrgUnit) -> None:
    """Lock the rows of `units` and everything beneath them, in id order, before the
    edit's first write. A community's first registration of a year holds its row FOR
    SHARE and then takes an audit lane (minyi.cases.numbering); a tree edit that wrote
    audit rows (a lane) before updating that community's row would wait for the
    registration while the registration waited for the lane: a deadlock, which
    PostgreSQL would end by refusing one of them (503). Taken first, the rows make the
    registration wait for the edit, or the edit for the registration, never both.
    FOR NO KEY UPDATE: what the edit's own UPDATEs take, and it leaves the cases'
    foreign-key checks (FOR KEY SHARE) free. SQLite serialises writers already."""
    beneath = Q()
    for unit in units:
        if unit.level in ANCESTOR_LEVELS:
            beneath |= Q(**{f"{unit.level}_id": unit.pk})
    list(
        OrgUnit.objects.select_for_update(no_key=True)
        .filter(beneath | Q(pk__in=[unit.pk for unit in units]))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def unit_reparent(*, unit: OrgUnit, parent: OrgUnit) -> None:
    """Move a unit (and everything beneath it) under another parent of the same level
    as its current one, rewriting the descendants' ancestor pointers in one UPDATE."""
    check_parent(unit, parent)
    _lock_tree(unit)
    _reparent(unit, parent)


def _reparent(unit: OrgUnit, parent: OrgUnit) -> None:
    unit.set_ancestors_from(parent)
    unit.save()
    above = (
        ANCESTOR_LEVELS[: ANCESTOR_LEVELS.index(unit.level)]
        if unit.level in ANCESTOR_LEVELS
        else []
    )
    if above:
        moved = OrgUnit.objects.filter(**{f"{unit.level}_id": unit.pk}).update(
            **{f"{lvl}_id": getattr(unit, f"{lvl}_id") for lvl in above}
        )
        record_bulk(OrgUnit, moved, fields=above, cause=f"调整上级 org.orgunit#{unit.pk}")
    cases_follow_unit(unit)
    _follow_delegation(unit, parent)


def _follow_delegation(street: OrgUnit, district: OrgUnit) -> None:
    """A street's group (代表组) belongs to its district's delegation (CM 2): when the
    street moves, its group and the group's representatives move with it."""
    from minyi.org.models import Delegation, Group
    from minyi.people.models import Representative

    group = Group.objects.filter(unit=street).first()
    delegation = Delegation.objects.filter(unit=district).first()
    if group is None or delegation is None or group.delegation_id == delegation.pk:
        return
    group.delegation = delegation
    group.save(update_fields=["delegation", "updated_at"])
    moved = Representative.objects.filter(group=group).update(delegation=delegation)
    record_bulk(Representative, moved, fields=["delegation"], cause=f"代表组 org.group#{group.pk}")


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
    # Lock order, as a registration takes them: the units' rows, the prefix claims'
    # lock (minyi.org.prefixes.lock_claims), then an audit lane. A moved community not
    # yet numbered claims a prefix under its new street when it is saved, after the
    # previous child's audit rows took a lane; taken here, before the first write, the
    # claims cannot deadlock with a studio's first number. Merges are rare: holding the
    # claims for the merge's few statements costs a first number a moment.
    _lock_tree(source, target)
    prefixes.hold_off_imports()
    prefixes.lock_claims()
    for child in list(source.children.all()):
        check_parent(child, target)
        _reparent(child, target)
    cause = f"合并 org.orgunit#{source.pk} → #{target.pk}"
    record_bulk(
        Studio, Studio.objects.filter(unit=source).update(unit=target), fields=["unit"], cause=cause
    )
    cases_follow_merge(source, target)
    record_bulk(
        HandlingUnit, source.handling_units.update(area=target), fields=["area"], cause=cause
    )
    # CM 7: a party secretary stands in only where there is no studio. Stand-ins of
    # the source move to the target, unless the target has a studio of its own.
    stand_ins = Liaison.objects.filter(community=source)
    if Studio.objects.active().filter(unit=target).exists():
        record_bulk(Liaison, stand_ins.update(active=False), fields=["active"], cause=cause)
    else:
        record_bulk(Liaison, stand_ins.update(community=target), fields=["community"], cause=cause)
    _merge_groups(source, target)
    links = Representative.linked_communities.through.objects
    already = set(links.filter(orgunit=target).values_list("representative_id", flat=True))
    # The links are the representatives' own field (their edit page posts it): moving
    # them changes those records, so their version moves (minyi.core.stale).
    Representative.objects.filter(linked_communities=source).update(updated_at=timezone.now())
    dropped, _ = links.filter(orgunit=source, representative_id__in=already).delete()
    moved = links.filter(orgunit=source).update(orgunit=target)
    record_bulk(Representative, dropped + moved, fields=["linked_communities"], cause=cause)
    source.merged_into = target
    source.retired_at = timezone.now()
    source.save(update_fields=["merged_into", "retired_at", "updated_at"])


def _merge_groups(source: OrgUnit, target: OrgUnit) -> None:
    """When two streets merge, the source's group members join the target's group."""
    from minyi.org.models import Group
    from minyi.people.models import Representative

    source_group = Group.objects.filter(unit=source).first()
    target_group = Group.objects.filter(unit=target).first()
    if source_group and target_group:
        moved = Representative.objects.filter(group=source_group).update(
            group=target_group, delegation=target_group.delegation
        )
        record_bulk(
            Representative,
            moved,
            fields=["group", "delegation"],
            cause=f"并组 org.group#{source_group.pk}",
        )


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
