from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from minyi.cases.reminders import send_reminders


class Command(BaseCommand):
    help = "发送答复期限提醒和超期督办（供 cron 定时调用，重复运行不会重复提醒）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--date", help="按哪一天计算（YYYY-MM-DD），默认今天")

    def handle(self, *args: object, **options: object) -> None:
        raw = options.get("date")
        try:
            today = date.fromisoformat(str(raw)) if raw else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"日期“{raw}”格式不正确，应为 YYYY-MM-DD。") from exc
        run = send_reminders(today)
        for r in run.due_soon:
            self.stdout.write(f"即将到期：{r.case.number} → {r.handling_unit}（期限 {r.due_on}）")
        for r in run.overdue:
            self.stdout.write(
                f"已超期：{r.case.number} → 督办部门 {r.department}（期限 {r.due_on}）"
            )
        self.stdout.write(f"新提醒 {len(run.due_soon)} 条，新超期督办 {len(run.overdue)} 条。")
