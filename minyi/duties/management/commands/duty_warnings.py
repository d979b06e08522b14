"""Warn before a duty minimum is missed (issue 4, item 7). Run daily; idempotent."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from minyi.duties.compliance import send_warnings


class Command(BaseCommand):
    help = (
        "向党代表、联络员和街道组织部门发出履职提醒：两个月窗口三周内关闭而尚无活动安排、"
        "双月报告到期、工作室某周未开放。同一提醒只发一次。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="按哪一天计算，格式 YYYY-MM-DD；默认今天。")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = options.get("date")
        try:
            today = date.fromisoformat(raw) if raw else timezone.localdate()
        except ValueError as exc:
            raise CommandError("日期格式应为 YYYY-MM-DD。") from exc
        created = send_warnings(today)
        self.stdout.write(f"{today:%Y-%m-%d}：新发出 {created} 条提醒。")
