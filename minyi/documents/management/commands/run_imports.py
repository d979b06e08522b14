"""Runs the import jobs no thread is running: uploads waiting to be checked (待检查) or
committed (待导入) whose thread never started, and checks or commits a restarted server
abandoned (检查中, 导入中 for over 30 minutes), which are run again: an interrupted
commit saved nothing (its rows and its 已导入 are one transaction), and a job that turns
out to be alive still writes nothing once taken over. A job whose file is gone ends
失败 with the reason. For cron, e.g. every minute; safe to run twice."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from minyi.documents.excel.import_jobs import check_job_run, commit_job_run
from minyi.documents.jobs import run_left_behind
from minyi.documents.models import Import, ImportState


class Command(BaseCommand):
    help = "运行待检查、待导入或中断的 Excel 导入任务。"

    def handle(self, *args: Any, **options: Any) -> None:
        jobs = Import.objects.filter(in_background=True)
        counts = [
            run_left_behind(
                jobs,
                waiting=waiting,
                running=running,
                since="state_at",
                run=run,
                reset={"checked": 0},
            )
            for waiting, running, run in (
                (ImportState.PENDING, ImportState.CHECKING, check_job_run),
                (ImportState.QUEUED, ImportState.IMPORTING, commit_job_run),
            )
        ]
        self.stdout.write(f"已处理 {counts[0]} 个导入检查任务、{counts[1]} 个导入任务。")
