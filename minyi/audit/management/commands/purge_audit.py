"""Delete audit rows older than the retention period (MINYI_AUDIT_RETENTION_DAYS, never less
than six months: the database trigger refuses younger rows anyway). The oldest remaining row
of each lane becomes that lane's anchor; a purge row records what was removed and the last
removed hash of each lane."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from minyi.audit import record
from minyi.audit.db import RETENTION_FLOOR_DAYS
from minyi.audit.models import Action, AuditEvent
from minyi.audit.trail import forget_head


class Command(BaseCommand):
    help = "删除超过保存期限（至少六个月）的审计记录。"

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        days = max(settings.MINYI_AUDIT_RETENTION_DAYS, RETENTION_FLOOR_DAYS)
        cutoff = timezone.now() - timedelta(days=days)
        # Each lane loses only a prefix. A row's time is taken before its transaction waits for
        # the lane's lock, so an old row can follow a younger one in its lane by the length of
        # that wait; deleting it would leave the younger row's successor linked to nothing.
        young = (
            AuditEvent.objects.filter(at__gte=cutoff)
            .values("lane")
            .annotate(first=Min("id"))
            .values_list("lane", "first")
        )
        old = AuditEvent.objects.filter(at__lt=cutoff)
        keep = Q()
        for lane, first in young:
            keep |= Q(lane=lane, id__gte=first)
        if keep:
            old = old.exclude(keep)
        last_ids = old.values("lane").annotate(last=Max("id")).values_list("last", flat=True)
        last = AuditEvent.objects.filter(id__in=list(last_ids)).order_by("lane")
        # The first 12 hex digits of each lane's last removed hash (the detail holds 200
        # characters): enough to match the anchor against a backup.
        hashes = "，".join(f"{lane}:{h[:12]}" for lane, h in last.values_list("lane", "hash"))
        # AuditQuerySet.delete() refuses; this is the one sanctioned path (the trigger still
        # checks the age of every row).
        count = old._raw_delete(old.db)
        forget_head()  # the head record() remembers for this transaction may be gone
        if count:
            record(
                Action.PURGE,
                object_type="audit.auditevent",
                detail=f"{count} 条，各分链末条哈希 {hashes}",
            )
        self.stdout.write(f"已删除 {count} 条早于 {days} 天的审计记录。")
