from django.core.management.base import BaseCommand

from minyi.cases.delivery import deliver_pending


class Command(BaseCommand):
    help = "发送待发的答复抄送（反映人、党代表、工作室、组织部门），供 cron 定时调用。"

    def handle(self, *args: object, **options: object) -> None:
        sent, failed = deliver_pending()
        self.stdout.write(f"已送达 {sent} 份，最终失败 {failed} 份。")
