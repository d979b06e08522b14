"""Runs the import jobs no thread is running: uploads waiting to be checked (待检查) or
committed (待导入) whose thread never started, and checks or commits a restarted server
abandoned (检查中, 导入中 for over 30 minutes), which are run again: an interrupted
commit saved nothing (its rows and its 已导入 are one transaction), and a job that turns
out to be alive still writes nothing once taken over. A job whose file is gone ends
失败 with the reason, and so does one abandoned on its third run (minyi.documents.jobs
.MAX_ATTEMPTS): it is not run again. For cron, e.g. every minute; safe to run twice."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from minyi.documents.excel.import_jobs import GAVE_UP, check_job_run, commit_job_run
from minyi.documents.jobs import run_left_behind
from minyi.documents.models import Import, ImportState


class Command(BaseCommand):
    help = "运行待检查、待导入或中断的 Excel 导入任务。"

    def handle(self, *args: Any, **options: Any) -> None:
        jobs = Import.objects.filter(in_background=True)
        failed = {"state": ImportState.FAILED, "error": GAVE_UP, "state_at": timezone.now()}
        counts = [
            run_left_behind(
                jobs,
                waiting=waiting,
                running=running,
                since="state_at",
                running_since="state_at",
                run=run,
                reset={"checked": 0},
                failed=failed,
            )
            for waiting, running, run in (
                (ImportState.PENDING, ImportState.CHECKING, check_job_run),
                (ImportState.QUEUED, ImportState.IMPORTING, commit_job_run),
            )
        ]
        self.stdout.write(f"已处理 {counts[0].run} 个导入检查任务、{counts[1].run} 个导入任务。")
        gave_up = counts[0].failed + counts[1].failed
        if gave_up:
            self.stderr.write(f"{gave_up} 个导入任务多次中断，已标记为失败，不再重试。")
