from django.apps import AppConfig


class OnlineConfig(AppConfig):
    name = "minyi.online"
    verbose_name = "网络工作室（居民）"

    def ready(self) -> None:
        from minyi.online import public_cache

        public_cache.connect()
