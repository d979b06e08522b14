"""Writes export jobs that no thread is writing: pending ones whose thread never
started, and running ones a restarted server abandoned. For cron, e.g. every minute;
safe to run twice (a job is taken by one UPDATE from pending to running)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from minyi.documents.excel.run import export_job_run
from minyi.documents.models import Export, ExportState

STALE = timedelta(minutes=30)


class Command(BaseCommand):
    help = "生成排队中或中断的 Excel 导出任务。"

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        Export.objects.filter(state=ExportState.RUNNING, created_at__lt=now - STALE).update(
            state=ExportState.PENDING, written=0
        )
        waiting = list(
            Export.objects.filter(
                state=ExportState.PENDING, created_at__lt=now - timedelta(seconds=30)
            ).values_list("pk", flat=True)
        )
        for pk in waiting:
            export_job_run(pk)
        self.stdout.write(f"已处理 {len(waiting)} 个导出任务。")
