"""Who must use a second factor, and what a half-logged-in account may reach."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists
from django_otp.plugins.otp_totp.models import TOTPDevice

from minyi.twofactor.models import RequiredRole


def required_for(user: Any) -> bool:
    return bool(user.role) and RequiredRole.objects.filter(role=user.role).exists()


def required_roles() -> list[str]:
    return list(RequiredRole.objects.order_by("role").values_list("role", flat=True))


@transaction.atomic
def set_required_roles(*, roles: list[str], actor: Any) -> None:
    """Replace the policy; each row added or removed is an audit row (signals)."""
    current = set(required_roles())
    wanted = set(roles)
    for row in RequiredRole.objects.filter(role__in=current - wanted):
        row.delete()
    for role in sorted(wanted - current):
        RequiredRole.objects.create(role=role, set_by=actor)


def pending_step(user: Any) -> str | None:
    """None when the account may go on; "verify" when it has a device but has not entered a
    code in this session; "enrol" when its role requires a device it does not have. One query."""
    if not user.is_authenticated or user.is_verified():
        return None
    return step_at_login(user)


def step_at_login(user: Any) -> str | None:
    """pending_step for an account that has just given its password (no code yet)."""
    devices = TOTPDevice.objects.filter(user=user, confirmed=True)
    roles = RequiredRole.objects.filter(role=user.role)
    found = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(has_device=Exists(devices), required=Exists(roles))
        .values_list("has_device", "required")
        .first()
    )
    has_device, required = found or (False, False)
    if has_device:
        return "verify"
    if required and user.role:
        return "enrol"
    return None
