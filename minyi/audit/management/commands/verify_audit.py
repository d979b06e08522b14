"""Check the audit trail's hash chain: exits 0 when every row matches, else names the first
broken link and exits 1."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from minyi.audit import chain
from minyi.audit.models import AuditEvent


class Command(BaseCommand):
    help = "校验审计日志的哈希链，报告第一处断点。"

    def handle(self, *args: Any, **options: Any) -> None:
        columns = ("id", *chain.HASHED, "hash")
        rows = AuditEvent.objects.order_by("id").values(*columns).iterator(chunk_size=2000)
        try:
            count, broken = chain.verify(rows)
        finally:
            # verify() stops at the first break: close the (server-side, on PostgreSQL) cursor
            # now, inside the transaction, rather than whenever the generator is collected.
            rows.close()
        if broken is not None:
            at = timezone.localtime(broken.at).strftime("%Y-%m-%d %H:%M:%S")
            raise CommandError(
                f"审计日志哈希链在第 {count} 条（编号 {broken.pk}，{at}）处断开：{broken.reason}。"
            )
        self.stdout.write(f"审计日志完好：共 {count} 条，哈希链连续。")
