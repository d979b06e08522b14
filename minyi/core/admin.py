from django.contrib import admin
from django.http import HttpRequest


def _superusers_only(request: HttpRequest) -> bool:
    # Django admin bypasses the for_user scoping, so it stays with superusers.
    return bool(request.user.is_active and request.user.is_superuser)


admin.site.has_permission = _superusers_only  # type: ignore[method-assign]
admin.site.site_header = "民意 · 系统管理"
admin.site.site_title = "民意 · 系统管理"
