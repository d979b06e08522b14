"""Recompute the day's compliance tallies of every active studio and representative
(minyi.duties.tallies), so that the morning's first dashboards need not. Run daily
after midnight; safe to run twice."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minyi.duties.management.options import add_date_option, day_of
from minyi.duties.tallies import refresh_all


class Command(BaseCommand):
    help = "重新计算各工作室和党代表本年度的履职达标统计（看板使用），每天零点后运行一次。"

    def add_arguments(self, parser: CommandParser) -> None:
        add_date_option(parser)
        parser.add_argument("--year", type=int, help="统计哪一年度；默认为该日期所在年度。")

    def handle(self, *args: Any, **options: Any) -> None:
        today = day_of(options)
        year = options.get("year") or today.year
        if not 2000 <= year <= today.year + 1:
            raise CommandError(f"年度应在 2000 年至 {today.year + 1} 年之间。")
        studios = refresh_all(year, today)
        self.stdout.write(
            f"{today:%Y-%m-%d}：已重新计算 {studios} 个工作室的 {year} 年度履职统计。"
        )
