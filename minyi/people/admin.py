from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from minyi.core.admin import ModelAdmin
from minyi.people.models import Liaison, Representative, User


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):  # Django's, with our widgets
    # Plain multiple selects for the groups and permissions (which the pages' roles do
    # not use): Django's two-box filter puts an aria-label on a bare <span>, which axe
    # counts as a serious fault (aria-prohibited-attr).
    filter_horizontal = ()
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
