from django.contrib import admin

from minyi.org.models import Delegation, Group, HandlingUnit, OrgDepartment, OrgUnit


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "code", "level", "kind", "retired_at"]
    list_filter = ["level", "kind"]
    search_fields = ["name", "short_name", "code"]
    raw_id_fields = ["parent", "province", "city", "district", "street", "merged_into"]


@admin.register(OrgDepartment)
class OrgDepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "unit"]
    search_fields = ["name"]
    raw_id_fields = ["unit"]


@admin.register(HandlingUnit)
class HandlingUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "area", "retired_at"]
    search_fields = ["name"]
    raw_id_fields = ["area"]


admin.site.register(Delegation, raw_id_fields=["unit"])
admin.site.register(Group, raw_id_fields=["unit", "delegation"])
