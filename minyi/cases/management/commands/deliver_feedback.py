from django.core.management.base import BaseCommand

from minyi.cases.delivery import deliver_pending
from minyi.duties import booker_notices


class Command(BaseCommand):
    help = (
        "发送待发的答复抄送（反映人、党代表、工作室、组织部门）和预约短信通知"
        "（预约已确认、已取消），供 cron 定时调用。"
    )

    def handle(self, *args: object, **options: object) -> None:
        sent, failed = deliver_pending()
        self.stdout.write(f"已送达 {sent} 份，最终失败 {failed} 份。")
        # The same cron entry sends bookers' notices: one job for every text message.
        told, not_told = booker_notices.deliver_pending()
        self.stdout.write(f"预约短信：已发出 {told} 条，未能发出 {not_told} 条。")
