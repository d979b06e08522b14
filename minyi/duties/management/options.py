"""What the duties' daily commands share: the day they compute for."""

from __future__ import annotations

from datetime import date

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone


def add_date_option(parser: CommandParser) -> None:
    parser.add_argument("--date", help="按哪一天计算，格式 YYYY-MM-DD；默认今天。")


def day_of(options: dict) -> date:
    """The --date given, or today; a malformed date is refused in Chinese."""
    raw = options.get("date")
    try:
        return date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError as exc:
        raise CommandError("日期格式应为 YYYY-MM-DD。") from exc
