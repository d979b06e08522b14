"""The audit trail's one table. Rows are only ever inserted: the model refuses updates and
deletes, and database triggers (migration 0002) refuse them whatever the caller."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    CREATE = "create", "新增"
    UPDATE = "update", "修改"
    DELETE = "delete", "删除"
    BULK_WRITE = "bulk_write", "批量修改"
    PERMISSION_CHANGE = "permission_change", "权限变更"
    VIEW_PERSONAL = "view_personal", "查看个人信息"
    EXPORT = "export", "导出"
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOCKED_OUT = "locked_out", "登录锁定"
    LOGOUT = "logout", "退出"
    OTP_ENROL = "otp_enrol", "绑定动态口令"
    OTP_FAILED = "otp_failed", "动态口令错误"
    PURGE = "purge", "清理过期审计记录"


class Result(models.TextChoices):
    SUCCESS = "success", "成功"
    FAILURE = "failure", "失败"
    DENIED = "denied", "拒绝"


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit row."""


class AuditQuerySet(models.QuerySet):
    """No bulk update or delete either (minyi.audit.retention purges through its own path)."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("审计记录只能新增，不能修改。")

    def delete(self) -> Any:
        raise AppendOnlyError("审计记录不能删除。")


class AuditEvent(models.Model):
    """One thing that happened. Never the values of personal fields: `fields` holds names only.

    The actor and the actor's unit are stored as ids without foreign-key constraints (an
    audit row must outlive the account and the unit) plus the username and role as they
    were at the time."""

    at = models.DateTimeField("时间")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField("用户名", max_length=150, blank=True)
    actor_role = models.CharField("角色", max_length=32, blank=True)
    actor_unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name="所属单位",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    ip = models.GenericIPAddressField("来源地址", null=True)
    action = models.CharField("操作", max_length=24, choices=Action.choices)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    result = models.CharField("结果", max_length=16, choices=Result.choices)
    fields = models.JSONField("涉及字段", default=list, blank=True)
    detail = models.CharField("说明", max_length=200, blank=True)
    request_id = models.CharField("请求编号", max_length=32, blank=True)
    # Which of the independent hash chains the row belongs to (minyi.audit.db.LANES);
    # prev_hash is the hash of the previous row of the same lane.
    lane = models.PositiveSmallIntegerField(default=0)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        indexes = [
            models.Index(fields=["at"], name="audit_at"),
            models.Index(fields=["actor_name", "at"], name="audit_actor_at"),
            models.Index(fields=["action", "at"], name="audit_action_at"),
            models.Index(fields=["object_type", "object_id", "at"], name="audit_object_at"),
            models.Index(fields=["ip", "at"], name="audit_ip_at"),
            # A lane's head (the append reads it each time).
            models.Index(fields=["lane", "id"], name="audit_lane_id"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.get_action_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("审计记录只能新增，不能修改。")
        from minyi.audit.trail import forget_head

        # A row not appended by trail.record (which remembers its own after this) moves
        # the head of its lane: the transaction's remembered head is stale.
        forget_head()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("审计记录不能删除。")
