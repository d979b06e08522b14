from django.contrib import admin

from minyi.studios.models import Studio, StudioAssignment


@admin.register(Studio)
class StudioAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "unit", "area_m2", "closed_at"]
    list_filter = ["kind"]
    search_fields = ["name", "address"]
    raw_id_fields = ["unit"]


admin.site.register(StudioAssignment, raw_id_fields=["studio", "representative"])
