"""Retention (docs/personal-data.md): anonymise the reporter's personal data of every case
closed more than MINYI_RETENTION_YEARS ago. For cron, daily; safe to run twice."""

from datetime import datetime, time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from minyi.cases.retention import anonymise, due_for_anonymisation


class Command(BaseCommand):
    help = "将办结超过保存期限（MINYI_RETENTION_YEARS 年）的案件中反映人的个人信息匿名化。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--date", help="按哪一天计算（YYYY-MM-DD），默认今天")

    def handle(self, *args: object, **options: object) -> None:
        raw = options.get("date")
        try:
            day = datetime.fromisoformat(str(raw)).date() if raw else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"日期“{raw}”格式不正确，应为 YYYY-MM-DD。") from exc
        now = timezone.make_aware(datetime.combine(day, time.min))
        years = settings.MINYI_RETENTION_YEARS
        done = anonymise(
            due_for_anonymisation(now).only("pk"), reason=f"办结满 {years} 年，保存期届满"
        )
        self.stdout.write(f"已匿名化 {done} 件（办结满 {years} 年）。")
