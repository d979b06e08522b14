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


admin.site.register(StudioAssignment, raw_id_fields=["studio", "representative"])
