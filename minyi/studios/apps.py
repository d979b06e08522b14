from django.apps import AppConfig


class StudiosConfig(AppConfig):
    name = "minyi.studios"
    verbose_name = "党代表工作室"
