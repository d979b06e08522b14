"""`manage.py deadline DATE N [--explain]`: the CM 11 due date, for checking by hand.

Prints `YYYY-MM-DD`, followed by ` provisional` when a year it touches has no complete
schedule; `--explain` then lists every day that did not count and why.
"""

from __future__ import annotations

import re
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from minyi.workdays.calendar import add_workdays, describe_missing_years

WEEKDAY_NAMES = "一二三四五六日"
# CM 11 allows at most 30; the cap only stops a typo from walking for minutes.
MAX_DAYS = 1000
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Command(BaseCommand):
    help = "计算收到日期之后第 N 个工作日（收到当天不计）：办理期限。"

    def add_arguments(self, parser):
        # Plain strings, so bad input gets our Chinese message instead of argparse's.
        parser.add_argument("date", metavar="DATE", help="收到日期，格式 YYYY-MM-DD，如 2025-09-26")
        parser.add_argument("n", metavar="N", help="工作日数，如 10（征得代表同意可延至 30）")
        parser.add_argument("--explain", action="store_true", help="列出不计入的日期及原因")

    def handle(self, *args, **options):
        received = parse_date(options["date"])
        days = parse_count(options["n"])
        try:
            deadline = add_workdays(received, days)
        except OverflowError as error:
            raise CommandError("期限超出可计算的日期范围。") from error
        line = deadline.due.isoformat()
        if deadline.provisional:
            line += " provisional"
        self.stdout.write(line)
        if not options["explain"]:
            return
        notes = [(day, "不计", reason) for day, reason in deadline.skipped]
        notes += [(day, "计入", reason) for day, reason in deadline.makeup_workdays]
        for day, verdict, reason in sorted(notes):
            weekday = WEEKDAY_NAMES[day.weekday()]
            self.stdout.write(f"{day.isoformat()} 周{weekday} {verdict}：{reason}")
        if deadline.provisional:
            self.stdout.write(describe_missing_years(deadline.missing_years))


def parse_date(text: str) -> date:
    text = text.strip()
    # fromisoformat alone would also take 20250926 or week dates; be strict.
    if ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass  # well-formed but impossible, such as 2025-02-30
    raise CommandError(f"收到日期“{text}”无效，请按 YYYY-MM-DD 填写，如 2025-09-26。")


def parse_count(text: str) -> int:
    try:
        days = int(text.strip())
    except ValueError as error:
        raise CommandError(f"工作日数“{text}”不是整数，请填写 1 以上的整数，如 10。") from error
    if days < 1:
        raise CommandError(f"工作日数必须不小于 1，收到 {days}。")
    if days > MAX_DAYS:
        raise CommandError(
            f"工作日数 {days} 过大；办理期限最长 30 个工作日，本命令最多算 {MAX_DAYS}。"
        )
    return days
