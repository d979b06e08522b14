from django.apps import AppConfig


class OnlineConfig(AppConfig):
    name = "minyi.online"
    verbose_name = "网络工作室（居民）"
