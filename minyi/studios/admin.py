from typing import Any

from django.contrib import admin

from minyi.cases.areas import cases_follow_studio
from minyi.studios.models import Studio, StudioAssignment


@admin.register(Studio)
class StudioAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "unit", "area_m2", "closed_at"]
    list_filter = ["kind"]
    search_fields = ["name", "address"]
    raw_id_fields = ["unit"]

    def save_model(self, request: Any, obj: Studio, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "unit" in form.changed_data:
            cases_follow_studio(obj)


@admin.register(StudioAssignment)
class StudioAssignmentAdmin(admin.ModelAdmin):
    list_display = ["representative", "studio", "since", "active", "until"]
    list_filter = ["active"]
    raw_id_fields = ["studio", "representative"]
    # The day it ended follows `active`, as on the studio's page (set_active).
    readonly_fields = ["until"]

    def save_model(self, request: Any, obj: StudioAssignment, form: Any, change: bool) -> None:
        if "active" in form.changed_data:
            active = obj.active
            obj.active = form.initial.get("active", True)
            obj.set_active(active)
        super().save_model(request, obj, form, change)
