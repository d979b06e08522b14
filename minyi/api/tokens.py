"""Issuing and revoking integration tokens (services for the token pages and command).

A token issued in the pages gets its own service account with the chosen role and unit
(no password, so it can never log in to the pages). The API then scopes it with
`for_user(account)` like any person with that role and unit: there is no second
scoping mechanism to keep in step with the screens."""

from __future__ import annotations

import secrets
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from minyi.api.models import ApiToken
from minyi.core import account_cache
from minyi.core.once import made_with
from minyi.people.models import User
from minyi.people.scope_labels import SCOPE_RELATED, scope_prefetch


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


def with_scope(tokens: QuerySet) -> QuerySet:
    """`tokens` with what `scope_label` reads of their accounts, in a fixed number of
    queries."""
    return tokens.select_related(*(f"user__{name}" for name in SCOPE_RELATED)).prefetch_related(
        scope_prefetch("user__")
    )


@transaction.atomic
def token_issue(
    *, issuer: Any, name: str, account: User, submission_key: UUID | None = None
) -> tuple[ApiToken, str]:
    """Save the (unsaved) service account with its role and unit and issue its token.

    A second issue with the page's `submission_key` (the form sent twice) is refused by
    the unique constraint with an IntegrityError, the account rolled back with it;
    `issued_with` finds the first token."""
    account.username = f"api-{secrets.token_hex(6)}"
    # Cut to the account's field: a token's name may be longer (100) than a person's (50).
    account.full_name = f"接口：{name}"[: User._meta.get_field("full_name").max_length]
    account.is_active = True
    account.set_unusable_password()
    account.save()
    return ApiToken.issue(
        user=account,
        name=name,
        created_by=issuer,
        service_account=True,
        submission_key=submission_key,
    )


def issued_with(submission_key: UUID | None) -> ApiToken | None:
    """The token a page's one-time key issued, if any. Not scoped: the caller shows it
    only to whoever issued it."""
    return made_with(ApiToken, submission_key, "pk", "created_by_id")


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
