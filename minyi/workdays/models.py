"""The working-day calendar (CM 11): which dates the State Council made holidays or
make-up working days (调休上班), kept in the database so an administrator can correct a
year or enter one the chinesecalendar package does not know yet."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

# Saturday and Sunday in date.weekday(); everything else is an ordinary working day.
WEEKEND = frozenset({5, 6})

# Years outside this range are typing mistakes, not schedules.
FIRST_YEAR = 1990
LAST_YEAR = 2200


class CalendarYear(models.Model):
    year = models.PositiveSmallIntegerField("年份")
    complete = models.BooleanField(
        "已完整录入",
        default=False,
        help_text="本年国务院办公厅节假日安排已全部录入。未勾选时，涉及本年的期限只按周末推算并标记为暂定。",
    )
    source = models.TextField(
        "依据",
        blank=True,
        help_text="如：国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）。",
    )
    updated = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "日历年度"
        verbose_name_plural = "日历年度"
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["year"], name="workdays_calendaryear_unique_year"),
            models.CheckConstraint(
                condition=Q(year__gte=FIRST_YEAR, year__lte=LAST_YEAR),
                name="workdays_calendaryear_year_range",
            ),
        ]

    def __str__(self) -> str:
        state = "已完整录入" if self.complete else "未完整录入"
        return f"{self.year}年（{state}）"


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", "法定节假日"
    MAKEUP_WORKDAY = "makeup_workday", "调休上班"


class SpecialDay(models.Model):
    """A date that differs from "weekday works, weekend rests".

    A HOLIDAY may fall on any day (the package lists the weekend days inside a holiday
    too, which is harmless); a MAKEUP_WORKDAY only makes sense on a Saturday or Sunday.
    """

    date = models.DateField("日期")
    kind = models.CharField("类型", max_length=20, choices=DayKind.choices)
    name = models.CharField("节日", max_length=60, help_text="如：国庆节、春节。")
    # Derived from `date` in save(), so the admin never has to keep the two in step.
    calendar_year = models.ForeignKey(
        CalendarYear,
        verbose_name="年度",
        on_delete=models.CASCADE,
        related_name="special_days",
        editable=False,
    )

    class Meta:
        verbose_name = "节假日或调休日"
        verbose_name_plural = "节假日和调休日"
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["date"], name="workdays_specialday_unique_date"),
            models.CheckConstraint(
                condition=Q(kind__in=DayKind.values), name="workdays_specialday_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()}：{self.name}"

    def save(self, *args, **kwargs) -> None:
        if self.calendar_year_id is None or self.calendar_year.year != self.date.year:
            # A day entered for a year nobody has set up starts that year as incomplete:
            # one holiday is not a whole schedule.
            self.calendar_year, _ = CalendarYear.objects.get_or_create(year=self.date.year)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        # A weekday is a working day already; calling it a make-up day hides a typo.
        if (
            self.kind == DayKind.MAKEUP_WORKDAY
            and self.date is not None
            and self.date.weekday() not in WEEKEND
        ):
            raise ValidationError(
                {
                    "date": ValidationError(
                        "调休上班日必须是周六或周日；工作日本来就要上班，请检查日期。",
                        code="makeup_not_weekend",
                    )
                }
            )
        if self.date is not None and not FIRST_YEAR <= self.date.year <= LAST_YEAR:
            raise ValidationError(
                {
                    "date": ValidationError(
                        f"年份须在{FIRST_YEAR}年至{LAST_YEAR}年之间。", code="year_range"
                    )
                }
            )
