"""Admin pages where a superuser corrects the calendar and enters new years.

Every change that can move a deadline announces the affected year through
`calendar_year_completed`, here in the save/delete hooks rather than in signals so that
bulk loads (seeding, fixtures) do not fire it once per row.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html

from minyi.core.admin import ModelAdmin
from minyi.workdays.models import CalendarYear, DayKind, SpecialDay
from minyi.workdays.recompute import calendar_year_completed

WEEKDAY_NAMES = "一二三四五六日"


@admin.register(CalendarYear)
class CalendarYearAdmin(ModelAdmin):
    list_display = ["year", "complete", "holiday_count", "makeup_count", "days_link", "updated"]
    list_filter = ["complete"]
    search_fields = ["year", "source"]
    readonly_fields = ["updated"]
    actions = ["mark_complete"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_holidays=Count("special_days", filter=Q(special_days__kind=DayKind.HOLIDAY)),
                n_makeup=Count("special_days", filter=Q(special_days__kind=DayKind.MAKEUP_WORKDAY)),
            )
        )

    @admin.display(description="节假日天数", ordering="n_holidays")
    def holiday_count(self, obj: CalendarYear) -> int:
        return obj.n_holidays  # type: ignore[attr-defined]  # get_queryset's annotation

    @admin.display(description="调休上班天数", ordering="n_makeup")
    def makeup_count(self, obj: CalendarYear) -> int:
        return obj.n_makeup  # type: ignore[attr-defined]  # get_queryset's annotation

    @admin.display(description="明细")
    def days_link(self, obj: CalendarYear) -> str:
        url = reverse("admin:workdays_specialday_changelist")
        return format_html('<a href="{}?calendar_year__id__exact={}">查看和修改</a>', url, obj.pk)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Both ticking and unticking `complete` change how deadlines in the year count.
        if "complete" in form.changed_data:
            calendar_year_completed(obj.year)

    def delete_model(self, request, obj):
        was_complete = obj.complete
        super().delete_model(request, obj)
        if was_complete:
            calendar_year_completed(obj.year)

    def delete_queryset(self, request, queryset):
        years = list(queryset.filter(complete=True).values_list("year", flat=True))
        super().delete_queryset(request, queryset)
        for year in years:
            calendar_year_completed(year)

    @admin.action(description="标记为已完整录入", permissions=["change"])
    def mark_complete(self, request, queryset):
        years = list(queryset.filter(complete=False).values_list("year", flat=True))
        # One row at a time, not queryset.update(), so `updated` is stamped.
        for calendar_year in queryset.filter(year__in=years):
            calendar_year.complete = True
            calendar_year.save()
            calendar_year_completed(calendar_year.year)
        self.message_user(request, f"已将{len(years)}个年度标记为已完整录入。", messages.SUCCESS)


@admin.register(SpecialDay)
class SpecialDayAdmin(ModelAdmin):
    list_display = ["date", "weekday", "kind", "name", "calendar_year"]
    list_filter = ["kind", "calendar_year__complete", "calendar_year", "name"]
    search_fields = ["name"]
    date_hierarchy = "date"
    readonly_fields = ["calendar_year"]
    list_select_related = ["calendar_year"]

    @admin.display(description="星期")
    def weekday(self, obj: SpecialDay) -> str:
        return "周" + WEEKDAY_NAMES[obj.date.weekday()]

    def save_model(self, request, obj, form, change):
        # Moving a day to another year changes both years.
        old_year = obj.calendar_year.year if obj.calendar_year_id else None
        super().save_model(request, obj, form, change)
        for year in sorted({old_year, obj.date.year} - {None}):
            calendar_year_completed(year)

    def delete_model(self, request, obj):
        year = obj.date.year
        super().delete_model(request, obj)
        calendar_year_completed(year)

    def delete_queryset(self, request, queryset):
        years = sorted({d.year for d in queryset.values_list("date", flat=True)})
        super().delete_queryset(request, queryset)
        for year in years:
            calendar_year_completed(year)
