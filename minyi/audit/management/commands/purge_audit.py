"""Delete audit rows older than the retention period (MINYI_AUDIT_RETENTION_DAYS, never less
than six months: the database trigger refuses younger rows anyway). The oldest remaining row
becomes the chain's anchor; a purge row records what was removed and the last removed hash."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from minyi.audit import record
from minyi.audit.db import RETENTION_FLOOR_DAYS
from minyi.audit.models import Action, AuditEvent


class Command(BaseCommand):
    help = "删除超过保存期限（至少六个月）的审计记录。"

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        days = max(settings.MINYI_AUDIT_RETENTION_DAYS, RETENTION_FLOOR_DAYS)
        cutoff = timezone.now() - timedelta(days=days)
        old = AuditEvent.objects.filter(at__lt=cutoff)
        last = old.order_by("-id").values_list("hash", flat=True).first()
        # AuditQuerySet.delete() refuses; this is the one sanctioned path (the trigger still
        # checks the age of every row).
        count = old._raw_delete(old.db)
        if count:
            record(
                Action.PURGE, object_type="audit.auditevent", detail=f"{count} 条，末条哈希 {last}"
            )
        self.stdout.write(f"已删除 {count} 条早于 {days} 天的审计记录。")
