"""Warn before a duty minimum is missed (issue 4, item 7). Run daily; idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from minyi.duties.compliance import send_warnings
from minyi.duties.management.options import add_date_option, day_of


class Command(BaseCommand):
    help = (
        "向党代表、联络员和街道组织部门发出履职提醒：两个月窗口三周内关闭而尚无活动安排、"
        "双月报告到期、工作室某周未开放。同一提醒只发一次。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_date_option(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        today = day_of(options)
        created = send_warnings(today)
        self.stdout.write(f"{today:%Y-%m-%d}：新发出 {created} 条提醒。")
