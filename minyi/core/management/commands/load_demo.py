from django.core.management.base import BaseCommand

from minyi.cases.demo import build_demo_cases, deliver_demo_copies
from minyi.core.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, build_demo
from minyi.core.management.production import refuse_in_production


class Command(BaseCommand):
    help = "载入演示数据（虚构人员，可重复运行）并列出演示账号。"

    def handle(self, *args: object, **options: object) -> None:
        refuse_in_production("载入演示数据")
        build_demo()
        created = build_demo_cases()
        if created:
            self.stdout.write(f"已载入 {created} 件演示社情民意。")
        # A resident's online report, answered: followed at /online/ with the demo code.
        from minyi.online.demo import DEMO_PROGRESS_CODE, build_demo_online_report

        online = build_demo_online_report()
        if online:
            self.stdout.write(
                f"网上反映演示：在 /online/ 查询办理进度，编号 {online.number}，"
                f"查询码 {DEMO_PROGRESS_CODE}。"
            )
        if (created or online) and deliver_demo_copies():
            self.stdout.write("演示答复的反映人抄送已写入日志（开发渠道，未发短信）。")
        # Next week's reception at the demo studio, for a resident to find and book.
        from minyi.duties.demo import build_demo_events

        if build_demo_events():
            self.stdout.write("已发布下周的党代表接待日（演示）。")
        # Year-end evaluation (minyi.evaluation): the year's round, pre-filled.
        from minyi.evaluation.demo import build_demo_evaluation

        if build_demo_evaluation():
            self.stdout.write("已开展本年度“五好”工作室评估（演示）。")
        self.stdout.write(
            self.style.SUCCESS(f"演示数据已就绪。演示账号（密码均为 {DEMO_PASSWORD}）：")
        )
        for account in DEMO_ACCOUNTS:
            self.stdout.write(f"  {account.username:<12} {account.description}")
