"""Issuing and revoking integration tokens (services for the token pages and command).

A token issued in the pages gets its own service account with the chosen role and unit
(no password, so it can never log in to the pages). The API then scopes it with
`for_user(account)` like any person with that role and unit: there is no second
scoping mechanism to keep in step with the screens."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from minyi.api.models import ApiToken
from minyi.core import account_cache
from minyi.people.models import Role, User
from minyi.studios.models import StudioAssignment


def can_manage_tokens(user: Any) -> bool:
    """Those who manage accounts (superusers and organisation departments) manage tokens,
    within the same bounds: only for accounts they may edit."""
    return bool(user.is_superuser or getattr(user, "is_official", False))


def tokens_for(user: Any) -> QuerySet:
    """The tokens this administrator may see and revoke: those acting as an account in
    their scope (`User.objects.for_editor`)."""
    if not can_manage_tokens(user):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user__in=User.objects.for_editor(user).values("pk"))


# What the token pages read to say, in words, what a token covers: its account's unit or
# handling unit, or, for an account that is a person's own (a token the command issued
# for a liaison or a representative), that person's studio, community or studios.
SCOPE_RELATED = (
    "user__unit",
    "user__handling_unit",
    "user__liaison__studio",
    "user__liaison__community",
    "user__representative",
)
SCOPE_PREFETCH = Prefetch(
    "user__representative__assignments",
    queryset=StudioAssignment.objects.filter(active=True)
    .select_related("studio")
    .only("representative_id", "studio__name")
    .order_by("studio__name"),
    to_attr="active_assignments",
)


def with_scope(tokens: QuerySet) -> QuerySet:
    """`tokens` with what `scope_label` reads, in a fixed number of queries."""
    return tokens.select_related(*SCOPE_RELATED).prefetch_related(SCOPE_PREFETCH)


def scope_label(account: User) -> str:
    """What a token acting as `account` covers, as the pages say it (a liaison's token
    showed its account's username, which says nothing of the studio it reaches)."""
    if account.is_superuser:
        return "全部（系统管理员）"
    if account.unit is not None:
        return account.unit.name
    if account.handling_unit is not None:
        return account.handling_unit.name
    liaison = getattr(account, "liaison", None)
    if account.role == Role.LIAISON and liaison is not None:
        if not liaison.active:
            return f"无（联络员{liaison.name}已不在岗）"
        if liaison.studio is not None:
            return f"{liaison.studio.name}（联络员：{liaison.name}）"
        if liaison.community is not None:
            return f"{liaison.community.name}（代行联络员：{liaison.name}）"
    representative = getattr(account, "representative", None)
    if account.role == Role.REPRESENTATIVE and representative is not None:
        if not representative.active:
            return f"无（党代表{representative.name}已不在任）"
        studios = "、".join(a.studio.name for a in representative.active_assignments)
        own = f"党代表{representative.name}本人的履职和社情民意"
        return f"{own}；工作室：{studios}" if studios else own
    return "无（该账号没有可见范围）"


@transaction.atomic
def token_issue(*, issuer: Any, name: str, account: User) -> tuple[ApiToken, str]:
    """Save the (unsaved) service account with its role and unit and issue its token."""
    account.username = f"api-{secrets.token_hex(6)}"
    # Cut to the account's field: a token's name may be longer (100) than a person's (50).
    account.full_name = f"接口：{name}"[: User._meta.get_field("full_name").max_length]
    account.is_active = True
    account.set_unusable_password()
    account.save()
    return ApiToken.issue(user=account, name=name, created_by=issuer, service_account=True)


@transaction.atomic
def token_revoke(*, token: ApiToken) -> bool:
    """Revoke at once; a service account made for the token is switched off with it.
    False when it was already revoked."""
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if updated and token.service_account:
        User.objects.filter(pk=token.user_id).update(is_active=False)
        account_cache.forget(token.user_id)
    return bool(updated)
