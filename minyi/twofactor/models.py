from __future__ import annotations

from django.conf import settings
from django.db import models

from minyi.people.models import Role


class RequiredRole(models.Model):
    """A role whose accounts must use a TOTP second factor. No row: not required (the
    default, so that nobody is locked out before the city administrator decides)."""

    role = models.CharField("角色", max_length=32, choices=Role.choices, unique=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    set_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "须使用动态口令的角色"
        verbose_name_plural = "须使用动态口令的角色"

    def __str__(self) -> str:
        return self.get_role_display()
