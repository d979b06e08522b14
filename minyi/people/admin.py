from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from minyi.core.admin import TEXTAREA_OVERRIDES, ModelAdmin
from minyi.people.models import Liaison, Representative, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # Django's, so our ModelAdmin's textarea by hand
    formfield_overrides = TEXTAREA_OVERRIDES
    list_display = ["username", "full_name", "role", "unit", "handling_unit", "is_active"]
    list_filter = ["role", "is_active", "is_superuser"]
    search_fields = ["username", "full_name"]
    raw_id_fields = ["unit", "handling_unit"]
    fieldsets = [
        *(BaseUserAdmin.fieldsets or ()),
        ("角色与管辖范围", {"fields": ["full_name", "role", "unit", "handling_unit"]}),
    ]


@admin.register(Representative)
class RepresentativeAdmin(ModelAdmin):
    list_display = ["name", "level", "category", "employer", "active"]
    list_filter = ["level", "category", "active"]
    search_fields = ["name", "employer"]
    raw_id_fields = ["unit", "delegation", "group", "user", "linked_communities"]


@admin.register(Liaison)
class LiaisonAdmin(ModelAdmin):
    list_display = ["name", "kind", "studio", "community", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name"]
    raw_id_fields = ["studio", "community", "user"]
