from django.apps import AppConfig


class WorkdaysConfig(AppConfig):
    name = "minyi.workdays"
    verbose_name = "工作日历"
