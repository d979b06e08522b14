"""The organisation: one editable tree of units (city, districts and new districts,
streets, communities, system committees), the organisation departments that route
opinions, the handling units that answer them, and delegations and groups of
representatives (CM 2, SM 3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from minyi.core.crypto import EncryptedCharField
from minyi.core.links import pk_url
from minyi.core.models import ScopedQuerySet, StampedQuerySet, TimeStamped
from minyi.core.text_limits import ACCOUNT_MAX

if TYPE_CHECKING:
    from minyi.people.scopes import Scope


class Level(models.TextChoices):
    PROVINCE = "province", "省"
    CITY = "city", "市"
    DISTRICT = "district", "区"
    STREET = "street", "街道"
    COMMUNITY = "community", "社区"


# Levels from the top; a unit's parent is always one step up.
# Typed as str: a unit's level field holds the plain value, and both are looked up here.
LEVEL_ORDER: list[str] = [Level.PROVINCE, Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY]
ANCESTOR_LEVELS: list[str] = [Level.PROVINCE, Level.CITY, Level.DISTRICT, Level.STREET]


def parent_level(level: str) -> str | None:
    index = LEVEL_ORDER.index(Level(level))
    return LEVEL_ORDER[index - 1] if index else None


class Kind(models.TextChoices):
    ORDINARY = "ordinary", "普通"
    NEW_DISTRICT = "new_district", "新区"
    COOPERATION_ZONE = "cooperation_zone", "特别合作区"
    FUNCTIONAL_ZONE = "functional_zone", "功能区（保税区、机场等）"
    SYSTEM_COMMITTEE = "system_committee", "市委工委 / 国资委党委"


class OrgUnitQuerySet(StampedQuerySet):
    def active(self) -> OrgUnitQuerySet:
        return self.filter(retired_at__isnull=True)

    def communities(self) -> OrgUnitQuerySet:
        return self.filter(level=Level.COMMUNITY)

    def scope_q(self, scope: Scope, *, write: bool) -> Q | None:
        if scope.unit is not None:
            return scope.unit.subtree_q()
        if write:
            return None
        if scope.unit_ids:
            return Q(pk__in=scope.unit_ids)
        return None


class OrgUnit(TimeStamped):
    """A node of the organisation tree.

    Ancestors are stored as direct pointers (province, city, district, street) so that
    "everything under this district" is one indexed equality, at 620,573 communities
    as at 788. A unit's official statistical code is optional: units that the party
    organisation has and the statistics lack (大鹏新区, 深汕特别合作区, the system
    committees) have none.
    """

    code = models.CharField("区划代码", max_length=12, unique=True, null=True, blank=True)
    name = models.CharField("名称", max_length=100)
    short_name = models.CharField(
        "简称",
        max_length=100,
        help_text="群众习惯的叫法，也用于社情民意登记表编号，如“沙头角社区”。",
    )
    level = models.CharField("层级", max_length=16, choices=Level.choices)
    kind = models.CharField("类型", max_length=24, choices=Kind.choices, default=Kind.ORDINARY)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    province = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    city = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A community's registration-form number prefix (minyi.org.prefixes): unique in the
    # deployment and, once a case was numbered under it, never changed, whatever the
    # unit is later renamed, moved or merged into. Other levels have none: NULL, which
    # the unique constraint lets any number of units have (an empty string would not).
    number_prefix = models.CharField(  # noqa: DJ001
        "编号前缀", max_length=120, null=True, blank=True, editable=False
    )
    retired_at = models.DateTimeField("撤销时间", null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name="并入",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_units",
    )
    party_secretary = models.CharField("党组织书记", max_length=50, blank=True)
    party_secretary_phone = EncryptedCharField("书记联系电话", max_length=20, blank=True)

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        verbose_name = "组织单元"
        verbose_name_plural = "组织单元"
        ordering = ["code", "name"]
        # A constraint, not unique=True: on PostgreSQL the field's unique=True adds a
        # second (LIKE) index, that the national import would maintain for nothing.
        constraints = [
            models.UniqueConstraint(fields=["number_prefix"], name="orgunit_unique_number_prefix")
        ]
        indexes = [
            models.Index(fields=["level", "name"], name="orgunit_level_name"),
            models.Index(fields=["parent", "name"], name="orgunit_parent_name"),
            models.Index(fields=["short_name"], name="orgunit_short_name"),
        ]

    def __str__(self) -> str:
        return self.short_name or self.name

    def get_absolute_url(self) -> str:
        return pk_url("org:unit_detail", self.pk)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A save that names its fields without the prefix (retiring, merging) leaves it.
        fields = kwargs.get("update_fields")
        if fields is None or "number_prefix" in fields:
            from minyi.org.prefixes import assign_number_prefix

            # The prefix's claim lock lasts until the transaction ends: the row must be
            # written in the same one (no savepoint: nothing to roll back to).
            with transaction.atomic(savepoint=False):
                assign_number_prefix(self)
                super().save(*args, **kwargs)
            return
        super().save(*args, **kwargs)

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    def subtree_q(self, prefix: str = "") -> Q:
        """Rows whose unit (reached through `prefix`, e.g. "unit__") is this unit or lies
        beneath it.

        Through a relation this is `unit_id IN (the subtree's ids)`, not
        `unit_id = X OR unit.street_id = X`: an OR across a join cannot use an index, so
        PostgreSQL joined every studio to its unit to find one street's twenty (6.6 s
        for a street's filter choices with 620,573 studios; docs/performance.md). The
        sub-query reads the units by their primary key and ancestor-pointer indexes,
        then the rows by the relation's index."""
        q = Q(pk=self.pk)
        if self.level in ANCESTOR_LEVELS:
            q |= Q(**{f"{self.level}_id": self.pk})
        if not prefix:
            return q
        return Q(**{f"{prefix}in": OrgUnit.objects.filter(q).values("pk")})

    def area_pointers(self) -> dict[str, int | None]:
        """The area columns of a case registered at a studio of this unit (`Case.area`
        and `Case.province` … `Case.street`): the unit, its ancestors, and at its own
        level the unit itself, so that a street studio's case has street = that street
        and "the cases of X" is one equality on X's level (`area_q`)."""
        pointers: dict[str, int | None] = {"area_id": self.pk}
        for level in ANCESTOR_LEVELS:
            pointers[f"{level}_id"] = getattr(self, f"{level}_id")
        if self.level in ANCESTOR_LEVELS:
            pointers[f"{self.level}_id"] = self.pk
        return pointers

    def area_q(self, prefix: str = "") -> Q:
        """Cases (reached through `prefix`) of studios of this unit or beneath it, from
        the case's own area columns: the same rows as `subtree_q(prefix + "studio__unit__")`
        without the two joins, and one indexed equality."""
        column = self.level if self.level in ANCESTOR_LEVELS else "area"
        return Q(**{f"{prefix}{column}_id": self.pk})

    def set_ancestors_from(self, parent: OrgUnit | None) -> None:
        """Copy the ancestor pointers from the parent, plus the parent itself."""
        self.parent = parent
        for level in ANCESTOR_LEVELS:
            setattr(self, f"{level}_id", None)
        if parent is None:
            return
        for level in ANCESTOR_LEVELS:
            setattr(self, f"{level}_id", getattr(parent, f"{level}_id"))
        setattr(self, f"{parent.level}_id", parent.pk)

    def ancestors(self) -> list[OrgUnit]:
        ids = [getattr(self, f"{lvl}_id") for lvl in ANCESTOR_LEVELS]
        ids = [i for i in ids if i]
        units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=ids)}
        return [units[i] for i in ids if i in units]

    def retire(self) -> None:
        self.retired_at = timezone.now()
        self.save(update_fields=["retired_at", "updated_at"])


class OrgDepartmentQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope, *, write: bool) -> Q | None:
        if scope.unit is not None:
            return scope.unit.subtree_q("unit__")
        return None


class OrgDepartment(TimeStamped):
    """The organisation department of a city, district or street (or the equivalent
    office of a system committee): it receives opinions and routes them (CM 10)."""

    unit = models.OneToOneField(
        OrgUnit, verbose_name="所属单元", on_delete=models.PROTECT, related_name="department"
    )
    name = models.CharField("名称", max_length=100)
    phone = models.CharField("联系电话", max_length=20, blank=True)

    objects = OrgDepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = "组织部门"
        verbose_name_plural = "组织部门"
        ordering = ["unit__code", "name"]

    def __str__(self) -> str:
        return self.name


class HandlingUnitQuerySet(StampedQuerySet):
    def active(self) -> HandlingUnitQuerySet:
        return self.filter(retired_at__isnull=True)

    def scope_q(self, scope: Scope, *, write: bool) -> Q | None:
        if scope.unit is not None:
            return scope.unit.subtree_q("area__")
        if scope.handling_unit_id is not None and not write:
            return Q(pk=scope.handling_unit_id)
        return None


class HandlingUnit(TimeStamped):
    """承办单位: a department or unit that must act on an opinion and answer in writing
    (CM 11). Its level and area are those of the unit it answers for."""

    name = models.CharField("名称", max_length=100)
    area = models.ForeignKey(
        OrgUnit, verbose_name="负责区域", on_delete=models.PROTECT, related_name="handling_units"
    )
    remit = models.TextField("职责范围", blank=True, max_length=ACCOUNT_MAX)
    contact_person = models.CharField("联系人", max_length=50, blank=True)
    phone = EncryptedCharField("联系电话", max_length=20, blank=True)
    retired_at = models.DateTimeField("撤销时间", null=True, blank=True)

    objects = HandlingUnitQuerySet.as_manager()

    class Meta:
        verbose_name = "承办单位"
        verbose_name_plural = "承办单位"
        ordering = ["area__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="handlingunit_unique_name"),
        ]
        indexes = [models.Index(fields=["name"], name="handlingunit_name")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return pk_url("org:handlingunit_edit", self.pk)

    @property
    def level(self) -> str:
        return self.area.level

    def get_level_display(self) -> str:
        return Level(self.area.level).label


class Delegation(TimeStamped):
    """代表团: the city representatives of one district (CM 2)."""

    unit = models.OneToOneField(
        OrgUnit, verbose_name="区", on_delete=models.PROTECT, related_name="delegation"
    )
    name = models.CharField("名称", max_length=100)

    class Meta:
        verbose_name = "代表团"
        verbose_name_plural = "代表团"
        ordering = ["unit__code"]

    def __str__(self) -> str:
        return self.name


class Group(TimeStamped):
    """代表组: the city representatives of one street, inside its district's delegation."""

    unit = models.OneToOneField(
        OrgUnit, verbose_name="街道", on_delete=models.PROTECT, related_name="group"
    )
    delegation = models.ForeignKey(
        Delegation, verbose_name="代表团", on_delete=models.PROTECT, related_name="groups"
    )
    name = models.CharField("名称", max_length=100)

    class Meta:
        verbose_name = "代表组"
        verbose_name_plural = "代表组"
        ordering = ["unit__code"]

    def __str__(self) -> str:
        return self.name
