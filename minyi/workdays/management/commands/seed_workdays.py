"""Copy the chinesecalendar package's years into the calendar tables.

Idempotent and safe to run after every package upgrade (cron, deploy): it creates the
years that are not in the table and leaves every existing year exactly as the
administrator left it. `--fill-year` adds the package's missing days to one existing
year without touching its rows or its `complete` flag.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from minyi.audit.trail import record_bulk
from minyi.workdays.models import CalendarYear, SpecialDay
from minyi.workdays.recompute import calendar_year_completed
from minyi.workdays.seeding import fill_year, package_years, seed_from_package


class Command(BaseCommand):
    help = "从 chinesecalendar 补录尚未录入的年度节假日安排（不覆盖管理员的修改）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--fill-year",
            type=int,
            metavar="YEAR",
            help="只为已存在的该年度补入缺少的日期，不修改已有记录，也不改变“已完整录入”标记。",
        )

    @transaction.atomic
    def handle(self, *args, fill_year: int | None = None, **options):
        if fill_year is not None:
            try:
                created = fill_year_days(fill_year)
            except ValueError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"{fill_year}年：补入{created}天。")
            return
        result = seed_from_package(CalendarYear, SpecialDay)
        # Bulk inserts send no signals (seeding also runs inside a migration, before the
        # audit table exists, so the command records it rather than the seeding code).
        record_bulk(SpecialDay, result.created_days, cause="导入 chinesecalendar 节假日")
        for year in result.created_years:
            calendar_year_completed(year)
        known = package_years()
        self.stdout.write(
            f"chinesecalendar 覆盖{known.start}—{known.stop - 1}年；"
            f"新建{len(result.created_years)}个年度、{result.created_days}天，"
            f"保留已有{len(result.kept_years)}个年度。"
        )


def fill_year_days(year: int) -> int:
    created = fill_year(CalendarYear, SpecialDay, year)
    if created and CalendarYear.objects.filter(year=year, complete=True).exists():
        calendar_year_completed(year)
    return created
