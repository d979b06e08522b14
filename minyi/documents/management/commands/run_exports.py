"""Writes export jobs that no thread is writing: pending ones whose thread never
started, and running ones a restarted server abandoned (running for 30 minutes since
their run took them); one abandoned on its third run (minyi.documents.jobs.MAX_ATTEMPTS)
ends failed instead and is not run again. For cron, e.g. every minute; safe to run twice
(a job is taken by one UPDATE from pending to running)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from minyi.documents.excel.run import GAVE_UP, export_job_run
from minyi.documents.jobs import run_left_behind
from minyi.documents.models import Export, ExportState


class Command(BaseCommand):
    help = "生成排队中或中断的 Excel 导出任务。"

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        count = run_left_behind(
            Export.objects.all(),
            waiting=ExportState.PENDING,
            running=ExportState.RUNNING,
            since="created_at",
            running_since="started_at",
            run=export_job_run,
            reset={"written": 0},
            failed={"state": ExportState.FAILED, "error": GAVE_UP, "finished_at": now},
        )
        self.stdout.write(f"已处理 {count.run} 个导出任务。")
        if count.failed:
            self.stderr.write(f"{count.failed} 个导出任务多次中断，已标记为失败，不再重试。")
