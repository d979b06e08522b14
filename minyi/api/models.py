"""Integration tokens, their call log and idempotency keys for the open API.

A token acts as one account: the API applies exactly that account's scoping
(`X.objects.for_user(token.user)`). An administrator issues a token for a role and an
organisation unit (or handling unit) in the pages; the token then gets its own
service account with that role and unit, so `scope_of` and every `for_user` apply
unchanged: one scoping mechanism for screens and API (docs/decisions.md).
Only the SHA-256 of the secret is stored; the plain token is shown once.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models

TOKEN_PREFIX = "minyi_"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(models.Model):
    name = models.CharField("名称", max_length=100, help_text="对接的系统，如“12345 工单平台”。")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="代表的账号",
        on_delete=models.PROTECT,
        related_name="api_tokens",
        help_text="令牌以该账号身份访问，可见范围与该账号在页面上完全相同。",
    )
    secret_hash = models.CharField("令牌摘要（SHA-256）", max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签发人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("签发时间", auto_now_add=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    service_account = models.BooleanField(
        "专用账号",
        default=False,
        help_text="账号是为该令牌创建的（无密码、不能登录页面）；吊销令牌时一并停用。",
    )
    # The issue page's one-time key (minyi.core.once): a double click or a resend of the
    # issue form issues no second token whose secret nobody would see.
    submission_key = models.UUIDField("提交标识", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"
        constraints = [
            models.UniqueConstraint(
                fields=["submission_key"], name="apitoken_unique_submission_key"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def issue(
        cls,
        *,
        user,
        name: str,
        created_by=None,
        service_account: bool = False,
        submission_key=None,
    ) -> tuple[ApiToken, str]:
        """A new token and its plain secret (shown once, never stored)."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            name=name,
            user=user,
            created_by=created_by,
            secret_hash=hash_secret(secret),
            service_account=service_account,
            submission_key=submission_key,
        )
        return token, secret

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiCall(models.Model):
    token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.CASCADE, related_name="calls"
    )
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status = models.PositiveSmallIntegerField()
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "接口调用记录"
        verbose_name_plural = "接口调用记录"
        # A token's page lists its latest calls.
        indexes = [models.Index(fields=["token", "-at"], name="apicall_token_at")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"


class IdempotencyKey(models.Model):
    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    case = models.ForeignKey("cases.Case", null=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="idempotency_unique_token_key")
        ]

    def __str__(self) -> str:
        return self.key
