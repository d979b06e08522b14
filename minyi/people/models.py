"""People: accounts with their role and scope, representatives, and studio liaisons."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q

from minyi.core.crypto import EncryptedCharField
from minyi.core.links import pk_url
from minyi.core.models import ScopedQuerySet, StampedQuerySet, TimeStamped
from minyi.core.phones import display_phone
from minyi.core.regulations import cite
from minyi.org.models import Delegation, Group, OrgUnit

if TYPE_CHECKING:
    from minyi.people.scopes import Scope


class Role(models.TextChoices):
    CITY_OFFICIAL = "city_official", "市委组织部"
    DISTRICT_OFFICIAL = "district_official", "区（新区）组织部门"
    STREET_OFFICIAL = "street_official", "街道组织部门"
    COMMITTEE_OFFICIAL = "committee_official", "市委工委 / 国资委党委"
    HANDLING_UNIT_STAFF = "handling_unit_staff", "承办单位"
    LIAISON = "liaison", "工作室联络员"
    REPRESENTATIVE = "representative", "党代表"


# Officials answer for the subtree of their unit; the unit's level must match the role.
OFFICIAL_ROLE_LEVELS = {
    Role.CITY_OFFICIAL: {"city"},
    Role.DISTRICT_OFFICIAL: {"district"},
    Role.STREET_OFFICIAL: {"street"},
    Role.COMMITTEE_OFFICIAL: {"district"},
}


class UserQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope, *, write: bool) -> Q | None:
        """A department manages the accounts of its own area: its officials, its
        handling units' staff, its studios' liaisons and its representatives. Nobody
        but a superuser sees or changes a superuser."""
        if scope.unit is None:
            return None
        representatives = Representative.objects.filter(
            Representative.objects.scope_q(scope, write=False)
        ).values("user_id")
        return (
            scope.unit.subtree_q("unit__")
            | scope.unit.subtree_q("handling_unit__area__")
            | scope.unit.subtree_q("liaison__studio__unit__")
            | scope.unit.subtree_q("liaison__community__")
            | Q(pk__in=representatives)
        ) & Q(is_superuser=False)


class ScopedUserManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    pass


class User(AbstractUser):
    """A staff account. Its role and unit decide what it sees (minyi.people.scopes)."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    role = models.CharField("角色", max_length=32, choices=Role.choices, blank=True)
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name="所属单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
        help_text="组织部门工作人员所在的市、区、街道或工委。",
    )
    handling_unit = models.ForeignKey(
        "org.HandlingUnit",
        verbose_name="承办单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )

    objects: ClassVar[ScopedUserManager] = ScopedUserManager()

    class Meta:
        verbose_name = "账号"
        verbose_name_plural = "账号"
        indexes = [models.Index(fields=["role", "unit"], name="user_role_unit")]

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_absolute_url(self) -> str:
        return pk_url("people:account_edit", self.pk)

    @property
    def is_official(self) -> bool:
        return self.role in OFFICIAL_ROLE_LEVELS


class RepresentativeLevel(models.TextChoices):
    CITY = "city", "市党代表"
    DISTRICT = "district", "区党代表"


class RepresentativeCategory(models.TextChoices):
    CITY_LEADER = "city_leader", "市四套班子领导"
    DISTRICT = "district", "区（新区）代表"
    SYSTEM_COMMITTEE = "system_committee", "系统工委代表"
    ARMED_FORCES = "armed_forces", "驻深部队代表"


class RepresentativeQuerySet(StampedQuerySet):
    def active(self) -> RepresentativeQuerySet:
        return self.filter(active=True)

    def scope_q(self, scope: Scope, *, write: bool) -> Q | None:
        if scope.unit is not None:
            # A department answers for the representatives elected in its area, linked
            # to a community in it, or working at one of its studios.
            from minyi.studios.models import StudioAssignment

            linked = Representative.linked_communities.through.objects.filter(
                scope.unit.subtree_q("orgunit__")
            ).values("representative_id")
            assigned = StudioAssignment.objects.filter(
                scope.unit.subtree_q("studio__unit__")
            ).values("representative_id")
            return scope.unit.subtree_q("unit__") | Q(pk__in=linked) | Q(pk__in=assigned)
        if write:
            return None
        q = Q(pk__in=scope.representative_ids)
        if scope.studio_ids:
            from minyi.studios.models import StudioAssignment

            q |= Q(
                pk__in=StudioAssignment.objects.filter(studio_id__in=scope.studio_ids).values(
                    "representative_id"
                )
            )
        return q


class Representative(TimeStamped):
    """A party congress representative (党代表), city or district level."""

    name = models.CharField("姓名", max_length=50)
    level = models.CharField("代表层级", max_length=16, choices=RepresentativeLevel.choices)
    category = models.CharField("代表类别", max_length=24, choices=RepresentativeCategory.choices)
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name="选举单位",
        on_delete=models.PROTECT,
        related_name="representatives",
        help_text="代表所在的区（新区）或系统工委。",
    )
    delegation = models.ForeignKey(
        Delegation,
        verbose_name="代表团",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="representatives",
    )
    group = models.ForeignKey(
        Group,
        verbose_name="代表组",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="representatives",
    )
    employer = models.CharField("工作单位", max_length=100)
    position = models.CharField("职务", max_length=100, blank=True)
    phone = EncryptedCharField("联系电话", max_length=20, help_text="手机或带区号的固定电话。")
    photo = models.ImageField("照片", upload_to="representatives/", blank=True)
    linked_communities = models.ManyToManyField(
        OrgUnit,
        verbose_name="联系社区",
        blank=True,
        related_name="linked_representatives",
        help_text=f"固定联系一个社区，或两个相邻社区（{cite('CM 2')}）。",
    )
    user = models.OneToOneField(
        User,
        verbose_name="登录账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="representative",
    )
    active = models.BooleanField("在任", default=True)

    objects = RepresentativeQuerySet.as_manager()

    class Meta:
        verbose_name = "党代表"
        verbose_name_plural = "党代表"
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["name"], name="representative_name"),
            models.Index(fields=["level", "category"], name="representative_level_cat"),
            models.Index(fields=["active", "name"], name="representative_active_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return pk_url("people:representative_detail", self.pk)

    @property
    def phone_display(self) -> str:
        return display_phone(self.phone)


class LiaisonKind(models.TextChoices):
    FULL_TIME = "full_time", "专职联络员"
    PART_TIME = "part_time", "兼职联络员"
    STAND_IN = "stand_in", "社区党组织书记（副书记）兼任"


class LiaisonQuerySet(StampedQuerySet):
    def active(self) -> LiaisonQuerySet:
        return self.filter(active=True)

    def scope_q(self, scope: Scope, *, write: bool) -> Q | None:
        if scope.unit is not None:
            return scope.unit.subtree_q("studio__unit__") | scope.unit.subtree_q("community__")
        if write or not scope.studio_ids:
            return None if write else Q(pk__in=scope.liaison_ids)
        return Q(studio_id__in=scope.studio_ids) | Q(pk__in=scope.liaison_ids)


class Liaison(TimeStamped):
    """A studio's liaison (SM 11, 12): one full-time and several part-time. Where a
    community has no studio yet, its party secretary or deputy stands in (CM 7); such a
    liaison has a community and no studio."""

    name = models.CharField("姓名", max_length=50)
    kind = models.CharField("类型", max_length=16, choices=LiaisonKind.choices)
    studio = models.ForeignKey(
        "studios.Studio",
        verbose_name="工作室",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="liaisons",
    )
    community = models.ForeignKey(
        OrgUnit,
        verbose_name="社区（无工作室时）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stand_in_liaisons",
    )
    position = models.CharField("职务", max_length=100, blank=True)
    phone = EncryptedCharField("联系电话", max_length=20)
    user = models.OneToOneField(
        User,
        verbose_name="登录账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="liaison",
    )
    active = models.BooleanField("在岗", default=True)

    objects = LiaisonQuerySet.as_manager()

    class Meta:
        verbose_name = "联络员"
        verbose_name_plural = "联络员"
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=LiaisonKind.STAND_IN, studio__isnull=True, community__isnull=False)
                    | (~Q(kind=LiaisonKind.STAND_IN) & Q(studio__isnull=False))
                ),
                name="liaison_studio_or_stand_in_community",
            ),
        ]
        indexes = [models.Index(fields=["active", "kind"], name="liaison_active_kind")]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"

    def get_absolute_url(self) -> str:
        return pk_url("people:liaison_edit", self.pk)

    @property
    def phone_display(self) -> str:
        return display_phone(self.phone)
