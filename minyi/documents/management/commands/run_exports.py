"""Writes export jobs that no thread is writing: pending ones whose thread never
started, and running ones a restarted server abandoned. For cron, e.g. every minute;
safe to run twice (a job is taken by one UPDATE from pending to running)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from minyi.documents.excel.run import export_job_run
from minyi.documents.jobs import run_left_behind
from minyi.documents.models import Export, ExportState


class Command(BaseCommand):
    help = "生成排队中或中断的 Excel 导出任务。"

    def handle(self, *args: Any, **options: Any) -> None:
        count = run_left_behind(
            Export.objects.all(),
            waiting=ExportState.PENDING,
            running=ExportState.RUNNING,
            since="created_at",
            run=export_job_run,
            reset={"written": 0},
        )
        self.stdout.write(f"已处理 {count} 个导出任务。")
