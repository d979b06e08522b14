from django.contrib import admin

from minyi.api.models import ApiCall, ApiToken
from minyi.core.admin import ModelAdmin


@admin.register(ApiToken)
class ApiTokenAdmin(ModelAdmin):
    list_display = ["name", "user", "created_at", "revoked_at", "last_used_at"]
    readonly_fields = ["secret_hash", "created_at", "last_used_at"]


@admin.register(ApiCall)
class ApiCallAdmin(ModelAdmin):
    list_display = ["at", "token", "method", "path", "status"]
    list_filter = ["status"]
