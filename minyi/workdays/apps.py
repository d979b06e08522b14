from django.apps import AppConfig


class WorkdaysConfig(AppConfig):
    name = "minyi.workdays"
    verbose_name = "工作日历"

    def ready(self) -> None:
        from minyi.workdays import cache

        cache.connect()
