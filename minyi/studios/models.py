"""Studios (党代表工作室, SM 4, 5, 11) and which representatives work at them (SM 6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from minyi.core.links import pk_url
from minyi.core.models import StampedQuerySet, TimeStamped
from minyi.core.phones import display_phone
from minyi.core.regulations import cite
from minyi.org.models import OrgUnit

if TYPE_CHECKING:
    from minyi.people.models import Representative
    from minyi.people.scopes import Scope

# SM 5: a separate room of normally at least 20 m².
MIN_AREA_M2 = Decimal(20)


class StudioKind(models.TextChoices):
    COMMUNITY = "community", "社区工作室"
    INDUSTRY = "industry", "行业系统工作室"
    PARK = "park", "产业园区工作室"
    AGENCY = "agency", "机关单位工作室"
    SERVICE_WINDOW = "service_window", "服务窗口工作室"
    ONLINE = "online", "网络工作室"
    MOBILE = "mobile", "流动工作室"


# Online and mobile studios have no fixed premises, so SM 5's room rules do not apply.
PREMISES_EXEMPT = {StudioKind.ONLINE, StudioKind.MOBILE}

# The facilities SM 5 lists, as (field name, what is required).
FACILITIES = [
    ("has_plaque", "门外悬挂“党代表工作室”标牌"),
    ("has_representative_board", "公示进驻党代表照片、工作单位和联系方式"),
    ("has_desks", "配备办公桌椅"),
    ("has_filing_cabinets", "配备文件柜"),
    ("has_computer_network", "配备电脑和网络"),
    ("has_slogan_sign", "悬挂“知党情、听民意、促和谐”标识"),
    ("has_rules_posted", "张贴工作制度、联络员职责和社情民意办理流程"),
]


@dataclass(frozen=True)
class Shortfall:
    """Something a studio lacks against SM 5 or SM 11: a warning, never a block."""

    rule: str
    message: str


class StudioQuerySet(StampedQuerySet):
    def active(self) -> StudioQuerySet:
        return self.filter(closed_at__isnull=True)

    def with_shortfalls(self) -> StudioQuerySet:
        """The studios for which `Studio.shortfalls()` is not empty, as one filter, so
        that a list of them counts and pages correctly."""
        from minyi.people.models import Liaison, LiaisonKind

        premises = Q(area_m2__isnull=True) | Q(area_m2__lt=MIN_AREA_M2)
        for field, _ in FACILITIES:
            premises |= Q(**{field: False})
        full_time = Liaison.objects.filter(
            studio=OuterRef("pk"), active=True, kind=LiaisonKind.FULL_TIME
        )
        return self.filter((~Q(kind__in=PREMISES_EXEMPT) & premises) | ~Exists(full_time))

    def scope_q(self, scope: Scope, *, write: bool) -> Q | None:
        if scope.unit is not None:
            return scope.unit.subtree_q("unit__")
        if scope.studio_ids:
            if write and scope.representative_ids:
                return None  # representatives read their studios; liaisons keep them
            return Q(pk__in=scope.studio_ids)
        return None


def square_metres(area: Decimal) -> str:
    """An area as every page writes it: 24 for the stored 24.0 (one decimal place is
    kept), 24.5 as it is."""
    return f"{area.normalize():f}"


class Studio(TimeStamped):
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=24, choices=StudioKind.choices)
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name="所在社区或单位",
        on_delete=models.PROTECT,
        related_name="studios",
        help_text="社区工作室选所在社区；其他工作室选所属街道、区或工委。",
    )
    host_organisation = models.CharField("依托党组织", max_length=100)
    address = models.CharField("地址", max_length=200, blank=True)
    area_m2 = models.DecimalField(
        "面积（平方米）",
        max_digits=7,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0), message="面积不能为负数。")],
    )
    opening_hours = models.CharField(
        "开放时间", max_length=200, blank=True, help_text="例如：每周三 9:00—12:00"
    )
    phone = models.CharField("工作室电话", max_length=20, blank=True)
    funding_source = models.CharField(
        "经费来源",
        max_length=100,
        blank=True,
        help_text=f"社区工作室由区财政保障（{cite('SM 14')}）。",
    )
    established_on = models.DateField("设立日期", null=True, blank=True)
    closed_at = models.DateTimeField("撤销时间", null=True, blank=True)
    # The prefix of its case numbers where its unit gives none (not a community with a
    # prefix): given at its first number and kept for ever (minyi.org.prefixes). NULL
    # until then, which the unique constraint lets any number of studios have. Only its
    # claim writes it: `save()` of a studio already stored leaves the column alone.
    number_prefix = models.CharField(  # noqa: DJ001
        "编号前缀", max_length=120, null=True, blank=True, editable=False
    )

    has_plaque = models.BooleanField(FACILITIES[0][1], default=False)
    has_representative_board = models.BooleanField(FACILITIES[1][1], default=False)
    has_desks = models.BooleanField(FACILITIES[2][1], default=False)
    has_filing_cabinets = models.BooleanField(FACILITIES[3][1], default=False)
    has_computer_network = models.BooleanField(FACILITIES[4][1], default=False)
    has_slogan_sign = models.BooleanField(FACILITIES[5][1], default=False)
    has_rules_posted = models.BooleanField(FACILITIES[6][1], default=False)

    representatives = models.ManyToManyField(
        "people.Representative",
        through="StudioAssignment",
        related_name="studios",
        verbose_name="进驻党代表",
    )

    objects = StudioQuerySet.as_manager()

    class Meta:
        verbose_name = "党代表工作室"
        verbose_name_plural = "党代表工作室"
        ordering = ["unit__code", "name"]
        indexes = [
            models.Index(fields=["kind", "name"], name="studio_kind_name"),
            models.Index(fields=["name"], name="studio_name"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number_prefix"], name="studio_unique_number_prefix"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, **kwargs: Any) -> None:
        # The prefix is written by its claim alone (minyi.org.prefixes.studio_number_prefix,
        # an UPDATE … WHERE number_prefix IS NULL). A full-row save of a studio read before
        # a concurrent first number (the admin's, an Excel import's) would put back the
        # NULL it read, and the studio's next number would claim another prefix: a row
        # already in the table is saved without that column.
        full_row = kwargs.get("update_fields") is None and not kwargs.get("force_insert")
        if full_row and not self._state.adding:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "number_prefix"
            ]
        super().save(**kwargs)

    def get_absolute_url(self) -> str:
        return pk_url("studios:detail", self.pk)

    @property
    def phone_display(self) -> str:
        return display_phone(self.phone)

    @property
    def judged_from(self) -> date | None:
        """The first day its duties are judged on (compliance, the year-end evaluation):
        its 设立日期, or, for a studio entered before that was required, the day it
        was entered here; weeks before it owe nothing. None only for a studio not saved."""
        if self.established_on is not None:
            return self.established_on
        return timezone.localdate(self.created_at) if self.created_at else None

    @property
    def has_premises(self) -> bool:
        return self.kind not in PREMISES_EXEMPT

    @property
    def area_text(self) -> str:
        return "" if self.area_m2 is None else square_metres(self.area_m2)

    def shortfalls(self, liaisons: list | None = None) -> list[Shortfall]:
        """What falls short of SM 5 (premises, facilities) and SM 11 (a full-time
        liaison). Pass the studio's active liaisons when already loaded."""
        from minyi.people.models import LiaisonKind

        found: list[Shortfall] = []
        if self.has_premises:
            if self.area_m2 is None:
                found.append(Shortfall("SM 5", "未填写工作室面积。"))
            elif self.area_m2 < MIN_AREA_M2:
                found.append(
                    Shortfall(
                        "SM 5",
                        f"面积 {square_metres(self.area_m2)} 平方米，不足 {MIN_AREA_M2} 平方米。",
                    )
                )
            found.extend(
                Shortfall("SM 5", f"缺少：{label}。")
                for field, label in FACILITIES
                if not getattr(self, field)
            )
        if liaisons is None:
            liaisons = list(self.liaisons.filter(active=True))
        if not any(item.kind == LiaisonKind.FULL_TIME for item in liaisons):
            found.append(Shortfall("SM 11", "没有专职联络员。"))
        return found


class StudioAssignment(TimeStamped):
    """A period in which a representative works at a studio (SM 6): at their community's
    studio by level, and also at the studio of their electoral unit or base organisation.

    One row per period: a representative who leaves and comes back has an ended row
    (`active=False`, with `until`) and an open one, so the compliance rules can owe them
    only the windows they were here for. At most one period of a pair is open
    (`assignment_one_open_period`); the scopes read the open ones only."""

    studio = models.ForeignKey(
        Studio, verbose_name="工作室", on_delete=models.PROTECT, related_name="assignments"
    )
    representative = models.ForeignKey(
        "people.Representative",
        verbose_name="党代表",
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    since = models.DateField("进驻日期", null=True, blank=True)
    active = models.BooleanField("有效", default=True)
    # The day the period ended (active=False); blank while it lasts, and for the
    # periods ended before the day was kept. `active` alone decides the scope.
    until = models.DateField("离开日期", null=True, blank=True)

    class Meta:
        verbose_name = "进驻安排"
        verbose_name_plural = "进驻安排"
        constraints = [
            models.UniqueConstraint(
                fields=["studio", "representative"],
                condition=Q(active=True),
                name="assignment_one_open_period",
                violation_error_message="该党代表正在进驻本工作室。",
            ),
            models.CheckConstraint(
                condition=Q(active=False) | Q(until__isnull=True),
                name="assignment_until_only_when_ended",
                violation_error_message="仍在进驻的党代表不能有离开日期。",
            ),
        ]
        indexes = [
            # What the unique pair's index served before periods: a pair's rows.
            models.Index(fields=["studio", "representative"], name="assignment_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.representative} @ {self.studio}"

    def end(self) -> None:
        """End the period (not saved) on today; one already ended keeps its day. Coming
        back is a new period (`open_period`), never this one reopened: that would lose
        the dates of this one."""
        if self.active:
            self.until = timezone.localdate()
        self.active = False

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.since and self.until and self.until < self.since:
            raise ValidationError({"since": "进驻日期不能晚于离开日期。"})


def open_period(
    studio: Studio, representative: Representative, since: date | None
) -> StudioAssignment:
    """The pair's open period, started on `since` unless one is open already (whose day
    is never moved). Safe against a second request doing the same (the constraint)."""
    period, _ = StudioAssignment.objects.get_or_create(
        studio=studio, representative=representative, active=True, defaults={"since": since}
    )
    return period
